/**
 * The random-weights control's draws, tensor by tensor: each tensor (and
 * each row of the token embeddings) has its own generator, seeded by the
 * control's seed and the tensor's GGUF name, so a model redrawn whole in
 * memory ({@linkcode randomizeWeights}) and one redrawn block by block as
 * it is read from the file (`captureWordsStreamed` with `randomSeed`) get
 * the same weights, and a story's embedding rows can be drawn without the
 * rest.
 *
 * @module
 */

import { rng } from "@brainorg/kernels";

/** Bumped whenever the draws change: it is part of the control's cache key. */
export const RANDOM_WEIGHTS_RULE = "per-tensor-v2";

/**
 * A tensor's own uniform generator for a control's seed: FNV-1a of the seed
 * and name, then mulberry32.
 *
 * @param seed the control's seed
 * @param name the tensor's GGUF name (`blk.3.attn_q.weight`), with `#row` for an embedding row
 * @returns uniform numbers in [0, 1)
 */
export function tensorUniform(seed: number, name: string): () => number {
  let h = 0x811c9dc5;
  for (const c of `${seed >>> 0}:${name}`) {
    h ^= c.codePointAt(0)!;
    h = Math.imul(h, 0x01000193);
  }
  return rng(h >>> 0);
}

/** A tensor's mean and population standard deviation, the moments a control keeps. */
export interface NormalStats {
  /** Mean of every value. */
  mean: number;
  /** Population standard deviation. */
  sd: number;
}

/**
 * Mean and population SD of a tensor given in consecutive pieces, summed in
 * the order `redrawNormal` sums a whole tensor (so both give the same bits).
 *
 * @param pieces a function that yields the tensor's values in order, in pieces; called twice
 * @param length the tensor's number of values
 */
export async function normalStats(
  pieces: () => AsyncIterable<Float32Array> | Iterable<Float32Array>,
  length: number,
): Promise<NormalStats> {
  let m = 0;
  for await (const p of pieces()) for (const v of p) m += v / length;
  let s = 0;
  for await (const p of pieces()) for (const v of p) s += (v - m) ** 2 / length;
  return { mean: m, sd: Math.sqrt(s) };
}

/** {@linkcode normalStats} of a tensor held whole. */
export function normalStatsOf(w: Float32Array): NormalStats {
  let m = 0;
  for (const v of w) m += v / w.length;
  let s = 0;
  for (const v of w) s += (v - m) ** 2 / w.length;
  return { mean: m, sd: Math.sqrt(s) };
}

/**
 * Normal draws with given moments into `out`: Box–Muller, both values of
 * each pair used (half the logarithms and uniforms of `redrawNormal`'s
 * draws, which matters at 0.2 G weights a block).
 *
 * @param out where the draws go (all of it)
 * @param stats their mean and SD
 * @param uniform a seeded generator of uniform numbers in [0, 1)
 * @returns `out`
 */
export function drawNormal(
  out: Float32Array,
  stats: NormalStats,
  uniform: () => number,
): Float32Array {
  const { mean, sd } = stats;
  for (let i = 0; i < out.length; i += 2) {
    const r = sd * Math.sqrt(-2 * Math.log(Math.max(uniform(), 1e-12))),
      a = 2 * Math.PI * uniform();
    out[i] = mean + r * Math.cos(a);
    if (i + 1 < out.length) out[i + 1] = mean + r * Math.sin(a);
  }
  return out;
}

/**
 * A tensor of the random-weights control: normal draws with the trained
 * tensor's mean and SD, by the tensor's own generator.
 *
 * @param w the trained tensor
 * @param seed the control's seed
 * @param name the tensor's GGUF name (`blk.3.attn_q.weight`)
 * @returns new values, as many as `w`
 */
export function redrawTensor(w: Float32Array, seed: number, name: string): Float32Array {
  return drawNormal(new Float32Array(w.length), normalStatsOf(w), tensorUniform(seed, name));
}

/**
 * Rows of a redrawn token embedding: row r drawn by its own generator
 * (`name#r`), with the moments of the whole trained embedding.
 *
 * @param stats the trained embedding's moments
 * @param dim values per row
 * @param rows the rows wanted
 * @param seed the control's seed
 * @param name the tensor's GGUF name. Default: `token_embd.weight`
 * @returns (rows.length × dim), in the order asked
 */
export function redrawRows(
  stats: NormalStats,
  dim: number,
  rows: readonly number[],
  seed: number,
  name = "token_embd.weight",
): Float32Array {
  const out = new Float32Array(rows.length * dim);
  rows.forEach((r, i) =>
    drawNormal(out.subarray(i * dim, (i + 1) * dim), stats, tensorUniform(seed, `${name}#${r}`))
  );
  return out;
}
