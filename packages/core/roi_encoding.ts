/**
 * Cross-validated encoding of ROI time courses (or any targets) from a few
 * regressors, with permutation p-values: the Alice analysis's building block.
 *
 * @module
 */

import type { RoiGroupScore, RoiScore } from "./results.ts";
import {
  type Backend,
  type Matrix,
  permutationPValues,
  ridgeCV,
  surrogates,
} from "@brainorg/kernels";
import { fisherZ, oneSampleT } from "./stats.ts";

/** Options of {@linkcode encodeTargets}. */
export interface EncodeOptions {
  /** Contiguous folds. Default: 5. */
  folds?: number;
  /** Ridge penalties. Default: 10 values log-spaced from 0.1 to 10⁴. */
  alphas?: number[];
  /** Circular-shift permutations for p-values (0: none). Default: 200. */
  permutations?: number;
  /** Seed of the shifts. Default: 0. */
  seed?: number;
}

/** Held-out fit of each target. */
export interface EncodeResult {
  /** Held-out Pearson r per target: within each fold, averaged over folds (Fisher z). */
  r: Float32Array;
  /** One-sided permutation p-value of r, per target (NaN without permutations). */
  p: Float64Array;
  /** Ridge penalty chosen per target. */
  alpha: Float64Array;
}

/**
 * Held-out r per target: the correlation within each fold, averaged over
 * folds through Fisher's z. (r over all out-of-fold predictions at once is
 * biased negative: each fold's intercept is the mean of the other folds,
 * which runs against the fold's own mean when the data drift.)
 */
async function heldOutR(
  backend: Backend,
  x: Matrix,
  y: Matrix,
  options: EncodeOptions,
): Promise<{ r: Float32Array; alpha: Float64Array }> {
  const fit = await ridgeCV(backend, x, y, {
    folds: options.folds ?? 5,
    ...(options.alphas ? { alphas: options.alphas } : {}),
  });
  const z = new Float64Array(y.cols);
  for (const [s, e] of fit.folds) {
    const rows = (m: Matrix) => ({
      rows: e - s,
      cols: m.cols,
      data: m.data.subarray(s * m.cols, e * m.cols),
    });
    const r = await backend.columnCorrelation(rows(fit.predictions!), rows(y));
    for (let c = 0; c < y.cols; c++) {
      z[c] += fisherZ(r[c]);
    }
  }
  return { r: Float32Array.from(z, (v) => Math.tanh(v / fit.folds.length)), alpha: fit.alphas };
}

/**
 * Ridge-encode every target from the regressors, score by held-out r, and
 * test r against circular shifts of the targets: each shifted copy is one
 * more target of the same fit (α chosen for it by the same CV), so every
 * surrogate costs one column of one ridgeCV rather than a fit of its own.
 * Shifting the targets instead of the regressors pairs the same samples;
 * only the fold boundaries fall elsewhere along the shifted series.
 *
 * @param x regressors (T × p)
 * @param y targets (T × R), e.g. the six Alice ROIs
 */
export async function encodeTargets(
  backend: Backend,
  x: Matrix,
  y: Matrix,
  options: EncodeOptions = {},
): Promise<EncodeResult> {
  const P = options.permutations ?? 200, T = y.rows, R = y.cols, W = R * (1 + P);
  const all = new Float32Array(T * W);
  const place = (m: Matrix, k: number) => {
    for (let t = 0; t < T; t++) all.set(m.data.subarray(t * R, (t + 1) * R), t * W + k * R);
  };
  place(y, 0);
  if (P > 0) {
    let k = 1;
    for (const s of surrogates(y, { permutations: P, seed: options.seed ?? 0 })) place(s.x, k++);
  }
  const fit = await heldOutR(backend, x, { rows: T, cols: W, data: all }, options);
  const r = fit.r.slice(0, R);
  const p = P > 0
    ? permutationPValues(r, { rows: P, cols: R, data: fit.r.subarray(R) })
    : new Float64Array(R).fill(NaN);
  return { r, p, alpha: fit.alpha.slice(0, R) };
}

/** One subject's rows of a fit, q left for the FDR over all tests. */
export function roiRows(fit: EncodeResult, rois: readonly string[], subject: string): RoiScore[] {
  return rois.map((roi, k) => ({
    subject,
    roi,
    r: fit.r[k],
    p: fit.p[k],
    q: NaN,
    alpha: fit.alpha[k],
  }));
}

/** Per ROI across subjects: mean r, one-sample t of Fisher z, subjects with q ≤ 0.05. */
export function groupScores(scores: RoiScore[], rois: readonly string[]): RoiGroupScore[] {
  return rois.map((roi) => {
    const mine = scores.filter((s) => s.roi === roi), n = mine.length;
    return {
      roi,
      subjects: n,
      meanR: mine.reduce((a, s) => a + s.r, 0) / n,
      t: oneSampleT(mine.map((s) => [fisherZ(s.r)])).t[0] ?? NaN,
      significant: mine.filter((s) => s.q <= 0.05).length,
    };
  });
}
