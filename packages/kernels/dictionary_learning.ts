/**
 * Online dictionary learning (Mairal et al. 2010, the algorithm of
 * scikit-learn's `MiniBatchDictionaryLearning`): minibatches of signals are
 * sparse-coded on the current dictionary, sufficient statistics A = Σ c cᵀ
 * and B = Σ x cᵀ are accumulated with forgetting, and each atom is updated
 * by block coordinate descent and projected onto the unit ball.
 *
 * Objective, over signals x_n (columns of X, T × N), dictionary D (T × K)
 * and codes C (K × N): `(1/N) Σ_n ½||x_n − D c_n||² + α ||c_n||₁`.
 *
 * @module
 */

import type { Backend } from "./backend.ts";
import { eigh, gram64 } from "./linalg.ts";
import { type Matrix, type MatrixView, validateMatrix } from "./matrix.ts";
import { codeObjective, sparseEncode } from "./sparse_coding.ts";
import { rng } from "./random.ts";

/** Options of {@linkcode learnDictionary}. */
export interface DictionaryOptions {
  /** Number of atoms. Default: 64 (as Sun et al. 2024). */
  atoms?: number;
  /** Sparsity penalty α (scikit-learn's scaling). Default: 1, unless `targetDensity` is given. */
  alpha?: number;
  /**
   * Calibrate α so that this fraction of the codes is non-zero (e.g. 0.05),
   * by bisection on a sample of signals before training and again after the
   * first pass. Default: none (α as given).
   */
  targetDensity?: number;
  /** Signals per minibatch. Default: 256. */
  batchSize?: number;
  /** Passes over all signals. Default: 10. */
  passes?: number;
  /** Seed of the signal order and of atom resampling. Default: 0. */
  seed?: number;
  /** Constrain codes to be ≥ 0. Default: false. */
  positiveCode?: boolean;
  /** Starting dictionary (T × K). Default: the K leading left singular vectors of X, scaled by their singular values (as scikit-learn). */
  init?: Matrix;
  /** Called after each pass with (pass, passes, objective). */
  onPass?: (pass: number, passes: number, objective: number) => void;
}

/** What {@linkcode learnDictionary} returns. */
export interface LearnedDictionary {
  /** Atoms in columns, unit norm, (T × K). */
  dictionary: Matrix;
  /** Codes of every signal on the final dictionary, (K × N). */
  codes: Matrix;
  /** α used (calibrated when `targetDensity` was given). */
  alpha: number;
  /** Mean minibatch objective of each pass (online estimate, as scikit-learn's). */
  passObjectives: number[];
  /** Objective of the final dictionary and codes over all signals. */
  objective: number;
  /** Fraction of non-zero final codes. */
  density: number;
  /** Atoms resampled from the data because they fell out of use. */
  resampled: number;
}

function gatherColumns(x: MatrixView, idx: ArrayLike<number>, from: number, count: number): Matrix {
  const T = x.rows, stride = x.rowStride ?? x.cols, off = x.offset ?? 0;
  const out = new Float32Array(T * count);
  for (let t = 0; t < T; t++) {
    const row = off + t * stride;
    for (let i = 0; i < count; i++) out[t * count + i] = x.data[row + idx[from + i]];
  }
  return { rows: T, cols: count, data: out };
}

/** Leading K left singular vectors of X (T × N) scaled by their singular values, through X Xᵀ. */
async function svdInit(backend: Backend, x: MatrixView, K: number): Promise<Float64Array> {
  const T = x.rows;
  const xxt = await backend.gemm(x, x, { transB: true });
  const { values, vectors } = eigh(
    Float64Array.from(xxt.data, (v, i) => {
      const r = Math.floor(i / T), c = i % T;
      return r <= c ? v : xxt.data[c * T + r]; // exact symmetry for eigh
    }),
    T,
  );
  const d = new Float64Array(T * K);
  for (let k = 0; k < Math.min(K, T); k++) {
    const s = Math.sqrt(Math.max(values[k], 0));
    for (let t = 0; t < T; t++) d[t * K + k] = vectors[t * T + k] * s;
  }
  return d;
}

/** Bisection on log α for the code density of `sample` on `dict`. */
async function calibrateAlpha(
  backend: Backend,
  dict: Matrix,
  sample: Matrix,
  target: number,
  positive: boolean,
): Promise<number> {
  const q = await backend.gemm(dict, sample, { transA: true });
  let hi = 0;
  for (const v of q.data) hi = Math.max(hi, Math.abs(v));
  let lo = hi * 1e-6;
  for (let it = 0; it < 25; it++) {
    const mid = Math.sqrt(lo * hi);
    const { density } = await sparseEncode(backend, dict, sample, {
      alpha: mid,
      positive,
      checkFinite: false,
    });
    if (density > target) lo = mid;
    else hi = mid;
    if (hi / lo < 1.02) break;
  }
  return Math.sqrt(lo * hi);
}

function toMatrix(d: Float64Array, T: number, K: number): Matrix {
  return { rows: T, cols: K, data: Float32Array.from(d) };
}

/**
 * Learn a dictionary of K temporal atoms from N signals.
 *
 * @param backend runs the products and the sparse coding
 * @param signals X, (T × N): one signal per column (e.g. one AN's time series)
 * @returns the dictionary (T × K, unit-norm atoms), codes (K × N), α, objectives
 * @throws {RangeError} for empty inputs or options out of range
 *
 * @example
 * ```ts
 * import { createCpuBackend, learnDictionary } from "@brainorg/kernels";
 * const cpu = await createCpuBackend();
 * const x = { rows: 50, cols: 400, data: Float32Array.from({ length: 20000 }, Math.random) };
 * const { dictionary, codes } = await learnDictionary(cpu, x, { atoms: 8, alpha: 0.5, passes: 3 });
 * ```
 */
export async function learnDictionary(
  backend: Backend,
  signals: MatrixView,
  options: DictionaryOptions = {},
): Promise<LearnedDictionary> {
  validateMatrix("signals", signals);
  const T = signals.rows, N = signals.cols;
  const K = options.atoms ?? 64;
  const batchSize = Math.min(options.batchSize ?? 256, N);
  const passes = options.passes ?? 10;
  const positive = options.positiveCode ?? false;
  if (!Number.isInteger(K) || K < 1) {
    throw new RangeError(`atoms must be a positive integer: current value is ${K}`);
  }
  if (!Number.isInteger(passes) || passes < 1) {
    throw new RangeError(`passes must be a positive integer: current value is ${passes}`);
  }
  if (
    options.targetDensity !== undefined && !(options.targetDensity > 0 && options.targetDensity < 1)
  ) {
    throw new RangeError(
      `targetDensity must be in (0, 1): current value is ${options.targetDensity}`,
    );
  }
  const rand = rng(options.seed ?? 0);

  let D: Float64Array;
  if (options.init) {
    validateMatrix("init", options.init);
    if (options.init.rows !== T || options.init.cols !== K) {
      throw new RangeError(
        `init must be ${T} × ${K}: current shape is ${options.init.rows} × ${options.init.cols}`,
      );
    }
    D = Float64Array.from(options.init.data);
  } else {
    D = await svdInit(backend, signals, K);
  }
  // Shuffle once, then cycle through the same minibatches (as scikit-learn).
  const order = Uint32Array.from({ length: N }, (_, i) => i);
  for (let i = N - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  const unitNorm = (d: Float64Array) => {
    const out = Float64Array.from(d);
    for (let k = 0; k < K; k++) {
      let s = 0;
      for (let t = 0; t < T; t++) s += out[t * K + k] ** 2;
      const norm = Math.sqrt(s) || 1;
      for (let t = 0; t < T; t++) out[t * K + k] /= norm;
    }
    return out;
  };
  const sampleIdx = order.subarray(0, Math.min(N, 2048));
  const sample = gatherColumns(signals, sampleIdx, 0, sampleIdx.length);
  let alpha = options.alpha ?? 1;
  if (options.targetDensity !== undefined) {
    alpha = await calibrateAlpha(
      backend,
      toMatrix(unitNorm(D), T, K),
      sample,
      options.targetDensity,
      positive,
    );
  }

  const A = new Float64Array(K * K), B = new Float64Array(T * K);
  const codes = new Float32Array(K * N); // warm starts, by signal
  const passObjectives: number[] = [];
  let resampled = 0;
  let step = 0;
  for (let pass = 0; pass < passes; pass++) {
    let cost = 0, batches = 0;
    for (let from = 0; from < N; from += batchSize, step++) {
      const b = Math.min(batchSize, N - from);
      const xb = gatherColumns(signals, order, from, b);
      const dict = toMatrix(D, T, K);
      const warm = new Float32Array(K * b);
      for (let k = 0; k < K; k++) {
        for (let i = 0; i < b; i++) warm[k * b + i] = codes[k * N + order[from + i]];
      }
      const enc = await sparseEncode(backend, dict, xb, {
        alpha,
        positive,
        warmStart: warm,
        checkFinite: false,
      });
      const c = enc.codes.data;
      for (let k = 0; k < K; k++) {
        for (let i = 0; i < b; i++) codes[k * N + order[from + i]] = c[k * b + i];
      }
      cost += enc.objective / b;
      batches++;
      // Sufficient statistics with scikit-learn's forgetting schedule.
      const theta = step < batchSize - 1
        ? (step + 1) * batchSize
        : batchSize * batchSize + step + 1 - batchSize;
      const beta = (theta + 1 - batchSize) / (theta + 1);
      const cct = await backend.gemm(enc.codes, enc.codes, { transB: true });
      const xct = await backend.gemm(xb, enc.codes, { transB: true });
      for (let i = 0; i < K * K; i++) A[i] = beta * A[i] + cct.data[i] / b;
      for (let i = 0; i < T * K; i++) B[i] = beta * B[i] + xct.data[i] / b;
      // Block coordinate descent over atoms, each projected onto ||d|| ≤ 1.
      const col = new Float64Array(T);
      for (let k = 0; k < K; k++) {
        if (A[k * K + k] > 1e-6) {
          for (let t = 0; t < T; t++) {
            let da = 0;
            for (let j = 0; j < K; j++) da += D[t * K + j] * A[j * K + k];
            col[t] = D[t * K + k] + (B[t * K + k] - da) / A[k * K + k];
          }
        } else {
          // An atom out of use: restart it from a random signal of this batch.
          const pick = Math.floor(rand() * b);
          let mean = 0, sd = 0;
          for (let t = 0; t < T; t++) mean += xb.data[t * b + pick] / T;
          for (let t = 0; t < T; t++) sd += (xb.data[t * b + pick] - mean) ** 2 / T;
          const noise = 0.01 * (Math.sqrt(sd) || 1);
          for (let t = 0; t < T; t++) col[t] = xb.data[t * b + pick] + noise * gaussian(rand);
          for (let i = 0; i < N; i++) codes[k * N + i] = 0;
          resampled++;
        }
        let norm = 0;
        for (let t = 0; t < T; t++) norm += col[t] * col[t];
        const s = Math.max(Math.sqrt(norm), 1);
        for (let t = 0; t < T; t++) D[t * K + k] = col[t] / s;
      }
    }
    const objective = cost / batches;
    passObjectives.push(objective);
    options.onPass?.(pass + 1, passes, objective);
    if (pass === 0 && options.targetDensity !== undefined && passes > 1) {
      alpha = await calibrateAlpha(
        backend,
        toMatrix(unitNorm(D), T, K),
        sample,
        options.targetDensity,
        positive,
      );
    }
  }

  // Unit-norm atoms, and every signal coded on them.
  const dictionary = toMatrix(unitNorm(D), T, K);
  const final = await sparseEncode(backend, dictionary, signals, {
    alpha,
    positive,
    checkFinite: false,
  });
  return {
    dictionary,
    codes: final.codes,
    alpha,
    passObjectives,
    objective: final.objective / N,
    density: final.density,
    resampled,
  };
}

function gaussian(rand: () => number): number {
  const u = Math.max(rand(), 1e-12), v = rand();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** Objective of a dictionary and codes on signals (for comparisons): (1/N) Σ ½||x − Dc||² + α||c||₁. */
export async function dictionaryObjective(
  backend: Backend,
  dictionary: Matrix,
  codes: Matrix,
  signals: MatrixView,
  alpha: number,
): Promise<number> {
  const T = signals.rows, N = signals.cols, K = dictionary.cols;
  const q = await backend.gemm(dictionary, signals, { transA: true });
  const yy = new Float32Array(N);
  const xs = signals.rowStride ?? N, xo = signals.offset ?? 0;
  for (let t = 0; t < T; t++) {
    for (let c = 0; c < N; c++) yy[c] += signals.data[xo + t * xs + c] ** 2;
  }
  return codeObjective(gram64(dictionary.data, T, K), q.data, yy, codes.data, K, N, alpha)
    .objective / N;
}
