/**
 * Ridge regression for many targets at once, with the penalty chosen per
 * target by k-fold cross-validation (himalaya's `solve_ridge_svd` /
 * `RidgeCV` scheme): per fold, one eigendecomposition of the p × p training
 * Gram matrix serves every α and every target, and all α are scored with
 * one product.
 *
 * Objective, per target y and penalty α:
 * `w*, b* = argmin_{w,b} ||y − X w − b||² + α ||w||²` (b only with an intercept).
 *
 * @module
 */

import type { Backend } from "./backend.ts";
import { designOn, transposed } from "./ridge_design.ts";
import { contiguousFolds, foldIndicator, getter, logspace } from "./cross_validation.ts";
import { columnBlock, type Matrix, type MatrixView, validateMatrix } from "./matrix.ts";

/** Options of {@linkcode ridgeCV}. */
export interface RidgeCVOptions {
  /** Penalties to try, positive. Default: 10 values log-spaced from 0.1 to 10⁴. */
  alphas?: number[];
  /** Number of contiguous folds (fMRI samples are autocorrelated, so no shuffling). Default: 5. */
  folds?: number;
  /** Fit an intercept (center X and y on the training rows). Default: true. */
  fitIntercept?: boolean;
  /** Targets per batch; bounds memory. Default: as many as keep a batch's predictions under 64 MiB. */
  targetBatch?: number;
  /** Keep out-of-fold predictions (n × V). Default: true. */
  returnPredictions?: boolean;
  /** Reject NaN/Inf in X and Y (costs one pass over Y). Default: true. */
  checkFinite?: boolean;
  /** Called after each batch with (targets done, total targets). */
  onProgress?: (done: number, total: number) => void;
}

/** What {@linkcode ridgeCV} returns. */
export interface RidgeCVResult {
  /** Weights refit on all samples at each target's α: (p × V), row-major. */
  weights: Matrix;
  /** Intercept per target (V); zeros without an intercept. */
  intercept: Float32Array;
  /** The α grid, as given. */
  alphaGrid: number[];
  /** Chosen α per target (V). */
  alphas: Float64Array;
  /** Index of the chosen α in the grid (V). */
  alphaIndex: Uint16Array;
  /** Mean over folds of the held-out R², per α and target: (nα × V). */
  cvScores: Matrix;
  /** Out-of-fold predictions at each target's chosen α: (n × V); absent when not requested. */
  predictions?: Matrix;
  /** Fold boundaries: held-out rows `[start, end)`. */
  folds: [number, number][];
}

/**
 * Ridge regression with per-target α chosen by k-fold cross-validation.
 *
 * For each batch of targets and each fold: XᵀY on the training rows, its
 * rotation into the eigenbasis of the training Gram matrix, then the
 * held-out predictions of every α in one product, scored by R². The α with
 * the best mean R² (the first one on ties, as GridSearchCV) is chosen per
 * target, out-of-fold predictions are formed at it, and the weights are
 * refit on all samples.
 *
 * @param backend computes the products and scores
 * @param x regressors (n × p), row-major, e.g. the atoms' time courses
 * @param y targets (n × V), row-major, e.g. voxels' BOLD signals
 * @param options α grid, folds, intercept, batching
 * @returns weights (p × V), intercept, chosen α, CV scores (nα × V), predictions (n × V)
 * @throws {RangeError} for mismatched shapes, empty inputs or a non-positive α
 * @throws {TypeError} for NaN/Inf in `x` or `y`
 *
 * @example
 * ```ts
 * import { createCpuBackend, ridgeCV } from "@brainorg/kernels";
 * const backend = await createCpuBackend();
 * const x = { rows: 100, cols: 3, data: Float32Array.from({ length: 300 }, Math.random) };
 * const y = { rows: 100, cols: 2, data: Float32Array.from({ length: 200 }, Math.random) };
 * const fit = await ridgeCV(backend, x, y, { alphas: [0.1, 1, 10] });
 * console.log(fit.alphas, fit.weights.data);
 * ```
 */
export async function ridgeCV(
  backend: Backend,
  x: MatrixView,
  y: MatrixView,
  options: RidgeCVOptions = {},
): Promise<RidgeCVResult> {
  const checkFinite = options.checkFinite ?? true;
  validateMatrix("x", x, checkFinite);
  validateMatrix("y", y, checkFinite);
  const n = x.rows, p = x.cols, V = y.cols;
  if (y.rows !== n) {
    throw new RangeError(`ridgeCV: x has ${n} samples (rows) but y has ${y.rows}`);
  }
  const alphaGrid = options.alphas ?? logspace(-1, 4, 10);
  if (alphaGrid.length === 0 || alphaGrid.some((a) => !(a > 0) || !Number.isFinite(a))) {
    throw new RangeError(
      `ridgeCV: alphas must be positive and finite: current value is [${alphaGrid}]`,
    );
  }
  const intercept = options.fitIntercept ?? true;
  const folds = contiguousFolds(n, options.folds ?? 5);
  const nA = alphaGrid.length;
  const maxVal = Math.max(...folds.map(([s, e]) => e - s));
  const batch = options.targetBatch ??
    Math.max(1, Math.min(V, Math.floor((64 * 2 ** 20) / (4 * nA * maxVal))));
  const keepPred = options.returnPredictions ?? true;

  const designs = folds.map(([s, e]) => designOn(x, (r) => r < s || r >= e, intercept));
  const full = designOn(x, () => true, intercept);
  const getX = getter(x);
  // Held-out rows of X, centered by the training mean and rotated into the
  // eigenbasis (then scaled per α: the left factor of every α's
  // predictions), with a column of ones that adds the training mean of y.
  const p1 = p + 1;
  const heldOut = folds.map(([s, e], f) => {
    const d = designs[f], nv = e - s;
    const rotated = new Float32Array(nv * p1);
    const stacked = new Float32Array(nA * nv * p1);
    for (let i = 0; i < nv; i++) {
      for (let j = 0; j < p; j++) {
        let acc = 0;
        for (let k = 0; k < p; k++) acc += (getX(s + i, k) - d.mean[k]) * d.vectors[k * p + j];
        rotated[i * p1 + j] = acc;
        alphaGrid.forEach((alpha, a) => (stacked[(a * nv + i) * p1 + j] = acc / (d.s2[j] + alpha)));
      }
      rotated[i * p1 + p] = 1;
      for (let a = 0; a < nA; a++) stacked[(a * nv + i) * p1 + p] = 1;
    }
    return {
      rotated: { rows: nv, cols: p1, data: rotated },
      stacked: { rows: nA * nv, cols: p1, data: stacked },
    };
  });
  const foldRows = foldIndicator(folds, n);

  const weights = new Float32Array(p * V);
  const interceptOut = new Float32Array(V);
  const alphas = new Float64Array(V);
  const alphaIndex = new Uint16Array(V);
  const cvScores = new Float32Array(nA * V);
  const predictions = keepPred ? new Float32Array(n * V) : undefined;
  const yStride = y.rowStride ?? y.cols, yOff = y.offset ?? 0;
  const block = Math.min(batch, backend.preferredColumnBlock ?? batch);
  const predBuffer = new Float32Array(nA * maxVal * block);
  const meanRow = { rows: 1, cols: p, data: Float32Array.from(full.mean) };

  for (let v0 = 0; v0 < V; v0 += batch) {
    const vb = Math.min(batch, V - v0);
    const yb = columnBlock(y, v0, vb);
    const foldSums = await backend.gemm({ rows: folds.length, cols: n, data: foldRows }, yb);
    const total = new Float64Array(vb);
    for (let f = 0; f < folds.length; f++) {
      for (let c = 0; c < vb; c++) total[c] += foldSums.data[f * vb + c];
    }

    const score = new Float64Array(nA * vb);
    const perFold: { z: Matrix; yMean: Float32Array }[] = [];
    for (let f = 0; f < folds.length; f++) {
      const [s, e] = folds[f], nv = e - s, d = designs[f];
      // z rotated into the eigenbasis, plus a last row: the training mean of y.
      const z1 = new Float32Array(p1 * vb);
      const xty = await backend.gemm({ rows: n, cols: p, data: d.masked }, yb, { transA: true });
      await backend.gemm(transposed(d.vectors, p), xty, { out: z1 });
      const yMean = z1.subarray(p * vb);
      if (intercept) {
        for (let c = 0; c < vb; c++) yMean[c] = (total[c] - foldSums.data[f * vb + c]) / (n - nv);
      }
      const z = { rows: p1, cols: vb, data: z1 };
      // Every α's held-out predictions, scored in column blocks that stay in cache.
      for (let c0 = 0; c0 < vb; c0 += block) {
        const nc = Math.min(block, vb - c0);
        const pred = await backend.gemm(heldOut[f].stacked, columnBlock(z, c0, nc), {
          out: predBuffer,
        });
        const yVal = {
          rows: nv,
          cols: nc,
          data: y.data,
          rowStride: yStride,
          offset: yOff + s * yStride + v0 + c0,
        };
        const r2 = await backend.stackedR2(pred, yVal);
        for (let a = 0; a < nA; a++) {
          for (let c = 0; c < nc; c++) score[a * vb + c0 + c] += r2.data[a * nc + c] / folds.length;
        }
      }
      perFold.push({ z, yMean });
    }

    const best = new Uint16Array(vb);
    for (let c = 0; c < vb; c++) {
      let bi = 0;
      for (let a = 1; a < nA; a++) if (score[a * vb + c] > score[bi * vb + c]) bi = a;
      best[c] = bi;
      alphaIndex[v0 + c] = bi;
      alphas[v0 + c] = alphaGrid[bi];
    }
    for (let a = 0; a < nA; a++) {
      for (let c = 0; c < vb; c++) cvScores[a * V + v0 + c] = score[a * vb + c];
    }
    // The first p rows of z scaled by 1 / (s²_j + α) at each target's own α;
    // a last row, when given, is copied.
    const scaled = (z: Matrix, s2: Float64Array, lastRow?: Float32Array): Matrix => {
      const rows = lastRow ? p1 : p;
      const out = new Float32Array(rows * vb);
      const inv = new Float64Array(nA);
      for (let j = 0; j < p; j++) {
        for (let a = 0; a < nA; a++) inv[a] = 1 / (s2[j] + alphaGrid[a]);
        const row = j * vb;
        for (let c = 0; c < vb; c++) out[row + c] = z.data[row + c] * inv[best[c]];
      }
      if (lastRow) out.set(lastRow, p * vb);
      return { rows, cols: vb, data: out };
    };

    if (predictions) {
      for (let f = 0; f < folds.length; f++) {
        const [s] = folds[f], { z, yMean } = perFold[f];
        const pr = await backend.gemm(heldOut[f].rotated, scaled(z, designs[f].s2, yMean));
        for (let i = 0; i < pr.rows; i++) {
          predictions.set(pr.data.subarray(i * vb, (i + 1) * vb), (s + i) * V + v0);
        }
      }
    }

    const xty = await backend.gemm({ rows: n, cols: p, data: full.masked }, yb, { transA: true });
    const z = await backend.gemm(transposed(full.vectors, p), xty);
    const vecs = { rows: p, cols: p, data: Float32Array.from(full.vectors) };
    const w = await backend.gemm(vecs, scaled(z, full.s2));
    for (let j = 0; j < p; j++) weights.set(w.data.subarray(j * vb, (j + 1) * vb), j * V + v0);
    if (intercept) {
      const shift = await backend.gemm(meanRow, w);
      for (let c = 0; c < vb; c++) interceptOut[v0 + c] = total[c] / n - shift.data[c];
    }
    options.onProgress?.(v0 + vb, V);
  }

  return {
    weights: { rows: p, cols: V, data: weights },
    intercept: interceptOut,
    alphaGrid,
    alphas,
    alphaIndex,
    cvScores: { rows: nA, cols: V, data: cvScores },
    ...(predictions ? { predictions: { rows: n, cols: V, data: predictions } } : {}),
    folds,
  };
}
