/**
 * From a model's per-word AN responses to atoms: the responses placed on
 * the TR grid, z-scored per AN (dead ANs dropped and counted), then sparse
 * dictionary learning: each atom a temporal pattern, its sub-group the ANs
 * with non-zero codes on it.
 *
 * @module
 */

import { type Backend, learnDictionary, type Matrix } from "@brainorg/kernels";
import { applyDesign, type WordDesign } from "@brainorg/neuro";
import { zscoreColumns } from "./stats.ts";

/** AN time series on the TR grid. */
export interface AnTimeSeries {
  /** (volumes × kept ANs), z-scored per AN. */
  series: Matrix;
  /** Column of the full AN index for each kept AN. */
  kept: Uint32Array;
  /** ANs dropped because their time series is constant (`zscoreColumns`' rule). */
  dead: number;
}

/**
 * Place per-word AN responses on the TR grid and z-score each AN.
 *
 * @param words (words × ANs) responses
 * @param units number of ANs
 */
export function anTimeSeries(words: Float32Array, units: number, design: WordDesign): AnTimeSeries {
  const T = design.volumes;
  const z = zscoreColumns({ rows: T, cols: units, data: applyDesign(design, words) });
  const kept: number[] = [];
  for (let u = 0; u < units; u++) if (!z.constant[u]) kept.push(u);
  const K = kept.length;
  // With no dead AN the z-scored matrix is the result: no second copy (131,072 ANs: 210 MB).
  const out = K === units ? z.data : new Float32Array(T * K);
  if (K !== units) {
    for (let t = 0; t < T; t++) {
      for (let k = 0; k < K; k++) out[t * K + k] = z.data[t * units + kept[k]];
    }
  }
  return { series: { rows: T, cols: K, data: out }, kept: Uint32Array.from(kept), dead: units - K };
}

/** Atoms learned from AN time series. */
export interface ModelAtoms {
  /** Atom time courses (volumes × K), unit norm. */
  atoms: Matrix;
  /** Codes (K × kept ANs). */
  codes: Matrix;
  /** The full AN index of each code column (`AnTimeSeries.kept`). */
  kept: Uint32Array;
  /** ANs recorded per layer, dead ones included; the full index runs layer after layer. */
  layerSizes: number[];
  /** The sparsity penalty α used (calibrated to the target density, or as given). */
  alpha: number;
  /** Share of the final codes that are non-zero, in [0, 1]. */
  density: number;
  /** Reconstruction R² of each layer's ANs: 1 − ||X − DC||² / ||X||². */
  layerR2: number[];
  /** Per atom and layer: ANs with positive and negative codes. */
  subgroups: { atom: number; layer: number; positive: number; negative: number }[];
}

/**
 * Learn K atoms from AN time series.
 *
 * @param layerOf layer of each kept AN
 */
export async function learnModelAtoms(
  backend: Backend,
  ts: AnTimeSeries,
  layerOf: (an: number) => number,
  layers: number,
  options: { atoms: number; targetDensity?: number; alpha?: number; passes: number; seed: number },
): Promise<ModelAtoms> {
  const fit = await learnDictionary(backend, ts.series, {
    atoms: options.atoms,
    ...(options.alpha !== undefined
      ? { alpha: options.alpha }
      : { targetDensity: options.targetDensity ?? 0.2 }),
    passes: options.passes,
    batchSize: Math.min(64, ts.series.cols),
    seed: options.seed,
  });
  const T = ts.series.rows, N = ts.series.cols, K = options.atoms;
  const recon = await backend.gemm(fit.dictionary, fit.codes);
  const err = new Float64Array(layers), tot = new Float64Array(layers);
  for (let n = 0; n < N; n++) {
    const l = layerOf(ts.kept[n]);
    for (let t = 0; t < T; t++) {
      const x = ts.series.data[t * N + n];
      err[l] += (x - recon.data[t * N + n]) ** 2;
      tot[l] += x * x;
    }
  }
  const subgroups: ModelAtoms["subgroups"] = [];
  for (let k = 0; k < K; k++) {
    for (let l = 0; l < layers; l++) {
      subgroups.push({ atom: k, layer: l, positive: 0, negative: 0 });
    }
    for (let n = 0; n < N; n++) {
      const c = fit.codes.data[k * N + n];
      if (c === 0) continue;
      const g = subgroups[k * layers + layerOf(ts.kept[n])];
      if (c > 0) g.positive++;
      else g.negative++;
    }
  }
  const layerSizes = new Array<number>(layers).fill(0);
  for (let an = 0; an < N + ts.dead; an++) layerSizes[layerOf(an)]++;
  return {
    atoms: fit.dictionary,
    codes: fit.codes,
    kept: ts.kept,
    layerSizes,
    alpha: fit.alpha,
    density: fit.density,
    layerR2: Array.from(err, (e, l) => (tot[l] > 0 ? 1 - e / tot[l] : NaN)),
    subgroups,
  };
}
