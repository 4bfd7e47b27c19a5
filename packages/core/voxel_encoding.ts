/**
 * Voxel-wise encoding with atoms as regressors, per subject and across
 * subjects: ridge with per-voxel α by contiguous k-fold CV, held-out r and
 * R², and one null of circularly shifted (or phase-randomized) regressors
 * that serves every test downstream: per-voxel p of r, z of each
 * coefficient, and the group maps that network matching compares with
 * templates.
 *
 * @module
 */

import {
  type Backend,
  fdrBH,
  lassoCV,
  lassoFit,
  type Matrix,
  permutationNull,
  permutationPValues,
  ridgeCV,
  ridgeFixedAlpha,
} from "@brainorg/kernels";
import { studentTUpper } from "./stats.ts";

/** Options of {@linkcode encodeVoxels}. */
export interface VoxelEncodingOptions {
  /** Contiguous folds. Default: 5. */
  folds?: number;
  /** Ridge penalties. Default: 10 values log-spaced from 0.1 to 10⁴. */
  alphas?: number[];
  /** Surrogates of the regressors. Default: 100. */
  permutations?: number;
  /** `"shift"` (circular, default) or `"phase"` (phase-randomized). */
  method?: "shift" | "phase";
  seed?: number;
  /**
   * Penalty of the coefficient maps, or `"cv"` for each voxel's CV-chosen α.
   * Ridge's grouping effect spreads a network's weight over every atom
   * correlated with the one that drives it; a small fixed α (near least
   * squares) keeps each atom's map its own. Default: 1 (regressors z-scored).
   */
  mapAlpha?: number | "cv";
  /**
   * How the coefficient maps are fit: ridge (at `mapAlpha`), or LASSO with
   * α per voxel by contiguous CV (closer to the paper; sparse maps; several
   * times slower). Prediction scores (r, R²) always come from ridge CV.
   * Default: `"ridge"`.
   */
  maps?: "ridge" | "lasso";
  /** Volumes of each run (rows end to end): surrogates shift within runs. Default: one run. */
  runs?: number[];
  /** Called after each step with a label and (done, total). */
  onProgress?: (label: string, done: number, total: number) => void;
}

/** One subject's maps, each over the mask's V voxels. */
export interface SubjectMaps {
  id: string;
  /** Held-out r (fold-averaged through Fisher's z). */
  r: Float32Array;
  /** Cross-validated R² at the chosen α. */
  r2: Float32Array;
  alpha: Float64Array;
  /** One-sided permutation p of r, and its FDR q over voxels. */
  p: Float64Array;
  q: Float64Array;
  /** Coefficients refit on all volumes: (K × V). */
  weights: Matrix;
  /** Coefficients as z against their null: (K × V). */
  z: Matrix;
}

/** Maps across subjects. */
export interface GroupMaps {
  subjects: number;
  /** One-sample t over subjects' coefficients: (K × V), df = subjects − 1. */
  t: Matrix;
  /** Two-sided p of t: (K × V). */
  p: Float64Array;
  /** Mean held-out r over subjects (V). */
  meanR: Float32Array;
  /** Permutation p of mean r (V), and its FDR q. */
  pR: Float64Array;
  qR: Float64Array;
}

/** Receives each surrogate's group t map (K × V), e.g. network matching's null. */
export type GroupNullObserver = (t: Matrix) => void;

/**
 * One-sample t over subjects per entry: mean / (SD / √S); 0 where the SD is 0.
 *
 * @param maps S equal-length arrays
 */
export function oneSampleT(maps: ArrayLike<number>[]): Float32Array {
  const S = maps.length, n = maps[0].length, out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let m = 0;
    for (let s = 0; s < S; s++) m += maps[s][i];
    m /= S;
    let ss = 0;
    for (let s = 0; s < S; s++) ss += (maps[s][i] - m) ** 2;
    const se = Math.sqrt(ss / (S - 1) / S);
    out[i] = se > 0 ? m / se : 0;
  }
  return out;
}

/**
 * Encode every subject's voxels from the regressors and test the maps.
 *
 * The null refits each surrogate at the α that cross-validation chose for
 * the real regressors: re-selecting α per surrogate would cost about five
 * times as much (see `ridgeFixedAlpha`). The null is therefore that of the
 * model with its penalties fixed. Every subject sees the same
 * surrogate in a permutation, as they heard the same story, so group maps of
 * the null are formed exactly as the real ones.
 *
 * @param x regressors (T × K), cleaned (e.g. {@linkcode cleanSeries})
 * @param subjects per subject an id and cleaned data (T × V), all on one mask
 * @param observers called with each surrogate's group t map
 */
export async function encodeVoxels(
  backend: Backend,
  x: Matrix,
  subjects: { id: string; data: Matrix }[],
  options: VoxelEncodingOptions = {},
  observers: GroupNullObserver[] = [],
): Promise<{ subjects: SubjectMaps[]; group: GroupMaps }> {
  const S = subjects.length, K = x.cols, folds = options.folds ?? 5;
  if (S < 2) throw new RangeError(`group maps need at least 2 subjects, got ${S}`);
  const V = subjects[0].data.cols;
  for (const s of subjects) {
    if (s.data.cols !== V || s.data.rows !== x.rows) {
      throw new RangeError(
        `subject ${s.id}: data is ${s.data.rows} × ${s.data.cols}; expected ${x.rows} volumes × ${V} voxels`,
      );
    }
  }
  const progress = options.onProgress ?? (() => {});
  const mapAlpha = options.mapAlpha ?? 1;
  const fixedAlphas = typeof mapAlpha === "number" ? new Float64Array(V).fill(mapAlpha) : undefined;
  const fits: {
    id: string;
    alpha: Float64Array;
    r2: Float32Array;
    r: Float32Array;
    weights: Matrix;
    folds: [number, number][];
    lassoAlpha?: Float64Array;
  }[] = [];
  for (const [i, s] of subjects.entries()) {
    const cv = await ridgeCV(backend, x, s.data, {
      folds,
      ...(options.alphas ? { alphas: options.alphas } : {}),
      returnPredictions: false,
    });
    const fixed = await ridgeFixedAlpha(backend, x, s.data, cv.alphas, {
      folds: cv.folds,
      checkFinite: false,
      ...(fixedAlphas ? { weightAlphas: fixedAlphas } : {}),
    });
    let weights = fixed.weights, lassoAlpha: Float64Array | undefined;
    if (options.maps === "lasso") {
      const lasso = await lassoCV(backend, x, s.data, {
        folds,
        nAlphas: 30,
        returnPredictions: false,
        checkFinite: false,
      });
      weights = lasso.weights;
      lassoAlpha = lasso.alphas;
    }
    const r2 = Float32Array.from(
      { length: V },
      (_, v) => cv.cvScores.data[cv.alphaIndex[v] * V + v],
    );
    fits.push({ id: s.id, alpha: cv.alphas, r2, r: fixed.r, weights, folds: cv.folds, lassoAlpha });
    progress("fit", i + 1, S);
  }

  const P = options.permutations ?? 100;
  const wSum = subjects.map(() => new Float64Array(K * V));
  const wSq = subjects.map(() => new Float64Array(K * V));
  const observedR = new Float32Array((S + 1) * V);
  fits.forEach((f, s) => observedR.set(f.r, s * V));
  const meanOf = (rs: Float32Array[]) => {
    const out = new Float32Array(V);
    for (const r of rs) for (let v = 0; v < V; v++) out[v] += r[v] / rs.length;
    return out;
  };
  const meanR = meanOf(fits.map((f) => f.r));
  observedR.set(meanR, S * V);
  let done = 0;
  const nul = P === 0 ? undefined : (await permutationNull(x, async (surrogate) => {
    const rs: Float32Array[] = [], ws: Float32Array[] = [];
    for (let s = 0; s < S; s++) {
      const fit = await ridgeFixedAlpha(backend, surrogate, subjects[s].data, fits[s].alpha, {
        folds: fits[s].folds,
        checkFinite: false,
        ...(fixedAlphas ? { weightAlphas: fixedAlphas } : {}),
      });
      rs.push(fit.r);
      const la = fits[s].lassoAlpha;
      const w = la
        ? (await lassoFit(backend, surrogate, subjects[s].data, { alpha: la })).weights.data
        : fit.weights.data;
      ws.push(w);
      const sum = wSum[s], sq = wSq[s];
      for (let i = 0; i < K * V; i++) (sum[i] += w[i]), (sq[i] += w[i] * w[i]);
    }
    const t = { rows: K, cols: V, data: oneSampleT(ws) };
    for (const observe of observers) observe(t);
    const out = new Float32Array((S + 1) * V);
    rs.forEach((r, s) => out.set(r, s * V));
    out.set(meanOf(rs), S * V);
    progress("null", ++done, P);
    return out;
  }, {
    permutations: P,
    method: options.method ?? "shift",
    seed: options.seed ?? 0,
    ...(options.runs ? { runs: options.runs } : {}),
  })).null;
  const pAll = nul ? permutationPValues(observedR, nul) : new Float64Array((S + 1) * V).fill(NaN);

  const maps: SubjectMaps[] = fits.map((f, s) => {
    const p = pAll.slice(s * V, (s + 1) * V);
    const z = new Float32Array(K * V);
    for (let i = 0; i < K * V; i++) {
      const m = wSum[s][i] / P, sd = Math.sqrt(Math.max(0, wSq[s][i] / P - m * m));
      z[i] = sd > 0 ? (f.weights.data[i] - m) / sd : NaN;
    }
    return {
      id: f.id,
      r: f.r,
      r2: f.r2,
      alpha: f.alpha,
      p,
      q: fdrBH(p),
      weights: f.weights,
      z: { rows: K, cols: V, data: z },
    };
  });
  const t = oneSampleT(fits.map((f) => f.weights.data));
  const pR = pAll.slice(S * V);
  return {
    subjects: maps,
    group: {
      subjects: S,
      t: { rows: K, cols: V, data: t },
      p: Float64Array.from(t, (v) => Math.min(1, 2 * studentTUpper(Math.abs(v), S - 1))),
      meanR,
      pR,
      qR: fdrBH(pR),
    },
  };
}
