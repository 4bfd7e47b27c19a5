/**
 * One block of voxels' results of one model on disk, and their assembly
 * into the whole study's maps: the single writer and reader shared by a
 * shard of a sharded run (`shard_voxels.ts`) and the blocked run's cache
 * (`voxel_blocks.ts`). A block's folder is a cache entry of
 * {@linkcode writeCacheEntry} (whole or not at all, every file's size and
 * SHA-256 in its manifest): per subject its r, R², α, p (block voxels w)
 * and weights, z (K × w); the group's t, p (K × w), mean r and its p (w);
 * per template set the null's Dice counts (`BlockDiceCounts`' sizes and
 * intersections); and `block.json`, the writer's description of the block.
 * Raw little-endian files, so that maps survive the round trip bit for bit
 * (NaN included).
 *
 * @module
 */

import { join } from "node:path";
import {
  checkCacheEntry,
  readCacheEntryFile,
  readRawArray,
  writeCacheEntry,
  writeRawArray,
  writeTextFileAtomic,
} from "@brainorg/common";
import type { GroupMaps, SubjectMaps } from "./voxel_encoding.ts";

const SCHEMA = "brainorg.block-result/1";

/** The description of a block written beside its maps. */
export const BLOCK_META = "block.json";

/** One subject's maps on a block of w voxels. */
export interface BlockSubjectMaps {
  /** Held-out r (w). */
  r: Float32Array;
  /** Cross-validated R² (w). */
  r2: Float32Array;
  /** Ridge α per voxel (w). */
  alpha: Float64Array;
  /** Permutation p of r (w). */
  p: Float64Array;
  /** Coefficients: (K × w), row-major. */
  weights: Float32Array;
  /** Coefficients as z against their null: (K × w), row-major. */
  z: Float32Array;
}

/** One model's results on a block of w voxels: what a block adds to the whole study. */
export interface BlockResult {
  /** Per subject (in the analysis's order), its maps on the block. */
  subjects: BlockSubjectMaps[];
  /** Group maps: t and p (K × w), mean r and its permutation p (w). */
  group: { t: Float32Array; p: Float64Array; meanR: Float32Array; pR: Float64Array };
  /**
   * Per template set, the null's Dice counts on the block (`BlockDiceCounts`):
   * sizes (P × K × 2), intersections (P × K × 2 × N).
   */
  nulls: { sizes: Uint32Array; inter: Uint32Array }[];
}

/** What a block's files must hold: {@linkcode readBlockResult} checks every file's size against it. */
export interface BlockShape {
  /** Subjects S. */
  subjects: number;
  /** Atoms K. */
  atoms: number;
  /** Voxels of the block, w. */
  voxels: number;
  /** Surrogates of the null, P. */
  permutations: number;
  /** Per template set, its networks N. */
  networks: number[];
}

/** What {@linkcode readBlockResult} found. */
export type BlockResultRead =
  | { state: "absent" }
  | { state: "damaged"; reason: string }
  | { state: "whole"; result: BlockResult; meta: Record<string, unknown> };

/**
 * A block's result from `encodeVoxels`' output on the block and the null's
 * counts (maps are referenced, not copied).
 *
 * @param encoded per subject its maps, the group maps, on the block's voxels
 * @param counts per template set, its `BlockDiceCounts` (sizes, inter)
 * @returns the block's result
 *
 * @example
 * ```ts
 * import { blockResultOf } from "@brainorg/core";
 * const m = { rows: 1, cols: 1, data: Float32Array.of(0.5) };
 * const subject = {
 *   id: "s1", r: Float32Array.of(0.2), r2: Float32Array.of(0.04), alpha: Float64Array.of(1),
 *   p: Float64Array.of(0.5), q: Float64Array.of(0.5), weights: m, z: m,
 * };
 * const group = {
 *   subjects: 1, t: m, p: Float64Array.of(1), meanR: Float32Array.of(0.2),
 *   pR: Float64Array.of(0.5), qR: Float64Array.of(0.5),
 * };
 * const block = blockResultOf({ subjects: [subject], group }, []);
 * console.log(block.group.t.length); // 1
 * ```
 */
export function blockResultOf(
  encoded: { subjects: SubjectMaps[]; group: GroupMaps },
  counts: { sizes: Uint32Array; inter: Uint32Array }[],
): BlockResult {
  const g = encoded.group;
  return {
    subjects: encoded.subjects.map((s) => ({
      r: s.r,
      r2: s.r2,
      alpha: s.alpha,
      p: s.p,
      weights: s.weights.data,
      z: s.z.data,
    })),
    group: { t: g.t.data, p: g.p, meanR: g.meanR, pR: g.pR },
    nulls: counts.map((c) => ({ sizes: c.sizes, inter: c.inter })),
  };
}

type Typed = Float32Array | Float64Array | Uint32Array;
type Kind = "f32" | "f64" | "u32";

/** Every file of a block, by name, with its kind and length (in elements). */
function layout(shape: BlockShape): { name: string; kind: Kind; length: number }[] {
  const { subjects: S, atoms: K, voxels: w, permutations: P } = shape;
  const files: { name: string; kind: Kind; length: number }[] = [];
  for (let i = 0; i < S; i++) {
    files.push(
      { name: `s${i}_r`, kind: "f32", length: w },
      { name: `s${i}_r2`, kind: "f32", length: w },
      { name: `s${i}_alpha`, kind: "f64", length: w },
      { name: `s${i}_p`, kind: "f64", length: w },
      { name: `s${i}_weights`, kind: "f32", length: K * w },
      { name: `s${i}_z`, kind: "f32", length: K * w },
    );
  }
  files.push(
    { name: "group_t", kind: "f32", length: K * w },
    { name: "group_p", kind: "f64", length: K * w },
    { name: "group_meanR", kind: "f32", length: w },
    { name: "group_pR", kind: "f64", length: w },
  );
  shape.networks.forEach((N, j) => {
    files.push(
      { name: `null${j}_sizes`, kind: "u32", length: P * K * 2 },
      { name: `null${j}_inter`, kind: "u32", length: P * K * 2 * N },
    );
  });
  return files;
}

/** The arrays of a result in {@linkcode layout}'s order. */
function arraysOf(result: BlockResult): Typed[] {
  const g = result.group;
  return [
    ...result.subjects.flatMap((s) => [s.r, s.r2, s.alpha, s.p, s.weights, s.z]),
    g.t,
    g.p,
    g.meanR,
    g.pR,
    ...result.nulls.flatMap((n) => [n.sizes, n.inter]),
  ];
}

/** The shape a result has (w and K from its group maps, P from its counts). */
function shapeOf(result: BlockResult): BlockShape {
  const w = result.group.meanR.length, K = w ? result.group.t.length / w : 0;
  return {
    subjects: result.subjects.length,
    atoms: K,
    voxels: w,
    permutations: result.nulls.length ? result.nulls[0].sizes.length / (2 * K) : 0,
    networks: result.nulls.map((n) => n.inter.length / Math.max(1, n.sizes.length)),
  };
}

/**
 * Write a block's result as the cache entry `folder` (whole or not at all),
 * with `meta` as `block.json`.
 *
 * @param folder the entry's folder
 * @param result the block's maps and null counts
 * @param meta the writer's description (JSON-able): its schema is added
 * @param options `replace`: replace a whole entry in place (a rerun shard,
 *   or one its reader could not use). Default: a whole entry in place is kept.
 * @returns `written`: false when a whole entry was in place and kept
 * @throws {OutputError} when the entry cannot be written
 *
 * @example
 * ```ts ignore
 * import { blockResultOf, writeBlockResult } from "@brainorg/core";
 * await writeBlockResult("/tmp/block", blockResultOf(encoded, counts), { voxels: [0, 500] });
 * ```
 */
export async function writeBlockResult(
  folder: string,
  result: BlockResult,
  meta: Record<string, unknown>,
  options: { replace?: boolean } = {},
): Promise<{ written: boolean }> {
  const arrays = arraysOf(result);
  return await writeCacheEntry(folder, async (tmp) => {
    for (const [i, f] of layout(shapeOf(result)).entries()) {
      await writeRawArray(tmp, f.name, arrays[i]);
    }
    await writeTextFileAtomic(
      join(tmp, BLOCK_META),
      JSON.stringify({ schema: SCHEMA, ...meta }, null, 2) + "\n",
    );
  }, options);
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * Read a block's result back, every file checked against the entry's
 * manifest (size and SHA-256) and against `shape`. Never throws for a bad
 * entry: a damaged one is reported with the reason, for its caller to
 * refuse (a merge) or recompute (a cache).
 *
 * @param folder the entry's folder
 * @param shape what the block must hold
 * @returns absent, damaged with the reason, or whole with the result and `block.json`
 *
 * @example
 * ```ts ignore
 * import { readBlockResult } from "@brainorg/core";
 * const shape = { subjects: 20, atoms: 64, voxels: 500, permutations: 100, networks: [7] };
 * const found = await readBlockResult("/tmp/block", shape);
 * if (found.state === "whole") console.log(found.result.group.meanR);
 * ```
 */
export async function readBlockResult(
  folder: string,
  shape: BlockShape,
): Promise<BlockResultRead> {
  // Sizes here; each file's digest as it is read.
  const entry = await checkCacheEntry(folder, { hashes: false });
  if (entry.state !== "whole") return entry;
  try {
    const read = (name: string) => readCacheEntryFile(folder, entry.manifest, name);
    const meta = JSON.parse(new TextDecoder().decode(await read(BLOCK_META)));
    if (!isObject(meta) || meta.schema !== SCHEMA) {
      throw new Error(`${BLOCK_META} is not a ${SCHEMA} description`);
    }
    const arrays: Typed[] = [];
    for (const f of layout(shape)) {
      arrays.push(await readRawArray(folder, entry.manifest, f.name, f.kind, f.length));
    }
    let next = 0;
    const take = <A extends Typed>() => arrays[next++] as A;
    const subjects = Array.from({ length: shape.subjects }, () => ({
      r: take<Float32Array>(),
      r2: take<Float32Array>(),
      alpha: take<Float64Array>(),
      p: take<Float64Array>(),
      weights: take<Float32Array>(),
      z: take<Float32Array>(),
    }));
    const group = {
      t: take<Float32Array>(),
      p: take<Float64Array>(),
      meanR: take<Float32Array>(),
      pR: take<Float64Array>(),
    };
    const nulls = shape.networks.map(() => ({
      sizes: take<Uint32Array>(),
      inter: take<Uint32Array>(),
    }));
    return { state: "whole", result: { subjects, group, nulls }, meta };
  } catch (err) {
    return { state: "damaged", reason: (err as Error).message };
  }
}

/** A model's maps put together from its blocks (the merge of shards, a blocked run). */
export interface AssembledModel {
  /** Per subject, its maps over all voxels: r, r2, alpha, p (V); weights, z (K × V). */
  maps: BlockSubjectMaps[];
  /** Group maps: t and p (K × V), mean r (V). */
  group: { t: Float32Array; p: Float64Array; meanR: Float32Array };
  /** (V) p of the mean r. */
  pR: Float64Array;
  /** Per block, per template set, its null's Dice counts. */
  nulls: { sizes: Uint32Array; inter: Uint32Array }[][];
}

/**
 * A model's maps over all voxels, zero until blocks are added.
 *
 * @param S subjects
 * @param K atoms
 * @param V voxels
 *
 * @example
 * ```ts
 * import { emptyAssembly } from "@brainorg/core";
 * console.log(emptyAssembly(2, 3, 10).maps[1].weights.length); // 30
 * ```
 */
export function emptyAssembly(S: number, K: number, V: number): AssembledModel {
  return {
    maps: Array.from({ length: S }, () => ({
      r: new Float32Array(V),
      r2: new Float32Array(V),
      alpha: new Float64Array(V),
      p: new Float64Array(V),
      weights: new Float32Array(K * V),
      z: new Float32Array(K * V),
    })),
    group: { t: new Float32Array(K * V), p: new Float64Array(K * V), meanR: new Float32Array(V) },
    pR: new Float64Array(V),
    nulls: [],
  };
}

/**
 * Copy a block's maps (over voxels `[v0, v0 + w)`) into the whole ones and
 * keep its null counts.
 *
 * @param into the model's maps over all voxels
 * @param v0 the block's first voxel
 * @param block the block's result
 *
 * @example
 * ```ts
 * import { addBlock, emptyAssembly } from "@brainorg/core";
 * const whole = emptyAssembly(0, 1, 3);
 * const group = {
 *   t: Float32Array.of(2), p: Float64Array.of(0.1), meanR: Float32Array.of(0.3), pR: Float64Array.of(0.2),
 * };
 * addBlock(whole, 1, { subjects: [], group, nulls: [] });
 * console.log(whole.group.meanR); // Float32Array [0, 0.3..., 0]
 * ```
 */
export function addBlock(into: AssembledModel, v0: number, block: BlockResult): void {
  const V = into.pR.length, w = block.group.meanR.length, K = w ? block.group.t.length / w : 0;
  // Rows of a (K × w) block map into the (K × V) one.
  const rows = (to: Float32Array | Float64Array, from: Float32Array | Float64Array) => {
    for (let k = 0; k < K; k++) to.set(from.subarray(k * w, (k + 1) * w), k * V + v0);
  };
  block.subjects.forEach((s, i) => {
    const m = into.maps[i];
    m.r.set(s.r, v0);
    m.r2.set(s.r2, v0);
    m.alpha.set(s.alpha, v0);
    m.p.set(s.p, v0);
    rows(m.weights, s.weights);
    rows(m.z, s.z);
  });
  const g = block.group;
  rows(into.group.t, g.t);
  rows(into.group.p, g.p);
  into.group.meanR.set(g.meanR, v0);
  into.pR.set(g.pR, v0);
  into.nulls.push(block.nulls.map((c) => ({ sizes: c.sizes, inter: c.inter })));
}
