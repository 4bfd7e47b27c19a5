/**
 * The shapes of the organization metrics' spread across dictionary seeds
 * (`seed_spread.ts` computes them), apart so that the results schema and
 * the voxel results can name them without importing the computation.
 *
 * @module
 */

import type { LinkReappearance } from "./bootstrap_types.ts";

/** An organization metric's value with each dictionary seed and its spread. */
export interface SeedMetricSpread {
  /** The metric's name: a field of `OrganizationMetrics` (consistency's as `consistency.…`). */
  metric: string;
  /** The reference dictionary's value (the voxel stage's own). */
  value: number;
  /** Per extra seed (in `SeedSpread.seeds`' order), its value (NaN where undefined). */
  perSeed: number[];
  /** Smallest finite value over the reference and the extra seeds (NaN: none finite). */
  min: number;
  /** Largest finite value over the reference and the extra seeds. */
  max: number;
  /** Sample SD (n − 1) of the finite values over the reference and the extra seeds (NaN: fewer than 2). */
  sd: number;
  /** Dictionaries (reference included) whose value is finite. */
  finite: number;
}

/** One template set's spread across seeds. */
export interface TemplateSeedSpread {
  /** The template set's name. */
  name: string;
  /**
   * Every cell linked with the reference or with at least one extra seed;
   * `reappearance`: the share of the extra seeds with which it is linked.
   */
  links: LinkReappearance[];
  /** Each organization metric's values and spread. */
  metrics: SeedMetricSpread[];
}

/** A model's spread across dictionary seeds. */
export interface SeedSpread {
  /** The extra seeds, in order (the reference's seed + 1 …). */
  seeds: number[];
  /** Per template set: links' reappearance and metrics' spread. */
  templates: TemplateSeedSpread[];
}
