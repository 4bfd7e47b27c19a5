/**
 * Temporary siblings of files and folders being written, held so that a
 * later run can tell a live writer's from what a killed run left behind.
 *
 * A temporary sibling of `dir/name` is `dir/.name.tmp-<pid>-<time>-<random>`
 * (a copy being built) or `dir/.name.old-…` (the previous `name`, moved aside
 * while a new one takes its place). Its writer holds an exclusive advisory
 * lock (`flock`) on it from creation to rename; the kernel drops the lock
 * when the writer dies, however it dies. A sibling nobody holds is stale; one
 * that cannot be locked at all (a file system without locks) is stale when
 * its name's time is more than a day old. A stale `.tmp` is removed; a stale
 * `.old` is removed when `name` exists and renamed back to `name` when it does
 * not (the run died between moving the old one aside and putting the new one
 * in, so the old one is restored).
 *
 * @module
 */

import { join } from "node:path";

/** Age after which a sibling that cannot be locked counts as stale. */
export const STALE_AFTER_MS = 24 * 3600 * 1000;

const PATTERN = /^\.(.+)\.(tmp|old)-(\d+)-([0-9a-z]+)-[0-9a-z]+$/;

/**
 * A fresh name beside `path` for a copy being built (`"tmp"`) or for the
 * previous `path` moved aside (`"old"`). Only a name: see
 * {@linkcode makeTempDir} and {@linkcode makeTempFile} for siblings that
 * are held.
 *
 * @param path the file or folder that will be written
 * @param kind `"tmp"` (default) or `"old"`
 * @returns a path in the same folder, unique to this process and call
 *
 * @example
 * ```ts
 * import { tempSibling } from "@brainorg/common";
 * console.log(tempSibling("/tmp/results/demo")); // /tmp/results/.demo.tmp-4242-m3x1k2-9f8e7d
 * ```
 */
export function tempSibling(path: string, kind: "tmp" | "old" = "tmp"): string {
  const slash = path.lastIndexOf("/");
  const dir = slash >= 0 ? path.slice(0, slash) : ".";
  const base = path.slice(slash + 1) || "file";
  const rand = crypto.getRandomValues(new Uint32Array(1))[0].toString(36);
  return join(dir, `.${base}.${kind}-${Deno.pid}-${Date.now().toString(36)}-${rand}`);
}

/**
 * What a temporary sibling's name says about it, or null for any other name.
 *
 * @param name a file or folder name (not a path)
 * @returns the name it stands in for, `"tmp"` or `"old"`, the writer's pid
 *   and its creation time (ms since the epoch); null for other names
 *
 * @example
 * ```ts
 * import { parseTempSibling } from "@brainorg/common";
 * const info = parseTempSibling(".demo.tmp-4242-m3x1k2-9f8e7d"); // target "demo", pid 4242
 * ```
 */
export function parseTempSibling(
  name: string,
): { target: string; kind: "tmp" | "old"; pid: number; time: number } | null {
  const m = name.match(PATTERN);
  if (!m) return null;
  return { target: m[1], kind: m[2] as "tmp" | "old", pid: Number(m[3]), time: parseInt(m[4], 36) };
}

/** A file or folder this process holds locked; `release` drops the lock. */
export interface Held {
  /** The file or folder held. */
  path: string;
  /** Drop the lock (close the handle); call it once the path has its final name. */
  release: () => void;
}

/**
 * Lock `path` through `file`, then make sure the name still leads to the
 * locked inode (a sweeper may have taken a fresh, not yet locked, sibling
 * for a dead one and removed it). Returns false when the caller should
 * start again with a new name. A file system without locks: true, unheld.
 */
async function lockAsOwner(file: Deno.FsFile, path: string): Promise<boolean> {
  try {
    if (!(await file.tryLock(true))) return false;
  } catch {
    return true;
  }
  const [held, named] = [await file.stat(), await Deno.stat(path).catch(() => null)];
  return named !== null && held.ino === named.ino && held.dev === named.dev;
}

/**
 * Create a temporary sibling folder of `target` and hold it.
 *
 * @param target the folder that will be written
 * @returns the folder and the release of its lock (call it after the rename)
 * @throws the file system's error when the folder cannot be created
 *
 * @example
 * ```ts
 * import { makeTempDir } from "@brainorg/common";
 * const tmp = await makeTempDir("/tmp/brainorg-results");
 * try {
 *   await Deno.writeTextFile(`${tmp.path}/summary.json`, "{}");
 *   await Deno.rename(tmp.path, "/tmp/brainorg-results");
 * } finally {
 *   tmp.release();
 * }
 * ```
 */
export async function makeTempDir(target: string): Promise<Held> {
  for (let attempt = 1;; attempt++) {
    const path = tempSibling(target);
    await Deno.mkdir(path);
    let file: Deno.FsFile;
    try {
      file = await Deno.open(path, { read: true });
    } catch (err) {
      if (err instanceof Deno.errors.NotFound && attempt < 5) continue;
      return { path, release: () => {} }; // a platform that cannot open folders: unheld
    }
    if (await lockAsOwner(file, path)) return { path, release: () => file.close() };
    file.close();
    if (attempt >= 5) throw new Error(`cannot hold the temporary folder ${path}`);
  }
}

/**
 * Create a temporary sibling file of `target`, open for writing and held
 * until the file is closed: write, rename it over `target`, then close.
 *
 * @param target the file that will be written
 * @returns the file's path and its open handle
 * @throws the file system's error when the file cannot be created
 *
 * @example
 * ```ts
 * import { makeTempFile } from "@brainorg/common";
 * const { path, file } = await makeTempFile("/tmp/brainorg-demo.bin");
 * await file.write(new Uint8Array([1, 2, 3]));
 * await Deno.rename(path, "/tmp/brainorg-demo.bin");
 * file.close();
 * ```
 */
export async function makeTempFile(target: string): Promise<{ path: string; file: Deno.FsFile }> {
  for (let attempt = 1;; attempt++) {
    const path = tempSibling(target);
    const file = await Deno.open(path, { write: true, createNew: true });
    if (await lockAsOwner(file, path)) return { path, file };
    file.close();
    if (attempt >= 5) throw new Error(`cannot hold the temporary file ${path}`);
  }
}

/**
 * Hold an existing folder before moving it aside, so that a sweeper never
 * takes it for a dead run's while it is away. Waits (up to 10 s) while
 * another process holds it, e.g. one replacing it too.
 *
 * @param path the folder
 * @returns its hold, or undefined when it does not exist
 */
export async function holdExisting(path: string): Promise<Held | undefined> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    return { path, release: () => {} };
  }
  const deadline = Date.now() + 10_000;
  try {
    while (!(await file.tryLock(true)) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
  } catch { /* a file system without locks: unheld */ }
  return { path, release: () => file.close() };
}

/** What {@linkcode sweepStaleTemps} did, as paths. */
export interface SweepReport {
  /** Stale copies (and superseded old folders) removed. */
  removed: string[];
  /** Old folders put back under their name, which was missing. */
  restored: string[];
}

/**
 * Remove the stale temporary siblings in `dir` and restore folders a killed
 * run left moved aside (see the module doc). Best effort: what cannot be
 * removed (a read-only folder) is left, silently.
 *
 * @param dir the folder to look in (absent: nothing to do)
 * @param options `now` (ms since the epoch) and `staleAfterMs` (default
 *   {@linkcode STALE_AFTER_MS}) for siblings that cannot be locked
 * @returns what was removed and restored
 *
 * @example
 * ```ts
 * import { sweepStaleTemps } from "@brainorg/common";
 * const { removed, restored } = await sweepStaleTemps("/tmp");
 * console.log(removed.length, restored.length);
 * ```
 */
export async function sweepStaleTemps(
  dir: string,
  options: { now?: number; staleAfterMs?: number } = {},
): Promise<SweepReport> {
  const report: SweepReport = { removed: [], restored: [] };
  const now = options.now ?? Date.now(), maxAge = options.staleAfterMs ?? STALE_AFTER_MS;
  const found: { name: string; info: NonNullable<ReturnType<typeof parseTempSibling>> }[] = [];
  try {
    for await (const e of Deno.readDir(dir)) {
      const info = parseTempSibling(e.name);
      if (info) found.push({ name: e.name, info });
    }
  } catch {
    return report; // no folder, or one we may not read
  }
  // Newest first, so that when a name has several old copies the newest is the one restored.
  found.sort((a, b) => b.info.time - a.info.time);
  for (const { name, info } of found) {
    const path = join(dir, name);
    let file: Deno.FsFile | undefined;
    try {
      file = await Deno.open(path, { read: true });
      let free: boolean;
      try {
        free = await file.tryLock(true);
      } catch {
        free = now - info.time > maxAge;
      }
      if (!free) continue;
      // Held by this sweep from here: a writer that starts meanwhile gets a new name.
      if (info.kind === "old" && !(await exists(join(dir, info.target)))) {
        await Deno.rename(path, join(dir, info.target));
        report.restored.push(join(dir, info.target));
      } else {
        await Deno.remove(path, { recursive: true });
        report.removed.push(path);
      }
    } catch {
      /* gone meanwhile, or not ours to remove: left as it is */
    } finally {
      file?.close();
    }
  }
  return report;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch {
    return false;
  }
}

const swept = new Set<string>();

/**
 * {@linkcode sweepStaleTemps} once per folder and process: later calls return at once.
 *
 * @param dir the folder to look in
 *
 * @example
 * ```ts
 * import { sweepStaleTempsOnce } from "@brainorg/common";
 * await sweepStaleTempsOnce("/tmp"); // sweeps
 * await sweepStaleTempsOnce("/tmp"); // returns at once
 * ```
 */
export async function sweepStaleTempsOnce(dir: string): Promise<void> {
  if (swept.has(dir)) return;
  swept.add(dir);
  await sweepStaleTemps(dir);
}
