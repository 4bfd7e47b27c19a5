/**
 * Sparse coding of many signals on one dictionary: the objective of
 * scikit-learn's `sparse_encode(algorithm="lasso_cd")`, solved for every
 * signal together on the dictionary's Gram matrix.
 *
 * Per signal x (a column of `signals`) and dictionary D (T × K):
 * `c* = argmin ½ ||x − D c||² + α ||c||₁` (optionally c ≥ 0). This is
 * scikit-learn's α: `sparse_encode` divides it by the number of features
 * before handing it to `Lasso`, whose loss is divided by the same number,
 * so the two scalings cancel.
 *
 * @module
 */

import type { Backend } from "./backend.ts";
import { densify, type Matrix, type MatrixView, validateMatrix } from "./matrix.ts";

/** Options of {@linkcode sparseEncode}. */
export interface SparseEncodeOptions {
  /** Penalty α ≥ 0 (scikit-learn's scaling, see the module doc). */
  alpha: number;
  /** Constrain codes to be ≥ 0. Default: false. */
  positive?: boolean;
  /** Starting codes (K × N). Default: zeros. */
  warmStart?: Float32Array;
  /** Solver tolerance. Default: 1e-4. */
  tol?: number;
  /** Most sweeps. Default: 1000. */
  maxIter?: number;
  /** Reject NaN/Inf. Default: true. */
  checkFinite?: boolean;
}

/** What {@linkcode sparseEncode} returns. */
export interface SparseCodes {
  /** Codes (K × N), row-major: column n codes signal n. */
  codes: Matrix;
  /** ½||X − DC||²_F + α||C||₁, summed over signals. */
  objective: number;
  /** Fraction of non-zero codes. */
  density: number;
}

/**
 * Sparse-code every signal on a dictionary:
 * `c* = argmin_c ½ ||x − D c||² + α ||c||₁` per signal x (see the module doc).
 *
 * @param backend runs the product Dᵀ X and the coordinate descent
 * @param dictionary D, (T × K): atoms in columns
 * @param signals X, (T × N): signals in columns
 * @param options α, positivity, warm start, solver settings (see {@linkcode SparseEncodeOptions})
 * @returns codes (K × N), the objective and the code density
 *
 * @example
 * ```ts
 * import { createCpuBackend, sparseEncode } from "@brainorg/kernels";
 * const cpu = await createCpuBackend();
 * const d = { rows: 3, cols: 2, data: new Float32Array([1, 0, 0, 1, 0, 0]) };
 * const x = { rows: 3, cols: 1, data: new Float32Array([2, 0.1, 0]) };
 * const { codes } = await sparseEncode(cpu, d, x, { alpha: 0.5 }); // [1.5, 0]
 * ```
 */
export async function sparseEncode(
  backend: Backend,
  dictionary: MatrixView,
  signals: MatrixView,
  options: SparseEncodeOptions,
): Promise<SparseCodes> {
  validateMatrix("dictionary", dictionary, options.checkFinite ?? true);
  validateMatrix("signals", signals, options.checkFinite ?? true);
  const T = dictionary.rows, K = dictionary.cols, N = signals.cols;
  if (signals.rows !== T) {
    throw new RangeError(
      `sparseEncode: the dictionary has ${T} rows (time points) but the signals have ${signals.rows}`,
    );
  }
  if (!(options.alpha >= 0)) {
    throw new RangeError(`sparseEncode: alpha must be ≥ 0: current value is ${options.alpha}`);
  }
  const d = densify(dictionary);
  const gram = Float64Array.from((await backend.gemm(d, d, { transA: true })).data);
  const q = (await backend.gemm(d, signals, { transA: true })).data;
  const yy = new Float32Array(N);
  const xs = signals.rowStride ?? N, xo = signals.offset ?? 0;
  for (let t = 0; t < T; t++) {
    for (let c = 0; c < N; c++) {
      const v = signals.data[xo + t * xs + c];
      yy[c] += v * v;
    }
  }
  const res = await backend.lassoCD({
    p: K,
    gram,
    q,
    yy,
    scale: new Float32Array(N).fill(1),
    path: Float64Array.of(options.alpha),
    positive: options.positive ?? false,
    tol: options.tol ?? 1e-4,
    maxIter: options.maxIter ?? 1000,
    ...(options.warmStart ? { warmStart: options.warmStart } : {}),
  });
  const codes = res.weights!;
  if (!res.objective) {
    return {
      codes: { rows: K, cols: N, data: codes },
      ...codeObjective(gram, q, yy, codes, K, N, options.alpha),
    };
  }
  let objective = 0, nnz = 0;
  for (const o of res.objective) objective += o;
  for (const c of codes) nnz += c !== 0 ? 1 : 0;
  return { codes: { rows: K, cols: N, data: codes }, objective, density: nnz / (K * N) };
}

/**
 * ½||x − Dc||² + α||c||₁ summed over signals, from the Gram quantities
 * (G = DᵀD, q = Dᵀx, yy = xᵀx), and the density of the codes.
 */
export function codeObjective(
  gram: ArrayLike<number>,
  q: ArrayLike<number>,
  yy: ArrayLike<number>,
  codes: ArrayLike<number>,
  K: number,
  N: number,
  alpha: number,
): { objective: number; density: number } {
  let total = 0, nnz = 0;
  const c = new Float64Array(K);
  for (let n = 0; n < N; n++) {
    let lin = 0, quad = 0, l1 = 0;
    for (let k = 0; k < K; k++) c[k] = codes[k * N + n];
    for (let k = 0; k < K; k++) {
      if (c[k] === 0) continue;
      nnz++;
      l1 += Math.abs(c[k]);
      lin += c[k] * q[k * N + n];
      let row = 0;
      for (let j = 0; j < K; j++) row += gram[k * K + j] * c[j];
      quad += c[k] * row;
    }
    total += 0.5 * Math.max(yy[n] - 2 * lin + quad, 0) + alpha * l1;
  }
  return { objective: total, density: nnz / (K * N) };
}
