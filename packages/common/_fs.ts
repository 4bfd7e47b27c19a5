/**
 * File-system helpers shared by the atomic writers: flushing to disk, and
 * telling the file system's errors from the program's.
 *
 * @module
 */

import { join } from "node:path";
import { OutputError } from "./errors.ts";

/**
 * Whether `err` came from the file system or the operating system (a Deno
 * error class, or an errno code such as `ENOSPC`, `EROFS`, `EACCES`).
 */
export function isFsError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  return (typeof code === "string" && /^E[A-Z0-9]+$/.test(code)) ||
    Object.values(Deno.errors).some((c) => err instanceof c);
}

/** Whether a rename failed because the destination is a non-empty folder. */
export function isOccupied(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  return err instanceof Deno.errors.AlreadyExists || code === "ENOTEMPTY" || code === "EEXIST";
}

/** Flush a folder's entries (names created, renamed, removed) to disk. */
export async function syncDir(dir: string): Promise<void> {
  let f: Deno.FsFile;
  try {
    f = await Deno.open(dir, { read: true });
  } catch {
    return; // a platform that cannot open folders: nothing to flush
  }
  try {
    await f.sync();
  } catch {
    /* folders that refuse fsync (some network file systems) */
  } finally {
    f.close();
  }
}

/**
 * Flush every file and folder under `dir` to disk, so that a rename that
 * publishes `dir` never reaches the disk before its content does.
 */
export async function syncTree(dir: string): Promise<void> {
  for await (const e of Deno.readDir(dir)) {
    const p = join(dir, e.name);
    if (e.isDirectory) await syncTree(p);
    else if (e.isFile) {
      const f = await Deno.open(p, { read: true });
      try {
        await f.sync();
      } finally {
        f.close();
      }
    }
  }
  await syncDir(dir);
}

/** The file an inner write failed on, relative to the folder being built, if it is one. */
export function writingWhat(err: unknown, tmp: string): string | undefined {
  return err instanceof OutputError && err.path.startsWith(tmp + "/")
    ? err.path.slice(tmp.length + 1)
    : undefined;
}
