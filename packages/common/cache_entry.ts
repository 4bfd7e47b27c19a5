/**
 * Cache entries: folders written whole or not at all, each with a manifest
 * of its files' sizes and SHA-256 digests, so that a reader never uses half
 * an entry or a damaged one.
 *
 * An entry is built in a temporary sibling folder, its `manifest.json`
 * written last, everything flushed to disk, and the folder renamed into
 * place. Once there an entry is never changed: when two processes compute
 * the same entry at once, both may compute, the first rename wins, and the
 * second finds a whole entry in place, keeps it and discards its own copy
 * (no lock, so no stale lock after a crash; the cost of a race is one
 * duplicated computation). An entry is replaced only when it is damaged
 * (its files do not match its manifest) or its reader says it cannot use it.
 *
 * @module
 */

import { dirname, join, relative } from "node:path";
import { OutputError } from "./errors.ts";
import { faultPoint } from "./_fault_points.ts";
import { sha256, sha256File } from "./hash.ts";
import { writeJsonAtomic } from "./atomic_write.ts";
import { isFsError, isOccupied, syncDir, syncTree, writingWhat } from "./_fs.ts";
import {
  type Held,
  holdExisting,
  makeTempDir,
  sweepStaleTempsOnce,
  tempSibling,
} from "./temp_siblings.ts";

/** The name of an entry's manifest. */
export const MANIFEST = "manifest.json";

/** `manifest.json` of a cache entry: every other file, by its path relative to the entry. */
export interface CacheEntryManifest {
  /** The manifest's format and version. */
  schema: "brainorg.cache-entry/1";
  /** ISO 8601 time the entry was made. */
  created: string;
  /** Size in bytes and SHA-256 (hex) of each file, keyed by path (`/`-separated). */
  files: Record<string, { bytes: number; sha256: string }>;
}

/** What {@linkcode checkCacheEntry} found. */
export type CacheEntryState =
  | { state: "absent" }
  | { state: "damaged"; reason: string }
  | { state: "whole"; manifest: CacheEntryManifest };

/** Options of {@linkcode writeCacheEntry}. */
export interface WriteCacheEntryOptions {
  /**
   * Replace an entry already in place even when it is whole (its reader
   * found it unusable). Default: false: a whole entry in place is kept.
   */
  replace?: boolean;
}

/**
 * Build a cache entry and put it in place atomically (see the module doc).
 *
 * @param dir the entry's folder
 * @param build writes the entry's files into the folder it is given (not `manifest.json`)
 * @param options whether to replace a whole entry already in place
 * @returns `written`: false when a whole entry was already in place and was kept
 * @throws {OutputError} when the file system refuses (naming `dir` and the OS error)
 *
 * @example
 * ```ts
 * import { writeCacheEntry } from "@brainorg/common";
 * const { written } = await writeCacheEntry("/tmp/brainorg-cache/x/abc", async (tmp) => {
 *   await Deno.writeTextFile(`${tmp}/value.txt`, "42");
 * });
 * console.log(written);
 * ```
 */
export async function writeCacheEntry(
  dir: string,
  build: (tmpDir: string) => Promise<void>,
  options: WriteCacheEntryOptions = {},
): Promise<{ written: boolean }> {
  let held: Held;
  try {
    await Deno.mkdir(dirname(dir), { recursive: true });
    await sweepStaleTempsOnce(dirname(dir));
    held = await makeTempDir(dir);
  } catch (err) {
    throw new OutputError("the cache entry", dir, err);
  }
  const tmp = held.path;
  let built = false;
  try {
    await build(tmp);
    built = true;
    const manifest: CacheEntryManifest = {
      schema: "brainorg.cache-entry/1",
      created: new Date().toISOString(),
      files: await describeFiles(tmp),
    };
    await writeJsonAtomic(join(tmp, MANIFEST), manifest);
    await syncTree(tmp);
    await faultPoint("entry-built");
    const written = await commit(tmp, dir, options.replace ?? false);
    await faultPoint("entry-committed");
    return { written };
  } catch (err) {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
    if (!(err instanceof OutputError || (built && isFsError(err)))) throw err;
    const inner = writingWhat(err, tmp);
    throw new OutputError("the cache entry", dir, err, inner && `writing ${inner}`);
  } finally {
    held.release();
  }
}

/** Sizes and digests of every file under `root` (recursively). */
async function describeFiles(root: string): Promise<CacheEntryManifest["files"]> {
  const files: CacheEntryManifest["files"] = {};
  const walk = async (d: string) => {
    const names = [];
    for await (const e of Deno.readDir(d)) names.push(e);
    names.sort((a, b) => (a.name < b.name ? -1 : 1));
    for (const e of names) {
      const p = join(d, e.name);
      if (e.isDirectory) await walk(p);
      else if (e.isFile) {
        const { size } = await Deno.stat(p);
        files[relative(root, p).split("\\").join("/")] = {
          bytes: size,
          sha256: await sha256File(p),
        };
      }
    }
  };
  await walk(root);
  return files;
}

/** Rename `tmp` to `dir`; keep a whole entry found there unless `replace`. Returns whether ours went in. */
async function commit(tmp: string, dir: string, replace: boolean): Promise<boolean> {
  for (let attempt = 1;; attempt++) {
    try {
      await Deno.rename(tmp, dir);
      await syncDir(dirname(dir));
      return true;
    } catch (err) {
      if (!isOccupied(err) || attempt > 4) throw err;
    }
    if (!replace) {
      const found = await checkCacheEntry(dir);
      if (found.state === "whole") {
        await Deno.remove(tmp, { recursive: true });
        return false;
      }
      if (found.state === "absent") continue;
    }
    // Only the first replacement is forced: an entry that appears after it
    // is another process's fresh one, kept when whole.
    replace = false;
    const old = tempSibling(dir, "old");
    const aside = await holdExisting(dir);
    if (!aside) continue;
    try {
      try {
        await Deno.rename(dir, old);
      } catch (err) {
        if (!(err instanceof Deno.errors.NotFound)) throw err;
        continue;
      }
      try {
        await Deno.rename(tmp, dir);
      } catch (err) {
        if (!isOccupied(err)) throw err;
        continue; // another process was quicker still
      } finally {
        await Deno.remove(old, { recursive: true }).catch(() => {});
      }
    } finally {
      aside.release();
    }
    await syncDir(dirname(dir));
    return true;
  }
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * Whether a cache entry is in place and whole: its manifest is readable and
 * every file it lists has the size (and, with `hashes`, the SHA-256) it
 * records.
 *
 * @param dir the entry's folder
 * @param options `hashes`: also check every file's SHA-256 (default true;
 *   false checks sizes only, for entries whose files are checked as they are read)
 * @returns `absent` (no folder), `damaged` with the reason, or `whole` with the manifest
 *
 * @example
 * ```ts
 * import { checkCacheEntry } from "@brainorg/common";
 * const found = await checkCacheEntry("/tmp/brainorg-cache/x/abc");
 * if (found.state === "damaged") console.warn(found.reason);
 * ```
 */
export async function checkCacheEntry(
  dir: string,
  options: { hashes?: boolean } = {},
): Promise<CacheEntryState> {
  // Readers clean up too: a run that only reads the cache still removes a killed run's debris.
  await sweepStaleTempsOnce(dirname(dir));
  let text: string;
  try {
    text = await Deno.readTextFile(join(dir, MANIFEST));
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) {
      return { state: "damaged", reason: `${MANIFEST}: ${(err as Error).message}` };
    }
    try {
      await Deno.stat(dir);
    } catch {
      return { state: "absent" };
    }
    return {
      state: "damaged",
      reason: `${MANIFEST} is missing (an unfinished entry, or one from an older brainorg)`,
    };
  }
  let manifest: unknown;
  try {
    manifest = JSON.parse(text);
  } catch (err) {
    return { state: "damaged", reason: `${MANIFEST} is not JSON: ${(err as Error).message}` };
  }
  if (
    !isObject(manifest) || manifest.schema !== "brainorg.cache-entry/1" ||
    !isObject(manifest.files) ||
    !Object.values(manifest.files).every((f) =>
      isObject(f) && Number.isInteger(f.bytes) && typeof f.sha256 === "string"
    )
  ) return { state: "damaged", reason: `${MANIFEST} is not a brainorg.cache-entry/1 manifest` };
  const m = manifest as unknown as CacheEntryManifest;
  for (const [name, want] of Object.entries(m.files)) {
    const path = join(dir, name);
    let size: number;
    try {
      size = (await Deno.stat(path)).size;
    } catch (err) {
      return { state: "damaged", reason: `${name}: ${(err as Error).message}` };
    }
    if (size !== want.bytes) {
      return { state: "damaged", reason: `${name} has ${size} bytes, not ${want.bytes}` };
    }
    if (options.hashes !== false && await sha256File(path) !== want.sha256) {
      return { state: "damaged", reason: `${name} does not match its SHA-256 in ${MANIFEST}` };
    }
  }
  return { state: "whole", manifest: m };
}

/**
 * Read one file of an entry, checked against its manifest.
 *
 * @param dir the entry's folder
 * @param manifest the entry's manifest (from {@linkcode checkCacheEntry})
 * @param name the file's path in the entry
 * @returns its bytes
 * @throws {Error} saying what is wrong: not listed, unreadable, wrong size or digest
 *
 * @example
 * ```ts
 * import { checkCacheEntry, readCacheEntryFile } from "@brainorg/common";
 * const dir = "/tmp/brainorg-cache/x/abc";
 * const found = await checkCacheEntry(dir);
 * if (found.state === "whole") {
 *   const bytes = await readCacheEntryFile(dir, found.manifest, "value.txt");
 *   console.log(new TextDecoder().decode(bytes));
 * }
 * ```
 */
export async function readCacheEntryFile(
  dir: string,
  manifest: CacheEntryManifest,
  name: string,
): Promise<Uint8Array> {
  const want = manifest.files[name];
  if (!want) throw new Error(`${name} is not in ${MANIFEST}`);
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(join(dir, name));
  } catch (err) {
    throw new Error(`${name}: ${(err as Error).message}`);
  }
  if (bytes.byteLength !== want.bytes) {
    throw new Error(`${name} has ${bytes.byteLength} bytes, not ${want.bytes}`);
  }
  if (sha256(bytes) !== want.sha256) {
    throw new Error(`${name} does not match its SHA-256 in ${MANIFEST}`);
  }
  return bytes;
}
