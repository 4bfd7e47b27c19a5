/**
 * Uncertainty by bootstrap over subjects: subjects drawn with replacement,
 * the group statistics recomputed on each resample, and percentile
 * intervals (or reappearance shares) read off the resamples.
 *
 * - Voxel level ({@linkcode bootstrapVoxels}): each resample's group t map
 *   is the one-sample t over the drawn subjects' coefficient maps, cut into
 *   parts and matched with the networks by the full sample's link
 *   criterion. The criterion's null (each cell's Dice under shifted atoms)
 *   is the full sample's, not one per resample: re-running the null per
 *   resample would cost the whole null B times. A resample's t map is
 *   centred on the observed one and spread around it, so at the full
 *   sample's |t| threshold its parts grow (noise voxels near the threshold
 *   cross it both ways, and those far below cannot offset), and a grown
 *   part beats the null's Dice with any network: every cell would link.
 *   Each part therefore keeps the full sample's voxel count (its voxels of
 *   largest signed t), so that Dice is compared with the null on equal
 *   terms and the question is whether the same voxels come back; a part
 *   empty in the full sample stays empty. (`parts: "threshold"` keeps the
 *   fixed |t| for comparison.)
 *   Per link: its reappearance, the share of resamples in which that
 *   atom × sign → network link is found again. Per organization metric:
 *   the percentile interval of its bootstrap distribution. Per atom × sign:
 *   how often each voxel of its map is in the map again.
 * - ROI level ({@linkcode meanInterval}): the percentile interval of a mean
 *   over subjects (each group mean r, and the paired gain over the
 *   baseline, drawn with the same subjects for both sides).
 *
 * Resamples are drawn by {@linkcode bootstrapIndices} from the run's seed,
 * so a run repeats exactly; the indices are exported so that a reference
 * (numpy) can be fed the same ones.
 *
 * @module
 */

import { InputError } from "@brainorg/common";
import { type Matrix, rng } from "@brainorg/kernels";
import type { NetworkMatch, NetworkMatcher } from "./networks.ts";
import { type OrganizationMetrics, organizationMetrics } from "./organization.ts";
import { median, oneSampleT } from "./stats.ts";
import type { LinkReappearance, MapReliability, VoxelBootstrap } from "./bootstrap_types.ts";

export type {
  LinkReappearance,
  MapReliability,
  MetricInterval,
  TemplateBootstrap,
  VoxelBootstrap,
} from "./bootstrap_types.ts";
import type { ModelVoxelResult } from "./voxel_encoding.ts";
import { selectKth } from "./_select.ts";

/** Coverage of every bootstrap interval: 95%, percentiles 2.5 and 97.5. */
export const BOOTSTRAP_LEVEL: number = 0.95;

/** Resamples when the analysis file turns the bootstrap on without a count. */
export const DEFAULT_RESAMPLES: number = 200;

/** What the summary says of the voxel bootstrap's approximation, in words. */
export const BOOTSTRAP_NOTE: string =
  "subjects drawn with replacement; each resample's group t map cut into parts of the full " +
  "sample's voxel counts (its voxels of largest signed t) and matched by the full sample's " +
  "link criterion, whose null (the Dice of shifted atoms) is the full sample's, not " +
  "recomputed per resample; percentile intervals";

/**
 * Subjects drawn with replacement, one array per resample (mulberry32 from
 * `seed`: the same seed, the same draws on every platform).
 *
 * @param n subjects (≥ 1)
 * @param resamples resamples B (≥ 0)
 * @param seed seed of the draws
 * @returns B arrays of n indices in [0, n)
 *
 * @example
 * ```ts
 * import { bootstrapIndices } from "@brainorg/core";
 * const draws = bootstrapIndices(6, 200, 0); // 200 × Int32Array(6)
 * ```
 */
export function bootstrapIndices(n: number, resamples: number, seed: number): Int32Array[] {
  if (!Number.isInteger(n) || n < 1) {
    throw new InputError("a bootstrap needs subjects to draw", {
      field: "n",
      expected: "a whole number ≥ 1",
      found: String(n),
    });
  }
  if (!Number.isInteger(resamples) || resamples < 0) {
    throw new InputError("resamples must be a count", {
      field: "resamples",
      expected: "a whole number ≥ 0",
      found: String(resamples),
    });
  }
  const rand = rng(seed);
  return Array.from({ length: resamples }, () => {
    const idx = new Int32Array(n);
    for (let i = 0; i < n; i++) idx[i] = Math.min(n - 1, Math.floor(rand() * n));
    return idx;
  });
}

/**
 * The percentile interval of the finite values, by linear interpolation
 * between order statistics (numpy's default `percentile`): `[q₀.₀₂₅, q₀.₉₇₅]`
 * at the default level. NaN ends where no value is finite.
 *
 * @param values a bootstrap distribution (non-finite values left out)
 * @param level coverage. Default: {@linkcode BOOTSTRAP_LEVEL}.
 *
 * @example
 * ```ts
 * import { percentileInterval } from "@brainorg/core";
 * percentileInterval([1, 2, 3, 4, 5]); // { low: 1.1, high: 4.9 }
 * ```
 */
export function percentileInterval(
  values: ArrayLike<number>,
  level = BOOTSTRAP_LEVEL,
): { low: number; high: number } {
  const s = Float64Array.from(Array.from(values).filter(Number.isFinite)).sort(), n = s.length;
  if (n === 0) return { low: NaN, high: NaN };
  const at = (q: number) => {
    const h = (n - 1) * q, lo = Math.floor(h), hi = Math.min(n - 1, lo + 1);
    return s[lo] + (h - lo) * (s[hi] - s[lo]);
  };
  return { low: at((1 - level) / 2), high: at((1 + level) / 2) };
}

/**
 * The percentile interval of a mean over subjects under resampling: for
 * each resample, the mean of `values` at its indices.
 *
 * @param values one value per subject (n), e.g. each subject's r, or its gain over the baseline
 * @param indices resamples from {@linkcode bootstrapIndices}(n, …)
 * @param level coverage. Default: {@linkcode BOOTSTRAP_LEVEL}.
 *
 * @example
 * ```ts
 * import { bootstrapIndices, meanInterval } from "@brainorg/core";
 * const r = [0.1, 0.2, 0.15, 0.05];
 * meanInterval(r, bootstrapIndices(r.length, 200, 0)); // { low: …, high: … }
 * ```
 */
export function meanInterval(
  values: ArrayLike<number>,
  indices: readonly Int32Array[],
  level = BOOTSTRAP_LEVEL,
): { low: number; high: number } {
  const means = indices.map((idx) => {
    if (idx.length !== values.length) {
      throw new InputError("resample indices must draw from the values given", {
        field: "indices",
        expected: `${values.length} indices per resample`,
        found: `${idx.length}`,
      });
    }
    let s = 0;
    for (const i of idx) s += values[i];
    return s / idx.length;
  });
  return percentileInterval(means, level);
}

/**
 * The group t map of one resample: the one-sample t ({@linkcode oneSampleT},
 * the full sample's rules) over the drawn subjects' coefficient maps.
 *
 * @param weights per subject its coefficients (K × V), row-major
 * @param indices the resample's subjects (a subject drawn twice counts twice)
 * @returns t (K × V), row-major, float64
 */
export function resampleGroupT(weights: readonly Matrix[], indices: Int32Array): Float64Array {
  return oneSampleT(Array.from(indices, (i) => weights[i].data)).t;
}

/** The metrics given intervals, as paths into {@linkcode OrganizationMetrics}. */
export const BOOTSTRAP_METRICS = [
  "linkedAtoms",
  "links",
  "networksEngaged",
  "assignmentEntropy",
  "normalizedEntropy",
  "layerSpread",
  "consistency.timeCourse",
  "consistency.mapOverlap",
] as const;

const metricValue = (m: OrganizationMetrics, name: (typeof BOOTSTRAP_METRICS)[number]) =>
  name === "consistency.timeCourse"
    ? m.consistency.timeCourse
    : name === "consistency.mapOverlap"
    ? m.consistency.mapOverlap
    : m[name];

/** One template set as {@linkcode bootstrapVoxels} matches it. */
export interface BootstrapTemplate {
  /** The template set's name. */
  name: string;
  /** Its matcher, holding the full sample's null (its link criterion). */
  matcher: NetworkMatcher;
  /** Its networks' names, in order. */
  networkNames: string[];
  /** The full sample's cells, as the matcher scored them. */
  matches: NetworkMatch[];
  /** The full sample's metrics. */
  metrics: OrganizationMetrics;
}

/** What {@linkcode bootstrapVoxels} resamples. */
export interface VoxelBootstrapInput {
  /** Per subject its coefficient maps (K × V). */
  weights: readonly Matrix[];
  /** The full sample's group t map (K × V). */
  t: Matrix;
  /** |t| of a map part, the full sample's. */
  threshold: number;
  /** The template sets, with their matchers. */
  templates: BootstrapTemplate[];
  /** Atom time courses (T × K), for the consistency metric. */
  atoms: Matrix;
  /** Per atom, its sub-group's AN count per layer. */
  layerCounts: number[][];
}

/** Options of {@linkcode bootstrapVoxels}. */
export interface VoxelBootstrapOptions {
  /** Resamples B. */
  resamples: number;
  /** Seed of the draws. Default: 0. */
  seed?: number;
  /** Level of the links, as the full sample's. Default: 0.05. */
  alpha?: number;
  /** Coverage of the intervals. Default: {@linkcode BOOTSTRAP_LEVEL}. */
  level?: number;
  /**
   * How a resample's map parts are cut: `"size"` keeps each atom × sign
   * part at the full sample's voxel count (its voxels of largest t); a
   * `"threshold"` at the full sample's |t| lets the parts of the noisier
   * resampled maps grow, and grown parts beat the Dice null in every
   * network (see the module documentation). Default: `"size"`.
   */
  parts?: "size" | "threshold";
}

/**
 * The n-th largest of `sign × row`'s positive values (the smallest positive
 * one where there are fewer than n; Infinity where there is none), by
 * quickselect on a copy in `buffer`: O(V) per call, not a sort.
 */
export function nthLargest(
  row: Float32Array,
  sign: 1 | -1,
  n: number,
  buffer: Float32Array = new Float32Array(row.length),
): number {
  let m = 0;
  for (let v = 0; v < row.length; v++) {
    const x = sign * row[v];
    if (x > 0) buffer[m++] = x;
  }
  if (m === 0 || n <= 0) return Infinity;
  // The (n-1)-th largest is the (m-n)-th smallest of the m positive values.
  return selectKth(buffer.subarray(0, m), m - Math.min(n, m));
}

/**
 * The 0/1 part of an atom and sign of a (K × V) statistic thresholded at
 * ±threshold, each made once: the consistency metric asks for a part once
 * per pair of links.
 *
 * @param t the statistic (K × V, row-major)
 * @param V voxels per row
 * @param threshold |value| a voxel must exceed
 * @returns `(atom, sign)` → the part (V), 1 where in it
 */
export function mapParts(
  t: ArrayLike<number>,
  V: number,
  threshold: number,
): (atom: number, sign: 1 | -1) => Uint8Array {
  const made = new Map<number, Uint8Array>();
  return (atom: number, sign: 1 | -1) => {
    const key = 2 * atom + (sign > 0 ? 0 : 1);
    let out = made.get(key);
    if (!out) {
      out = new Uint8Array(V);
      const o = atom * V;
      for (let v = 0; v < V; v++) out[v] = sign * t[o + v] > threshold ? 1 : 0;
      made.set(key, out);
    }
    return out;
  };
}

/**
 * A group t map (a resample's, another seed's) cut into parts of the full
 * sample's voxel counts: ±(threshold + 1) in a part (its voxels of
 * largest signed t), 0 elsewhere; a part empty in the reference stays empty.
 *
 * @param t the group t (K × V)
 * @param sizes per atom × sign (2K: positive, negative) the full sample's part's voxels;
 *   null: each part is the voxels beyond ±threshold instead
 * @param threshold the full sample's |t| threshold
 * @returns the marker map (K × V), float32
 */
export function sizedParts(
  t: Matrix,
  sizes: Int32Array | null,
  threshold: number,
): Float32Array {
  const K = t.rows, V = t.cols, marker = threshold + 1, buffer = new Float32Array(V);
  const tf = t.data instanceof Float32Array ? t.data : Float32Array.from(t.data);
  const parts = new Float32Array(K * V);
  for (let k = 0; k < K; k++) {
    const row = tf.subarray(k * V, (k + 1) * V), out = parts.subarray(k * V, (k + 1) * V);
    for (const sign of [1, -1] as const) {
      if (!sizes) {
        for (let v = 0; v < V; v++) if (sign * row[v] > threshold) out[v] = sign * marker;
        continue;
      }
      const n = sizes[2 * k + (sign > 0 ? 0 : 1)];
      if (n === 0) continue;
      const cut = nthLargest(row, sign, n, buffer);
      for (let v = 0; v < V; v++) {
        const x = sign * row[v];
        if (x > 0 && x >= cut) out[v] = sign * marker;
      }
    }
  }
  return parts;
}

/** Each part's voxel count (2K: atom k's positive part at 2k, its negative at 2k + 1). */
export function partSizes(
  parts: (atom: number, sign: 1 | -1) => Uint8Array,
  K: number,
): Int32Array {
  const sizes = new Int32Array(2 * K);
  for (let k = 0; k < K; k++) {
    sizes[2 * k] = parts(k, 1).reduce((a, x) => a + x, 0);
    sizes[2 * k + 1] = parts(k, -1).reduce((a, x) => a + x, 0);
  }
  return sizes;
}

/**
 * A marker map's links and organization metrics, per template set, by the
 * full sample's criterion (each set's matcher, the null of the full sample).
 *
 * @param parts the marker map (K × V): ±(threshold + 1) in a part, 0 elsewhere
 * @param threshold the full sample's |t| threshold
 * @param templates the sets with their matchers and network names
 * @param atoms the atoms' time courses (T × K), for the consistency metric
 * @param layerCounts per atom its sub-group's AN count per layer (K × layers)
 * @param alpha the links' level
 */
export function organizationOfParts(
  parts: Matrix,
  threshold: number,
  templates: readonly Pick<BootstrapTemplate, "matcher" | "networkNames">[],
  atoms: Matrix,
  layerCounts: number[][],
  alpha: number,
): { matches: NetworkMatch[]; metrics: OrganizationMetrics }[] {
  const partOf = mapParts(parts.data, parts.cols, threshold);
  return templates.map((s) => {
    const matches = s.matcher.match(parts, alpha);
    return {
      matches,
      metrics: organizationMetrics(matches, s.networkNames, atoms, layerCounts, partOf),
    };
  });
}

/**
 * The cells linked in the full sample or in any of `n` repeats (resamples,
 * seeds), each with the share of repeats that link it again.
 *
 * @param matches the full sample's cells
 * @param counts per cell, the repeats that linked it
 * @param n the repeats (0: reappearance NaN)
 */
export function reappearingLinks(
  matches: readonly NetworkMatch[],
  counts: ArrayLike<number>,
  n: number,
): LinkReappearance[] {
  return matches.flatMap((m, c) =>
    m.linked || counts[c] > 0
      ? [{
        atom: m.atom,
        sign: m.sign,
        network: m.network,
        networkName: m.networkName,
        linked: m.linked,
        reappearance: n > 0 ? counts[c] / n : NaN,
      }]
      : []
  );
}

/**
 * Bootstrap a model's group maps, links and organization metrics over
 * subjects (see the module documentation for what is approximated). Memory:
 * one resample's t map (K × V float64) at a time, and the counts (K × V).
 *
 * @param input the subjects' maps, the full sample's t, threshold and matchers
 * @param options resamples, seed, link level and coverage
 *
 * @example
 * ```ts ignore
 * const boot = bootstrapVoxels(
 *   { weights, t, threshold, templates: [{ name, matcher, networkNames, matches, metrics }], atoms, layerCounts },
 *   { resamples: 200, seed: 0 },
 * );
 * boot.templates[0].links[0].reappearance; // e.g. 0.97
 * ```
 */
export function bootstrapVoxels(
  input: VoxelBootstrapInput,
  options: VoxelBootstrapOptions,
): VoxelBootstrap {
  const { weights, t, threshold, templates, atoms, layerCounts } = input;
  const K = t.rows, V = t.cols, B = options.resamples, seed = options.seed ?? 0;
  const level = options.level ?? BOOTSTRAP_LEVEL;
  for (const [i, w] of weights.entries()) {
    if (w.rows !== K || w.cols !== V) {
      throw new InputError("every subject's coefficient maps must be the group map's shape", {
        field: `weights[${i}]`,
        expected: `${K} × ${V}`,
        found: `${w.rows} × ${w.cols}`,
      });
    }
  }
  const counts = new Uint32Array(K * V);
  const linkCounts = templates.map((s) => new Uint32Array(s.matches.length));
  const values = templates.map(() => BOOTSTRAP_METRICS.map(() => new Float64Array(B)));
  const full = mapParts(t.data, V, threshold);
  const sized = (options.parts ?? "size") === "size";
  // Without sizes, a fixed |t| threshold (a part's voxels beyond it): every voxel counts.
  const sizes = sized ? partSizes(full, K) : null;
  for (const [b, idx] of bootstrapIndices(weights.length, B, seed).entries()) {
    // Float32, as the full sample's t map is kept and thresholded. The
    // resample's parts as a marker map, so that matching and the metrics
    // threshold it as the full map.
    const tb: Matrix = { rows: K, cols: V, data: Float32Array.from(resampleGroupT(weights, idx)) };
    const parts = sizedParts(tb, sizes, threshold);
    for (let i = 0; i < K * V; i++) {
      // In the part of the full sample's sign there.
      if ((t.data[i] >= 0 ? parts[i] : -parts[i]) > threshold) counts[i]++;
    }
    const found = organizationOfParts(
      { rows: K, cols: V, data: parts },
      threshold,
      templates,
      atoms,
      layerCounts,
      options.alpha ?? 0.05,
    );
    found.forEach(({ matches, metrics }, j) => {
      matches.forEach((m, c) => m.linked && linkCounts[j][c]++);
      BOOTSTRAP_METRICS.forEach((name, q) => (values[j][q][b] = metricValue(metrics, name)));
    });
  }
  const frequency = Float32Array.from(counts, (c) => (B > 0 ? c / B : NaN));
  const maps: MapReliability[] = [];
  for (let k = 0; k < K; k++) {
    for (const sign of [1, -1] as const) {
      const inPart = full(k, sign), freq: number[] = [];
      inPart.forEach((x, v) => x && freq.push(frequency[k * V + v]));
      if (freq.length) {
        maps.push({ atom: k, sign, voxels: freq.length, medianFrequency: median(freq) });
      }
    }
  }
  return {
    resamples: B,
    seed,
    level,
    maps,
    frequency,
    templates: templates.map((s, j) => ({
      name: s.name,
      links: reappearingLinks(s.matches, linkCounts[j], B),
      metrics: BOOTSTRAP_METRICS.map((name, q) => {
        const ci = percentileInterval(values[j][q], level);
        return {
          metric: name,
          value: metricValue(s.metrics, name),
          ciLow: ci.low,
          ciHigh: ci.high,
          finite: values[j][q].reduce((a, x) => a + (Number.isFinite(x) ? 1 : 0), 0),
        };
      }),
    })),
  };
}

/**
 * A model's bootstrap from its finished voxel result and the matchers that
 * scored it (their nulls recorded): what `analyzeVoxels` and a
 * sharded run's merge both call, so the two give the same folder.
 *
 * @param result the model's voxel result (subjects' weights, group t, templates' matches and metrics)
 * @param matchers per template set of `result.templates`, its matcher
 * @param model the model's atoms (T × K) and sub-groups' layer counts
 * @param options resamples, seed, link level
 */
export function modelBootstrap(
  result: ModelVoxelResult,
  matchers: readonly NetworkMatcher[],
  model: { atoms: Matrix; layerCounts: number[][] },
  options: VoxelBootstrapOptions & { networkNames: readonly string[][] },
): VoxelBootstrap {
  return bootstrapVoxels({
    weights: result.subjects.map((s) => s.weights),
    t: result.group.t,
    threshold: result.threshold,
    templates: result.templates.map((tr, j) => ({
      name: tr.name,
      matcher: matchers[j],
      networkNames: [...options.networkNames[j]],
      matches: tr.matches,
      metrics: tr.metrics,
    })),
    atoms: model.atoms,
    layerCounts: model.layerCounts,
  }, options);
}
