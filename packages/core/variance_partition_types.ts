/**
 * What variance partitioning records in `summary.json` and its tables: the
 * shapes alone, apart from the computation, so that `results.ts` can name
 * them without importing the voxel stage.
 *
 * @module
 */

/** One model × ROI across subjects. */
export interface RoiVarianceGroup {
  /** The model's name. */
  model: string;
  /** The ROI's name. */
  roi: string;
  /** Subjects averaged. */
  subjects: number;
  /** Mean held-out R² of the atoms with the low level (banded). */
  r2Joint: number;
  /** Mean held-out R² of the atoms alone. */
  r2Atoms: number;
  /** Mean held-out R² of the low level alone. */
  r2LowLevel: number;
  /** Mean unique R² of the atoms. */
  uniqueAtoms: number;
  /** One-sample t over subjects of the unique atoms R² (df = subjects − 1). */
  tUniqueAtoms: number;
  /** Mean unique R² of the low level. */
  uniqueLowLevel: number;
  /** One-sample t of the unique low-level R². */
  tUniqueLowLevel: number;
  /** Mean shared R². */
  shared: number;
  /** One-sample t of the shared R². */
  tShared: number;
}

/** One subject × ROI of one model: held-out R² of each model and the parts. */
export interface RoiVarianceRow {
  /** The model's name. */
  model: string;
  /** The subject's id. */
  subject: string;
  /** The ROI's name. */
  roi: string;
  /** R² of the atoms with the low level (banded). */
  r2Joint: number;
  /** R² of the atoms alone. */
  r2Atoms: number;
  /** R² of the low level alone. */
  r2LowLevel: number;
  /** r2Joint − r2LowLevel. */
  uniqueAtoms: number;
  /** r2Joint − r2Atoms. */
  uniqueLowLevel: number;
  /** r2Atoms + r2LowLevel − r2Joint. */
  shared: number;
}

/** What `summary.json` records of the ROI level's variance partitioning (`rois.variancePartition`). */
export interface RoiVariancePartition {
  /** The low-level band's regressors (the ROI baseline's names). */
  lowLevel: string[];
  /** Per-band penalty grid. */
  alphas: number[];
  /** Contiguous folds. */
  folds: number;
  /** The definition, in words. */
  definition: string;
  /** Every model × ROI. */
  group: RoiVarianceGroup[];
}

/** Per model, over voxels: what `summary.json` records of its variance partitioning. */
export interface VoxelVarianceSummary {
  /** The low-level band's regressors. */
  lowLevel: string[];
  /** Per-band penalty grid. */
  alphas: number[];
  /** Subjects averaged into the maps. */
  subjects: number;
  /** Median over voxels of the subject-mean joint R². */
  medianR2Joint: number;
  /** Median over voxels of the subject-mean unique atoms R². */
  medianUniqueAtoms: number;
  /** Median over voxels of the subject-mean unique low-level R². */
  medianUniqueLowLevel: number;
  /** Median over voxels of the subject-mean shared R². */
  medianShared: number;
  /** Share of voxels whose mean unique atoms R² is above 0. */
  positiveUniqueAtoms: number;
  /** The voxels with the highest joint R²: the top 5%, at least 1. */
  topVoxels: number;
  /** Median unique atoms R² over those voxels. */
  topMedianUniqueAtoms: number;
  /** Median unique low-level R² over those voxels. */
  topMedianUniqueLowLevel: number;
  /** Median shared R² over those voxels. */
  topMedianShared: number;
}

/** A model's voxel maps, each the mean over subjects (V). */
export interface VoxelVarianceMaps {
  /** The model's name. */
  model: string;
  /** The low-level band's regressors. */
  lowLevel: string[];
  /** Subjects averaged. */
  subjects: number;
  /** Held-out R² of the atoms with the low level (V). */
  r2Joint: Float32Array;
  /** Unique R² of the atoms (V). */
  uniqueAtoms: Float32Array;
  /** Unique R² of the low level (V). */
  uniqueLowLevel: Float32Array;
  /** Shared R² (V). */
  shared: Float32Array;
}
