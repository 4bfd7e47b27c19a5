/**
 * The brainorg pipeline: stimulus → activations → time series → atoms →
 * maps → networks → report: the Alice stimulus and ROI analysis, model
 * atoms, voxel-wise encoding with permutation nulls, group maps, network
 * matching, organization metrics, the phantom, and the built-in demo.
 *
 * @example
 * ```ts
 * import { runDemo } from "@brainorg/core";
 * const summary = await runDemo({ outDir: "/tmp/brainorg-demo", quiet: true });
 * console.log(summary.subjects.filter((s) => !s.usable));
 * ```
 *
 * @module
 */

export * from "./alice.ts";
export * from "./csv.ts";
export * from "./demo.ts";
export * from "./stats.ts";
export * from "./roi_encoding.ts";
export * from "./model_atoms.ts";
export * from "./report.ts";
export * from "./alice_atoms.ts";
export * from "./capture_atoms.ts";
export * from "./clean.ts";
export * from "./voxel_encoding.ts";
export * from "./networks.ts";
export * from "./organization.ts";
export * from "./phantom.ts";
export * from "./phantom_files.ts";
export * from "./voxel_analysis.ts";
export * from "./demo_voxels.ts";
export * from "./analysis_config.ts";
export * from "./run_analysis.ts";
export * from "./stimulus_files.ts";
export * from "./roi_analysis.ts";
