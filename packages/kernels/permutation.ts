/**
 * Permutation nulls for encoding models: per-target scores recomputed with
 * surrogate regressors that keep each regressor's autocorrelation (circular
 * shifts, or phase randomisation) but break its alignment with the data;
 * p-values from the null, and Benjamini–Hochberg FDR over targets.
 *
 * Both surrogates treat the samples as one continuous series: with several
 * runs, fit runs separately or accept that a shift wraps across runs.
 *
 * @module
 */

import { type Matrix, validateMatrix } from "./matrix.ts";
import { rng } from "./random.ts";

/** Options of {@linkcode permutationNull}. */
export interface PermutationOptions {
  /** Surrogates to score. Default: 100. */
  permutations?: number;
  /** `"shift"`: circular shift of all regressors together (default); `"phase"`: the same random phases applied to every regressor's spectrum. */
  method?: "shift" | "phase";
  /** Seed. Default: 0. */
  seed?: number;
  /** Smallest circular shift, in samples (both directions). Default: max(1, ⌊n / 10⌋). */
  minShift?: number;
  /** Called after each surrogate with (done, total). */
  onProgress?: (done: number, total: number) => void;
  /**
   * Volumes of each run when the samples are runs end to end: a shift
   * rotates every run within itself (the same shift in all), so no sample
   * crosses into another run. Default: one run.
   */
  runs?: number[];
}

/**
 * Every run (row block) of x rotated within itself by `shift`, as
 * {@linkcode circularShift} rotates one: no sample crosses into another run.
 *
 * @param x regressors (n × p), the runs' samples end to end
 * @param shift rows to rotate by, in each run (negative: the other way)
 * @param runs samples per run, in order (summing to n)
 * @returns the rotated regressors (n × p), a new matrix
 *
 * @example
 * ```ts
 * import { circularShiftRuns, matrix } from "@brainorg/kernels";
 * const x = matrix(7, 1, [0, 1, 2, 3, 10, 11, 12]);
 * const s = circularShiftRuns(x, 1, [4, 3]); // data [3, 0, 1, 2, 12, 10, 11]
 * ```
 */
export function circularShiftRuns(x: Matrix, shift: number, runs: number[]): Matrix {
  const out = new Float32Array(x.data.length);
  let start = 0;
  for (const n of runs) {
    const block = {
      rows: n,
      cols: x.cols,
      data: x.data.subarray(start * x.cols, (start + n) * x.cols),
    };
    out.set(circularShift(block, shift).data, start * x.cols);
    start += n;
  }
  return { rows: x.rows, cols: x.cols, data: out };
}

/**
 * Rows of x rotated by `shift`: row i of the result is row (i − shift) mod n
 * of x, so each regressor keeps its autocorrelation and all keep their
 * alignment with each other.
 *
 * @param x regressors (n × p)
 * @param shift rows to rotate by (any integer; negative rotates the other way)
 * @returns the rotated regressors (n × p), a new matrix
 *
 * @example
 * ```ts
 * import { circularShift, matrix } from "@brainorg/kernels";
 * const s = circularShift(matrix(4, 1, [1, 2, 3, 4]), 1); // data [4, 1, 2, 3]
 * ```
 */
export function circularShift(x: Matrix, shift: number): Matrix {
  const n = x.rows, p = x.cols, s = ((shift % n) + n) % n;
  const out = new Float32Array(n * p);
  out.set(x.data.subarray(0, (n - s) * p), s * p);
  out.set(x.data.subarray((n - s) * p), 0);
  return { rows: n, cols: p, data: out };
}

/**
 * A phase-randomised surrogate: each column's Fourier amplitudes are kept
 * and the same random phase is added to every column at each frequency, so
 * auto- and cross-correlations are preserved (Prichard & Theiler 1994).
 * A direct O(n²·p) transform: meant for series of a few thousand samples.
 *
 * @param x regressors (n × p)
 * @param rand uniform numbers in [0, 1), e.g. {@linkcode rng}(seed)
 * @returns the surrogate (n × p), a new matrix
 *
 * @example
 * ```ts
 * import { matrix, phaseRandomize, rng } from "@brainorg/kernels";
 * const x = matrix(64, 2, Float32Array.from({ length: 128 }, (_, i) => Math.sin(i / 5)));
 * const surrogate = phaseRandomize(x, rng(7)); // same power spectrum, new phases
 * ```
 */
export function phaseRandomize(x: Matrix, rand: () => number): Matrix {
  const n = x.rows, p = x.cols, half = Math.floor(n / 2);
  const phase = new Float64Array(half + 1);
  for (let f = 1; f <= half; f++) phase[f] = n % 2 === 0 && f === half ? 0 : 2 * Math.PI * rand();
  const cos = new Float64Array(n), sin = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    cos[k] = Math.cos((2 * Math.PI * k) / n);
    sin[k] = Math.sin((2 * Math.PI * k) / n);
  }
  const out = new Float32Array(n * p);
  const re = new Float64Array(half + 1), im = new Float64Array(half + 1);
  for (let c = 0; c < p; c++) {
    for (let f = 0; f <= half; f++) {
      let a = 0, b = 0;
      for (let t = 0; t < n; t++) {
        const k = (f * t) % n, v = x.data[t * p + c];
        a += v * cos[k];
        b -= v * sin[k];
      }
      const cp = Math.cos(phase[f]), sp = Math.sin(phase[f]);
      re[f] = a * cp - b * sp;
      im[f] = a * sp + b * cp;
    }
    for (let t = 0; t < n; t++) {
      let v = re[0];
      for (let f = 1; f <= half; f++) {
        const k = (f * t) % n;
        const term = re[f] * cos[k] - im[f] * sin[k];
        v += n % 2 === 0 && f === half ? term : 2 * term;
      }
      out[t * p + c] = v / n;
    }
  }
  return { rows: n, cols: p, data: out };
}

/** A surrogate of the regressors and the shift that made it (0 for phase surrogates). */
export interface Surrogate {
  /** The surrogate regressors (n × p). */
  x: Matrix;
  /** The circular shift in samples; 0 for a phase surrogate. */
  shift: number;
}

/**
 * The surrogates {@linkcode permutationNull} scores, one at a time, in its
 * order (the same seed gives the same surrogates).
 *
 * @param x regressors (n × p)
 * @param options count, method, seed, smallest shift, runs (see {@linkcode PermutationOptions})
 * @returns a generator of `options.permutations` surrogates
 * @throws {RangeError} for runs that do not add up to n, or no room for a shift
 * @throws {TypeError} for NaN/Inf in `x`
 *
 * @example
 * ```ts
 * import { matrix, surrogates } from "@brainorg/kernels";
 * const x = matrix(100, 2, Float32Array.from({ length: 200 }, Math.random));
 * for (const { x: shifted, shift } of surrogates(x, { permutations: 3, seed: 1 })) {
 *   console.log(shift, shifted.rows); // three shifts from 10 to 90
 * }
 * ```
 */
export function* surrogates(x: Matrix, options: PermutationOptions = {}): Generator<Surrogate> {
  validateMatrix("x", x);
  const P = options.permutations ?? 100, n = x.rows;
  const method = options.method ?? "shift";
  const runs = options.runs ?? [n];
  if (runs.reduce((a, b) => a + b, 0) !== n) {
    throw new RangeError(`runs of ${runs.join(" + ")} samples do not add up to the ${n} rows`);
  }
  // Shifts are drawn for the shortest run and applied to every run.
  const span = Math.min(...runs);
  const minShift = options.minShift ?? Math.max(1, Math.floor(span / 10));
  if (method === "shift" && 2 * minShift >= span) {
    throw new RangeError(`minShift ${minShift} leaves no circular shift of ${span} samples`);
  }
  const rand = rng(options.seed ?? 0);
  for (let k = 0; k < P; k++) {
    if (method === "shift") {
      const s = minShift + Math.floor(rand() * (span - 2 * minShift + 1));
      yield { x: runs.length > 1 ? circularShiftRuns(x, s, runs) : circularShift(x, s), shift: s };
    } else {
      yield { x: phaseRandomize(x, rand), shift: 0 };
    }
  }
}

/**
 * Score surrogates of the regressors: `score` refits the same model on
 * each and returns per-target scores.
 *
 * @param x regressors (n × p)
 * @param score the model's per-target score for given regressors (length V)
 * @param options count, method, seed, smallest shift, runs (see {@linkcode PermutationOptions})
 * @returns `null` (permutations × V) and the shift of each surrogate (0 for phase surrogates)
 * @throws {RangeError} as {@linkcode surrogates}
 *
 * @example
 * ```ts
 * import { createCpuBackend, type Matrix, matrix, permutationNull } from "@brainorg/kernels";
 * import { permutationPValues, ridgeFixedAlpha } from "@brainorg/kernels";
 * const cpu = await createCpuBackend();
 * const x = matrix(100, 2, Float32Array.from({ length: 200 }, Math.random));
 * const y = matrix(100, 5, Float32Array.from({ length: 500 }, Math.random));
 * const alphas = new Float64Array(5).fill(10);
 * const score = async (xs: Matrix) => (await ridgeFixedAlpha(cpu, xs, y, alphas)).r;
 * const { null: nullScores } = await permutationNull(x, score, { permutations: 20 });
 * const p = permutationPValues(await score(x), nullScores); // (5), each ≥ 1/21
 * cpu.dispose();
 * ```
 */
export async function permutationNull(
  x: Matrix,
  score: (surrogate: Matrix) => Promise<Float32Array>,
  options: PermutationOptions = {},
): Promise<{ null: Matrix; shifts: number[] }> {
  const P = options.permutations ?? 100;
  const shifts: number[] = [];
  let out: Float32Array | undefined, V = 0;
  for (const { x: surrogate, shift } of surrogates(x, options)) {
    shifts.push(shift);
    const s = await score(surrogate);
    if (!out) {
      V = s.length;
      out = new Float32Array(P * V);
    }
    out.set(s, (shifts.length - 1) * V);
    options.onProgress?.(shifts.length, P);
  }
  return { null: { rows: P, cols: V, data: out ?? new Float32Array() }, shifts };
}

/**
 * Exceedance counts of a null that is never stored: {@linkcode add} each
 * surrogate's scores, then read one-sided p-values as
 * {@linkcode permutationPValues} gives them. Memory: one count per target,
 * whatever the number of surrogates.
 *
 * @example
 * ```ts
 * import { ExceedanceCounter } from "@brainorg/kernels";
 * const counter = new ExceedanceCounter([0.5, 0.1]);
 * counter.add([0.6, 0.0]); // surrogate 1: target 0 exceeded
 * counter.add([0.2, 0.05]); // surrogate 2: neither
 * const p = counter.pValues(2); // [2/3, 1/3]
 * ```
 */
export class ExceedanceCounter {
  readonly #observed: Float32Array;
  readonly #counts: Uint32Array;

  /**
   * Start counting against the observed scores (copied).
   *
   * @param observed per-target scores (V)
   */
  constructor(observed: ArrayLike<number>) {
    this.#observed = Float32Array.from(observed);
    this.#counts = new Uint32Array(observed.length);
  }

  /**
   * Count one surrogate's scores for targets v0 … v0 + scores.length − 1.
   *
   * @param scores the surrogate's scores of a block of targets
   * @param v0 the block's first target. Default: 0.
   */
  add(scores: ArrayLike<number>, v0 = 0): void {
    const obs = this.#observed, counts = this.#counts;
    for (let i = 0; i < scores.length; i++) if (scores[i] >= obs[v0 + i]) counts[v0 + i]++;
  }

  /**
   * One-sided p-values from the counts so far.
   *
   * @param permutations the surrogates counted (each target's count of `add` calls)
   * @returns (1 + #{null ≥ observed}) / (1 + permutations), per target (V)
   */
  pValues(permutations: number): Float64Array {
    return Float64Array.from(this.#counts, (c) => (1 + c) / (1 + permutations));
  }
}

/**
 * One-sided permutation p-values: (1 + #{null ≥ observed}) / (1 + permutations),
 * per target (never 0, as Phipson & Smyth 2010 advise).
 *
 * @param observed per-target scores (V)
 * @param nullScores (permutations × V)
 * @returns p-values (V), in (0, 1]
 * @throws {RangeError} when the null's targets differ from the observed ones
 *
 * @example
 * ```ts
 * import { matrix, permutationPValues } from "@brainorg/kernels";
 * const nullScores = matrix(3, 2, [0.6, 0.0, 0.2, 0.05, 0.1, 0.0]);
 * const p = permutationPValues([0.5, 0.1], nullScores); // [0.5, 0.25]
 * ```
 */
export function permutationPValues(observed: ArrayLike<number>, nullScores: Matrix): Float64Array {
  const V = observed.length, P = nullScores.rows;
  if (nullScores.cols !== V) {
    throw new RangeError(`null has ${nullScores.cols} targets, observed ${V}`);
  }
  const out = new Float64Array(V);
  for (let v = 0; v < V; v++) {
    let count = 0;
    for (let k = 0; k < P; k++) if (nullScores.data[k * V + v] >= observed[v]) count++;
    out[v] = (1 + count) / (1 + P);
  }
  return out;
}

/**
 * Benjamini–Hochberg adjusted p-values (q-values): reject where q ≤ the
 * chosen false discovery rate.
 *
 * @param p p-values (m), in any order
 * @returns q-values (m), in the same order
 *
 * @example
 * ```ts
 * import { fdrBH } from "@brainorg/kernels";
 * const q = fdrBH([0.01, 0.04, 0.03, 0.2]); // [0.04, 0.0533, 0.0533, 0.2]
 * ```
 */
export function fdrBH(p: ArrayLike<number>): Float64Array {
  const m = p.length;
  const order = Array.from({ length: m }, (_, i) => i).sort((a, b) => p[a] - p[b]);
  const q = new Float64Array(m);
  let min = 1;
  for (let r = m - 1; r >= 0; r--) {
    const i = order[r];
    min = Math.min(min, (p[i] * m) / (r + 1));
    q[i] = min;
  }
  return q;
}
