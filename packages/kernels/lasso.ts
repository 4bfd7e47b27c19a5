/**
 * LASSO and elastic net for many targets at once, with the penalty chosen
 * per target by k-fold cross-validation along a warm-started path (the
 * scheme of scikit-learn's `LassoCV`, solved for every target together on
 * the shared Gram matrix).
 *
 * Objective, per target y and penalty α (scikit-learn's scaling):
 * `w*, b* = argmin (1 / 2n) ||y − Xw − b||² + α ρ ||w||₁ + ½ α (1 − ρ) ||w||²`
 * with ρ = `l1Ratio` (1: LASSO) and n the number of samples fitted.
 *
 * @module
 */

import type { Backend } from "./backend.ts";
import { centeredDesign, foldIndicator, resolveFolds } from "./cross_validation.ts";
import type { LassoBatch } from "./lasso_batch.ts";
import { columnBlock, type Matrix, type MatrixView, validateMatrix } from "./matrix.ts";

/** Options of {@linkcode lassoCV}. */
export interface LassoCVOptions {
  /**
   * Penalties to try, shared by all targets, descending. Default: per
   * target, `nAlphas` values log-spaced from α_max (the smallest α giving
   * all-zero weights on all samples) down to `eps · α_max`, as LassoCV.
   */
  alphas?: number[];
  /** Path length when `alphas` is not given. Default: 100. */
  nAlphas?: number;
  /** Ratio of the smallest to the largest penalty. Default: 1e-3. */
  eps?: number;
  /** L1 share of the penalty, in (0, 1]. Default: 1 (LASSO). */
  l1Ratio?: number;
  /** Constrain weights to be ≥ 0. Default: false. */
  positive?: boolean;
  /**
   * Number of contiguous folds (fMRI samples are autocorrelated, so no
   * shuffling), or the folds as `[start, end)` row ranges (one per story or
   * run). Default: 5.
   */
  folds?: number | readonly (readonly [number, number])[];
  /** Fit an intercept. Default: true. */
  fitIntercept?: boolean;
  /** Choose α by held-out mean squared error (as LassoCV) or R². Default: `"mse"`. */
  criterion?: "mse" | "r2";
  /** Solver tolerance (updates and duality gap, relative). Default: 1e-4. */
  tol?: number;
  /** Most sweeps per penalty. Default: 1000. */
  maxIter?: number;
  /** Keep out-of-fold predictions at each target's α (one more pass per fold). Default: true. */
  returnPredictions?: boolean;
  /** Targets per batch. Default: 16,384 (2,048 when out-of-fold predictions are kept, whose path weights take memory). */
  targetBatch?: number;
  /** Reject NaN/Inf in the inputs. Default: true. */
  checkFinite?: boolean;
  /** Called after each batch with (targets done, total). */
  onProgress?: (done: number, total: number) => void;
}

/** What {@linkcode lassoCV} returns. */
export interface LassoCVResult {
  /** Weights refit on all samples at each target's α, (p × V). */
  weights: Matrix;
  /** Intercept per target (V). */
  intercept: Float32Array;
  /** Chosen α per target (V). */
  alphas: Float64Array;
  /** Index of the chosen α in the path (V). */
  alphaIndex: Uint16Array;
  /** The path's penalties per target: α_vi = alphaScale[v] · path[i]. */
  path: Float64Array;
  /** See `path`; all ones when `alphas` was given. */
  alphaScale: Float64Array;
  /** Mean held-out criterion over folds, (nα × V): MSE (lower is better) or R². */
  cvScores: Matrix;
  /** Out-of-fold predictions at each target's α, (n × V), when requested. */
  predictions?: Matrix;
  /** Fold boundaries: held-out rows `[start, end)`. */
  folds: [number, number][];
  /** Coordinate-descent sweeps (and active-set steps) summed over all fits, per target (V). */
  sweeps: Uint32Array;
}

/**
 * LASSO / elastic net with per-target α chosen by k-fold cross-validation.
 *
 * @param backend runs the products and the coordinate descent
 * @param x regressors (n × p), row-major
 * @param y targets (n × V), row-major
 * @param options penalty path, folds, scoring, solver settings (see {@linkcode LassoCVOptions}). Default: all defaults.
 * @returns weights (p × V), intercept, α per target, CV curves (nα × V), predictions (n × V)
 * @throws {RangeError} for mismatched or empty inputs, or options out of range
 * @throws {TypeError} for NaN/Inf in `x` or `y`
 *
 * @example
 * ```ts
 * import { createCpuBackend, lassoCV } from "@brainorg/kernels";
 * const cpu = await createCpuBackend();
 * const x = { rows: 50, cols: 4, data: Float32Array.from({ length: 200 }, Math.random) };
 * const y = { rows: 50, cols: 3, data: Float32Array.from({ length: 150 }, Math.random) };
 * const fit = await lassoCV(cpu, x, y, { nAlphas: 20 });
 * console.log(fit.alphas, fit.weights.data);
 * ```
 */
export async function lassoCV(
  backend: Backend,
  x: MatrixView,
  y: MatrixView,
  options: LassoCVOptions = {},
): Promise<LassoCVResult> {
  const checkFinite = options.checkFinite ?? true;
  validateMatrix("x", x, checkFinite);
  validateMatrix("y", y, checkFinite);
  const n = x.rows, p = x.cols, V = y.cols;
  if (y.rows !== n) throw new RangeError(`lassoCV: x has ${n} samples (rows) but y has ${y.rows}`);
  const l1Ratio = options.l1Ratio ?? 1;
  if (!(l1Ratio > 0 && l1Ratio <= 1)) {
    throw new RangeError(`lassoCV: l1Ratio must be in (0, 1]: current value is ${l1Ratio}`);
  }
  if (
    options.alphas &&
    (options.alphas.length === 0 || options.alphas.some((a) => !(a >= 0) || !Number.isFinite(a)))
  ) {
    throw new RangeError(
      `lassoCV: alphas must be non-negative and finite: current value is [${options.alphas}]`,
    );
  }
  const nA = options.alphas?.length ?? options.nAlphas ?? 100;
  const eps = options.eps ?? 1e-3;
  const path = options.alphas
    ? Float64Array.from(options.alphas)
    : Float64Array.from({ length: nA }, (_, i) => eps ** (nA === 1 ? 0 : i / (nA - 1)));
  const intercept = options.fitIntercept ?? true;
  const folds = resolveFolds(n, options.folds ?? 5);
  const criterion = options.criterion ?? "mse";
  const keepPred = options.returnPredictions ?? true;
  const batch = Math.max(1, Math.min(V, options.targetBatch ?? (keepPred ? 2_048 : 16_384)));
  const solver = {
    p,
    path,
    l1Ratio,
    positive: options.positive ?? false,
    tol: options.tol ?? 1e-4,
    maxIter: options.maxIter ?? 1000,
  };

  const full = centeredDesign(x, () => true, intercept);
  const train = folds.map(([s, e]) => centeredDesign(x, (r) => r < s || r >= e, intercept));
  // Held-out rows centered by their fold's training means, zero elsewhere.
  const held = folds.map(([s, e], f) => {
    const masked = new Float32Array(n * p),
      gram = new Float64Array(p * p),
      colSum = new Float64Array(p);
    const xs = x.rowStride ?? p, xo = x.offset ?? 0;
    for (let r = s; r < e; r++) {
      for (let j = 0; j < p; j++) {
        const val = x.data[xo + r * xs + j] - train[f].mean[j];
        masked[r * p + j] = val;
        colSum[j] += val;
      }
    }
    for (let r = s; r < e; r++) {
      for (let a = 0; a < p; a++) {
        for (let b = 0; b < p; b++) gram[a * p + b] += masked[r * p + a] * masked[r * p + b];
      }
    }
    return { masked, gram, colSum, rows: e - s };
  });
  const foldRows = foldIndicator(folds, n);

  const weights = new Float32Array(p * V);
  const interceptOut = new Float32Array(V);
  const alphas = new Float64Array(V);
  const alphaIndex = new Uint16Array(V);
  const alphaScale = new Float64Array(V);
  const cvScores = new Float32Array(nA * V);
  const predictions = keepPred ? new Float32Array(n * V) : undefined;
  const sweeps = new Uint32Array(V);
  const meanRow = { rows: 1, cols: p, data: Float32Array.from(full.mean) };

  for (let v0 = 0; v0 < V; v0 += batch) {
    const vb = Math.min(batch, V - v0);
    const yb = columnBlock(y, v0, vb);
    const ys = y.rowStride ?? V, yo = y.offset ?? 0;
    const sq = new Float32Array(n * vb);
    for (let r = 0; r < n; r++) {
      for (let c = 0; c < vb; c++) {
        const val = y.data[yo + r * ys + v0 + c];
        sq[r * vb + c] = val * val;
      }
    }
    const foldRowsM = { rows: folds.length, cols: n, data: foldRows };
    const foldSum = (await backend.gemm(foldRowsM, yb)).data;
    const foldSq = (await backend.gemm(foldRowsM, { rows: n, cols: vb, data: sq })).data;
    const total = new Float64Array(vb), totalSq = new Float64Array(vb);
    for (let f = 0; f < folds.length; f++) {
      for (let c = 0; c < vb; c++) {
        total[c] += foldSum[f * vb + c];
        totalSq[c] += foldSq[f * vb + c];
      }
    }
    const qFull =
      (await backend.gemm({ rows: n, cols: p, data: full.masked }, yb, { transA: true })).data;
    // Penalty scale: α_max per target from all samples (as LassoCV), or 1 for a given grid.
    const aScale = new Float64Array(vb);
    for (let c = 0; c < vb; c++) {
      if (options.alphas) aScale[c] = 1;
      else {
        let m = 0;
        for (let j = 0; j < p; j++) m = Math.max(m, Math.abs(qFull[j * vb + c]));
        aScale[c] = m / (n * l1Ratio);
      }
      alphaScale[v0 + c] = aScale[c];
    }
    // Centered sums of squares: Σ (y − μ)² = Σ y² − (Σ y)² / m.
    const yyOf = (sum: number, sumSq: number, m: number) =>
      intercept ? Math.max(sumSq - (sum * sum) / m, 0) : sumSq;

    const score = new Float64Array(nA * vb);
    const perFold: {
      q: Float32Array;
      yy: Float32Array;
      scale: Float32Array;
      yMean: Float32Array;
      path?: Float32Array;
    }[] = [];
    for (let f = 0; f < folds.length; f++) {
      const nTr = train[f].count, nv = held[f].rows;
      const q =
        (await backend.gemm({ rows: n, cols: p, data: train[f].masked }, yb, { transA: true }))
          .data;
      const yy = new Float32Array(vb), scale = new Float32Array(vb), yMean = new Float32Array(vb);
      const hyy = new Float32Array(vb), sst = new Float64Array(vb);
      for (let c = 0; c < vb; c++) {
        const sTr = total[c] - foldSum[f * vb + c], sqTr = totalSq[c] - foldSq[f * vb + c];
        yy[c] = yyOf(sTr, sqTr, nTr);
        yMean[c] = intercept ? sTr / nTr : 0;
        scale[c] = aScale[c] * nTr;
        const sV = foldSum[f * vb + c], sqV = foldSq[f * vb + c], mu = yMean[c];
        hyy[c] = sqV - 2 * mu * sV + nv * mu * mu;
        sst[c] = Math.max(sqV - (sV * sV) / nv, 0);
      }
      // Held-out q = X_hᵀ(y_h − μ) = X_hᵀ y_h − (Σ_i X_h,i) μ.
      const hq =
        (await backend.gemm({ rows: n, cols: p, data: held[f].masked }, yb, { transA: true })).data;
      for (let j = 0; j < p; j++) {
        const cs = held[f].colSum[j];
        for (let c = 0; c < vb; c++) hq[j * vb + c] -= cs * yMean[c];
      }
      const res = await backend.lassoCD({
        ...solver,
        gram: train[f].gram,
        q,
        yy,
        scale,
        heldOut: { gram: held[f].gram, q: hq, yy: hyy },
        keepPath: keepPred,
      });
      for (let i = 0; i < nA; i++) {
        for (let c = 0; c < vb; c++) {
          const e = Math.max(res.sse![i * vb + c], 0);
          const val = criterion === "mse"
            ? e / nv
            : (sst[c] > 0 ? 1 - e / sst[c] : (e === 0 ? 1 : 0));
          score[i * vb + c] += val / folds.length;
        }
      }
      for (let c = 0; c < vb; c++) sweeps[v0 + c] += res.iterations[c];
      perFold.push({ q, yy, scale, yMean, path: res.pathWeights });
    }

    const best = new Uint16Array(vb);
    for (let c = 0; c < vb; c++) {
      let bi = 0;
      for (let i = 1; i < nA; i++) {
        const better = criterion === "mse"
          ? score[i * vb + c] < score[bi * vb + c]
          : score[i * vb + c] > score[bi * vb + c];
        if (better) bi = i;
      }
      best[c] = bi;
      alphaIndex[v0 + c] = bi;
      alphas[v0 + c] = aScale[c] * path[bi];
    }
    for (let i = 0; i < nA; i++) {
      for (let c = 0; c < vb; c++) cvScores[i * V + v0 + c] = score[i * vb + c];
    }

    if (predictions) {
      for (let f = 0; f < folds.length; f++) {
        const [s, e] = folds[f], { q, yy, scale, yMean, path: kept } = perFold[f];
        // The weights at each target's α: kept from the scoring pass, or solved again.
        let wBest: Float32Array;
        if (kept) {
          wBest = new Float32Array(p * vb);
          for (let j = 0; j < p; j++) {
            for (let c = 0; c < vb; c++) wBest[j * vb + c] = kept[(c * nA + best[c]) * p + j];
          }
        } else {
          const res = await backend.lassoCD({
            ...solver,
            gram: train[f].gram,
            q,
            yy,
            scale,
            stopIndex: best,
          });
          wBest = res.weights!;
          for (let c = 0; c < vb; c++) sweeps[v0 + c] += res.iterations[c];
        }
        const rows = { rows: e - s, cols: p, data: held[f].masked.subarray(s * p, e * p) };
        const pr = await backend.gemm(rows, { rows: p, cols: vb, data: wBest });
        for (let i = 0; i < e - s; i++) {
          const dst = (s + i) * V + v0;
          for (let c = 0; c < vb; c++) predictions[dst + c] = pr.data[i * vb + c] + yMean[c];
        }
      }
    }

    const yyFull = new Float32Array(vb), scaleFull = new Float32Array(vb);
    for (let c = 0; c < vb; c++) {
      yyFull[c] = yyOf(total[c], totalSq[c], n);
      scaleFull[c] = aScale[c] * n;
    }
    const fit = await backend.lassoCD({
      ...solver,
      gram: full.gram,
      q: qFull,
      yy: yyFull,
      scale: scaleFull,
      stopIndex: best,
    });
    const w = { rows: p, cols: vb, data: fit.weights! };
    for (let j = 0; j < p; j++) weights.set(w.data.subarray(j * vb, (j + 1) * vb), j * V + v0);
    const shift = intercept ? (await backend.gemm(meanRow, w)).data : new Float32Array(vb);
    for (let c = 0; c < vb; c++) {
      interceptOut[v0 + c] = intercept ? total[c] / n - shift[c] : 0;
      sweeps[v0 + c] += fit.iterations[c];
    }
    options.onProgress?.(v0 + vb, V);
  }

  return {
    weights: { rows: p, cols: V, data: weights },
    intercept: interceptOut,
    alphas,
    alphaIndex,
    path,
    alphaScale,
    cvScores: { rows: nA, cols: V, data: cvScores },
    ...(predictions ? { predictions: { rows: n, cols: V, data: predictions } } : {}),
    folds,
    sweeps,
  };
}

/**
 * One LASSO / elastic-net fit per target at a given α (scikit-learn's
 * `Lasso` / `ElasticNet` objective), on the shared Gram matrix:
 * `w* = argmin_w 1/(2n) ||y − Xw − b||² + α·ρ ||w||₁ + α(1 − ρ)/2 ||w||²`,
 * ρ = `l1Ratio`.
 *
 * @param backend computes the products and the coordinate descent
 * @param x regressors (n × p), row-major
 * @param y targets (n × V), row-major
 * @param options the penalty (required) and the solver's settings
 * @returns weights (p × V), intercept (V) and the sweeps run per target (V)
 * @throws {RangeError} for mismatched shapes, a negative α, or a per-target α list not of length V
 * @throws {TypeError} for NaN/Inf in `x` or `y`
 *
 * @example
 * ```ts
 * import { createCpuBackend, lassoFit } from "@brainorg/kernels";
 * const cpu = await createCpuBackend();
 * const x = { rows: 50, cols: 4, data: Float32Array.from({ length: 200 }, Math.random) };
 * const y = { rows: 50, cols: 3, data: Float32Array.from({ length: 150 }, Math.random) };
 * const { weights, intercept } = await lassoFit(cpu, x, y, { alpha: [0.01, 0.05, 0.1] });
 * cpu.dispose();
 * ```
 */
export async function lassoFit(
  backend: Backend,
  x: MatrixView,
  y: MatrixView,
  options: {
    /** One penalty for all targets, or one per target (V); each ≥ 0. Required. */
    alpha: number | ArrayLike<number>;
    /** Mix of the L1 and L2 penalties (ρ), 1 = LASSO. Default: 1. */
    l1Ratio?: number;
    /** Constrain weights to be ≥ 0. Default: false. */
    positive?: boolean;
    /** Fit an intercept (center x and y). Default: true. */
    fitIntercept?: boolean;
    /** Relative tolerance of the coordinate descent. Default: 1e-4. */
    tol?: number;
    /** Most sweeps per target. Default: 1000. */
    maxIter?: number;
  },
): Promise<{ weights: Matrix; intercept: Float32Array; sweeps: Uint32Array }> {
  validateMatrix("x", x);
  validateMatrix("y", y);
  const n = x.rows, p = x.cols, V = y.cols;
  if (y.rows !== n) throw new RangeError(`lassoFit: x has ${n} samples (rows) but y has ${y.rows}`);
  const alphas = typeof options.alpha === "number" ? null : options.alpha;
  if (alphas ? alphas.length !== V : false) {
    throw new RangeError(`lassoFit: ${alphas!.length} alphas for ${V} targets`);
  }
  for (let c = 0; c < (alphas ? V : 1); c++) {
    const a = alphas ? alphas[c] : options.alpha as number;
    if (!(a >= 0)) {
      throw new RangeError(`lassoFit: alpha must be ≥ 0: current value is ${a}`);
    }
  }
  const intercept = options.fitIntercept ?? true;
  const d = centeredDesign(x, () => true, intercept);
  const q = (await backend.gemm({ rows: n, cols: p, data: d.masked }, y, { transA: true })).data;
  const ys = y.rowStride ?? V, yo = y.offset ?? 0;
  const sum = new Float64Array(V), sumSq = new Float64Array(V);
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < V; c++) {
      const val = y.data[yo + r * ys + c];
      sum[c] += val;
      sumSq[c] += val * val;
    }
  }
  const yy = Float32Array.from(
    sum,
    (s, c) => intercept ? Math.max(sumSq[c] - (s * s) / n, 0) : sumSq[c],
  );
  const batch: LassoBatch = {
    p,
    gram: d.gram,
    q,
    yy,
    // The solver's penalty is scale[v] · path[0]: α per target rides on the scale.
    scale: alphas
      ? Float32Array.from(alphas, (a) => n * a)
      : new Float32Array(V).fill(n * (options.alpha as number)),
    path: Float64Array.of(1),
    l1Ratio: options.l1Ratio ?? 1,
    positive: options.positive ?? false,
    tol: options.tol ?? 1e-4,
    maxIter: options.maxIter ?? 1000,
  };
  const res = await backend.lassoCD(batch);
  const w = { rows: p, cols: V, data: res.weights! };
  const shift = (await backend.gemm({ rows: 1, cols: p, data: Float32Array.from(d.mean) }, w)).data;
  const b = Float32Array.from(sum, (s, c) => intercept ? s / n - shift[c] : 0);
  return { weights: w, intercept: b, sweeps: res.iterations };
}
