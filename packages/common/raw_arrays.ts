/**
 * Typed arrays as raw files of a cache entry (`cache_entry.ts`): one file
 * per array, named with its element type (`name.f32`, `.f64`, `.i32`,
 * `.u32`), in the machine's byte order (little-endian on every platform
 * Deno runs on), so that values survive the round trip bit for bit (NaN
 * and −0 included). Shared by the caches of atoms, voxel results, blocks
 * and the variance partition.
 *
 * @module
 */

import { join } from "node:path";
import { writeFileAtomic } from "./atomic_write.ts";
import { type CacheEntryManifest, readCacheEntryFile } from "./cache_entry.ts";

/** The typed arrays a cache entry stores. */
export type RawArray = Float32Array | Float64Array | Int32Array | Uint32Array;

/** An element type, as its file's extension names it. */
export type RawKind = "f32" | "f64" | "i32" | "u32";

/** The array a {@linkcode RawKind} reads back as. */
export type RawArrayOf<K extends RawKind> = {
  f32: Float32Array;
  f64: Float64Array;
  i32: Int32Array;
  u32: Uint32Array;
}[K];

/** Each element type's constructor. */
const TYPES = { f32: Float32Array, f64: Float64Array, i32: Int32Array, u32: Uint32Array };

/**
 * The file extension of an array's element type.
 *
 * @example
 * ```ts
 * import { rawKind } from "@brainorg/common";
 * console.log(rawKind(new Float64Array(2))); // "f64"
 * ```
 */
export function rawKind(a: RawArray): RawKind {
  return a instanceof Float32Array
    ? "f32"
    : a instanceof Float64Array
    ? "f64"
    : a instanceof Int32Array
    ? "i32"
    : "u32";
}

/**
 * Write `a` as `dir/name.<kind>` (a temporary file, then a rename).
 *
 * @param dir the folder (e.g. the temporary folder `writeCacheEntry` builds)
 * @param name the file's name without its extension
 * @param a the values
 * @throws {OutputError} when the file cannot be written
 *
 * @example
 * ```ts
 * import { writeRawArray } from "@brainorg/common";
 * await writeRawArray("/tmp", "brainorg-example", Float32Array.of(1, 2)); // /tmp/brainorg-example.f32
 * ```
 */
export async function writeRawArray(dir: string, name: string, a: RawArray): Promise<void> {
  await writeFileAtomic(
    join(dir, `${name}.${rawKind(a)}`),
    new Uint8Array(a.buffer, a.byteOffset, a.byteLength),
  );
}

/**
 * Read `name.<kind>` of a cache entry, checked against its manifest (size
 * and SHA-256) and against the number of values expected.
 *
 * @param dir the entry's folder
 * @param manifest the entry's manifest (from `checkCacheEntry`)
 * @param name the file's name without its extension
 * @param kind its element type
 * @param length the values it must hold
 * @returns a copy of the values, in an array of their type
 * @throws {Error} naming the file: not listed, unreadable, damaged, or of another length
 *
 * @example
 * ```ts ignore
 * import { checkCacheEntry, readRawArray } from "@brainorg/common";
 * const entry = await checkCacheEntry(dir);
 * if (entry.state === "whole") await readRawArray(dir, entry.manifest, "group_t", "f32", K * V);
 * ```
 */
export async function readRawArray<K extends RawKind>(
  dir: string,
  manifest: CacheEntryManifest,
  name: string,
  kind: K,
  length: number,
): Promise<RawArrayOf<K>> {
  const file = `${name}.${kind}`, Type = TYPES[kind];
  const b = await readCacheEntryFile(dir, manifest, file);
  const bytes = Type.BYTES_PER_ELEMENT * length;
  if (b.byteLength !== bytes) throw new Error(`${file} has ${b.byteLength} bytes, not ${bytes}`);
  const copy = b.buffer.slice(b.byteOffset, b.byteOffset + bytes) as ArrayBuffer;
  return new Type(copy) as RawArrayOf<K>;
}
