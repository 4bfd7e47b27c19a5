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
  ExceedanceCounter,
  lassoCV,
  lassoFit,
  logspace,
  type Matrix,
  refitBatchSize,
  type RefitSubject,
  resolveFolds,
  ridgeCV,
  RidgeRefits,
  surrogates,
} from "@brainorg/kernels";
import type { VoxelBootstrap } from "./bootstrap_types.ts";
import type { SeedSpread } from "./seed_spread_types.ts";
import type { RegressorCleaning } from "./clean.ts";
import type { NetworkMatch } from "./networks.ts";
import type { OrganizationMetrics } from "./organization.ts";
import {
  benjaminiHochberg,
  isConstant,
  oneSampleT,
  oneSampleTFromSums,
  studentTTwoSided,
} from "./stats.ts";

/** Options of {@linkcode encodeVoxels}. */
export interface VoxelEncodingOptions {
  /** Contiguous folds, or `[start, end)` row ranges (one per story: leave one story out). Default: 5. */
  folds?: number | readonly (readonly [number, number])[];
  /** Ridge penalties. Default: 10 values log-spaced from 0.1 to 10⁴. */
  alphas?: number[];
  /** Surrogates of the regressors. Default: 100. */
  permutations?: number;
  /** `"shift"` (circular, default) or `"phase"` (phase-randomized). */
  method?: "shift" | "phase";
  /** Seed of the surrogates. Default: 0. */
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

/**
 * A subject's data, and where its data had confounds regressed out, the
 * same design to regress out of the regressors (real and surrogate alike).
 */
export interface EncodedSubject {
  /** The subject's id. */
  id: string;
  /** Cleaned data: (T × V). */
  data: Matrix;
  /** The subject's nuisance design, applied to every design before it is fit. */
  design?: RegressorCleaning;
}

/** One subject's maps, each over the mask's V voxels. */
export interface SubjectMaps {
  /** The subject's id. */
  id: string;
  /** Held-out r (fold-averaged through Fisher's z). */
  r: Float32Array;
  /** Cross-validated R² at the chosen α. */
  r2: Float32Array;
  /** Ridge α chosen per voxel by cross-validation. */
  alpha: Float64Array;
  /** One-sided permutation p of r. */
  p: Float64Array;
  /** Benjamini–Hochberg q of `p` over the subject's voxels. */
  q: Float64Array;
  /** Coefficients refit on all volumes: (K × V). */
  weights: Matrix;
  /** Coefficients as z against their null: (K × V); NaN where the null is constant (`isConstant`). */
  z: Matrix;
}

/** Maps across subjects. */
export interface GroupMaps {
  /** Subjects the maps are over. */
  subjects: number;
  /** One-sample t over subjects' coefficients (`oneSampleT`'s rules): (K × V), df = subjects − 1. */
  t: Matrix;
  /** Two-sided p of t: (K × V). */
  p: Float64Array;
  /** Mean held-out r over subjects (V). */
  meanR: Float32Array;
  /** One-sided permutation p of mean r (V). */
  pR: Float64Array;
  /** Benjamini–Hochberg q of `pR` over voxels (V). */
  qR: Float64Array;
}

/** One model's voxel results. */
export interface ModelVoxelResult {
  /** The model's name. */
  model: string;
  /** Every usable subject's maps, in the data's order. */
  subjects: SubjectMaps[];
  /** The maps across subjects. */
  group: GroupMaps;
  /** |t| threshold of the atoms' maps. */
  threshold: number;
  /** Per template set: every atom × sign × network cell, and the metrics. */
  templates: { name: string; matches: NetworkMatch[]; metrics: OrganizationMetrics }[];
  /** The bootstrap over subjects, where the analysis asked for it (`bootstrap.ts`). */
  bootstrap?: VoxelBootstrap;
  /** The organization's spread across dictionary seeds, where asked (`seed_spread.ts`). */
  seedSpread?: SeedSpread;
}

/**
 * Receives each surrogate's group t map (K × V), e.g. network matching's
 * null. The map's buffer is reused once the observer returns.
 */
export type GroupNullObserver = (t: Matrix) => void;

/** One subject's real fit, and what its null refits need. */
interface SubjectFit {
  id: string;
  alpha: Float64Array;
  r2: Float32Array;
  r: Float32Array;
  weights: Matrix;
  prepared: RefitSubject;
  lassoAlpha?: Float64Array;
}

/**
 * Encode every subject's voxels from the regressors and test the maps.
 *
 * The null refits each surrogate at the α that cross-validation chose for
 * the real regressors: re-selecting α per surrogate would cost about five
 * times as much. The null is therefore that of the model with its
 * penalties fixed. Every subject sees the same surrogate in a permutation,
 * as they heard the same story, so group maps of the null are formed
 * exactly as the real ones. Real and surrogate refits run the same code
 * ({@linkcode RidgeRefits}); see {@linkcode voxelNull} for the null's cost.
 *
 * @param x regressors (T × K), cleaned (e.g. {@linkcode cleanSeries})
 * @param subjects per subject an id and cleaned data (T × V), all on one mask
 * @param observers called with each surrogate's group t map (K × V)
 */
export async function encodeVoxels(
  backend: Backend,
  x: Matrix,
  subjects: EncodedSubject[],
  options: VoxelEncodingOptions = {},
  observers: GroupNullObserver[] = [],
): Promise<{ subjects: SubjectMaps[]; group: GroupMaps }> {
  const S = subjects.length, K = x.cols, T = x.rows;
  const folds = resolveFolds(T, options.folds ?? 5), nFolds = folds.length;
  if (S < 2) throw new RangeError(`group maps need at least 2 subjects, got ${S}`);
  const V = subjects[0].data.cols;
  for (const s of subjects) {
    if (s.data.cols !== V || s.data.rows !== T) {
      throw new RangeError(
        `subject ${s.id}: data is ${s.data.rows} × ${s.data.cols}; expected ${T} volumes × ${V} voxels`,
      );
    }
  }
  const progress = options.onProgress ?? (() => {});
  const mapAlpha = options.mapAlpha ?? 1;
  const alphaGrid = options.alphas ?? logspace(-1, 4, 10);
  const refits = new RidgeRefits(backend, T, K, {
    folds,
    alphas: alphaGrid,
    weightAlphas: typeof mapAlpha === "number" ? [mapAlpha] : alphaGrid,
  });
  try {
    const fits: SubjectFit[] = [];
    const shared = refits.designs([x]);
    for (const [i, s] of subjects.entries()) {
      const xs = s.design ? await s.design.apply(backend, x) : x;
      const real = s.design ? refits.designs([xs]) : shared;
      const cv = await ridgeCV(backend, xs, s.data, {
        folds,
        alphas: alphaGrid,
        returnPredictions: false,
      });
      const prepared = refits.subject(
        s.data,
        cv.alphaIndex,
        typeof mapAlpha === "number" ? new Int32Array(V) : cv.alphaIndex,
      );
      const r = new Float32Array(V),
        w = new Float32Array(K * V),
        block = nullBlock(1, K, nFolds, V);
      for (let v0 = 0; v0 < V; v0 += block) {
        const vb = Math.min(block, V - v0), res = await refits.refit(real, prepared, v0, vb);
        r.set(res.r, v0);
        for (let k = 0; k < K; k++) w.set(res.weights.subarray(k * vb, (k + 1) * vb), k * V + v0);
      }
      let weights: Matrix = { rows: K, cols: V, data: w }, lassoAlpha: Float64Array | undefined;
      if (options.maps === "lasso") {
        const lasso = await lassoCV(backend, xs, s.data, {
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
      fits.push({ id: s.id, alpha: cv.alphas, r2, r, weights, prepared, lassoAlpha });
      progress("fit", i + 1, S);
    }
    const meanR = new Float32Array(V);
    for (const f of fits) for (let v = 0; v < V; v++) meanR[v] += f.r[v] / S;
    const nul = await voxelNull(backend, refits, x, subjects, fits, meanR, options, observers);
    const P = options.permutations ?? 100;
    const maps: SubjectMaps[] = fits.map((f, s) => {
      const p = nul.p[s], { sum, sq } = nul.weights[s];
      const z = new Float32Array(K * V);
      for (let i = 0; i < K * V; i++) {
        const m = sum[i] / P, sd = Math.sqrt(Math.max(0, sq[i] / P - m * m));
        // A constant null (LASSO's zeros) has no spread to scale by.
        z[i] = isConstant(sd, Math.sqrt(sq[i] / P)) ? NaN : (f.weights.data[i] - m) / sd;
      }
      return {
        id: f.id,
        r: f.r,
        r2: f.r2,
        alpha: f.alpha,
        p,
        q: benjaminiHochberg(p),
        weights: f.weights,
        z: { rows: K, cols: V, data: z },
      };
    });
    const { t, df } = oneSampleT(fits.map((f) => f.weights.data));
    const pR = nul.p[S];
    return {
      subjects: maps,
      group: {
        subjects: S,
        t: { rows: K, cols: V, data: Float32Array.from(t) },
        p: Float64Array.from(t, (v) => studentTTwoSided(v, df)),
        meanR,
        pR,
        qR: benjaminiHochberg(pR),
      },
    };
  } finally {
    refits.dispose();
  }
}

/** Bytes the null's per-batch buffers may take: fold products and the batch's group maps. */
const NULL_BATCH_BYTES = 256 * 2 ** 20;

/**
 * Voxels per refit call for a batch of B designs: its fold products within
 * half the budget (one slab per fold, and one more for the BLAS path's Σ_f).
 */
function nullBlock(B: number, K: number, folds: number, V: number): number {
  const slabs = folds + 1;
  return Math.min(V, Math.max(4, Math.floor(NULL_BATCH_BYTES / 2 / (4 * slabs * B * K) / 4) * 4));
}

/** Running sums of a map over surrogates or subjects, in float64. */
interface MapMoments {
  sum: Float64Array;
  sq: Float64Array;
}

const moments = (size: number): MapMoments => ({
  sum: new Float64Array(size),
  sq: new Float64Array(size),
});

/**
 * Add one subject's refits of a batch to its running sums over surrogates
 * (K × V) and to the batch's sums over subjects (nb × K × vb): one pass.
 *
 * @param w weights (nb × K × vb), design-major
 */
function accumulate(
  w: Float32Array,
  nb: number,
  K: number,
  vb: number,
  V: number,
  v0: number,
  subject: MapMoments,
  group: MapMoments,
): void {
  const ss = subject.sum, sq = subject.sq, gs = group.sum, gq = group.sq;
  for (let b = 0; b < nb; b++) {
    for (let k = 0; k < K; k++) {
      const src = (b * K + k) * vb, dst = k * V + v0;
      for (let c = 0; c < vb; c++) {
        const x = w[src + c], x2 = x * x;
        ss[dst + c] += x;
        sq[dst + c] += x2;
        gs[src + c] += x;
        gq[src + c] += x2;
      }
    }
  }
}

/**
 * The null of {@linkcode encodeVoxels}: surrogates in batches of about
 * 512 / K, each batch refit for every subject block by block of voxels
 * ({@linkcode RidgeRefits}: one stacked product per fold, the rest per voxel
 * in WebAssembly on every core, or, with OpenBLAS and many atoms, as BLAS
 * products in each fold's eigenbasis). Nothing of size surrogates × voxels
 * is kept: p-values come from exceedance counts, coefficient z from running
 * sums, and each surrogate's group t map is handed to the observers in a
 * buffer the next batch reuses, so memory does not grow with the number of
 * surrogates.
 *
 * @returns per subject and for the mean r (S + 1) the p-values of r, and
 *   per subject the sums of its null weights (K × V)
 */
async function voxelNull(
  backend: Backend,
  refits: RidgeRefits,
  x: Matrix,
  subjects: EncodedSubject[],
  fits: SubjectFit[],
  meanR: Float32Array,
  options: VoxelEncodingOptions,
  observers: GroupNullObserver[],
): Promise<{ p: Float64Array[]; weights: MapMoments[] }> {
  const S = fits.length, K = x.cols, V = meanR.length;
  const F = resolveFolds(x.rows, options.folds ?? 5).length;
  const P = options.permutations ?? 100, progress = options.onProgress ?? (() => {});
  const exceed = [...fits.map((f) => new ExceedanceCounter(f.r)), new ExceedanceCounter(meanR)];
  const weights = fits.map(() => moments(K * V));
  // LASSO maps are refit on whole subjects, so a batch holds them all: fewer surrogates per batch.
  const lassoMaps = options.maps === "lasso";
  const perSurrogate = 4 * K * V * (lassoMaps ? S : 2);
  const B = Math.max(1, Math.min(refitBatchSize(K), Math.floor(NULL_BATCH_BYTES / perSurrogate)));
  const pending = surrogates(x, {
    permutations: P,
    method: options.method ?? "shift",
    seed: options.seed ?? 0,
    ...(options.runs ? { runs: options.runs } : {}),
  });
  // Every batch's buffers, allocated once: fresh ones of hundreds of
  // megabytes per batch cost more in page faults than the sums they hold.
  const block = nullBlock(B, K, F, V);
  const tMaps = Array.from({ length: Math.min(B, P) }, () => new Float32Array(K * V));
  const group = moments(B * K * block), rSum = new Float64Array(B * block);
  const mean = new Float32Array(block);
  const outputs = [0, 1].map(() => ({
    r: new Float32Array(B * block),
    weights: new Float32Array(B * K * block),
  }));
  let done = 0;
  while (done < P) {
    const batch: Matrix[] = [];
    for (let i = 0; i < B && done + batch.length < P; i++) batch.push(pending.next().value!.x);
    const nb = batch.length, designs = refits.designs(batch);
    // A subject with its own nuisance design fits the surrogates after that design is regressed out.
    const own: (Matrix[] | undefined)[] = [];
    for (const s of subjects) {
      own.push(
        s.design ? await Promise.all(batch.map((xb) => s.design!.apply(backend, xb))) : undefined,
      );
    }
    const designsOf = own.map((xs) => (xs ? refits.designs(xs) : designs));
    const lassoW = lassoMaps
      ? await Promise.all(
        batch.flatMap((xb, b) =>
          fits.map(async (f, s) =>
            (await lassoFit(backend, own[s]?.[b] ?? xb, subjects[s].data, {
              alpha: f.lassoAlpha!,
            })).weights.data
          )
        ),
      )
      : undefined;
    // Per surrogate of the batch, its group t map is filled block by block (tMaps).
    for (let v0 = 0; v0 < V; v0 += block) {
      const vb = Math.min(block, V - v0);
      group.sum.fill(0);
      group.sq.fill(0);
      rSum.fill(0);
      // Two subjects in flight, each with its own output buffers: one
      // subject's products run while the workers finish the other's.
      const call = (s: number) =>
        refits.refit(designsOf[s], fits[s].prepared, v0, vb, outputs[s % 2]);
      const calls = [call(0), S > 1 ? call(1) : undefined];
      for (let s = 0; s < S; s++) {
        const res = await calls[s % 2]!;
        for (let b = 0; b < nb; b++) {
          const r = res.r.subarray(b * vb, (b + 1) * vb);
          exceed[s].add(r, v0);
          for (let c = 0; c < vb; c++) rSum[b * vb + c] += r[c];
        }
        let w = res.weights;
        if (lassoW) {
          w = new Float32Array(nb * K * vb);
          for (let b = 0; b < nb; b++) {
            const full = lassoW[b * S + s];
            for (let k = 0; k < K; k++) {
              w.set(full.subarray(k * V + v0, k * V + v0 + vb), (b * K + k) * vb);
            }
          }
        }
        accumulate(w, nb, K, vb, V, v0, weights[s], group);
        if (s + 2 < S) calls[s % 2] = call(s + 2);
      }
      for (let b = 0; b < nb; b++) {
        for (let c = 0; c < vb; c++) mean[c] = rSum[b * vb + c] / S;
        exceed[S].add(mean.subarray(0, vb), v0);
        // The group t map of this surrogate, as the real one's but from running sums.
        const t = tMaps[b];
        for (let k = 0; k < K; k++) {
          const src = (b * K + k) * vb, dst = k * V + v0;
          for (let c = 0; c < vb; c++) {
            t[dst + c] = oneSampleTFromSums(group.sum[src + c], group.sq[src + c], S);
          }
        }
      }
    }
    for (const t of tMaps.slice(0, nb)) {
      for (const observe of observers) observe({ rows: K, cols: V, data: t });
      progress("null", ++done, P);
    }
  }
  return {
    p: exceed.map((e) => P > 0 ? e.pValues(P) : new Float64Array(V).fill(NaN)),
    weights,
  };
}
