/**
 * Banded ridge with one penalty per band of regressors, chosen per target
 * by cross-validation over a product grid (himalaya's `GroupRidgeCV` /
 * `MultipleKernelRidgeCV` with a grid search), and the variance
 * partitioning built on it: each band's unique and the bands' shared
 * held-out R² per target.
 *
 * Objective, per target y and penalties α_b:
 * `w*, b* = argmin_{w,b} ||y − Σ_b X_b w_b − b||² + Σ_b α_b ||w_b||²`.
 *
 * Scaling band b by c_b = √(α_0 / α_b) turns it into a ridge with the one
 * penalty α_0, so the combinations that share their ratios to band 0 share
 * one eigendecomposition per fold and differ only in α_0: a product grid of
 * nα per band over 2 bands needs 2nα − 1 decompositions per fold, not nα².
 * Every combination is then scored as {@linkcode ridgeCV} scores its α
 * grid (the same training XᵀY, held-out maps and fused product-and-R²),
 * after compressing each fold's held-out rows to p + 2 (see `FoldPlan`):
 * a batch of V targets costs one pass over Y for the folds' XᵀY, one over
 * the held-out rows for their sums of squares, and 2·nC·F·(p + 2)·(p + 1)·V
 * flops for nC combinations over F folds. Variance partitioning scores the
 * models without a band (an infinite penalty) in the same pass.
 *
 * @module
 */

import type { Backend } from "./backend.ts";
import { type Design, designOn, heldOutMaps } from "./ridge_design.ts";
import { centeredDesign, getter, logspace, resolveFolds } from "./cross_validation.ts";
import { eigh } from "./linalg.ts";
import { columnBlock, type Matrix, type MatrixView, rowBlock, validateMatrix } from "./matrix.ts";

/** Options of {@linkcode bandedRidgeCV}. */
export interface BandedRidgeCVOptions {
  /** Column ranges `[start, end)` of the bands, tiling the regressors' columns in order. */
  bands: readonly (readonly [number, number])[];
  /** Penalties tried for each band, positive; the grid is their product over bands. Default: 8 values log-spaced from 0.1 to 10⁴. */
  alphas?: number[];
  /** Number of contiguous folds, or `[start, end)` row ranges (e.g. one per story). Default: 5. */
  folds?: number | readonly (readonly [number, number])[];
  /** Fit an intercept (center X and y on the training rows). Default: true. */
  fitIntercept?: boolean;
  /** Targets per batch; bounds memory (about (nα^B + 3)·(p + 1) floats per target). Default: 4,096. */
  targetBatch?: number;
  /** Reject NaN/Inf in X and Y. Default: true. */
  checkFinite?: boolean;
  /**
   * Score each fold on its own variation: predictions and targets centered
   * on the fold's means (the intercept of a fold is then its own mean, not
   * the other folds'). For series whose mean drifts between folds (e.g. ROI
   * tables not high-passed), where the plain held-out R² of every model is
   * dominated by the drift. Default: false (ridgeCV's `cvScores`).
   */
  centerFolds?: boolean;
}

/** What {@linkcode bandedRidgeCV} returns. */
export interface BandedRidgeCVResult {
  /** The bands' column ranges, as given. */
  bands: [number, number][];
  /** The per-band α grid, as given. */
  alphaGrid: number[];
  /** Penalty chosen per band and target: (B × V), row-major. */
  alphas: Float64Array;
  /** Mean over folds of the held-out R² at the chosen penalties (V). */
  r2: Float32Array;
  /** Fold boundaries: held-out rows `[start, end)`. */
  folds: [number, number][];
}

/** Checked bands: ranges that tile `[0, p)` in order, at least one. */
function checkBands(bands: readonly (readonly [number, number])[], p: number): [number, number][] {
  let at = 0;
  for (const [s, e] of bands) {
    if (s !== at || !Number.isInteger(e) || !(e > s)) break;
    at = e;
  }
  if (!bands.length || at !== p || bands.some(([s, e]) => !(e > s))) {
    throw new RangeError(
      `bands must be column ranges that tile the ${p} regressors in order: current value is ${
        JSON.stringify(bands)
      }`,
    );
  }
  return bands.map(([s, e]) => [s, e]);
}

/** Every combination of one grid index per band of `count`, the first varying slowest. */
function productGrid(nA: number, count: number): Int32Array[] {
  const out: Int32Array[] = [];
  const idx = new Int32Array(count);
  for (let c = 0; c < nA ** count; c++) {
    out.push(idx.slice());
    for (let b = count - 1; b >= 0; b--) {
      if (++idx[b] < nA) break;
      idx[b] = 0;
    }
  }
  return out;
}

/** Lower Cholesky factor of a symmetric (m × m) matrix, or null when it is not clearly positive definite. */
function cholesky(a: Float64Array, m: number): Float64Array | null {
  const l = new Float64Array(m * m);
  let scale = 0;
  for (let i = 0; i < m; i++) scale = Math.max(scale, a[i * m + i]);
  for (let j = 0; j < m; j++) {
    let d = a[j * m + j];
    for (let k = 0; k < j; k++) d -= l[j * m + k] ** 2;
    // A nearly singular held-out design would amplify rounding: score by predictions instead.
    if (!(d > 1e-9 * scale)) return null;
    l[j * m + j] = Math.sqrt(d);
    for (let i = j + 1; i < m; i++) {
      let v = a[i * m + j];
      for (let k = 0; k < j; k++) v -= l[i * m + k] * l[j * m + k];
      l[i * m + j] = v / l[j * m + j];
    }
  }
  return l;
}

/** Solve L u = b in place, L lower (m × m), b a column of a row-major (m × cols) array. */
function forward(l: Float64Array, m: number, b: Float64Array): void {
  for (let i = 0; i < m; i++) {
    let v = b[i];
    for (let k = 0; k < i; k++) v -= l[i * m + k] * b[k];
    b[i] = v / l[i * m + i];
  }
}

/**
 * One fold's scoring plan. `predictions`: every combination's held-out map
 * (nC·nv × p1), scored against the held-out Y. `compressed`: with the held-out
 * design X̃ = [X_val − x̄_train | 1] of full column rank and X̃ᵀX̃ = L Lᵀ, the
 * residual of a prediction X̃ m splits as ||y − X̃m||² = ||Lᵀm − L⁻¹X̃ᵀy||² +
 * yᵀy − ||L⁻¹X̃ᵀy||², so each combination is scored on p1 + 1 rows (a last
 * row that keeps the scored block from being constant) instead of nv.
 */
type FoldPlan =
  | { kind: "predictions"; maps: Matrix }
  | { kind: "compressed"; maps: Matrix; l: Float64Array; sums: Float64Array };

/** Scores of every model listed: its best mean R² per target and the α per band there. */
interface ModelScores {
  r2: Float32Array;
  /** (B × V), Infinity for the bands the model leaves out. */
  alphas: Float64Array;
}

/**
 * Held-out R² of several banded models that share one design (each model a
 * subset of the bands; a band left out is one with an infinite penalty), in
 * one pass over Y: every model's every combination is one more block of the
 * same stacked product per fold.
 */
async function scoreModels(
  backend: Backend,
  x: MatrixView,
  y: MatrixView,
  bands: [number, number][],
  models: number[][],
  options: Omit<BandedRidgeCVOptions, "bands">,
): Promise<ModelScores[]> {
  const n = x.rows, p = x.cols, V = y.cols, p1 = p + 1, B = bands.length;
  const alphaGrid = options.alphas ?? logspace(-1, 4, 8), nA = alphaGrid.length;
  const intercept = options.fitIntercept ?? true, centerFolds = options.centerFolds ?? false;
  const folds = resolveFolds(n, options.folds ?? 5), F = folds.length;
  const bandOf = new Int32Array(p);
  bands.forEach(([s, e], b) => bandOf.fill(b, s, e));

  // Every combination: its model and penalty per band (Infinity: left out).
  // Grouped by their scales √(α_first / α_b) (0 where left out): one scaled
  // design per group, whose members differ only in the common penalty.
  const combos: { model: number; alphas: Float64Array }[] = [];
  models.forEach((bs, m) => {
    for (const idx of productGrid(nA, bs.length)) {
      const alphas = new Float64Array(B).fill(Infinity);
      bs.forEach((b, k) => (alphas[b] = alphaGrid[idx[k]]));
      combos.push({ model: m, alphas });
    }
  });
  const groups = new Map<string, { scale: Float64Array; members: number[] }>();
  combos.forEach(({ model, alphas }, c) => {
    const a0 = alphas[models[model][0]];
    const scale = alphas.map((a) => Math.sqrt(a0 / a));
    const key = Array.from(scale, (v) => v.toPrecision(12)).join(",");
    const g = groups.get(key) ?? { scale, members: [] };
    g.members.push(c);
    groups.set(key, g);
  });
  const nC = combos.length, getX = getter(x);
  // Per fold: every combination's map from the unscaled training XᵀY (and
  // ȳ_train) to the held-out predictions, stacked in combination order.
  const stacked = folds.map(([s, e]) => new Float32Array(nC * (e - s) * p1));
  // Each fold's centered training Gram matrix, once: a group's scaled design
  // has C G C, so only its eigendecomposition is left per group.
  const bases = folds.map(([s, e]) => centeredDesign(x, (r) => r < s || r >= e, intercept));
  for (const { scale, members } of groups.values()) {
    const c = Float64Array.from(bandOf, (b) => scale[b]);
    const scaled: Matrix = { rows: n, cols: p, data: new Float32Array(n * p) };
    for (let r = 0; r < n; r++) {
      for (let j = 0; j < p; j++) scaled.data[r * p + j] = getX(r, j) * c[j];
    }
    const getS = getter(scaled);
    const penalties = members.map((m) => combos[m].alphas[models[combos[m].model][0]]);
    folds.forEach(([s, e], f) => {
      const nv = e - s;
      const base = bases[f], gram = new Float64Array(p * p);
      for (let a = 0; a < p; a++) {
        for (let b = 0; b < p; b++) gram[a * p + b] = base.gram[a * p + b] * c[a] * c[b];
      }
      const { values, vectors } = eigh(gram, p);
      const d: Design = {
        mean: base.mean.map((m, j) => m * c[j]),
        masked: new Float32Array(0),
        s2: values.map((v) => Math.max(v, 0)),
        vectors,
      };
      const maps = heldOutMaps(getS, d, s, nv, penalties).stacked.data;
      members.forEach((m, k) => {
        const src = k * nv * p1, dst = m * nv * p1, out = stacked[f];
        for (let i = 0; i < nv; i++) {
          // The scaled design's training XᵀY is C times the unscaled one: C folds into the map.
          for (let j = 0; j < p; j++) out[dst + i * p1 + j] = maps[src + i * p1 + j] * c[j];
          out[dst + i * p1 + p] = 1;
        }
        // Centered predictions: each column's mean over the fold's rows removed
        // (the column space of [X_val − x̄ | 1] is unchanged, so compression holds).
        if (centerFolds) {
          for (let j = 0; j < p; j++) {
            let mean = 0;
            for (let i = 0; i < nv; i++) mean += out[dst + i * p1 + j] / nv;
            for (let i = 0; i < nv; i++) out[dst + i * p1 + j] -= mean;
          }
        }
      });
    });
  }

  // The globally centered design with a column of ones (as in ridgeCV): one
  // product per fold gives its held-out XᵀY and column sums of Y.
  const full = designOn(x, () => true, intercept);
  const xc1 = new Float32Array(n * p1);
  for (let r = 0; r < n; r++) {
    xc1.set(full.masked.subarray(r * p, (r + 1) * p), r * p1);
    xc1[r * p1 + p] = 1;
  }
  const xc1View = { rows: n, cols: p1, data: xc1 };
  const trainMeans = bases.map((b) => b.mean);
  const shifts = trainMeans.map((m) => m.map((v, j) => v - full.mean[j]));
  const plans: FoldPlan[] = folds.map(([s, e], f) => {
    const nv = e - s, mean = trainMeans[f];
    const mapsView = { rows: nC * nv, cols: p1, data: stacked[f] };
    // Compressing costs about nC·p1²·nv per fold, once; it saves 2·nC·(nv − p1 − 1)·p1 per
    // target: worth it from about p1 targets (a few ROIs are scored faster as they are).
    if (nv <= p1 + 1 || V < p1) return { kind: "predictions", maps: mapsView };
    const xt = new Float64Array(nv * p1), sums = new Float64Array(p1);
    for (let i = 0; i < nv; i++) {
      for (let j = 0; j < p; j++) xt[i * p1 + j] = getX(s + i, j) - mean[j];
      xt[i * p1 + p] = 1;
      for (let j = 0; j < p1; j++) sums[j] += xt[i * p1 + j];
    }
    const g = new Float64Array(p1 * p1);
    for (let i = 0; i < nv; i++) {
      for (let a = 0; a < p1; a++) {
        for (let b = 0; b < p1; b++) g[a * p1 + b] += xt[i * p1 + a] * xt[i * p1 + b];
      }
    }
    const l = cholesky(g, p1);
    if (!l) return { kind: "predictions", maps: mapsView };
    // Lᵀ M_c = L⁻¹ X̃ᵀ (X̃ M_c) per combination, on p1 + 1 rows (the last zero).
    const h = p1 + 1, maps = new Float32Array(nC * h * p1), col = new Float64Array(p1);
    for (let c = 0; c < nC; c++) {
      for (let k = 0; k < p1; k++) {
        col.fill(0);
        for (let i = 0; i < nv; i++) {
          const v = stacked[f][(c * nv + i) * p1 + k];
          for (let a = 0; a < p1; a++) col[a] += xt[i * p1 + a] * v;
        }
        forward(l, p1, col);
        for (let a = 0; a < p1; a++) maps[(c * h + a) * p1 + k] = col[a];
      }
    }
    return { kind: "compressed", maps: { rows: nC * h, cols: p1, data: maps }, l, sums };
  });

  const batch = Math.max(1, Math.min(V, options.targetBatch ?? 4096));
  const out = models.map(() => ({
    r2: new Float32Array(V),
    alphas: new Float64Array(B * V),
  }));
  const score = new Float64Array(nC * batch), total = new Float64Array(batch);
  const held = folds.map(() => new Float32Array(p1 * batch));
  const all = new Float32Array(p1 * batch), train = new Float32Array(p1 * batch);
  const u = new Float32Array((p1 + 1) * batch), col = new Float64Array(p1);
  const base = new Float64Array(batch), spread = new Float64Array(batch);
  const sst = new Float64Array(batch), pad = new Float64Array(batch);
  const ysum = new Float64Array(batch);
  for (let v0 = 0; v0 < V; v0 += batch) {
    const vb = Math.min(batch, V - v0), yb = columnBlock(y, v0, vb), getY = getter(yb);
    all.fill(0);
    total.fill(0);
    for (let f = 0; f < F; f++) {
      const [s, e] = folds[f];
      await backend.gemm(rowBlock(xc1View, s, e - s), rowBlock(yb, s, e - s), {
        transA: true,
        out: held[f],
      });
      for (let i = 0; i < p1 * vb; i++) all[i] += held[f][i];
      for (let c = 0; c < vb; c++) total[c] += held[f][p * vb + c];
    }
    score.fill(0);
    for (let f = 0; f < F; f++) {
      const [s, e] = folds[f], nv = e - s, h = held[f], shift = shifts[f], plan = plans[f];
      // Σ (x − x̄_train) y over the training rows, and a last row ȳ_train.
      for (let c = 0; c < vb; c++) {
        const trainSum = total[c] - h[p * vb + c];
        for (let j = 0; j < p; j++) {
          train[j * vb + c] = all[j * vb + c] - h[j * vb + c] - shift[j] * trainSum;
        }
        train[p * vb + c] = intercept ? trainSum / (n - nv) : 0;
      }
      const trainView = { rows: p1, cols: vb, data: train.subarray(0, p1 * vb) };
      // The fold's mean and sum of squares in float64: a float32 sum of a
      // target far from zero would leave its mean off by more than the spread.
      sst.fill(0);
      ysum.fill(0);
      for (let r = s; r < e; r++) {
        for (let c = 0; c < vb; c++) {
          const v = getY(r, c);
          ysum[c] += v;
          sst[c] += v * v;
        }
      }
      if (plan.kind === "predictions") {
        // Centered folds: the intercept is the fold's own mean.
        if (centerFolds) { for (let c = 0; c < vb; c++) train[p * vb + c] = ysum[c] / nv; }
        const got = await backend.productR2(plan.maps, trainView, rowBlock(yb, s, nv));
        for (let i = 0; i < nC * vb; i++) score[i] += got.data[i] / F;
        continue;
      }
      // Scored on y − ȳ_val, so that rounding scales with the fold's own
      // variance rather than its mean: ȳ_val moves into the intercept row
      // (where folds are centered, the intercept is ȳ_val: nothing is left).
      const h1 = p1 + 1;
      for (let c = 0; c < vb; c++) {
        const mu = ysum[c] / nv;
        sst[c] -= nv * mu * mu;
        train[p * vb + c] = centerFolds ? 0 : train[p * vb + c] - mu;
        // X̃ᵀ(y − μ): the fold's XᵀY about the training mean, less μ Σ x̃.
        for (let j = 0; j < p; j++) {
          col[j] = h[j * vb + c] - shift[j] * ysum[c] - mu * plan.sums[j];
        }
        col[p] = 0;
        forward(plan.l, p1, col);
        let uu = 0, mean = 0;
        for (let a = 0; a < p1; a++) {
          const v = Math.fround(col[a]);
          u[a * vb + c] = v;
          uu += v * v;
          mean += v;
        }
        // A last row no combination predicts, so that the block is never constant.
        const k = Math.fround(1 + Math.sqrt(uu / p1));
        u[p1 * vb + c] = k;
        mean = (mean + k) / h1;
        let d = (k - mean) ** 2;
        for (let a = 0; a < p1; a++) d += (u[a * vb + c] - mean) ** 2;
        spread[c] = d;
        pad[c] = k * k;
        base[c] = sst[c] - uu;
      }
      const got = await backend.productR2(plan.maps, trainView, {
        rows: h1,
        cols: vb,
        data: u.subarray(0, h1 * vb),
      });
      for (let i = 0; i < nC; i++) {
        for (let c = 0; c < vb; c++) {
          const sse = (1 - got.data[i * vb + c]) * spread[c] - pad[c] + base[c];
          score[i * vb + c] += (sst[c] > 0 ? 1 - sse / sst[c] : 0) / F;
        }
      }
    }
    let c0 = 0;
    models.forEach((_, m) => {
      const count = combos.slice(c0).findIndex((k) => k.model !== m);
      const end = count < 0 ? nC : c0 + count, o = out[m];
      for (let c = 0; c < vb; c++) {
        let best = c0;
        for (let k = c0 + 1; k < end; k++) if (score[k * vb + c] > score[best * vb + c]) best = k;
        o.r2[v0 + c] = score[best * vb + c];
        for (let b = 0; b < B; b++) o.alphas[b * V + v0 + c] = combos[best].alphas[b];
      }
      c0 = end;
    });
  }
  return out;
}

/**
 * Banded ridge regression with one α per band, the combination chosen per
 * target by k-fold cross-validation over the product of the per-band grid.
 *
 * For each batch of targets: each fold's held-out [X − x̄ | 1]ᵀY in one
 * product (one pass over Y), the training XᵀY of each fold from their sum;
 * then per fold one fused product-and-R² with every combination stacked.
 * A combination's held-out map is (X_val − x̄) C U (S² + α_0)⁻¹ Uᵀ C, where
 * C scales each band by √(α_0 / α_b) and U S² Uᵀ is the scaled training
 * Gram matrix; where the fold has more rows than p + 2, a held-out design
 * of full rank and there are at least p + 1 targets, the map is first
 * compressed to p + 2 rows (see `FoldPlan`),
 * which scores each combination on those instead of the fold's rows. The
 * combination with the best mean R² over folds is chosen per target (the
 * first in grid order on ties, band 0 varying slowest). Weights are not
 * refit: variance partitioning needs the scores only.
 *
 * @param backend computes the products and scores
 * @param x regressors (n × p), row-major, the bands side by side
 * @param y targets (n × V), row-major, e.g. voxels' BOLD signals
 * @param options bands, α grid, folds, intercept, batching
 * @returns chosen α per band (B × V), held-out R² (V)
 * @throws {RangeError} for mismatched shapes, bands that do not tile the columns, or a non-positive α
 * @throws {TypeError} for NaN/Inf in `x` or `y`
 *
 * @example
 * ```ts
 * import { bandedRidgeCV, createCpuBackend } from "@brainorg/kernels";
 * const backend = await createCpuBackend();
 * const x = { rows: 100, cols: 3, data: Float32Array.from({ length: 300 }, Math.random) };
 * const y = { rows: 100, cols: 2, data: Float32Array.from({ length: 200 }, Math.random) };
 * const fit = await bandedRidgeCV(backend, x, y, { bands: [[0, 2], [2, 3]], alphas: [0.1, 10] });
 * console.log(fit.r2, fit.alphas);
 * ```
 */
export async function bandedRidgeCV(
  backend: Backend,
  x: MatrixView,
  y: MatrixView,
  options: BandedRidgeCVOptions,
): Promise<BandedRidgeCVResult> {
  const { bands, alphaGrid, folds } = checkInputs(x, y, options);
  const [fit] = await scoreModels(backend, x, y, bands, [bands.map((_, b) => b)], options);
  return { bands, alphaGrid, alphas: fit.alphas, r2: fit.r2, folds };
}

/** Inputs checked, the defaults filled in. */
function checkInputs(
  x: MatrixView,
  y: MatrixView,
  options: BandedRidgeCVOptions,
): { bands: [number, number][]; alphaGrid: number[]; folds: [number, number][] } {
  const checkFinite = options.checkFinite ?? true;
  validateMatrix("x", x, checkFinite);
  validateMatrix("y", y, checkFinite);
  if (y.rows !== x.rows) {
    throw new RangeError(`bandedRidgeCV: x has ${x.rows} samples (rows) but y has ${y.rows}`);
  }
  const bands = checkBands(options.bands, x.cols);
  const alphaGrid = options.alphas ?? logspace(-1, 4, 8);
  if (alphaGrid.length === 0 || alphaGrid.some((a) => !(a > 0) || !Number.isFinite(a))) {
    throw new RangeError(
      `bandedRidgeCV: alphas must be positive and finite: current value is [${alphaGrid}]`,
    );
  }
  return { bands, alphaGrid, folds: resolveFolds(x.rows, options.folds ?? 5) };
}

/** Options of {@linkcode variancePartition}. */
export interface VariancePartitionOptions extends BandedRidgeCVOptions {
  /**
   * Held-out R² (V) of a band alone, where already computed with the same
   * folds and grid (e.g. by the main encoding's ridgeCV), used instead of
   * refitting it; `undefined` entries are fit. Default: none.
   */
  aloneR2?: readonly (ArrayLike<number> | undefined)[];
}

/** What {@linkcode variancePartition} returns; every array is per target (V). */
export interface VariancePartition {
  /** Held-out R² of the banded model with every band (its α per band by CV). */
  r2Joint: Float32Array;
  /** Held-out R² of each band alone (ridge CV on its columns): B arrays. */
  r2Alone: Float32Array[];
  /** Held-out R² of every band but b (banded, or plain ridge when one is left): B arrays. */
  r2Without: Float32Array[];
  /** Each band's unique R²: r2Joint − r2Without[b]. B arrays. */
  unique: Float32Array[];
  /** R² the bands share: r2Joint − Σ_b unique_b (for two bands, r2A + r2B − r2Joint). */
  shared: Float32Array;
  /** Penalty chosen per band in the joint model: (B × V), row-major. */
  alphas: Float64Array;
}

/**
 * Variance partitioning of held-out R² between bands of regressors: the
 * banded model with every band ({@linkcode bandedRidgeCV}), each band alone
 * (ridge CV on its columns, same folds and grid) and every band but one;
 * band b's unique R² is what the joint model gains over the model without
 * b, and the shared R² what the joint model explains beyond the sum of the
 * unique parts. All scores are means over folds of the held-out R², as
 * {@linkcode ridgeCV}'s `cvScores` at the chosen penalties.
 *
 * Cost: one banded fit of every band, one of each B − 1 bands (plain ridge
 * when B = 2) and one ridge per band alone not given in `aloneR2`.
 *
 * @param backend computes the products and scores
 * @param x regressors (n × p), row-major, the bands side by side
 * @param y targets (n × V), row-major
 * @param options bands, α grid, folds; R² of bands alone already known
 * @returns joint, alone, without-one, unique and shared R² per target (V each)
 * @throws {RangeError} as {@linkcode bandedRidgeCV}, or for fewer than 2 bands
 *
 * @example
 * ```ts
 * import { createCpuBackend, variancePartition } from "@brainorg/kernels";
 * const backend = await createCpuBackend();
 * const x = { rows: 100, cols: 3, data: Float32Array.from({ length: 300 }, Math.random) };
 * const y = { rows: 100, cols: 2, data: Float32Array.from({ length: 200 }, Math.random) };
 * const vp = await variancePartition(backend, x, y, { bands: [[0, 2], [2, 3]] });
 * console.log(vp.unique[0], vp.shared);
 * ```
 */
export async function variancePartition(
  backend: Backend,
  x: MatrixView,
  y: MatrixView,
  options: VariancePartitionOptions,
): Promise<VariancePartition> {
  const { bands } = checkInputs(x, y, options);
  const B = bands.length, V = y.cols;
  if (B < 2) {
    throw new RangeError(
      `variancePartition: needs at least 2 bands: current value is ${JSON.stringify(bands)}`,
    );
  }
  const given = options.aloneR2 ?? [];
  given.forEach((g, b) => {
    if (g && g.length !== V) {
      throw new RangeError(
        `variancePartition: aloneR2[${b}] has ${g.length} values; expected one per target (${V})`,
      );
    }
  });
  // Every model in one pass: all bands, all but each one, each alone (unless given).
  const every = bands.map((_, b) => b);
  const models = [every];
  const index = (keep: number[]) => {
    const key = keep.join(",");
    let at = models.findIndex((m) => m.join(",") === key);
    if (at < 0) at = models.push(keep) - 1;
    return at;
  };
  const alone = every.map((b) => (given[b] ? -1 : index([b])));
  const rest = (b: number) => every.filter((k) => k !== b);
  // With two bands, "all but b" is the other alone: given, or fit as that.
  const without = every.map((b) => rest(b).length === 1 && given[rest(b)[0]] ? -1 : index(rest(b)));
  const fits = await scoreModels(backend, x, y, bands, models, { ...options, checkFinite: false });
  const r2Alone = alone.map((m, b) => (m < 0 ? Float32Array.from(given[b]!) : fits[m].r2));
  const r2Without = without.map((m, b) => (m < 0 ? r2Alone[rest(b)[0]] : fits[m].r2));
  const joint = fits[0].r2;
  const unique = r2Without.map((w) => Float32Array.from(joint, (j, v) => j - w[v]));
  const shared = Float32Array.from(joint, (j, v) => j - unique.reduce((a, u) => a + u[v], 0));
  return { r2Joint: joint, r2Alone, r2Without, unique, shared, alphas: fits[0].alphas };
}
