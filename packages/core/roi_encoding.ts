/**
 * Cross-validated encoding of ROI time courses (or any targets) from a few
 * regressors, with permutation p-values: the Alice analysis's building block.
 *
 * @module
 */

import {
  type Backend,
  type Matrix,
  permutationNull,
  permutationPValues,
  ridgeCV,
} from "@brainorg/kernels";

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
      z[c] += Math.atanh(Math.max(-0.999999, Math.min(0.999999, r[c])));
    }
  }
  return { r: Float32Array.from(z, (v) => Math.tanh(v / fit.folds.length)), alpha: fit.alphas };
}

/**
 * Ridge-encode every target from the regressors, score by held-out r, and
 * test r against circularly shifted regressors refit the same way.
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
  const observed = await heldOutR(backend, x, y, options);
  const P = options.permutations ?? 200;
  let p: Float64Array = new Float64Array(y.cols).fill(NaN);
  if (P > 0) {
    const { null: nul } = await permutationNull(
      x,
      async (s) => (await heldOutR(backend, s, y, options)).r,
      {
        permutations: P,
        seed: options.seed ?? 0,
      },
    );
    p = permutationPValues(observed.r, nul);
  }
  return { r: observed.r, p, alpha: observed.alpha };
}

/** Columns z-scored (mean 0, population SD 1); constant columns become 0. */
export function zscoreColumns(m: Matrix): Matrix {
  const { rows, cols } = m, out = new Float32Array(rows * cols);
  for (let c = 0; c < cols; c++) {
    let mu = 0;
    for (let r = 0; r < rows; r++) mu += m.data[r * cols + c];
    mu /= rows;
    let ss = 0;
    for (let r = 0; r < rows; r++) ss += (m.data[r * cols + c] - mu) ** 2;
    const sd = Math.sqrt(ss / rows);
    for (let r = 0; r < rows; r++) {
      out[r * cols + c] = sd > 0 ? (m.data[r * cols + c] - mu) / sd : 0;
    }
  }
  return { rows, cols, data: out };
}

/** One subject × ROI encoding result. */
export interface RoiScore {
  subject: string;
  roi: string;
  r: number;
  p: number;
  q: number;
  alpha: number;
}

/** Across usable subjects, per ROI. */
export interface RoiGroupScore {
  roi: string;
  subjects: number;
  meanR: number;
  /** One-sample t of Fisher-z r over subjects. */
  t: number;
  /** Subjects with q ≤ 0.05 (FDR over all subject × ROI tests). */
  significant: number;
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

/** Fisher's z of r, clamped away from ±1. */
export function fisher(r: number): number {
  return Math.atanh(Math.max(-0.999999, Math.min(0.999999, r)));
}

/** Per ROI across subjects: mean r, one-sample t of Fisher z, subjects with q ≤ 0.05. */
export function groupScores(scores: RoiScore[], rois: readonly string[]): RoiGroupScore[] {
  return rois.map((roi) => {
    const mine = scores.filter((s) => s.roi === roi);
    const z = mine.map((s) => fisher(s.r));
    const n = z.length, mz = z.reduce((a, b) => a + b, 0) / n;
    const sd = Math.sqrt(z.reduce((a, b) => a + (b - mz) ** 2, 0) / (n - 1));
    return {
      roi,
      subjects: n,
      meanR: mine.reduce((a, s) => a + s.r, 0) / n,
      t: mz / (sd / Math.sqrt(n)),
      significant: mine.filter((s) => s.q <= 0.05).length,
    };
  });
}
