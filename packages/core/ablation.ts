/**
 * A causal test of the sub-groups: zero an atom's sub-group (its ANs with a
 * non-zero code, positive and negative) in the model's forward pass and
 * measure the change of the next-token loss on the story and on a held-out
 * text, against R random ablations of as many units in each layer, drawn
 * from the layer's units outside the sub-group. Does the model need this
 * sub-group more than any other units of the same size and place?
 *
 * @module
 */

import { type Matrix, rng } from "@brainorg/kernels";
import { type LlamaModel, nextTokenLosses } from "@brainorg/models";
import { benjaminiHochberg, permutationPValue } from "./stats.ts";

/** One atom's ablation: a row of `models/<model>/ablation.csv`. */
export interface AtomAblation {
  /** The atom, from 0. */
  atom: number;
  /** ANs of its sub-group, all zeroed. */
  ans: number;
  /** Loss with the sub-group zeroed minus the whole model's, on the story (nats/token). */
  storyLossChange: number;
  /** (1 + #{random ≥ observed}) / (R + 1), one-sided. */
  storyP: number;
  /** (observed − mean of the random changes) / their SD (ddof 1). */
  storyZ: number;
  /** Benjamini–Hochberg q of `storyP` over the model's atoms. */
  storyQ: number;
  /** The same on the held-out text (NaN where there is none). */
  heldOutLossChange: number;
  /** The same on the held-out text. */
  heldOutP: number;
  /** The same on the held-out text. */
  heldOutZ: number;
  /** The same on the held-out text. */
  heldOutQ: number;
}

/** A model's ablations. */
export interface ModelAblation {
  /** The whole model's loss on the story and the held-out text (nats/token). */
  baseline: { story: number; heldOut: number };
  /** Per atom, in order. */
  atoms: AtomAblation[];
}

/** Options of {@linkcode ablateSubgroups}. */
export interface AblateOptions {
  /** Random matched ablations per atom (R). Default: 100. */
  randomAblations?: number;
  /** Seed of the random draws. Default: 0. */
  seed?: number;
  /** Worker threads. Default: every core. */
  threads?: number;
  /** Called as ablations finish, with (done, total). */
  onProgress?: (done: number, total: number) => void;
}

/**
 * One-sided permutation statistics of an observed loss change against random ones.
 *
 * @param observed the sub-group's loss change
 * @param random the random ablations' changes (R of them)
 * @returns p = (1 + #{random ≥ observed}) / (R + 1), and z = (observed − mean) / SD
 *   (ddof 1; NaN when the SD is 0 or R < 2)
 *
 * @example
 * ```ts
 * import { ablationStats } from "@brainorg/core";
 * ablationStats(0.5, [0.1, 0.2, 0.3]); // { p: 0.25, z: 3 }
 * ```
 */
export function ablationStats(
  observed: number,
  random: ArrayLike<number>,
): { p: number; z: number } {
  const R = random.length;
  let above = 0, mean = 0;
  for (let i = 0; i < R; i++) {
    if (random[i] >= observed) above++;
    mean += random[i] / R;
  }
  let ss = 0;
  for (let i = 0; i < R; i++) ss += (random[i] - mean) ** 2;
  const sd = R > 1 ? Math.sqrt(ss / (R - 1)) : NaN;
  return {
    p: Number.isNaN(observed) ? NaN : permutationPValue(above, R),
    z: sd > 0 ? (observed - mean) / sd : NaN,
  };
}

/**
 * The ANs of each atom's sub-group: the columns with a non-zero code.
 *
 * @param codes (K × ANs) codes over every AN (`fullCodes`), row-major
 * @returns per atom, its full AN indices in increasing order
 */
export function subgroupAns(codes: Matrix): Uint32Array[] {
  return Array.from({ length: codes.rows }, (_, k) => {
    const row = codes.data.subarray(k * codes.cols, (k + 1) * codes.cols), out: number[] = [];
    row.forEach((c, j) => c !== 0 && out.push(j));
    return Uint32Array.from(out);
  });
}

/**
 * A random ablation matched to a sub-group: in each layer as many units as
 * the sub-group has there, drawn without replacement from the layer's units
 * outside the sub-group (where a layer has fewer outside units than that,
 * all of them and then units of the sub-group, so that the counts still match).
 *
 * @param subgroup full AN indices of the sub-group (layers one after another)
 * @param layerSizes ANs per layer; the full index runs layer after layer
 * @param uniform a seeded generator of uniform numbers in [0, 1)
 * @returns full AN indices, sorted, with the sub-group's count in every layer
 * @throws {RangeError} when an index is outside the layers
 *
 * @example
 * ```ts
 * import { matchedRandomAns } from "@brainorg/core";
 * import { rng } from "@brainorg/kernels";
 * matchedRandomAns(Uint32Array.of(0, 1, 5), [4, 4], rng(0)); // two of 2, 3; one of 4, 6, 7
 * ```
 */
export function matchedRandomAns(
  subgroup: ArrayLike<number>,
  layerSizes: readonly number[],
  uniform: () => number,
): Uint32Array {
  const total = layerSizes.reduce((a, b) => a + b, 0);
  const inGroup = new Uint8Array(total);
  for (let i = 0; i < subgroup.length; i++) {
    const j = subgroup[i];
    if (!(j >= 0 && j < total)) {
      throw new RangeError(`sub-group ANs must be below ${total}: current value is ${j}`);
    }
    inGroup[j] = 1;
  }
  const out: number[] = [];
  let first = 0;
  for (const size of layerSizes) {
    const outside: number[] = [], inside: number[] = [];
    for (let j = first; j < first + size; j++) (inGroup[j] ? inside : outside).push(j);
    const need = inside.length;
    let drawn = 0;
    // Partial Fisher–Yates: the first `need` of the pool, outside units first.
    for (const pool of [outside, inside]) {
      const take = Math.min(pool.length, need - drawn);
      for (let i = 0; i < take; i++) {
        const r = i + Math.floor(uniform() * (pool.length - i));
        [pool[i], pool[r]] = [pool[r], pool[i]];
        out.push(pool[i]);
      }
      drawn += take;
    }
    first += size;
  }
  return Uint32Array.from(out).sort();
}

/**
 * Ablate each atom's sub-group and R matched random sets, and score the
 * loss changes on the story and a held-out text.
 *
 * @param model the model (the TypeScript forward pass)
 * @param codes (K × ANs) codes over every AN (`fullCodes`); column j is AN `layer · dim + unit`
 * @param texts token ids of the story and of the held-out text (without BOS; empty: none)
 * @param options R, seed, threads, progress
 * @returns the baseline losses and, per atom, the changes with p, z and BH q over atoms
 * @throws {RangeError} when the codes do not have one column per AN of the model
 *
 * @example
 * ```ts
 * import { ablateSubgroups } from "@brainorg/core";
 * import { readGgufLlama } from "@brainorg/models";
 * const model = await readGgufLlama("stories260K.gguf");
 * const codes = { rows: 1, cols: 320, data: new Float32Array(320).fill(0) };
 * codes.data[3] = 1;
 * const r = await ablateSubgroups(model, codes, { story: [403, 407, 261], heldOut: [] });
 * r.atoms[0].storyP; // how often 1 random unit of layer 0 mattered as much as unit 3
 * ```
 */
export async function ablateSubgroups(
  model: LlamaModel,
  codes: Matrix,
  texts: { story: readonly number[]; heldOut: readonly number[] },
  options: AblateOptions = {},
): Promise<ModelAblation> {
  const { layers, dim } = model.config;
  if (codes.cols !== layers * dim) {
    throw new RangeError(
      `\`codes\` must have one column per AN of the model (${layers} × ${dim}): ` +
        `current value is ${codes.cols}`,
    );
  }
  const R = options.randomAblations ?? 100, uniform = rng(options.seed ?? 0);
  const layerSizes = new Array<number>(layers).fill(dim);
  const groups = subgroupAns(codes);
  // Row 0: the whole model; then per atom its sub-group and R random sets.
  const ablations: Uint32Array[] = [new Uint32Array(0)];
  for (const g of groups) {
    ablations.push(g);
    for (let r = 0; r < R; r++) ablations.push(matchedRandomAns(g, layerSizes, uniform));
  }
  const all = [texts.story, texts.heldOut], textList = all.filter((t) => t.length > 0);
  const losses = await nextTokenLosses(model, textList, ablations, {
    ...(options.threads ? { threads: options.threads } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
  const T = textList.length;
  const column = all.map((t) => textList.indexOf(t));
  const loss = (a: number, text: 0 | 1) => column[text] < 0 ? NaN : losses[a * T + column[text]];
  const perText = ([0, 1] as const).map((text) => {
    const base = loss(0, text);
    const rows = groups.map((_, k) => {
      const at = 1 + k * (R + 1), observed = loss(at, text) - base;
      const random = Float64Array.from({ length: R }, (_, r) => loss(at + 1 + r, text) - base);
      return { change: observed, ...ablationStats(observed, random) };
    });
    const q = benjaminiHochberg(rows.map((r) => r.p));
    return { base, rows: rows.map((r, k) => ({ ...r, q: q[k] })) };
  });
  const [story, heldOut] = perText;
  return {
    baseline: { story: story.base, heldOut: heldOut.base },
    atoms: groups.map((g, k) => ({
      atom: k,
      ans: g.length,
      storyLossChange: story.rows[k].change,
      storyP: story.rows[k].p,
      storyZ: story.rows[k].z,
      storyQ: story.rows[k].q,
      heldOutLossChange: heldOut.rows[k].change,
      heldOutP: heldOut.rows[k].p,
      heldOutZ: heldOut.rows[k].z,
      heldOutQ: heldOut.rows[k].q,
    })),
  };
}
