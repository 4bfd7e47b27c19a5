/**
 * Ridge regression for many targets at once, with the penalty chosen per
 * target by k-fold cross-validation (himalaya's `solve_ridge_svd` /
 * `RidgeCV` scheme): per fold, one eigendecomposition of the p × p training
 * Gram matrix serves every α and every target, and all α are scored with
 * one product.
 *
 * What a batch of V targets costs (n samples, p regressors, nα penalties,
 * float32): each fold's held-out [X − x̄ | 1]ᵀY (2n(p + 1)V flops over the
 * folds, one pass over Y; their sum is XᵀY on all rows), every α's
 * held-out predictions from the training XᵀY (2·nα·n·(p + 1)·V, the bulk),
 * scored where they are computed (3·nα·n·V), and the refit (4p²V); Y is
 * read twice. With MLAS the CPU backend does a block's whole fold work in
 * one onnxruntime session run on every core (all folds' products stacked
 * as batched MatMuls, the folds' training XᵀY updates folded into the maps
 * once per fit, the predictions scored where they are computed; see
 * ridge_folds.ts); with OpenBLAS it scores each block of predictions in
 * WebAssembly where its product wrote them, one block's R² overlapping the
 * next block's product.
 *
 * Objective, per target y and penalty α:
 * `w*, b* = argmin_{w,b} ||y − X w − b||² + α ||w||²` (b only with an intercept).
 *
 * @module
 */

import type { Backend } from "./backend.ts";
import { designOn, heldOutMaps, transposed } from "./ridge_design.ts";
import { getter, logspace, resolveFolds } from "./cross_validation.ts";
import { foldRowsOf, planFolds } from "./ridge_folds.ts";
import { columnBlock, type Matrix, type MatrixView, rowBlock, validateMatrix } from "./matrix.ts";

/** Options of {@linkcode ridgeCV}. */
export interface RidgeCVOptions {
  /** Penalties to try, positive. Default: 10 values log-spaced from 0.1 to 10⁴. */
  alphas?: number[];
  /**
   * Number of contiguous folds (fMRI samples are autocorrelated, so no
   * shuffling), or the folds as `[start, end)` row ranges (one per story or
   * run). Default: 5.
   */
  folds?: number | readonly (readonly [number, number])[];
  /** Fit an intercept (center X and y on the training rows). Default: true. */
  fitIntercept?: boolean;
  /** Targets per batch; bounds memory (about 6·(p + 1) floats per target). Default: 8,192. */
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
 * For each batch of targets: each fold's held-out XᵀY and column sums of
 * Y in one product, summed into XᵀY on all rows; for each fold, the
 * training rows' XᵀY as that minus the fold's own (less the training
 * mean's share), then the held-out predictions of every α in one product
 * with the stacked maps (X_val − x̄) V (S² + α)⁻¹ Vᵀ, scored by R² where
 * they are computed. The α with the best mean R² (the first one on ties, as
 * GridSearchCV) is chosen per target, out-of-fold predictions are formed at
 * it, and the weights are refit on all samples from the same XᵀY.
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
  const folds = resolveFolds(n, options.folds ?? 5);
  const nA = alphaGrid.length;
  const maxVal = Math.max(...folds.map(([s, e]) => e - s));
  // Small enough that a batch's per-fold buffers stay near the cache.
  const batch = Math.max(1, Math.min(V, options.targetBatch ?? 8192));
  const keepPred = options.returnPredictions ?? true;

  const designs = folds.map(([s, e]) => designOn(x, (r) => r < s || r >= e, intercept));
  const full = designOn(x, () => true, intercept);
  const getX = getter(x);
  // Per fold: its held-out rows in the training eigenbasis, and every α's
  // map from the training XᵀY to the held-out predictions (heldOutMaps).
  const p1 = p + 1;
  const heldOut = folds.map(([s, e], f) => heldOutMaps(getX, designs[f], s, e - s, alphaGrid));

  const weights = new Float32Array(p * V);
  const interceptOut = new Float32Array(V);
  const alphas = new Float64Array(V);
  const alphaIndex = new Uint16Array(V);
  const cvScores = new Float32Array(nA * V);
  const predictions = keepPred ? new Float32Array(n * V) : undefined;
  const block = Math.min(batch, backend.preferredColumnBlock ?? batch);
  const F = folds.length;

  // The globally centered design with a last column of ones: one product
  // per fold with its held-out rows of Y gives that fold's XᵀY and its
  // column sums of Y, so the folds' products read Y once between them.
  // Their sum is XᵀY on all rows; a fold's training XᵀY is that minus its
  // own, less the training mean's share; the refit reuses the sum.
  const xc1 = new Float32Array(n * p1);
  for (let r = 0; r < n; r++) {
    xc1.set(full.masked.subarray(r * p, (r + 1) * p), r * p1);
    xc1[r * p1 + p] = 1;
  }
  const xc1View = { rows: n, cols: p1, data: xc1 };
  // Each fold's training mean of the globally centered design (zeros without intercept).
  const shifts = designs.map((d) => d.mean.map((m, j) => m - full.mean[j]));
  const rotations = designs.map((d) => transposed(d.vectors, p));
  const fullRotation = transposed(full.vectors, p);
  const fullVectors = { rows: p, cols: p, data: Float32Array.from(full.vectors) };
  const meanRow = { rows: 1, cols: p, data: Float32Array.from(full.mean) };
  // onnxruntime reads only dense arrays: with MLAS a batch of Y is copied
  // once into rows of its own width, whose row blocks then pass as they are
  // (else each product on a strided view would make its own copy).
  const denseY = backend.info.details?.products === "mlas" && batch < V && !backend.foldErrors;
  // Buffers reused by every batch: on this kind of machine a fresh page costs
  // more than the arithmetic done on it.
  const buf = {
    y: new Float32Array(denseY ? n * batch : 0),
    y3: [] as Float32Array[],
    held: folds.map(() => new Float32Array(p1 * batch)),
    xtyAll: new Float32Array(p1 * batch),
    xtyTrain: folds.map(() => new Float32Array(p1 * batch)),
    r2: folds.map(() => new Float32Array(nA * batch)),
    z: new Float32Array(p1 * batch),
    scaled: new Float32Array(p1 * batch),
    heldPred: new Float32Array(maxVal * batch),
    w: new Float32Array(p * batch),
    shift: new Float32Array(batch),
  };
  // Where the backend fuses a block's fold work (MLAS), the maps carry the
  // folds' training updates and every fold's rows of Y go in one call.
  const plan = backend.foldErrors
    ? planFolds(xc1View, folds, heldOut.map((h) => h.stacked), shifts, intercept)
    : undefined;
  const tile = Math.min(block, batch);
  buf.y3 = plan ? [0, 1].map(() => new Float32Array(F * plan.rows * tile)) : [];
  const total = new Float64Array(batch), trainSum = new Float64Array(batch);
  const score = new Float64Array(nA * batch), best = new Uint16Array(batch);
  const inv = new Float64Array(nA);
  const view = (data: Float32Array, rows: number, cols: number): Matrix => ({
    rows,
    cols,
    data: data.subarray(0, rows * cols),
  });

  /**
   * A fold's training XᵀY (Σ (x − x̄_train) y over the training rows) from
   * all rows' and the fold's own, plus a last row: the training mean of y.
   */
  const trainXty = (f: number, vb: number, all: Float32Array) => {
    const [s, e] = folds[f], nv = e - s;
    const held = buf.held[f];
    for (let c = 0; c < vb; c++) trainSum[c] = total[c] - held[p * vb + c];
    const xty = buf.xtyTrain[f], shift = shifts[f];
    for (let j = 0; j < p; j++) {
      const row = j * vb, sj = shift[j];
      if (sj === 0) { for (let c = row; c < row + vb; c++) xty[c] = all[c] - held[c]; }
      else {for (let c = 0; c < vb; c++) {
          xty[row + c] = all[row + c] - held[row + c] - sj * trainSum[c];
        }}
    }
    const yMean = xty.subarray(p * vb, p1 * vb);
    if (intercept) { for (let c = 0; c < vb; c++) yMean[c] = trainSum[c] / (n - nv); }
    else yMean.fill(0);
  };

  for (let v0 = 0; v0 < V; v0 += batch) {
    const vb = Math.min(batch, V - v0);
    const all = buf.xtyAll.subarray(0, p1 * vb);
    if (plan) {
      // All folds' products and errors in one backend call per column tile,
      // two tiles in flight so that the next tile's rows of Y are gathered
      // while the library computes.
      const tiles: ((lane: number) => Promise<void>)[] = [];
      for (let c0 = 0; c0 < vb; c0 += block) {
        const nc = Math.min(block, vb - c0);
        tiles.push(async (lane) => {
          const y3 = buf.y3[lane];
          foldRowsOf(
            { data: y.data, stride: y.rowStride ?? V, offset: (y.offset ?? 0) + v0 + c0 },
            folds,
            plan.rows,
            nc,
            y3,
          );
          const got = await backend.foldErrors!({ ...plan, m: nc, y: y3 });
          for (let j = 0; j < p1; j++) {
            all.set(got.all.subarray(j * nc, (j + 1) * nc), j * vb + c0);
            if (keepPred) {
              for (let f = 0; f < F; f++) {
                const from = (f * p1 + j) * nc;
                buf.held[f].set(got.held.subarray(from, from + nc), j * vb + c0);
              }
            }
          }
          for (let f = 0; f < F; f++) {
            const r2 = buf.r2[f];
            for (let a = 0; a < nA; a++) {
              const e0 = (f * nA + a) * nc, t0 = f * nc, out = a * vb + c0;
              for (let c = 0; c < nc; c++) {
                const e = got.sse[e0 + c], t = got.sst[t0 + c];
                r2[out + c] = t > 0 ? 1 - e / t : e === 0 ? 1 : 0;
              }
            }
          }
        });
      }
      let next = 0;
      const lane = async (l: number) => {
        while (next < tiles.length) await tiles[next++](l);
      };
      await Promise.all([0, 1].slice(0, Math.min(2, tiles.length)).map(lane));
      total.fill(0);
      for (let c = 0; c < vb; c++) total[c] = all[p * vb + c];
    } else {
      let yb = columnBlock(y, v0, vb);
      if (denseY) {
        const yd = view(buf.y, n, vb), ys = yb.rowStride ?? V, yo = yb.offset ?? 0;
        for (let r = 0; r < n; r++) {
          yd.data.set(y.data.subarray(yo + r * ys, yo + r * ys + vb), r * vb);
        }
        yb = yd;
      }
      // One pass over Y: each fold's held-out [X − x̄ | 1]ᵀ Y, summed into XᵀY and Y's column sums.
      all.fill(0);
      for (let f = 0; f < F; f++) {
        const [s, e] = folds[f], nv = e - s;
        const held = await backend.gemm(rowBlock(xc1View, s, nv), rowBlock(yb, s, nv), {
          transA: true,
          out: buf.held[f],
        });
        for (let c = 0; c < p1 * vb; c++) all[c] += held.data[c];
      }
      total.fill(0);
      for (let f = 0; f < F; f++) {
        const sums = buf.held[f].subarray(p * vb, p1 * vb);
        for (let c = 0; c < vb; c++) total[c] += sums[c];
      }
      const scoring: (() => Promise<void>)[] = [];
      for (let f = 0; f < F; f++) {
        const [s, e] = folds[f], nv = e - s;
        trainXty(f, vb, all);
        const train = view(buf.xtyTrain[f], p1, vb), r2 = buf.r2[f];
        // Every α's held-out predictions, scored in column blocks that stay in cache.
        for (let c0 = 0; c0 < vb; c0 += block) {
          const nc = Math.min(block, vb - c0);
          scoring.push(async () => {
            const got = await backend.productR2(
              heldOut[f].stacked,
              columnBlock(train, c0, nc),
              rowBlock(columnBlock(yb, c0, nc), s, nv),
            );
            for (let a = 0; a < nA; a++) {
              r2.set(got.data.subarray(a * nc, (a + 1) * nc), a * vb + c0);
            }
          });
        }
      }
      // Two blocks in flight: where the products run on other threads (MLAS),
      // one block's R² is summed while the next one's product is computed.
      await inFlight(scoring, 2);
    }
    // Summed in fold order, whatever order the blocks finished in.
    score.fill(0);
    for (let f = 0; f < F; f++) {
      const r2 = buf.r2[f];
      for (let i = 0; i < nA * vb; i++) score[i] += r2[i] / F;
    }

    for (let c = 0; c < vb; c++) {
      let bi = 0;
      for (let a = 1; a < nA; a++) if (score[a * vb + c] > score[bi * vb + c]) bi = a;
      best[c] = bi;
      alphaIndex[v0 + c] = bi;
      alphas[v0 + c] = alphaGrid[bi];
    }
    for (let a = 0; a < nA; a++) {
      cvScores.set(
        Float32Array.from(score.subarray(a * vb, (a + 1) * vb)),
        a * V + v0,
      );
    }
    // The first p rows of z scaled by 1 / (s²_j + α) at each target's own α;
    // the last row (the training mean of y), when asked, copied.
    const scaled = (z: Float32Array, s2: Float64Array, withMean: boolean): Matrix => {
      const rows = withMean ? p1 : p, out = buf.scaled;
      for (let j = 0; j < p; j++) {
        for (let a = 0; a < nA; a++) inv[a] = 1 / (s2[j] + alphaGrid[a]);
        const row = j * vb;
        for (let c = 0; c < vb; c++) out[row + c] = z[row + c] * inv[best[c]];
      }
      if (withMean) out.set(z.subarray(p * vb, p1 * vb), p * vb);
      return view(out, rows, vb);
    };

    if (predictions) {
      for (let f = 0; f < F; f++) {
        const [s] = folds[f];
        if (plan) trainXty(f, vb, buf.xtyAll);
        // z: the training XᵀY rotated into the fold's eigenbasis; its last row, ȳ_train, as is.
        const xty = buf.xtyTrain[f];
        await backend.gemm(rotations[f], view(xty, p, vb), { out: buf.z });
        buf.z.set(xty.subarray(p * vb, p1 * vb), p * vb);
        const pr = await backend.gemm(heldOut[f].rotated, scaled(buf.z, designs[f].s2, true), {
          out: buf.heldPred,
        });
        for (let i = 0; i < pr.rows; i++) {
          predictions.set(pr.data.subarray(i * vb, (i + 1) * vb), (s + i) * V + v0);
        }
      }
    }

    const z = await backend.gemm(fullRotation, view(all, p, vb), { out: buf.z });
    const w = await backend.gemm(fullVectors, scaled(z.data, full.s2, false), { out: buf.w });
    for (let j = 0; j < p; j++) weights.set(w.data.subarray(j * vb, (j + 1) * vb), j * V + v0);
    if (intercept) {
      const shift = await backend.gemm(meanRow, w, { out: buf.shift });
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

/** Run the tasks with at most `width` in flight; rejects with the first failure. */
async function inFlight(tasks: (() => Promise<void>)[], width: number): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < tasks.length) await tasks[next++]();
  };
  await Promise.all(Array.from({ length: Math.min(width, tasks.length) }, lane));
}
