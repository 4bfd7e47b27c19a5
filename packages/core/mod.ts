/**
 * The brainorg pipeline: stimulus → activations → time series → atoms →
 * maps → networks → report. Today it holds the stimulus and data-check steps
 * and the built-in demo that runs them.
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
