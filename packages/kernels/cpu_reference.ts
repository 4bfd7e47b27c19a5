/**
 * Plain TypeScript implementations of the backend primitives, accumulating
 * in float64: the oracle every other backend is tested against, and the
 * fallback where nothing faster exists.
 *
 * @module
 */

import { type GemmOptions, gemmShape } from "./backend.ts";
import type { Matrix, MatrixView } from "./matrix.ts";

function at(v: MatrixView): (r: number, c: number) => number {
  const stride = v.rowStride ?? v.cols, off = v.offset ?? 0, d = v.data;
  return (r, c) => d[off + r * stride + c];
}

/** op(A) packed dense (m × k), row-major. */
function packOp(v: MatrixView, trans: boolean): Float32Array {
  const rows = trans ? v.cols : v.rows, cols = trans ? v.rows : v.cols;
  const out = new Float32Array(rows * cols);
  const get = at(v);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) out[r * cols + c] = trans ? get(c, r) : get(r, c);
  }
  return out;
}

/**
 * C = op(A) · op(B) (see {@linkcode Backend.gemm}), each element summed in
 * float64 and rounded once to float32.
 *
 * @param a (m × k), or (k × m) with `options.transA`
 * @param b (k × n), or (n × k) with `options.transB`
 * @param options transposes and an output buffer (see {@linkcode GemmOptions}). Default: none.
 * @returns C, (m × n) row-major (a view of `options.out` when given)
 * @throws {RangeError} when the inner dimensions differ or `out` is too short
 *
 * @example
 * ```ts
 * import { gemmReference, matrix } from "@brainorg/kernels";
 * const a = matrix(2, 2, [1, 2, 3, 4]);
 * const c = gemmReference(a, a, { transA: true }); // AᵀA: data [10, 14, 14, 20]
 * ```
 */
export function gemmReference(a: MatrixView, b: MatrixView, options: GemmOptions = {}): Matrix {
  const { m, n, k } = gemmShape(a, b, options);
  const A = packOp(a, !!options.transA), B = packOp(b, !!options.transB);
  const C = options.out ? options.out.subarray(0, m * n) : new Float32Array(m * n);
  if (C.length < m * n) {
    throw new RangeError(`gemm: out holds ${C.length} values; C needs ${m * n}`);
  }
  const acc = new Float64Array(n);
  for (let i = 0; i < m; i++) {
    acc.fill(0);
    for (let p = 0; p < k; p++) {
      const aip = A[i * k + p];
      if (aip === 0) continue;
      const row = p * n;
      for (let j = 0; j < n; j++) acc[j] += aip * B[row + j];
    }
    for (let j = 0; j < n; j++) C[i * n + j] = acc[j];
  }
  return { rows: m, cols: n, data: C };
}

/**
 * Per-column mean and population standard deviation (ddof = 0), as
 * {@linkcode Backend.columnStats}.
 *
 * @param x (n × p)
 * @returns `mean` and `std`, each of length p
 *
 * @example
 * ```ts
 * import { columnStatsReference, matrix } from "@brainorg/kernels";
 * const { mean, std } = columnStatsReference(matrix(2, 2, [1, 10, 3, 10])); // [2, 10], [1, 0]
 * ```
 */
export function columnStatsReference(x: MatrixView): { mean: Float32Array; std: Float32Array } {
  const get = at(x);
  const mean = new Float32Array(x.cols), std = new Float32Array(x.cols);
  for (let c = 0; c < x.cols; c++) {
    let s = 0;
    for (let r = 0; r < x.rows; r++) s += get(r, c);
    const mu = s / x.rows;
    let ss = 0;
    for (let r = 0; r < x.rows; r++) ss += (get(r, c) - mu) ** 2;
    mean[c] = mu;
    std[c] = Math.sqrt(ss / x.rows);
  }
  return { mean, std };
}

/**
 * Per-column Pearson r of two same-shape matrices, as
 * {@linkcode Backend.columnCorrelation}.
 *
 * @param a (n × p)
 * @param b (n × p)
 * @returns r, length p (0 where either column is constant)
 * @throws {RangeError} when the shapes differ
 *
 * @example
 * ```ts
 * import { columnCorrelationReference, matrix } from "@brainorg/kernels";
 * const a = matrix(3, 1, [1, 2, 3]), b = matrix(3, 1, [2, 4, 7]);
 * const [r] = columnCorrelationReference(a, b); // ≈ 0.993
 * ```
 */
export function columnCorrelationReference(a: MatrixView, b: MatrixView): Float32Array {
  if (a.rows !== b.rows || a.cols !== b.cols) {
    throw new RangeError(
      `columnCorrelation: shapes differ: ${a.rows} × ${a.cols} and ${b.rows} × ${b.cols}`,
    );
  }
  const ga = at(a), gb = at(b);
  const out = new Float32Array(a.cols);
  for (let c = 0; c < a.cols; c++) {
    let ma = 0, mb = 0;
    for (let r = 0; r < a.rows; r++) {
      ma += ga(r, c);
      mb += gb(r, c);
    }
    ma /= a.rows;
    mb /= a.rows;
    let sab = 0, saa = 0, sbb = 0;
    for (let r = 0; r < a.rows; r++) {
      const x = ga(r, c) - ma, y = gb(r, c) - mb;
      sab += x * y;
      saa += x * x;
      sbb += y * y;
    }
    out[c] = saa > 0 && sbb > 0 ? sab / Math.sqrt(saa * sbb) : 0;
  }
  return out;
}

/**
 * R² of S stacked predictions of the same targets, as
 * {@linkcode Backend.stackedR2}.
 *
 * @param pred (S·n × p): S blocks of n rows
 * @param y (n × p)
 * @returns (S × p), row-major: block s's R² of target j at `s · p + j`
 * @throws {RangeError} when `pred` is not S blocks of y's shape
 *
 * @example
 * ```ts
 * import { matrix, stackedR2Reference } from "@brainorg/kernels";
 * const y = matrix(3, 1, [1, 2, 3]);
 * const pred = matrix(6, 1, [1, 2, 3, 2, 2, 2]); // a perfect fit, then the mean
 * const r2 = stackedR2Reference(pred, y); // data [1, 0]
 * ```
 */
export function stackedR2Reference(pred: MatrixView, y: MatrixView): Matrix {
  const n = y.rows, p = y.cols;
  if (pred.cols !== p || pred.rows % n !== 0) {
    throw new RangeError(
      `stackedR2: pred is ${pred.rows} × ${pred.cols}; expected S·${n} × ${p} for y of ${n} × ${p}`,
    );
  }
  const S = pred.rows / n;
  const gp = at(pred), gy = at(y);
  const out = new Float32Array(S * p);
  for (let j = 0; j < p; j++) {
    let mu = 0;
    for (let i = 0; i < n; i++) mu += gy(i, j);
    mu /= n;
    let sst = 0;
    for (let i = 0; i < n; i++) sst += (gy(i, j) - mu) ** 2;
    for (let s = 0; s < S; s++) {
      let sse = 0;
      for (let i = 0; i < n; i++) sse += (gy(i, j) - gp(s * n + i, j)) ** 2;
      out[s * p + j] = sst > 0 ? 1 - sse / sst : (sse === 0 ? 1 : 0);
    }
  }
  return { rows: S, cols: p, data: out };
}
