/**
 * Brain data and story timing in, brain maps out: NIfTI-1/2 reading and
 * NIfTI-1 writing, maskers, resampling through affines, network templates
 * (label atlases and continuous maps), ROI time-course tables and voxel
 * series with quality checks (non-finite, constant, lost volumes),
 * transcripts (TextGrid, CSV/TSV, Gentle) and word events → TR-grid
 * regressors (HRF convolution, Lanczos, FIR).
 *
 * @example
 * ```ts
 * import { applyDesign, buildWordDesign, readTranscript } from "@brainorg/neuro";
 * const t = await readTranscript("story.TextGrid");
 * const design = buildWordDesign(t, { tr: 2, runs: [{ volumes: 362, discarded: 10 }] });
 * const wordRate = applyDesign(design, new Float32Array(t.words.length).fill(1)); // (362, 1)
 * ```
 *
 * @module
 */

// Files whose exports are listed by name also hold helpers that only this
// package uses (the shape format of error messages, the gamma density).

export * from "./affine.ts";
export {
  type Grid,
  gridOf,
  type NiftiDatatype,
  type NiftiImage,
  volumeCount,
  voxelsPerVolume,
} from "./nifti_image.ts";
export * from "./nifti_read.ts";
export * from "./nifti_masked.ts";
export * from "./nifti_write.ts";
export * from "./masker.ts";
export * from "./resample.ts";
export * from "./transcript.ts";
export { type GammaDifference, hrfAt, HRFS, logGamma, sampleHrf } from "./hrf.ts";
export * from "./tr_grid.ts";
export * from "./roi_table.ts";
export * from "./series_checks.ts";
export * from "./voxel_subjects.ts";
export * from "./atlas.ts";
export * from "./smooth.ts";
export * from "./variogram_surrogates.ts";
export * from "./bids.ts";
export * from "./confounds.ts";
export * from "./mz3.ts";
export * from "./surface_sampling.ts";
