/**
 * The shapes of the bootstrap over subjects' results (`bootstrap.ts`
 * computes them), apart so that the results schema and the voxel results
 * can name them without importing the computation.
 *
 * @module
 */

/** One atom × sign → network cell and how often the bootstrap finds its link again. */
export interface LinkReappearance {
  /** The atom's index (0-based). */
  atom: number;
  /** +1: the atom's positive part; −1: its negative part. */
  sign: 1 | -1;
  /** The network's position in the template set (0-based). */
  network: number;
  /** The network's name. */
  networkName: string;
  /** Whether the full sample links it. */
  linked: boolean;
  /** Share of resamples in which the cell is linked, in [0, 1]. */
  reappearance: number;
}

/** An organization metric with its bootstrap percentile interval. */
export interface MetricInterval {
  /** The metric's name: a field of `OrganizationMetrics` (consistency's as `consistency.…`). */
  metric: string;
  /** The full sample's value. */
  value: number;
  /** Lower end of the percentile interval (NaN where no resample gives a finite value). */
  ciLow: number;
  /** Upper end of the percentile interval. */
  ciHigh: number;
  /** Resamples whose value is finite (consistency is NaN without a network of two links). */
  finite: number;
}

/** How reliably one atom × sign's thresholded map comes back. */
export interface MapReliability {
  /** The atom's index (0-based). */
  atom: number;
  /** +1: positive part; −1: negative part. */
  sign: 1 | -1;
  /** Voxels in the full sample's part. */
  voxels: number;
  /** Median over the part's voxels of the share of resamples in which each is in it again (NaN: empty part). */
  medianFrequency: number;
}

/** One template set's bootstrap. */
export interface TemplateBootstrap {
  /** The template set's name. */
  name: string;
  /** Every cell linked in the full sample or in at least one resample. */
  links: LinkReappearance[];
  /** Each organization metric with its interval. */
  metrics: MetricInterval[];
}

/** A model's voxel-level bootstrap over subjects. */
export interface VoxelBootstrap {
  /** Resamples B. */
  resamples: number;
  /** Seed of the draws. */
  seed: number;
  /** Coverage of the intervals. */
  level: number;
  /** Per template set: links' reappearance and metrics' intervals. */
  templates: TemplateBootstrap[];
  /** Per atom × sign with a non-empty part: its map's reliability. */
  maps: MapReliability[];
  /**
   * Per atom and voxel, the share of resamples in which the voxel is in the
   * atom's part of the full sample's sign there (positive where t ≥ 0):
   * (K × V), row-major.
   */
  frequency: Float32Array;
}
