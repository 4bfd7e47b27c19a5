/**
 * The organization metrics' spread across dictionary seeds: how much of a
 * model's organization is owed to the seed its dictionary was learned with.
 *
 * The stability step (`stability.ts`) already learns the dictionary again
 * with seeds `seed + 1 …`; their atoms are reused here, not learned again.
 * Each extra seed's atoms are aligned to the reference's by the stability
 * matching (the Hungarian pairing on |r| of time courses; an atom paired
 * with r < 0 is negated, so that its activated part is the reference
 * atom's). Every subject's voxels are encoded with them (ridge CV per
 * subject, as the main encoding, but without the permutation null: the
 * null's cost times the seeds), the group t map formed, and matched with
 * the networks as the bootstrap matches a resample (`bootstrap.ts`): by the
 * reference's link criterion (its null of shifted atoms, not one per seed),
 * each atom × sign part cut at the reference atom's voxel count (its voxels
 * of largest signed t) so that Dice is compared with that null on equal
 * terms. The organization metrics then follow per seed, with the seed's own
 * time courses for the consistency and the reference atom's sub-group layer
 * counts for the layer spread (a seed's sub-groups are not formed).
 *
 * A caveat of the equal sizes: where a seed lost an atom, its map is noise
 * and its parts are the noise's voxels of largest t, as many as the
 * reference's; against a template whose networks are a small share of the
 * brain these rarely overlap one enough to beat the null (the tests plant
 * such a loss), but a network that is a large share of the voxels could be
 * linked by chance.
 *
 * Per metric: its value with each seed, and min, max and SD over the
 * reference and the extra seeds; per link: the share of extra seeds with
 * which it is linked again.
 *
 * @module
 */

import { InputError } from "@brainorg/common";
import type { Matrix } from "@brainorg/kernels";
import {
  BOOTSTRAP_METRICS,
  type BootstrapTemplate,
  mapParts,
  organizationOfParts,
  partSizes,
  reappearingLinks,
  sizedParts,
} from "./bootstrap.ts";
import type { OrganizationMetrics } from "./organization.ts";
import type { SeedMetricSpread, SeedSpread } from "./seed_spread_types.ts";
import type { StabilityFit } from "./stability.ts";

export type { SeedMetricSpread, SeedSpread, TemplateSeedSpread } from "./seed_spread_types.ts";

/** What the summary says of the seed spread's approximation, in words. */
export const SEED_SPREAD_NOTE: string =
  "the stability step's dictionaries of the extra seeds, each atom aligned to the reference's " +
  "by the Hungarian matching (sign flipped where r < 0); voxels encoded by ridge CV without " +
  "the permutation null; each seed's group t map cut into parts of the reference's voxel " +
  "counts and matched by the reference's link criterion; min, max and SD over the reference " +
  "and the extra seeds; reappearance over the extra seeds";

/** One extra seed's atoms, aligned to the reference's. */
export interface SeedAtoms {
  /** The seed the dictionary was learned with. */
  seed: number;
  /** Column k: the seed's atom paired with reference atom k, sign-aligned (T × K), row-major. */
  atoms: Matrix;
}

/**
 * A seed's atoms in the reference's order and sign: column k is the fit's
 * atom `matched[k]`, negated where its r with reference atom k is negative
 * (zero where atom k has no match).
 *
 * @param dictionary the fit's atom time courses (T × Kf), row-major
 * @param matched per reference atom (K) its column of `dictionary`, −1 where none
 * @param r per reference atom its signed r with the match
 * @returns (T × K) row-major, float32
 * @throws {InputError} when `matched` names a column `dictionary` lacks
 *
 * @example
 * ```ts
 * import { alignSeedAtoms } from "@brainorg/core";
 * import { matrix } from "@brainorg/kernels";
 * const d = matrix(2, 2, [1, 5, 2, 6]);
 * alignSeedAtoms(d, Int32Array.from([1, 0]), Float64Array.from([0.9, -0.8])).data; // [5, -1, 6, -2]
 * ```
 */
export function alignSeedAtoms(dictionary: Matrix, matched: Int32Array, r: Float64Array): Matrix {
  const T = dictionary.rows, Kf = dictionary.cols, K = matched.length;
  const out = new Float32Array(T * K);
  for (let k = 0; k < K; k++) {
    const j = matched[k];
    if (j < 0) continue;
    if (j >= Kf) {
      throw new InputError("a matched atom must be a column of the seed's dictionary", {
        field: `matched[${k}]`,
        expected: `an index in [0, ${Kf})`,
        found: String(j),
      });
    }
    const s = r[k] < 0 ? -1 : 1;
    for (let t = 0; t < T; t++) out[t * K + k] = s * dictionary.data[t * Kf + j];
  }
  return { rows: T, cols: K, data: out };
}

/**
 * The extra seeds' aligned atoms from a stability result's fits: those on
 * all volumes that kept their dictionary (`kind: "seed"`).
 *
 * @param fits `AtomStability.fits`
 * @returns per extra seed, its aligned atoms (T × K), in the fits' order
 */
export function seedAtomsOf(fits: readonly StabilityFit[]): SeedAtoms[] {
  return fits.flatMap((f) =>
    f.kind === "seed" && f.dictionary && f.matched
      ? [{ seed: f.seed, atoms: alignSeedAtoms(f.dictionary, f.matched, f.r) }]
      : []
  );
}

/** An organization metric by its name in {@linkcode BOOTSTRAP_METRICS}. */
export function metricByName(
  m: OrganizationMetrics,
  name: (typeof BOOTSTRAP_METRICS)[number],
): number {
  return name === "consistency.timeCourse"
    ? m.consistency.timeCourse
    : name === "consistency.mapOverlap"
    ? m.consistency.mapOverlap
    : m[name];
}

/** One extra seed's group map, as {@linkcode seedSpreadFromMaps} reads it. */
export interface SeedMap extends SeedAtoms {
  /** The group t map of the subjects encoded with `atoms` (K × V), row-major. */
  t: Matrix;
}

/** What {@linkcode seedSpreadFromMaps} compares. */
export interface SeedSpreadInput {
  /** The reference's group t map (K × V): its parts' voxel counts size the seeds'. */
  t: Matrix;
  /** |t| of a map part, the reference's. */
  threshold: number;
  /** The template sets with their matchers (the reference's null) and the reference's cells and metrics. */
  templates: BootstrapTemplate[];
  /** Per reference atom, its sub-group's AN count per layer (K × layers). */
  layerCounts: number[][];
  /** The extra seeds' aligned atoms and group maps. */
  seeds: SeedMap[];
}

/** Min, max, sample SD and count of the finite values. */
function spreadOf(values: number[]): { min: number; max: number; sd: number; finite: number } {
  const f = values.filter(Number.isFinite), n = f.length;
  if (n === 0) return { min: NaN, max: NaN, sd: NaN, finite: 0 };
  const mean = f.reduce((a, b) => a + b, 0) / n;
  const ss = f.reduce((a, x) => a + (x - mean) ** 2, 0);
  return {
    min: Math.min(...f),
    max: Math.max(...f),
    sd: n > 1 ? Math.sqrt(ss / (n - 1)) : NaN,
    finite: n,
  };
}

/**
 * The organization metrics and links with each extra seed's group map, and
 * their spread (see the module documentation for what is approximated).
 *
 * @param input the reference's t, threshold, matchers, layer counts; the seeds' atoms and maps
 * @param options the links' level, as the reference's. Default: 0.05.
 * @throws {InputError} when a seed's map or atoms do not match the reference's shape
 *
 * @example
 * ```ts ignore
 * const spread = seedSpreadFromMaps(
 *   { t, threshold, templates: [{ name, matcher, networkNames, matches, metrics }], layerCounts, seeds },
 * );
 * spread.templates[0].metrics[2]; // { metric: "networksEngaged", value, perSeed, min, max, sd, finite }
 * ```
 */
export function seedSpreadFromMaps(
  input: SeedSpreadInput,
  options: { alpha?: number } = {},
): SeedSpread {
  const { t, threshold, templates, layerCounts, seeds } = input;
  const K = t.rows, V = t.cols, alpha = options.alpha ?? 0.05;
  for (const [i, s] of seeds.entries()) {
    if (s.t.rows !== K || s.t.cols !== V || s.atoms.cols !== K) {
      throw new InputError("every seed's map and atoms must be the reference's shape", {
        field: `seeds[${i}]`,
        expected: `t ${K} × ${V}, atoms with ${K} columns`,
        found: `t ${s.t.rows} × ${s.t.cols}, atoms with ${s.atoms.cols} columns`,
      });
    }
  }
  const sizes = partSizes(mapParts(t.data, V, threshold), K);
  const perSeed = seeds.map((s) =>
    organizationOfParts(
      { rows: K, cols: V, data: sizedParts(s.t, sizes, threshold) },
      threshold,
      templates,
      s.atoms,
      layerCounts,
      alpha,
    )
  );
  return {
    seeds: seeds.map((s) => s.seed),
    templates: templates.map((tpl, j) => {
      const S = seeds.length;
      const linkedIn = tpl.matches.map((_, c) =>
        perSeed.reduce((a, p) => a + (p[j].matches[c].linked ? 1 : 0), 0)
      );
      return {
        name: tpl.name,
        links: reappearingLinks(tpl.matches, linkedIn, S),
        metrics: BOOTSTRAP_METRICS.map((name): SeedMetricSpread => {
          const value = metricByName(tpl.metrics, name);
          const values = perSeed.map((p) => metricByName(p[j].metrics, name));
          return { metric: name, value, perSeed: values, ...spreadOf([value, ...values]) };
        }),
      };
    }),
  };
}

/**
 * A model's spread across seeds: each seed's atoms encoded into a group t
 * map by `groupT` (the caller's encoding, without a null), then
 * {@linkcode seedSpreadFromMaps}. Memory: one seed's encoding at a time,
 * and each seed's t map (K × V float32).
 *
 * @param seeds the extra seeds' aligned atoms ({@linkcode seedAtomsOf})
 * @param groupT encodes every subject with a seed's atoms (T × K) and returns the group t (K × V)
 * @param reference the reference's t, threshold, matchers and layer counts
 * @param options the links' level. Default: 0.05.
 */
export async function modelSeedSpread(
  seeds: readonly SeedAtoms[],
  groupT: (atoms: Matrix) => Promise<Matrix>,
  reference: Omit<SeedSpreadInput, "seeds">,
  options: { alpha?: number } = {},
): Promise<SeedSpread> {
  const maps: SeedMap[] = [];
  for (const s of seeds) maps.push({ ...s, t: await groupT(s.atoms) });
  return seedSpreadFromMaps({ ...reference, seeds: maps }, options);
}
