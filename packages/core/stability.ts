/**
 * How stable a model's atoms are: the dictionary is learned again with
 * other seeds on all volumes, and with the reference seed on parts of the
 * story (its two halves, or each story of several), and every new atom is
 * paired with a reference atom by the Hungarian algorithm on |r| of their
 * time courses. An atom that comes back whatever the seed and the part of
 * the story has a stability near 1; one that fits noise does not come back.
 * The same matching aligns the atoms of two models (a model and its
 * random-weights control) for comparison.
 *
 * @module
 */

import { type Backend, learnDictionary, linearSumAssignment, type Matrix } from "@brainorg/kernels";
import { InputError } from "@brainorg/common";
import { median } from "./stats.ts";

/** One atom of `a` paired with one of `b`. */
export interface AtomPair {
  /** Column of `a`. */
  atom: number;
  /** Column of `b` paired with it. */
  matchedAtom: number;
  /** Pearson r of the two time courses (signed: atoms' signs are arbitrary); NaN for a constant one. */
  r: number;
}

/**
 * Pair the atoms of two dictionaries one to one so that Σ |r| is largest
 * (the Hungarian algorithm on −|r|): `min(Ka, Kb)` pairs.
 *
 * @param a atom time courses, shape (T × Ka), row-major
 * @param b atom time courses, shape (T × Kb), row-major, on the same T volumes
 * @returns the pairs, sorted by `atom`; a constant time course counts as r = 0 in the matching
 * @throws {InputError} when `a` and `b` have different numbers of rows
 *
 * @example
 * ```ts
 * import { matchAtoms } from "@brainorg/core";
 * import { matrix } from "@brainorg/kernels";
 * const a = matrix(4, 2, [1, 0, 2, 1, 3, 0, 4, 1]);
 * const b = matrix(4, 2, [0, -1, 1, -2, 0, -3, 1, -4]); // a's columns, swapped, one negated
 * matchAtoms(a, b); // [{ atom: 0, matchedAtom: 1, r: -1 }, { atom: 1, matchedAtom: 0, r: 1 }]
 * ```
 */
export function matchAtoms(a: Matrix, b: Matrix): AtomPair[] {
  if (a.rows !== b.rows) {
    throw new InputError("atoms matched must share their volumes", {
      field: "b",
      expected: `${a.rows} rows (volumes), as a`,
      found: `${b.rows} rows`,
    });
  }
  const r = correlations(a, b);
  const cost = Float64Array.from(r, (x) => Number.isNaN(x) ? 0 : -Math.abs(x));
  const m = linearSumAssignment(cost, a.cols, b.cols);
  return Array.from(m.rowIndex, (i, n) => ({
    atom: i,
    matchedAtom: m.colIndex[n],
    r: r[i * b.cols + m.colIndex[n]],
  }));
}

/** Pearson r of every column of a with every column of b, (Ka × Kb) row-major, float64. */
function correlations(a: Matrix, b: Matrix): Float64Array {
  const ca = centred(a), cb = centred(b), T = a.rows;
  const out = new Float64Array(a.cols * b.cols);
  for (let i = 0; i < a.cols; i++) {
    for (let j = 0; j < b.cols; j++) {
      let s = 0;
      for (let t = 0; t < T; t++) s += ca.x[t * a.cols + i] * cb.x[t * b.cols + j];
      const d = ca.norm[i] * cb.norm[j];
      out[i * b.cols + j] = d > 0 ? s / d : NaN;
    }
  }
  return out;
}

/** Columns minus their means, and their norms (0 for a constant column). */
function centred(m: Matrix): { x: Float64Array; norm: Float64Array } {
  const { rows: T, cols: K } = m, x = new Float64Array(T * K), norm = new Float64Array(K);
  for (let k = 0; k < K; k++) {
    let mean = 0;
    for (let t = 0; t < T; t++) mean += m.data[t * K + k];
    mean /= T;
    let ss = 0;
    for (let t = 0; t < T; t++) {
      const v = m.data[t * K + k] - mean;
      x[t * K + k] = v;
      ss += v * v;
    }
    // A column constant up to rounding has no direction to correlate.
    norm[k] = ss > 1e-20 * T ? Math.sqrt(ss) : 0;
  }
  return { x, norm };
}

/** How the dictionary is learned: as the reference was (see `learnModelAtoms`). */
export interface StabilityLearning {
  /** Atoms (K), as the reference's. */
  atoms: number;
  /** Share of non-zero codes α is calibrated to, each fit anew. Default: 0.2, unless `alpha`. */
  targetDensity?: number;
  /** The sparsity penalty itself, instead of calibrating it. */
  alpha?: number;
  /** Passes over the ANs. Default: 20. */
  passes?: number;
  /** The reference's seed: the parts of the story are learned with it, the extra fits with seed + 1 … seed + seeds. Default: 0. */
  seed?: number;
}

/** Options of {@linkcode atomStability}. */
export interface StabilityOptions {
  /** The reference atoms' time courses (T × K), learned from `series` with `learn.seed`. */
  reference: Matrix;
  /** How to learn the dictionary again. */
  learn: StabilityLearning;
  /** Fits on all volumes with other seeds. Default: 4. */
  seeds?: number;
  /** Also fit on parts of the story: its two halves, or each span of `spans`. Default: true. */
  halves?: boolean;
  /**
   * Volumes of each story (consecutive spans summing to T): with two or
   * more, each story is a part instead of the two halves. Default: none.
   */
  spans?: number[];
}

/** One re-learned dictionary, matched to the reference. */
export interface StabilityFit {
  /** `seed` (all volumes) or `part` (a half, or a story). */
  kind: "seed" | "part";
  /** The seed used. */
  seed: number;
  /** Volumes learned from: [first, end). */
  volumes: [number, number];
  /** Per reference atom: signed r with its match over those volumes (NaN where none). */
  r: Float64Array;
  /** Per reference atom: the fit's atom (column of `dictionary`) paired with it, −1 where none. */
  matched?: Int32Array;
  /**
   * The fit's atom time courses (T × K), row-major, for fits on all volumes
   * (`kind: "seed"`): what the seed spread of the voxel stage encodes with
   * (`seed_spread.ts`), so that it need not learn them again. Absent for parts.
   */
  dictionary?: Matrix;
}

/** One reference atom's stability. */
export interface AtomStabilityRow {
  /** The reference atom (column). */
  atom: number;
  /** Median over every fit of |r| with its match, in [0, 1]. */
  stability: number;
  /** Median |r| over the fits with other seeds (NaN without them). */
  seedMedianR: number;
  /** Median |r| over the fits on parts of the story (NaN without them). */
  halvesMedianR: number;
  /** Median signed r over every fit: near `stability` when the match keeps its sign. */
  medianSignedR: number;
}

/** What {@linkcode atomStability} returns. */
export interface AtomStability {
  /** One row per reference atom, in order. */
  atoms: AtomStabilityRow[];
  /** Every fit, in the order learned. */
  fits: StabilityFit[];
  /** Median stability over the atoms. */
  median: number;
  /** Parts of the story with fewer volumes than atoms, not learned: [first, end). */
  skipped: [number, number][];
}

/**
 * Stability of each atom of a dictionary learned from `series`: the
 * dictionary is learned again `seeds` times on all volumes (seeds
 * `seed + 1 …`), and with the reference's seed on each part of the story
 * (halves, or `spans`); each fit's atoms are paired with the reference's by
 * {@linkcode matchAtoms} over the fit's volumes. An atom's stability is the
 * median |r| of its matches.
 *
 * @param backend the compute backend
 * @param series the AN time series the reference was learned from, shape (T volumes × N ANs), row-major
 * @param options the reference atoms, how they were learned, and which fits
 * @throws {InputError} when the reference or the spans do not fit `series`
 *
 * @example
 * ```ts
 * import { atomStability } from "@brainorg/core";
 * import { createCpuBackend, learnDictionary, matrix, rng } from "@brainorg/kernels";
 * const backend = await createCpuBackend({ blas: "typescript" });
 * const rand = rng(1);
 * const series = matrix(40, 30, Float32Array.from({ length: 1200 }, () => rand() - 0.5));
 * const learn = { atoms: 4, passes: 5, seed: 0 };
 * const reference = (await learnDictionary(backend, series, { ...learn, batchSize: 30 })).dictionary;
 * const s = await atomStability(backend, series, { reference, learn, seeds: 2 });
 * console.log(s.atoms.map((a) => a.stability.toFixed(2))); // noise: far from 1
 * backend.dispose();
 * ```
 */
export async function atomStability(
  backend: Backend,
  series: Matrix,
  options: StabilityOptions,
): Promise<AtomStability> {
  const T = series.rows, ref = options.reference, K = ref.cols;
  const seeds = options.seeds ?? 4, seed = options.learn.seed ?? 0;
  if (ref.rows !== T) {
    throw new InputError("the reference atoms must be on the series' volumes", {
      field: "stability reference",
      expected: `${T} rows`,
      found: `${ref.rows} rows`,
    });
  }
  if (!Number.isInteger(seeds) || seeds < 0) {
    throw new InputError("stability needs a whole number of seeds", {
      field: "stability.seeds",
      expected: "an integer ≥ 0",
      found: String(seeds),
    });
  }
  const spans = options.spans;
  if (spans && spans.reduce((a, b) => a + b, 0) !== T) {
    throw new InputError("the stories' volumes must add up to the series'", {
      field: "stability spans",
      expected: `volumes summing to ${T}`,
      found: spans.join(" + "),
    });
  }
  const parts: [number, number][] = [];
  if (options.halves ?? true) {
    if (spans && spans.length > 1) {
      let at = 0;
      for (const n of spans) parts.push([at, at += n]);
    } else {
      const h = Math.floor(T / 2);
      parts.push([0, h], [h, T]);
    }
  }
  const fit = async (from: number, to: number, s: number) => {
    const rows = rowSpan(series, from, to);
    const d = await learnDictionary(backend, rows, {
      atoms: K,
      ...(options.learn.alpha !== undefined
        ? { alpha: options.learn.alpha }
        : { targetDensity: options.learn.targetDensity ?? 0.2 }),
      passes: options.learn.passes ?? 20,
      batchSize: Math.min(64, series.cols),
      seed: s,
    });
    const r = new Float64Array(K).fill(NaN), matched = new Int32Array(K).fill(-1);
    for (const p of matchAtoms(rowSpan(ref, from, to), d.dictionary)) {
      r[p.atom] = p.r;
      matched[p.atom] = p.matchedAtom;
    }
    return { r, matched, dictionary: d.dictionary };
  };
  const fits: StabilityFit[] = [];
  for (let s = 1; s <= seeds; s++) {
    fits.push({ kind: "seed", seed: seed + s, volumes: [0, T], ...await fit(0, T, seed + s) });
  }
  const skipped: [number, number][] = [];
  for (const [from, to] of parts) {
    // Fewer volumes than atoms cannot give K distinct time courses.
    if (to - from <= K) {
      skipped.push([from, to]);
      continue;
    }
    const { r, matched } = await fit(from, to, seed);
    fits.push({ kind: "part", seed, volumes: [from, to], r, matched });
  }
  const med = (kind: StabilityFit["kind"] | undefined, k: number, abs: boolean) => {
    const v = fits.filter((f) => !kind || f.kind === kind).map((f) => f.r[k]).filter((x) =>
      !Number.isNaN(x)
    );
    return v.length ? median(abs ? v.map(Math.abs) : v) : NaN;
  };
  const atoms = Array.from({ length: K }, (_, k) => ({
    atom: k,
    stability: med(undefined, k, true),
    seedMedianR: med("seed", k, true),
    halvesMedianR: med("part", k, true),
    medianSignedR: med(undefined, k, false),
  }));
  const finite = atoms.map((a) => a.stability).filter((x) => !Number.isNaN(x));
  return { atoms, fits, median: finite.length ? median(finite) : NaN, skipped };
}

/** Rows [from, to) of a matrix, as a new matrix. */
function rowSpan(m: Matrix, from: number, to: number): Matrix {
  return { rows: to - from, cols: m.cols, data: m.data.slice(from * m.cols, to * m.cols) };
}
