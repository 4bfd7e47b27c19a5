/**
 * Writes that never leave a half-written file or folder behind: data go to a
 * temporary sibling (see {@linkcode tempSibling}), are flushed to disk, and
 * the sibling is then renamed over the target. A rename within one folder is
 * atomic on POSIX file systems, so a reader sees the old file or the new one,
 * never a mix, and a run killed at any point leaves the old one intact (a
 * folder: at worst moved aside, and put back by the next write there).
 *
 * Failures of the file system (a read-only or full disk, a missing
 * permission) raise {@linkcode OutputError} naming the target; nothing
 * temporary is left behind. Temporary siblings of runs that were killed are
 * removed by the next write into the same folder.
 *
 * @module
 */

import { dirname } from "node:path";
import { OutputError } from "./errors.ts";
import { faultPoint } from "./_fault_points.ts";
import { isFsError, isOccupied, syncDir, syncTree, writingWhat } from "./_fs.ts";
import {
  type Held,
  holdExisting,
  makeTempDir,
  makeTempFile,
  sweepStaleTempsOnce,
  tempSibling,
} from "./temp_siblings.ts";

/**
 * Write bytes to `path` atomically, creating parent directories.
 *
 * @param path destination file
 * @param data the whole content, or its pieces in order (an iterable, e.g. a
 *   generator, so that a large file is written without being held whole);
 *   an error thrown while producing them leaves no file behind and is rethrown
 * @throws {OutputError} when the file system refuses (naming `path` and the OS error)
 *
 * @example
 * ```ts
 * import { writeFileAtomic } from "@brainorg/common";
 * await writeFileAtomic("/tmp/x.bin", new Uint8Array([1, 2, 3]));
 * ```
 */
export async function writeFileAtomic(
  path: string,
  data: Uint8Array | Iterable<Uint8Array> | AsyncIterable<Uint8Array>,
): Promise<void> {
  let tmp: { path: string; file: Deno.FsFile } | undefined;
  try {
    await Deno.mkdir(dirname(path), { recursive: true });
    await sweepStaleTempsOnce(dirname(path));
    tmp = await makeTempFile(path);
    for await (const chunk of data instanceof Uint8Array ? [data] : data) {
      let off = 0;
      while (off < chunk.byteLength) off += await tmp.file.write(chunk.subarray(off));
    }
    await tmp.file.sync();
    await faultPoint("file-written");
    // Renamed while still open, so that its lock covers it until it has its final name.
    await Deno.rename(tmp.path, path);
    tmp.file.close();
  } catch (err) {
    if (tmp) {
      try {
        tmp.file.close();
      } catch { /* closed after the rename */ }
      await Deno.remove(tmp.path).catch(() => {});
    }
    throw isFsError(err) ? new OutputError("the file", path, err) : err;
  }
}

/**
 * Write UTF-8 text to `path` atomically (see {@linkcode writeFileAtomic}).
 *
 * @param path destination file
 * @param text the whole content
 * @throws {OutputError} when the file system refuses (naming `path` and the OS error)
 *
 * @example
 * ```ts
 * import { writeTextFileAtomic } from "@brainorg/common";
 * await writeTextFileAtomic("/tmp/brainorg-demo/report.md", "# Report\n");
 * ```
 */
export function writeTextFileAtomic(path: string, text: string): Promise<void> {
  return writeFileAtomic(path, new TextEncoder().encode(text));
}

/**
 * Write `value` as indented JSON (with a final newline) to `path` atomically
 * (see {@linkcode writeFileAtomic}).
 *
 * @param path destination file
 * @param value anything `JSON.stringify` takes (NaN and ±Inf become `null`, as it writes them)
 * @throws {OutputError} when the file system refuses (naming `path` and the OS error)
 *
 * @example
 * ```ts
 * import { writeJsonAtomic } from "@brainorg/common";
 * await writeJsonAtomic("/tmp/brainorg-demo/summary.json", { subjects: 27, atoms: 16 });
 * ```
 */
export function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  return writeTextFileAtomic(path, JSON.stringify(value, null, 2) + "\n");
}

/** Options of {@linkcode writeDirAtomic}. */
export interface WriteDirOptions {
  /** What the folder is, for error messages. Default: `"the folder"`. */
  what?: string;
}

/**
 * Fill a directory atomically: `build` writes into a fresh temporary sibling
 * directory, which is flushed to disk and replaces `dir` only when `build`
 * succeeds. A failed build leaves any earlier `dir` untouched and no
 * temporary folder behind.
 *
 * The replacement is two renames (the old `dir` aside, the new one in), so
 * a process killed between them leaves `dir` missing for an instant; the
 * next write beside it (or {@linkcode sweepStaleTemps}) puts the old one back.
 *
 * @param dir the directory to create or replace
 * @param build writes the directory's content into the path it is given
 * @param options what the folder is, for errors
 * @throws {OutputError} when the file system refuses a write (naming `dir`);
 *   any other error of `build` as it is
 *
 * @example
 * ```ts
 * import { writeDirAtomic, writeTextFileAtomic } from "@brainorg/common";
 * await writeDirAtomic("/tmp/brainorg-out", async (tmp) => {
 *   await writeTextFileAtomic(`${tmp}/summary.json`, "{}");
 * });
 * ```
 */
export async function writeDirAtomic(
  dir: string,
  build: (tmpDir: string) => Promise<void>,
  options: WriteDirOptions = {},
): Promise<void> {
  const what = options.what ?? "the folder";
  let tmp: Held;
  try {
    await Deno.mkdir(dirname(dir), { recursive: true });
    await sweepStaleTempsOnce(dirname(dir));
    tmp = await makeTempDir(dir);
  } catch (err) {
    throw new OutputError(what, dir, err);
  }
  let built = false;
  try {
    await build(tmp.path);
    built = true;
    await syncTree(tmp.path);
    await faultPoint("dir-built");
    await swapIn(tmp.path, dir);
  } catch (err) {
    await Deno.remove(tmp.path, { recursive: true }).catch(() => {});
    if (!(err instanceof OutputError || (built && isFsError(err)))) throw err;
    const inner = writingWhat(err, tmp.path);
    throw new OutputError(
      what,
      dir,
      err,
      `${inner ? `writing ${inner}; ` : ""}${dir} is as it was`,
    );
  } finally {
    tmp.release();
  }
}

/**
 * Check, before a long computation, that {@linkcode writeDirAtomic} will be
 * able to create `dir`: its parent is created if need be, and a temporary
 * sibling is made and removed there. Also puts back a `dir` that a killed
 * run left moved aside.
 *
 * @param dir the folder that will be written
 * @param options what the folder is, for errors
 * @throws {OutputError} naming `dir` and the OS error (read-only, no permission, full)
 *
 * @example
 * ```ts
 * import { checkWritableDir } from "@brainorg/common";
 * await checkWritableDir("/tmp/brainorg-out", { what: "the results folder" });
 * ```
 */
export async function checkWritableDir(dir: string, options: WriteDirOptions = {}): Promise<void> {
  let probe: Held | undefined;
  try {
    await Deno.mkdir(dirname(dir), { recursive: true });
    await sweepStaleTempsOnce(dirname(dir));
    probe = await makeTempDir(dir);
    await Deno.remove(probe.path);
  } catch (err) {
    if (probe) await Deno.remove(probe.path).catch(() => {});
    throw new OutputError(options.what ?? "the folder", dir, err);
  } finally {
    probe?.release();
  }
}

/**
 * Rename folder `tmp` to `dir`, moving an existing `dir` aside first
 * (held, so that no sweep takes it for a dead run's) and removing it after.
 */
async function swapIn(tmp: string, dir: string): Promise<void> {
  for (let attempt = 1;; attempt++) {
    const old = tempSibling(dir, "old");
    const held = await holdExisting(dir);
    try {
      let moved = false;
      try {
        if (held) {
          await Deno.rename(dir, old);
          moved = true;
        }
      } catch (err) {
        if (!(err instanceof Deno.errors.NotFound)) throw err;
      }
      await faultPoint("dir-swap");
      try {
        await Deno.rename(tmp, dir);
      } catch (err) {
        if (moved) await Deno.rename(old, dir).catch(() => {});
        // Another process put a `dir` there in between: replace theirs too.
        if (isOccupied(err) && attempt < 3) continue;
        throw err;
      }
      await syncDir(dirname(dir));
      if (moved) await Deno.remove(old, { recursive: true }).catch(() => {});
      return;
    } finally {
      held?.release();
    }
  }
}
