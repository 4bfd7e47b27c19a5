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
import { columnBlock, densify, type Matrix, type MatrixView, validateMatrix } from "./matrix.ts";
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

/**
 * Leading K left singular vectors of X (T × N), scaled by their singular
 * values (scikit-learn's initialisation), by randomised subspace iteration
 * on S = X Xᵀ (Halko et al. 2011): a few products with S, then one small
 * eigendecomposition, instead of the eigendecomposition of all of S.
 */
async function svdInit(
  backend: Backend,
  x: MatrixView,
  K: number,
  rand: () => number,
): Promise<Float64Array> {
  const T = x.rows;
  const xxt = (await backend.gemm(x, x, { transB: true })).data;
  const L = Math.min(T, K + 10);
  let Q = new Float64Array(T * L);
  for (let i = 0; i < Q.length; i++) Q[i] = gaussian(rand);
  const multiply = (m: Float64Array) => {
    const out = new Float64Array(T * L);
    for (let r = 0; r < T; r++) {
      for (let k = 0; k < T; k++) {
        const s = xxt[r * T + k];
        if (s === 0) continue;
        for (let c = 0; c < L; c++) out[r * L + c] += s * m[k * L + c];
      }
    }
    return out;
  };
  for (let it = 0; it < 5; it++) Q = orthonormalColumns(multiply(Q), T, L);
  // Rayleigh–Ritz: eigenvectors of Qᵀ S Q rotate Q onto S's leading eigenvectors.
  const SQ = multiply(Q);
  const small = new Float64Array(L * L);
  for (let a = 0; a < L; a++) {
    for (let b = 0; b < L; b++) {
      let acc = 0;
      for (let r = 0; r < T; r++) acc += Q[r * L + a] * SQ[r * L + b];
      small[a * L + b] = acc;
    }
  }
  for (let a = 0; a < L; a++) {
    for (let b = 0; b < a; b++) {
      small[a * L + b] = small[b * L + a] = (small[a * L + b] + small[b * L + a]) / 2;
    }
  }
  const { values, vectors } = eigh(small, L);
  const d = new Float64Array(T * K);
  for (let k = 0; k < Math.min(K, L); k++) {
    const s = Math.sqrt(Math.max(values[k], 0));
    for (let r = 0; r < T; r++) {
      let acc = 0;
      for (let a = 0; a < L; a++) acc += Q[r * L + a] * vectors[a * L + k];
      d[r * K + k] = acc * s;
    }
  }
  return d;
}

/** Orthonormalise the columns of m (rows × cols) by modified Gram–Schmidt. */
function orthonormalColumns(
  m: Float64Array<ArrayBuffer>,
  rows: number,
  cols: number,
): Float64Array<ArrayBuffer> {
  for (let c = 0; c < cols; c++) {
    for (let prev = 0; prev < c; prev++) {
      let dot = 0;
      for (let r = 0; r < rows; r++) dot += m[r * cols + c] * m[r * cols + prev];
      for (let r = 0; r < rows; r++) m[r * cols + c] -= dot * m[r * cols + prev];
    }
    let norm = 0;
    for (let r = 0; r < rows; r++) norm += m[r * cols + c] ** 2;
    norm = Math.sqrt(norm) || 1;
    for (let r = 0; r < rows; r++) m[r * cols + c] /= norm;
  }
  return m;
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
 * @param options atoms, α or target density, passes, batch size, seed (see {@linkcode DictionaryOptions}). Default: all defaults.
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
    D = await svdInit(backend, signals, K, rng((options.seed ?? 0) + 0x9e3779b9));
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
  // The signals once in shuffled order, so each minibatch is a column block (a view, no copy).
  const shuffled = gatherColumns(signals, order, 0, N);
  const sample = densify(columnBlock(shuffled, 0, Math.min(N, 2048)));
  const target = options.targetDensity;
  const calibrate = (density: number) =>
    calibrateAlpha(backend, toMatrix(unitNorm(D), T, K), sample, density, positive);
  let alpha = target !== undefined ? await calibrate(target) : options.alpha ?? 1;

  const A = new Float64Array(K * K), B = new Float64Array(T * K);
  const codes = new Float32Array(K * N); // warm starts, by signal
  const passObjectives: number[] = [];
  let resampled = 0;
  let step = 0;
  for (let pass = 0; pass < passes; pass++) {
    let cost = 0, batches = 0;
    for (let from = 0; from < N; from += batchSize, step++) {
      const b = Math.min(batchSize, N - from);
      const xb = columnBlock(shuffled, from, b);
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
          atomStep(D, A, B, T, K, k, col);
        } else {
          // An atom out of use: restart it from a random signal of this batch.
          const pick = Math.floor(rand() * b);
          let mean = 0, sd = 0;
          const at = (t: number) => shuffled.data[t * N + from + pick];
          for (let t = 0; t < T; t++) mean += at(t) / T;
          for (let t = 0; t < T; t++) sd += (at(t) - mean) ** 2 / T;
          const noise = 0.01 * (Math.sqrt(sd) || 1);
          for (let t = 0; t < T; t++) col[t] = at(t) + noise * gaussian(rand);
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
    if (pass === 0 && target !== undefined && passes > 1) alpha = await calibrate(target);
  }

  // Unit-norm atoms, and every signal coded on them, starting from its
  // last codes rescaled to the unit atoms (d_k c_k = (d_k / |d_k|)(|d_k| c_k)).
  const dictionary = toMatrix(unitNorm(D), T, K);
  for (let k = 0; k < K; k++) {
    let s = 0;
    for (let t = 0; t < T; t++) s += D[t * K + k] ** 2;
    const norm = Math.sqrt(s) || 1;
    for (let i = 0; i < N; i++) codes[k * N + i] *= norm;
  }
  const final = await sparseEncode(backend, dictionary, signals, {
    alpha,
    positive,
    warmStart: codes,
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

/** col = d_k + (B_k − D A_k) / A_kk: one block-coordinate step for atom k (A symmetric). */
function atomStep(
  D: Float64Array,
  A: Float64Array,
  B: Float64Array,
  T: number,
  K: number,
  k: number,
  col: Float64Array,
): void {
  const akk = A[k * K + k], ak = k * K;
  for (let t = 0; t < T; t++) {
    const row = t * K;
    let da = 0;
    for (let j = 0; j < K; j++) da += D[row + j] * A[ak + j];
    col[t] = D[row + k] + (B[row + k] - da) / akk;
  }
}

function gaussian(rand: () => number): number {
  const u = Math.max(rand(), 1e-12), v = rand();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/**
 * Objective of a dictionary and codes on signals, for comparing
 * dictionaries: (1/N) Σ_n ½||x_n − D c_n||² + α||c_n||₁.
 *
 * @param backend computes Dᵀx
 * @param dictionary D, (T × K)
 * @param codes C, (K × N)
 * @param signals X, (T × N)
 * @param alpha the L1 penalty α
 * @returns the objective per signal
 *
 * @example
 * ```ts
 * import { createCpuBackend, dictionaryObjective, learnDictionary } from "@brainorg/kernels";
 * const cpu = await createCpuBackend();
 * const x = { rows: 50, cols: 400, data: Float32Array.from({ length: 20000 }, Math.random) };
 * const { dictionary, codes } = await learnDictionary(cpu, x, { atoms: 8, alpha: 0.5, passes: 3 });
 * console.log(await dictionaryObjective(cpu, dictionary, codes, x, 0.5));
 * cpu.dispose();
 * ```
 */
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
