/**
 * Writes that never leave a half-written file behind: data goes to a
 * temporary file beside the target, which is then renamed over it. A rename
 * within one directory is atomic on POSIX file systems, so a reader sees the
 * old file or the new one, never a mix, and a crash leaves the old one intact.
 *
 * @module
 */

import { dirname, join } from "node:path";

function tempPathFor(path: string): string {
  const rand = crypto.getRandomValues(new Uint32Array(2));
  const base = path.split("/").pop() ?? "file";
  return join(dirname(path), `.${base}.tmp-${rand[0].toString(36)}${rand[1].toString(36)}`);
}

/**
 * Write bytes to `path` atomically, creating parent directories.
 *
 * @param path destination file
 * @param data the whole content
 *
 * @example
 * ```ts
 * import { writeFileAtomic } from "@brainorg/common";
 * await writeFileAtomic("/tmp/x.bin", new Uint8Array([1, 2, 3]));
 * ```
 */
export async function writeFileAtomic(path: string, data: Uint8Array): Promise<void> {
  await Deno.mkdir(dirname(path), { recursive: true });
  const tmp = tempPathFor(path);
  try {
    await Deno.writeFile(tmp, data);
    await Deno.rename(tmp, path);
  } catch (err) {
    await Deno.remove(tmp).catch(() => {});
    throw err;
  }
}

/** Write UTF-8 text to `path` atomically (see {@linkcode writeFileAtomic}). */
export function writeTextFileAtomic(path: string, text: string): Promise<void> {
  return writeFileAtomic(path, new TextEncoder().encode(text));
}

/** Write `value` as indented JSON (with a final newline) to `path` atomically. */
export function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  return writeTextFileAtomic(path, JSON.stringify(value, null, 2) + "\n");
}

/**
 * Fill a directory atomically: `build` writes into a fresh temporary sibling
 * directory, which replaces `dir` only when `build` succeeds. A failed build
 * leaves any earlier `dir` untouched.
 *
 * @param dir the directory to create or replace
 * @param build writes the directory's content into the path it is given
 */
export async function writeDirAtomic(
  dir: string,
  build: (tmpDir: string) => Promise<void>,
): Promise<void> {
  await Deno.mkdir(dirname(dir), { recursive: true });
  const tmp = tempPathFor(dir);
  await Deno.mkdir(tmp);
  try {
    await build(tmp);
  } catch (err) {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
    throw err;
  }
  const old = tempPathFor(dir);
  let hadOld = false;
  try {
    await Deno.rename(dir, old);
    hadOld = true;
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  await Deno.rename(tmp, dir);
  if (hadOld) await Deno.remove(old, { recursive: true });
}
