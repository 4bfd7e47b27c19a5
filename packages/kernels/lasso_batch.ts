/**
 * The batched LASSO problem every backend solves: many targets sharing one
 * Gram matrix, along a path of penalties.
 *
 * @module
 */

/** Input of {@linkcode Backend.lassoCD}. All matrices row-major. */
export interface LassoBatch {
  /** Number of regressors. */
  p: number;
  /** G = XᵀX, (p × p). */
  gram: ArrayLike<number>;
  /** Xᵀy per target, (p × V). */
  q: Float32Array;
  /** yᵀy per target, (V). */
  yy: Float32Array;
  /** Penalty scale per target (V): the path is multiplied by it. */
  scale: Float32Array;
  /** Penalty multipliers in path order, usually descending (nα). */
  path: Float64Array;
  /** Mix of the L1 and L2 penalties, 1 = LASSO. Default: 1. */
  l1Ratio?: number;
  /** Constrain weights to be ≥ 0. Default: false. */
  positive?: boolean;
  /** Relative tolerance (updates, and duality gap ÷ yᵀy). Default: 1e-4. */
  tol?: number;
  /** Most sweeps per penalty. Default: 1000. */
  maxIter?: number;
  /** Starting weights, (p × V). Default: zeros. */
  warmStart?: Float32Array;
  /**
   * Held-out quantities (G_h = X_hᵀX_h (p × p), q_h = X_hᵀy_h (p × V),
   * yy_h (V)): when given, the squared error of each penalty's weights on
   * the held-out rows is returned.
   */
  heldOut?: { gram: ArrayLike<number>; q: Float32Array; yy: Float32Array };
  /** Stop each target's path at this penalty index and return its weights. */
  stopIndex?: Uint16Array;
  /**
   * Also return the weights at every penalty (nα × p × V), so a caller that
   * picks a penalty later need not solve again. A backend may ignore this
   * (the WebGPU one does: memory); callers check `pathWeights`.
   */
  keepPath?: boolean;
}

/** Output of {@linkcode Backend.lassoCD}. */
export interface LassoBatchResult {
  /** Held-out squared error per penalty and target, (nα × V), when `heldOut` was given. */
  sse?: Float32Array;
  /** Weights at the last penalty solved (or at `stopIndex`), (p × V); absent in score-only runs. */
  weights?: Float32Array;
  /**
   * Weights at every penalty, target-major (V × nα × p): target v's weights
   * at penalty i start at (v · nα + i) · p. When `keepPath` was asked and honoured.
   */
  pathWeights?: Float32Array;
  /**
   * The objective ½||y − Xw||² + l1||w||₁ + ½ l2||w||² at the returned
   * weights (V), when the backend computes it (the CPU one does).
   */
  objective?: Float64Array;
  /** Sweeps run per target (V). */
  iterations: Uint32Array;
}
