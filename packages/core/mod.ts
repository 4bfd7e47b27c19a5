/**
 * The brainorg pipeline, in data-flow order: stimulus → activations → time
 * series → atoms → encoding (ROIs, voxels) → networks → organization →
 * report, run by one function on an analysis file ({@linkcode runAnalysis});
 * the built-in demo is such a file ({@linkcode runDemo}). Also the
 * statistics, the phantom, the options' schema and the results' schema.
 *
 * @example
 * ```ts
 * import { runDemo } from "@brainorg/core";
 * const summary = await runDemo({ outDir: "/tmp/brainorg-demo", quiet: true });
 * console.log(summary.rois?.subjects.filter((s) => !s.usable));
 * ```
 *
 * @module
 */

export * from "./analysis_config.ts";
export * from "./options.ts";
export * from "./options_docs.ts";
export * as schema from "./options_schema.ts";
export * from "./pipeline.ts";
export * from "./demo.ts";
export * from "./stimulus.ts";
export * from "./stories.ts";
export * from "./bids_input.ts";
export * from "./subject_confounds.ts";
export * from "./capture_atoms.ts";
export * from "./model_atoms.ts";
export * from "./stability.ts";
export * from "./members.ts";
export { ablateSubgroups, ablationStats, matchedRandomAns, subgroupAns } from "./ablation.ts";
export type { AblateOptions, AtomAblation, ModelAblation } from "./ablation.ts";
export * from "./rois.ts";
export * from "./roi_encoding.ts";
export * from "./voxel_data.ts";
export * from "./voxels.ts";
export * from "./clean.ts";
export * from "./voxel_encoding.ts";
export * from "./voxel_analysis.ts";
export * from "./noise_ceiling.ts";
export * from "./templates.ts";
export * from "./networks.ts";
export * from "./spatial_null.ts";
export * from "./shard_plan.ts";
export * from "./block_result.ts";
export * from "./block_cache.ts";
export * from "./shard_voxels.ts";
export * from "./voxel_blocks.ts";
export * from "./voxel_spill.ts";
export * from "./organization.ts";
export * from "./bootstrap.ts";
export * from "./bootstrap_files.ts";
export * from "./seed_spread.ts";
export * from "./variance_partition.ts";
export * from "./phantom.ts";
export * from "./phantom_files.ts";
export * from "./phantom_bids.ts";
export * from "./stats.ts";
export * from "./results.ts";
export * from "./results_writer.ts";
export * from "./report.ts";
export * from "./report_maps.ts";
export * from "./report_maps_read.ts";
export * from "./report_surfaces.ts";
export * from "./niivue_script.ts";
export * from "./report_viewer.ts";
export * from "./csv.ts";

// Types from the other packages that core's API takes or returns.
export type { Provenance, ProvenanceInput } from "@brainorg/common";
export type { LocationOptions, ResolveOptions } from "@brainorg/datasets";
export type {
  Backend,
  BackendInfo,
  GemmOptions,
  LassoBatch,
  LassoBatchResult,
  Matrix,
  MatrixView,
} from "@brainorg/kernels";
export type { UnitKind } from "@brainorg/models";
export type {
  Affine,
  BrainMask,
  DroppedVoxel,
  Grid,
  NetworkTemplate,
  Transcript,
  VoxelSubjectVerdict,
  WordDesign,
  WordEvent,
} from "@brainorg/neuro";
export type {
  Cursor,
  Infer,
  ObjectSpec,
  ObjectValue,
  Presence,
  Renamed,
  Simplify,
  Spec,
} from "./options_schema.ts";
