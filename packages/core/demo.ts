/**
 * The built-in demo, an analysis file like any other
 * (`alice_demo.json`): the Alice story (Brennan et al. 2016) with its
 * timing checked against the authors' own word-rate regressor, the 28
 * subjects' ROI time courses with the authors' word rate and sound power as
 * a baseline, stories260K and its random-weights control, and a voxel
 * level on a phantom planted with stories260K's atoms on Yeo-7. Paths are
 * `data:` references to the registry's files. `runDemo` applies the demo's
 * settings (`--atoms`, `--seed`, …) to that file and runs the one pipeline.
 *
 * @module
 */

import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { ResolveOptions } from "@brainorg/datasets";
import type { Backend } from "@brainorg/kernels";
import { type AnalysisConfig, parseAnalysisConfig, withStimulus } from "./analysis_config.ts";
import { type CapturedModel, captureModelAtoms } from "./capture_atoms.ts";
import { type DemoSettings, resolveSettings } from "./options.ts";
import { resolveDataPaths, runAnalysis } from "./pipeline.ts";
import type { ResultsSummary } from "./results.ts";
import { prepareStimulus, type Stimulus } from "./stimulus.ts";
import type { VoxelAnalyzer } from "./voxel_analysis.ts";

/** The demo's analysis file. */
export const DEMO_FILE: string = join(dirname(fileURLToPath(import.meta.url)), "alice_demo.json");

/**
 * Options of {@linkcode runDemo}: where and how it runs, and the demo's
 * analysis settings ({@linkcode DemoSettings}: atoms, permutations, seed,
 * the phantom's subjects and null, …), each described once in `OPTIONS`
 * with its default for the demo.
 */
export interface DemoOptions extends Partial<DemoSettings> {
  /** Results folder to write (replaced atomically). */
  outDir: string;
  /** Where reference data is looked for and whether it may be downloaded. */
  data?: ResolveOptions;
  /** No progress output. Default: false. */
  quiet?: boolean;
  /** Compute backend. Default: `"auto"`. */
  backend?: "auto" | "cpu" | "webgpu";
  /** Threads for the CPU backend's products, LASSO, refits and capture. Default: every core. */
  threads?: number;
  /** The command line, for provenance. */
  command?: string[];
  /** Lines of the run's narrative (default: stderr unless quiet). */
  log?: (line: string) => void;
  /** Replaces the voxel encoding (sharded runs: `shard_voxels.ts`). Default: none. */
  voxelAnalyzer?: VoxelAnalyzer;
}

/**
 * The demo's analysis file with the demo's settings applied: the same
 * description `--config alice_demo.json` reads, checked the same way.
 *
 * @param settings the demo's settings, defaults filled in (`resolveSettings("demo", …)`)
 * @returns the analysis, `data:` paths still unresolved
 *
 * @example
 * ```ts
 * import { demoConfig, resolveSettings } from "@brainorg/core";
 * const config = await demoConfig(resolveSettings("demo", {}, { scope: "analysis" }));
 * console.log(config.rois?.subjects.length); // 28
 * ```
 */
export async function demoConfig(settings: DemoSettings): Promise<AnalysisConfig> {
  const raw = JSON.parse(await Deno.readTextFile(DEMO_FILE));
  raw.atoms = settings.atoms;
  raw.seed = settings.seed;
  raw.targetDensity = settings.targetDensity;
  raw.rois.permutations = settings.permutations;
  if (settings.phantom) {
    raw.voxels.permutations = settings.voxelPermutations;
    raw.voxels.voxelP = settings.voxelP;
    raw.voxels.phantom.subjects = settings.phantomSubjects;
    raw.voxels.phantom.r2 = settings.r2;
  } else delete raw.voxels;
  // The causal test is the demo's slowest step: on request only.
  if (!settings.ablation) delete raw.ablation;
  return withStimulus(parseAnalysisConfig(JSON.stringify(raw), DEMO_FILE));
}

/**
 * Run the demo: its analysis file, with the given settings, through the
 * one pipeline; writes the results folder.
 *
 * @returns the summary written to `outDir/summary.json`
 * @throws {OptionError} for a setting out of its range (before any work)
 *
 * @example
 * ```ts
 * import { runDemo } from "@brainorg/core/demo";
 * const summary = await runDemo({ outDir: "/tmp/brainorg-demo", atoms: 8, phantom: false });
 * for (const g of summary.rois?.models ?? []) console.log(g.model, g.roi, g.variant, g.meanR);
 * ```
 */
export async function runDemo(options: DemoOptions): Promise<ResultsSummary> {
  const log = options.log ?? ((l: string) => options.quiet || console.error(l));
  // The settings as run and as recorded: given values checked, defaults filled in.
  const settings = resolveSettings("demo", options, { scope: "analysis" });
  const config = await demoConfig(settings);
  log("brainorg demo: the Alice story (Brennan et al. 2016), 28 subjects, 6 ROIs");
  return await runAnalysis(config, {
    outDir: options.outDir,
    ...(options.data ? { data: options.data } : {}),
    ...(options.backend ? { backend: options.backend } : {}),
    ...(options.threads ? { threads: options.threads } : {}),
    ...(options.quiet !== undefined ? { quiet: options.quiet } : {}),
    ...(options.command ? { command: options.command } : {}),
    log,
    resolved: { demo: DEMO_FILE, ...settings },
    ...(options.voxelAnalyzer ? { voxelAnalyzer: options.voxelAnalyzer } : {}),
  });
}

/**
 * The demo's story on the scanner's grid, and its analysis file with the
 * reference paths resolved (for tools that reuse the demo's parts).
 */
export async function demoStimulus(
  data: ResolveOptions = {},
): Promise<{ config: AnalysisConfig; stimulus: Stimulus }> {
  const described = await demoConfig({
    ...resolveSettings("demo", {}, { scope: "analysis" }),
    phantom: false,
  });
  const { config } = await resolveDataPaths(described, data);
  return { config, stimulus: await prepareStimulus(config, described.stimulus.transcript) };
}

/**
 * The demo's models' atoms on its story (stimulus and capture only): what
 * the phantom command plants.
 *
 * @returns the models in the demo file's order (stories260K, then its control)
 */
export async function demoModelAtoms(
  backend: Backend,
  settings: { atoms: number; seed: number; targetDensity?: number },
  options: { data?: ResolveOptions; log?: (line: string) => void; quiet?: boolean } = {},
): Promise<CapturedModel[]> {
  const defaults = resolveSettings("demo", {}, { scope: "analysis" });
  const described = await demoConfig({ ...defaults, ...settings, phantom: false });
  const { config, sha256 } = await resolveDataPaths(described, options.data ?? {});
  const stimulus = await prepareStimulus(config, described.stimulus.transcript);
  return await captureModelAtoms(
    backend,
    stimulus,
    config.models.map((m) => ({
      ...m,
      ...(m.gguf && sha256.has(m.gguf) ? { sha256: sha256.get(m.gguf)! } : {}),
    })),
    {
      data: options.data ?? {},
      atoms: described.atoms,
      targetDensity: described.targetDensity,
      seed: described.seed,
      log: options.log ?? (() => {}),
      quiet: options.quiet ?? true,
    },
  );
}
