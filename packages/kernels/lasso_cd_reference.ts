/**
 * Coordinate descent for many LASSO / elastic-net problems that share one
 * Gram matrix (scikit-learn's `enet_coordinate_descent_gram`), along a
 * warm-started path of penalties, in float64: the CPU implementation of
 * {@linkcode Backend.lassoCD} and the oracle of the WebGPU one.
 *
 * @module
 */

import type { LassoBatch, LassoBatchResult } from "./lasso_batch.ts";

/**
 * Solve every target's path.
 *
 * Per target v and penalty i (unnormalised, as on `X`, `y` themselves):
 * `w = argmin ½||y − Xw||² + l1_vi ||w||₁ + ½ l2_vi ||w||²`, with
 * `l1_vi = scale_v · path_i · l1Ratio` and `l2_vi = scale_v · path_i · (1 − l1Ratio)`,
 * given only `G = XᵀX`, `q_v = Xᵀy_v` and `yy_v = y_vᵀy_v`. Sweeps stop when
 * the largest update is below `tol` relative to the largest weight and the
 * duality gap is below `tol · yy_v`.
 *
 * @param batch the shared Gram matrix, per-target sums and the path (see {@linkcode LassoBatch})
 * @returns per target: weights (p × V), held-out squared errors (nα × V)
 *   when `heldOut` is given, the path's weights when `keepPath` is set, the
 *   objective and the sweeps run (see {@linkcode LassoBatchResult})
 *
 * @example
 * ```ts
 * import { lassoCDReference } from "@brainorg/kernels";
 * // One target, two orthonormal regressors: XᵀX = I, Xᵀy = [3, 0.5], yᵀy = 10.
 * const { weights } = lassoCDReference({
 *   p: 2,
 *   gram: [1, 0, 0, 1],
 *   q: Float32Array.of(3, 0.5),
 *   yy: Float32Array.of(10),
 *   scale: Float32Array.of(1),
 *   path: Float64Array.of(1), // l1 = 1: soft thresholding
 * });
 * // weights: [2, 0]
 * ```
 */
export function lassoCDReference(batch: LassoBatch): LassoBatchResult {
  const { p, gram, q, yy, scale, path, l1Ratio = 1, positive = false, tol = 1e-4, maxIter = 1000 } =
    batch;
  const V = yy.length, nA = path.length;
  const G = Float64Array.from(gram);
  const diag = Float64Array.from({ length: p }, (_, j) => G[j * p + j]);
  const held = batch.heldOut;
  const sse = held ? new Float32Array(nA * V) : undefined;
  const weights = batch.stopIndex || !held ? new Float32Array(p * V) : undefined;
  const iterations = new Uint32Array(V);
  const pathWeights = batch.keepPath ? new Float32Array(nA * p * V) : undefined;
  const w = new Float64Array(p), g = new Float64Array(p);
  const hg = held ? Float64Array.from(held.gram) : undefined;

  for (let v = 0; v < V; v++) {
    for (let j = 0; j < p; j++) {
      w[j] = batch.warmStart ? batch.warmStart[j * V + v] : 0;
      g[j] = q[j * V + v];
    }
    if (batch.warmStart) {
      for (let j = 0; j < p; j++) {
        if (w[j] === 0) continue;
        for (let k = 0; k < p; k++) g[k] -= G[k * p + j] * w[j];
      }
    }
    const stop = batch.stopIndex ? batch.stopIndex[v] : nA - 1;
    const yyv = yy[v];
    for (let i = 0; i <= stop; i++) {
      const l1 = scale[v] * path[i] * l1Ratio, l2 = scale[v] * path[i] * (1 - l1Ratio);
      for (let sweep = 0; sweep < maxIter; sweep++) {
        iterations[v]++;
        let maxDelta = 0, maxW = 0;
        for (let j = 0; j < p; j++) {
          const old = w[j];
          const z = g[j] + diag[j] * old;
          let nw = 0;
          if (diag[j] > 0) {
            if (positive) nw = z > l1 ? (z - l1) / (diag[j] + l2) : 0;
            else if (z > l1) nw = (z - l1) / (diag[j] + l2);
            else if (z < -l1) nw = (z + l1) / (diag[j] + l2);
          }
          if (nw !== old) {
            const d = nw - old;
            for (let k = 0; k < p; k++) g[k] -= G[k * p + j] * d;
            w[j] = nw;
            if (Math.abs(d) > maxDelta) maxDelta = Math.abs(d);
          }
          if (Math.abs(nw) > maxW) maxW = Math.abs(nw);
        }
        if (maxW === 0 || maxDelta / maxW < tol || sweep === maxIter - 1) {
          if (dualityGap(w, g, q, v, V, p, yyv, l1, l2, positive) <= tol * yyv) break;
        }
      }
      if (pathWeights) { for (let j = 0; j < p; j++) pathWeights[(v * nA + i) * p + j] = w[j]; }
      if (sse && held) {
        // ||y_h − X_h w||² from held-out Gram quantities alone.
        let lin = 0, quad = 0;
        for (let j = 0; j < p; j++) {
          if (w[j] === 0) continue;
          lin += w[j] * held.q[j * V + v];
          let row = 0;
          for (let k = 0; k < p; k++) row += hg![j * p + k] * w[k];
          quad += w[j] * row;
        }
        sse[i * V + v] = held.yy[v] - 2 * lin + quad;
      }
    }
    if (weights) { for (let j = 0; j < p; j++) weights[j * V + v] = w[j]; }
  }
  return {
    ...(sse ? { sse } : {}),
    ...(weights ? { weights } : {}),
    ...(pathWeights ? { pathWeights } : {}),
    iterations,
  };
}

/** The duality gap of scikit-learn's Gram coordinate descent, for target v. */
function dualityGap(
  w: Float64Array,
  g: Float64Array,
  q: ArrayLike<number>,
  v: number,
  V: number,
  p: number,
  yy: number,
  alpha: number,
  beta: number,
  positive: boolean,
): number {
  let qw = 0, wGw = 0, dual = 0, l1n = 0, w2 = 0;
  for (let j = 0; j < p; j++) {
    const qj = q[j * V + v];
    qw += w[j] * qj;
    wGw += w[j] * (qj - g[j]);
    const xta = g[j] - beta * w[j];
    const a = positive ? xta : Math.abs(xta);
    if (a > dual) dual = a;
    l1n += Math.abs(w[j]);
    w2 += w[j] * w[j];
  }
  return gapFromSums(qw, wGw, dual, l1n, w2, yy, alpha, beta);
}

/**
 * The duality gap of scikit-learn's Gram coordinate descent from its sums
 * over coordinates: qw = wᵀq, wGw = wᵀGw, dual = max |g − βw| (or max of
 * g − βw when positive), l1n = ||w||₁, w2 = ||w||², with penalties α (L1)
 * and β (L2).
 */
export function gapFromSums(
  qw: number,
  wGw: number,
  dual: number,
  l1n: number,
  w2: number,
  yy: number,
  alpha: number,
  beta: number,
): number {
  const r2 = Math.max(yy + wGw - 2 * qw, 0);
  let gap: number, c: number;
  if (dual > alpha) {
    c = alpha / dual;
    gap = 0.5 * (r2 + r2 * c * c);
  } else {
    c = 1;
    gap = r2;
  }
  return gap + alpha * l1n - c * (yy - qw) + 0.5 * beta * (1 + c * c) * w2;
}
