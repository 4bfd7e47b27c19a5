/**
 * One interface, several implementations (as himalaya's backends): every
 * solver is written against {@linkcode Backend}, and each backend computes
 * its primitives where it runs best.
 *
 * @module
 */

import type { LassoBatch, LassoBatchResult } from "./lasso_batch.ts";
import type { Matrix, MatrixView } from "./matrix.ts";
import type { FoldErrors, FoldProducts } from "./ridge_folds.ts";

/** What a backend is and runs on, for reports and provenance. */
export interface BackendInfo {
  /** `"cpu"` or `"webgpu"`. */
  name: "cpu" | "webgpu";
  /** The implementation in use, e.g. `"openblas"`, `"typescript"`, or the GPU adapter's description. */
  implementation: string;
  /** Free-form details (adapter vendor, limits, BLAS core type). */
  details: Record<string, unknown>;
}

/** Options of {@linkcode Backend.gemm}. */
export interface GemmOptions {
  /** Use Aᵀ: A is stored (k × m). Default: false. */
  transA?: boolean;
  /** Use Bᵀ: B is stored (n × k). Default: false. */
  transB?: boolean;
  /**
   * Write C here (length ≥ m·n; C is its first m·n values) instead of a new
   * array, so hot loops reuse one buffer. Default: a new array.
   */
  out?: Float32Array;
}

/**
 * The primitives solvers need. All matrices are float32, row-major. Shapes
 * are checked on every call (mismatch or empty: RangeError); values are
 * checked for NaN/Inf by the solvers on entry, not by every primitive call.
 */
export interface Backend {
  /** What the backend is and runs on (see {@linkcode BackendInfo}). */
  readonly info: BackendInfo;

  /**
   * Columns per product that keep a solver's intermediate results in cache
   * (CPU), or undefined where fewer, larger calls are better (WebGPU, whose
   * every call waits for the device).
   */
  readonly preferredColumnBlock?: number;

  /**
   * Matrix product C = op(A) · op(B).
   *
   * @param a (m × k), or (k × m) with `transA`
   * @param b (k × n), or (n × k) with `transB`
   * @returns C, (m × n)
   */
  gemm(a: MatrixView, b: MatrixView, options?: GemmOptions): Promise<Matrix>;

  /**
   * Per-column mean and standard deviation (population, ddof = 0).
   * @param x (n × p)
   * @returns `mean` and `std`, each of length p
   */
  columnStats(x: MatrixView): Promise<{ mean: Float32Array; std: Float32Array }>;

  /**
   * Per-column Pearson correlation of two matrices of the same shape.
   * @param a (n × p)
   * @param b (n × p)
   * @returns r, length p (0 where a column is constant)
   */
  columnCorrelation(a: MatrixView, b: MatrixView): Promise<Float32Array>;

  /**
   * R² of S stacked predictions of the same targets:
   * `out[s * p + j] = 1 − Σ_i (y_ij − pred_(s·n + i) j)² / Σ_i (y_ij − ȳ_j)²`
   * (1 for a perfect fit of a constant target, else 0 there, as scikit-learn).
   *
   * @param pred (S·n × p): S blocks of n rows
   * @param y (n × p)
   * @returns (S × p), row-major
   */
  stackedR2(pred: MatrixView, y: MatrixView): Promise<Matrix>;

  /**
   * R² of stacked products against the same targets: `stackedR2(a · b, y)`,
   * without handing the products back (ridge CV scores every α of a fold
   * this way). A backend may keep the products where it computes them.
   *
   * @param a (S·n × k): S blocks of n rows
   * @param b (k × p)
   * @param y (n × p)
   * @returns (S × p), row-major
   */
  productR2(a: MatrixView, b: MatrixView, y: MatrixView): Promise<Matrix>;

  /**
   * Optional: ridge CV's work on one block of targets, every fold at once
   * (each fold's held-out XᵀY, their sum, every α's held-out squared
   * errors; see {@linkcode FoldProducts}), where a backend can fuse it into
   * one call (the CPU backend with MLAS). Absent: ridge CV makes the
   * products and scores itself.
   */
  foldErrors?(input: FoldProducts): Promise<FoldErrors>;

  /**
   * Coordinate descent for many LASSO / elastic-net targets sharing one Gram
   * matrix, along a warm-started penalty path (see {@linkcode LassoBatch}).
   */
  lassoCD(batch: LassoBatch): Promise<LassoBatchResult>;

  /** Release device resources; the backend is unusable afterwards. */
  dispose(): void;
}

/**
 * Dimensions of C = op(A) · op(B), checked: what every backend's
 * {@linkcode Backend.gemm} validates first.
 *
 * @param a (m × k), or (k × m) with `options.transA`
 * @param b (k × n), or (n × k) with `options.transB`
 * @param options the transposes (see {@linkcode GemmOptions}); `out` is ignored. Default: none.
 * @returns `m`, `n` and the shared inner dimension `k`
 * @throws {RangeError} when op(A)'s columns differ from op(B)'s rows
 *
 * @example
 * ```ts
 * import { gemmShape, matrix } from "@brainorg/kernels";
 * const { m, n, k } = gemmShape(matrix(5, 3), matrix(4, 3), { transB: true }); // 5, 4, 3
 * ```
 */
export function gemmShape(
  a: MatrixView,
  b: MatrixView,
  options: GemmOptions = {},
): { m: number; n: number; k: number } {
  const m = options.transA ? a.cols : a.rows;
  const k = options.transA ? a.rows : a.cols;
  const kb = options.transB ? b.cols : b.rows;
  const n = options.transB ? b.rows : b.cols;
  if (k !== kb) {
    throw new RangeError(
      `gemm: inner dimensions differ: op(A) is ${m} × ${k}, op(B) is ${kb} × ${n}` +
        ` (transA ${!!options.transA}, transB ${!!options.transB})`,
    );
  }
  return { m, n, k };
}
