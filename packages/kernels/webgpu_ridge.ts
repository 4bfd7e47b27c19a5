/**
 * Ridge CV on targets that live on the GPU: {@linkcode ridgeCV}'s model and
 * choices (α per target by the mean held-out R² over folds, the first α on
 * ties; out-of-fold predictions at the chosen α; weights refit on all
 * samples) with Y, every product with it and every result kept on the
 * WebGPU backend's device, so nothing is read back.
 *
 * The regressors X (n × p, small) stay on the host, where each fold's
 * float64 eigendecomposition is done, as in {@linkcode ridgeCV}; what
 * touches Y runs on the device: per fold the training XᵀY (one product with
 * the fold's centred design, the training mean of y as an extra row), every
 * α's held-out predictions (one product with the stacked maps (X_val − x̄)
 * V (S² + α)⁻¹ Vᵀ), their R² accumulated into the CV score
 * (shaders/ridge_score.wgsl), and, once every fold is scored, each target's
 * out-of-fold predictions and refit weights from the block of its own α
 * (shaders/select_product.wgsl).
 *
 * @module
 */

import { foldIndicator, getter, logspace, resolveFolds } from "./cross_validation.ts";
import { type MatrixView, validateMatrix } from "./matrix.ts";
import { designOn, heldOutMaps } from "./ridge_design.ts";
import type { WebGpuBackend } from "./webgpu_backend.ts";
import type { GpuMatrix } from "./webgpu_gpu_matrix.ts";
import { GALLIVM_LOOP_LIMIT, ROWS_PER_INVOCATION } from "./webgpu_kernels.ts";
import { binding, type Resident, residentOf } from "./webgpu_resident.ts";
import { RESIDENT_KERNELS } from "./webgpu_resident_kernels.ts";

/** Options of {@linkcode ridgeCVGpu}. */
export interface RidgeCVGpuOptions {
  /** Penalties to try, positive. Default: 10 values log-spaced from 0.1 to 10⁴. */
  alphas?: number[];
  /**
   * Number of contiguous folds, or the folds as `[start, end)` row ranges.
   * Default: 5.
   */
  folds?: number | readonly (readonly [number, number])[];
  /** Fit an intercept (center X and y on the training rows). Default: true. */
  fitIntercept?: boolean;
  /** Keep out-of-fold predictions (n × V) on the device. Default: true. */
  returnPredictions?: boolean;
  /**
   * Reject NaN/Inf in a host `x`. Default: true. Y on the device is not
   * checked (that would cost a readback): a non-finite target gives NaN
   * scores, predictions and weights for that target only.
   */
  checkFinite?: boolean;
}

/**
 * What {@linkcode ridgeCVGpu} returns: every matrix on the backend's device,
 * owned by the caller (`dispose()` releases them all).
 */
export interface RidgeCVGpuResult {
  /** Weights refit on all samples at each target's α: (p × V). */
  weights: GpuMatrix;
  /** Intercept per target: (1 × V); zeros without an intercept. */
  intercept: GpuMatrix;
  /** The α grid, as given. */
  alphaGrid: number[];
  /** Index in the grid of each target's chosen α, as float32 values: (1 × V). */
  alphaIndex: GpuMatrix;
  /** Mean over folds of the held-out R², per α and target: (nα × V). */
  cvScores: GpuMatrix;
  /** Out-of-fold predictions at each target's chosen α: (n × V); absent when not requested. */
  predictions?: GpuMatrix;
  /** Fold boundaries: held-out rows `[start, end)`. */
  folds: [number, number][];
  /** Dispose every matrix above (destroying their buffers). */
  dispose(): void;
}

/**
 * Ridge regression with per-target α chosen by k-fold CV, on targets that
 * live on the GPU: {@linkcode ridgeCV}'s objective, folds and choices,
 * `w*, b* = argmin_{w,b} ||y − X w − b||² + α ||w||²`, with every result
 * left on the device (WebGPU only).
 *
 * Readbacks: none when `x` is a host matrix; one when `x` is a GpuMatrix
 * (X, n × p, is read back for the float64 eigendecompositions). Uploads:
 * `y` when given on the host, then two small host-made factors per fold
 * and two for the refit. The CV scores stay on the device like the rest,
 * since with many targets they are (nα × V) and the caller's next step
 * (choosing, thresholding, correlating) can run there too.
 *
 * @param backend a WebGPU backend ({@linkcode createWebGpuBackend})
 * @param x regressors (n × p), float32 row-major: on the host (usual: it is small) or the device
 * @param y targets (n × V) on the backend's device (or a host matrix, uploaded once)
 * @param options α grid, folds, intercept, predictions (see {@linkcode RidgeCVGpuOptions})
 * @returns weights (p × V), intercept (1 × V), α indices (1 × V), CV scores
 *   (nα × V), predictions (n × V): GpuMatrix objects the caller disposes
 * @throws {TypeError} for a backend other than WebGPU, NaN/Inf in a host `x`,
 *   or a GpuMatrix of another device, disposed or without the needed usage
 * @throws {RangeError} for mismatched shapes, a non-positive α, bad folds,
 *   or matrices larger than one storage binding
 *
 * @example
 * ```ts
 * import { createWebGpuBackend, ridgeCVGpu } from "@brainorg/kernels";
 * const backend = await createWebGpuBackend();
 * const x = { rows: 100, cols: 3, data: Float32Array.from({ length: 300 }, Math.random) };
 * const y = backend.upload({ rows: 100, cols: 8, data: Float32Array.from({ length: 800 }, Math.random) });
 * const before = backend.stats.readbacks;
 * const fit = await ridgeCVGpu(backend, x, y, { alphas: [0.1, 1, 10] });
 * const r = await backend.columnCorrelationGpu(fit.predictions!, y); // (1 × 8), on the device
 * console.log((await backend.download(r)).data, backend.stats.readbacks - before); // …, 1
 * fit.dispose();
 * r.dispose();
 * y.dispose();
 * backend.dispose();
 * ```
 */
export async function ridgeCVGpu(
  backend: WebGpuBackend,
  x: MatrixView | GpuMatrix,
  y: GpuMatrix | MatrixView,
  options: RidgeCVGpuOptions = {},
): Promise<RidgeCVGpuResult> {
  const res = residentOf(backend, "ridgeCVGpu");
  return await res.scoped("ridgeCVGpu", () => solve(res, x, y, options));
}

async function solve(
  res: Resident,
  xIn: MatrixView | GpuMatrix,
  yIn: GpuMatrix | MatrixView,
  options: RidgeCVGpuOptions,
): Promise<RidgeCVGpuResult> {
  // Validate everything before any work.
  if ("buffer" in xIn) {
    res.check("x", xIn);
  } else {
    validateMatrix("x", xIn, options.checkFinite ?? true);
  }
  const yOp = "buffer" in yIn ? undefined : yIn;
  if (yOp) validateMatrix("y", yOp, false);
  else res.check("y", yIn as GpuMatrix);
  const n = xIn.rows, p = xIn.cols, V = yIn.cols;
  if (yIn.rows !== n) {
    throw new RangeError(`ridgeCVGpu: x has ${n} samples (rows) but y has ${yIn.rows}`);
  }
  const alphaGrid = options.alphas ?? logspace(-1, 4, 10);
  if (alphaGrid.length === 0 || alphaGrid.some((a) => !(a > 0) || !Number.isFinite(a))) {
    throw new RangeError(
      `ridgeCVGpu: alphas must be positive and finite: current value is [${alphaGrid}]`,
    );
  }
  const nA = alphaGrid.length, p1 = p + 1;
  if (nA + p1 > GALLIVM_LOOP_LIMIT / 2) {
    throw new RangeError(
      `ridgeCVGpu: ${p} regressors and ${nA} penalties exceed ${
        Math.floor(GALLIVM_LOOP_LIMIT / 2) - 1
      } together (one invocation loops over both)`,
    );
  }
  const folds = resolveFolds(n, options.folds ?? 5);
  const intercept = options.fitIntercept ?? true;
  const keepPred = options.returnPredictions ?? true;
  const F = folds.length;
  for (const [s, e] of folds) res.checkFits("held-out predictions", nA * (e - s), p1);
  res.checkFits("predictions", n, V);

  const x: MatrixView = "buffer" in xIn ? await res.download("x", xIn) : xIn;
  const owned: GpuMatrix[] = [];
  const keep = <T extends GpuMatrix>(m: T) => (owned.push(m), m);
  const temps: GpuMatrix[] = [];
  const temp = <T extends GpuMatrix>(m: T) => (temps.push(m), m);
  try {
    const yG = yOp ? temp(res.upload("y", yOp)) : yIn as GpuMatrix;
    const factors = hostFactors(x, folds, alphaGrid, intercept);
    const cvScores = keep(res.alloc("ridgeCVGpu:cvScores", nA, V));
    const state = temp(res.alloc("ridgeCVGpu:state", 2 + nA, V));
    const width = 64 * res.maxWg;
    const perFold: { left: GpuMatrix; train: GpuMatrix }[] = [];
    for (let f = 0; f < F; f++) {
      const [s, e] = folds[f], nv = e - s;
      const design = temp(res.upload(`fold ${f} design`, factors.folds[f].design));
      // (p + 1) × V: the fold's training XᵀY, centred, and the training mean of y.
      const train = temp(await res.gemm(design, yG, { transA: true, label: "ridgeCVGpu:xty" }));
      const left = temp(res.upload(`fold ${f} maps`, factors.folds[f].stacked));
      perFold.push({ left, train });
      // As many α blocks of held-out predictions as one binding holds.
      const S = Math.max(1, Math.min(nA, Math.floor(res.maxElems / (nv * V))));
      for (let a0 = 0; a0 < nA; a0 += S) {
        const Sa = Math.min(S, nA - a0);
        const pred = await res.gemm(left, train, {
          aRows: [a0 * nv, Sa * nv],
          label: "ridgeCVGpu:pred",
        });
        try {
          for (let r0 = 0; r0 < nv; r0 += ROWS_PER_INVOCATION) {
            const nr = Math.min(ROWS_PER_INVOCATION, nv - r0);
            for (let c0 = 0; c0 < V; c0 += width) {
              await res.dispatch(RESIDENT_KERNELS.ridgeScore, {
                V,
                c0,
                width: Math.min(width, V - c0),
                S: Sa,
                nv,
                a0,
                r0,
                nr,
                yRow0: s,
                mode: 0,
                nA,
                stats: a0 === 0,
                weight: 0,
              }, [binding(pred), binding(yG), binding(state), binding(cvScores)]);
            }
          }
        } finally {
          pred.dispose();
        }
      }
      for (let c0 = 0; c0 < V; c0 += width) {
        await res.dispatch(RESIDENT_KERNELS.ridgeScore, {
          V,
          c0,
          width: Math.min(width, V - c0),
          S: nA,
          nv,
          a0: 0,
          r0: 0,
          nr: nv,
          yRow0: s,
          mode: 1,
          nA,
          stats: false,
          weight: 1 / F,
        }, [binding(yG), binding(yG), binding(state), binding(cvScores)]);
      }
    }

    const alphaIndex = keep(res.alloc("ridgeCVGpu:alphaIndex", 1, V));
    let predictions: GpuMatrix | undefined;
    if (keepPred) {
      predictions = keep(res.alloc("ridgeCVGpu:predictions", n, V));
      for (let f = 0; f < F; f++) {
        const [s, e] = folds[f];
        await selectProduct(res, perFold[f].left, perFold[f].train, cvScores, {
          out: predictions,
          R: e - s,
          outRow0: s,
        });
      }
    }
    // The refit: (p + 1) × V, the weights and, in the last row, the intercepts.
    const fullDesign = temp(res.upload("full design", factors.full.design));
    const fullTrain = temp(
      await res.gemm(fullDesign, yG, { transA: true, label: "ridgeCVGpu:xty" }),
    );
    const fullLeft = temp(res.upload("refit maps", factors.full.stacked));
    const refit = temp(res.alloc("ridgeCVGpu:refit", p1, V));
    await selectProduct(res, fullLeft, fullTrain, cvScores, {
      out: refit,
      R: p1,
      outRow0: 0,
      alpha: alphaIndex,
    });
    const weights = keep(res.alloc("ridgeCVGpu:weights", p, V));
    const interceptOut = keep(res.alloc("ridgeCVGpu:intercept", 1, V));
    const enc = res.device.createCommandEncoder({ label: "ridgeCVGpu:split" });
    enc.copyBufferToBuffer(refit.buffer, 0, weights.buffer, 0, 4 * p * V);
    enc.copyBufferToBuffer(refit.buffer, 4 * p * V, interceptOut.buffer, 0, 4 * V);
    res.device.queue.submit([enc.finish()]);
    const result: RidgeCVGpuResult = {
      weights,
      intercept: interceptOut,
      alphaGrid,
      alphaIndex,
      cvScores,
      ...(predictions ? { predictions } : {}),
      folds,
      dispose() {
        for (const m of owned) m.dispose();
      },
    };
    return result;
  } catch (e) {
    for (const m of owned) m.dispose();
    throw e;
  } finally {
    for (const m of temps) m.dispose();
  }
}

/**
 * out[outRow0 + i, j] = Σ_k left[a_j·R + i, k] · right[k, j] with a_j each
 * target's best α (see shaders/select_product.wgsl), in dispatches within
 * the workgroup limit; `alpha` also receives a_j.
 */
async function selectProduct(
  res: Resident,
  left: GpuMatrix,
  right: GpuMatrix,
  score: GpuMatrix,
  o: { out: GpuMatrix; R: number; outRow0: number; alpha?: GpuMatrix },
): Promise<void> {
  const V = right.cols, nA = score.rows;
  const dummy = o.alpha ? undefined : res.alloc("select_product:unused", 1, 1);
  const alpha = o.alpha ?? dummy!;
  try {
    const width = 64 * res.maxWg;
    for (let i0 = 0; i0 < o.R; i0 += res.maxWg) {
      for (let j0 = 0; j0 < V; j0 += width) {
        await res.dispatch(RESIDENT_KERNELS.selectProduct, {
          R: o.R,
          K: right.rows,
          V,
          nA,
          outRow0: o.outRow0,
          i0,
          j0,
          height: Math.min(res.maxWg, o.R - i0),
          width: Math.min(width, V - j0),
          writeAlpha: !!o.alpha,
        }, [binding(left), binding(right), binding(score), binding(o.out), binding(alpha)]);
      }
    }
  } finally {
    dummy?.dispose();
  }
}

/** The host-made factors of one fold, or of the refit. */
interface Factors {
  /** (n × (p + 1)): X centred on the training rows (zero elsewhere), and 1 / n_train there. */
  design: { rows: number; cols: number; data: Float32Array };
  /** (nα·R × (p + 1)): per α, the map from `designᵀ Y` to predictions or to weights. */
  stacked: { rows: number; cols: number; data: Float32Array };
}

/**
 * Per fold: the design whose product with Y gives the training XᵀY and
 * training mean of y, and every α's map (X_val − x̄) V (S² + α)⁻¹ Vᵀ with a
 * column of ones that adds that mean (as ridge.ts). For the refit: the
 * design on all rows, and per α the map V (S² + α)⁻¹ Vᵀ to the weights
 * with a last row −x̄ᵀ V (S² + α)⁻¹ Vᵀ, 1 to the intercept ȳ − x̄ᵀw.
 */
function hostFactors(
  x: MatrixView,
  folds: [number, number][],
  alphaGrid: number[],
  intercept: boolean,
): { folds: Factors[]; full: Factors } {
  const n = x.rows, p = x.cols, p1 = p + 1, nA = alphaGrid.length;
  const getX = getter(x);
  const indicator = foldIndicator(folds, n);
  const designOf = (masked: Float32Array, meanWeight: (r: number) => number) => {
    const data = new Float32Array(n * p1);
    for (let r = 0; r < n; r++) {
      data.set(masked.subarray(r * p, (r + 1) * p), r * p1);
      data[r * p1 + p] = intercept ? meanWeight(r) : 0;
    }
    return { rows: n, cols: p1, data };
  };
  const perFold = folds.map(([s, e], f): Factors => {
    const d = designOn(x, (r) => r < s || r >= e, intercept), nv = e - s;
    const design = designOf(d.masked, (r) => indicator[f * n + r] ? 0 : 1 / (n - nv));
    return { design, stacked: heldOutMaps(getX, d, s, nv, alphaGrid).stacked };
  });
  const full = designOn(x, () => true, intercept);
  const stacked = new Float32Array(nA * p1 * p1);
  const map = new Float64Array(p * p);
  alphaGrid.forEach((alpha, a) => {
    const base = a * p1 * p1;
    for (let k = 0; k < p; k++) {
      for (let m = 0; m < p; m++) {
        let acc = 0;
        for (let j = 0; j < p; j++) {
          acc += full.vectors[k * p + j] * full.vectors[m * p + j] / (full.s2[j] + alpha);
        }
        map[k * p + m] = acc;
        stacked[base + k * p1 + m] = acc;
      }
    }
    if (intercept) {
      for (let m = 0; m < p; m++) {
        let acc = 0;
        for (let k = 0; k < p; k++) acc += full.mean[k] * map[k * p + m];
        stacked[base + p * p1 + m] = -acc;
      }
      stacked[base + p * p1 + p] = 1;
    }
  });
  return {
    folds: perFold,
    full: {
      design: designOf(full.masked, () => 1 / n),
      stacked: { rows: nA * p1, cols: p1, data: stacked },
    },
  };
}
