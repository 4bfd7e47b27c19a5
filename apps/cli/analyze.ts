/**
 * `brainorg analyze`: the main job. Without inputs it runs the built-in demo;
 * with `--config FILE`, the analysis that file describes.
 *
 * @module
 */

import { basename, join } from "node:path";
import { unreadableFile } from "@brainorg/common";
import {
  BIDS_DEFAULT_FILE,
  formatBidsPlan,
  OPTIONS,
  overrideAnalysisConfig,
  parseAnalysisConfig,
  planBids,
  resolveSettings,
  runAnalysis,
  runDemo,
  type VoxelAnalyzer,
} from "@brainorg/core";
import {
  ANALYZE,
  dataSettings,
  ENVIRONMENT_HELP,
  flagFailure,
  optionsHelp,
  readCommandLine,
} from "./args.ts";
import { UsageError } from "./usage_error.ts";

const DEMO_ATOMS = OPTIONS.atoms.modes.demo?.default;
const DEMO_SUBJECTS = OPTIONS.phantomSubjects.spec.default;

export const ANALYZE_HELP =
  `brainorg analyze — find brain-like functional organization in a language model

Usage:
  deno task analyze [options]          run the built-in demo (Alice story, 28 subjects,
                                       stories260K and a random-weights control, a phantom)
  deno task analyze --config FILE      analyse your own story, models and fMRI, described in a
                                       JSON file (see the README, "Your own data")
  deno task analyze --bids DIR [--list]
                                       analyse a BIDS dataset with fMRIPrep derivatives (see the
                                       README, "Narratives"); --list shows what would be used

${optionsHelp(ANALYZE)}

What the demo does (the model activations, the phantom and the voxel results are cached):
 1. builds the story's TR-grid word-rate regressor from its TextGrid and checks
    it against the authors'; checks every subject's ROI data (excluding
    unusable ones with the reason);
 2. fits the baseline encoding model (the authors' word-rate and sound-power
    regressors → each ROI; ridge CV, held-out r, permutation p-values, FDR);
 3. runs stories260K and a random-weights control over the story, records every
    FFN down_proj unit per word, learns ${DEMO_ATOMS} atoms from their time series and
    tests the atoms (with and without the baseline) on every ROI;
 4. generates a voxel-level phantom (stories260K's atoms planted on Yeo-7
    networks, ${DEMO_SUBJECTS} subjects, fMRI-like noise), encodes every voxel from each
    model's atoms, builds group maps, links atoms to Yeo-7 and Giles networks
    with a shifted-regressor null, computes diversity and consistency, and
    scores the links against the planted truth.
Results: summary.json, CSV tables, NIfTI maps and report.html in --out.

${ENVIRONMENT_HELP}

Exit codes: 0 done, 1 unexpected failure, 2 bad usage, 3 bad input file,
4 reference data missing or corrupt, 5 results or cache folder not writable
(read-only, full disk, no permission).
`;

/** How a sharded step runs the analysis (`shard.ts`): its voxel stage and results folder. */
export interface AnalyzeHooks {
  /** Replaces the voxel encoding; also means `--plan` is not acted on again. */
  voxelAnalyzer?: VoxelAnalyzer;
  /** Results folder instead of `--out`'s (a shard's never holds results). */
  outDir?: string;
  /** What `--plan` does (`shard.ts`'s `planCommand`, given by `main.ts`). */
  plan?: (args: string[], settings: PlanSettings) => Promise<number>;
}

/** The settings `--plan` is acted on with. */
export interface PlanSettings {
  plan?: string;
  local?: number;
  shardVoxels?: number;
  config?: string;
  quiet?: boolean;
}

/** Act on `--plan` where it is given and this run is not itself a sharded step. */
function planned(args: string[], s: PlanSettings, hooks: AnalyzeHooks) {
  if (s.plan === undefined || hooks.voxelAnalyzer) return undefined;
  if (!hooks.plan) throw new UsageError("--plan is acted on by the brainorg command", ANALYZE_HELP);
  return hooks.plan(args, s);
}

/** Run `analyze` with the arguments after the subcommand. */
export async function analyzeCommand(args: string[], hooks: AnalyzeHooks = {}): Promise<number> {
  const line = readCommandLine(args, ANALYZE, ANALYZE_HELP);
  if (line.help) {
    console.log(ANALYZE_HELP);
    return 0;
  }
  const command = ["analyze", ...args];
  if (line.mode === "config") {
    const s = resolveSettings("config", line.given, {
      scope: "run",
      fail: flagFailure("config", ANALYZE_HELP),
    });
    // --bids alone analyses the dataset with the default BIDS analysis file.
    const file = s.config ?? BIDS_DEFAULT_FILE;
    let text: string;
    try {
      text = await Deno.readTextFile(file);
    } catch (err) {
      throw unreadableFile(file, err);
    }
    // The flags that set the file's fields win over the file: the config run is the resolved one.
    const config = overrideAnalysisConfig(parseAnalysisConfig(text, file), line.overrides);
    if (s.list) {
      if (!config.bids) {
        throw new UsageError(
          "--list needs a BIDS dataset: --bids DIR, or bids in the file",
          ANALYZE_HELP,
        );
      }
      console.log(formatBidsPlan(await planBids(config)));
      return 0;
    }
    const plan = planned(args, s, hooks);
    if (plan) return await plan;
    const name = s.config ? basename(file).replace(/\.json$/i, "") : basename(config.bids!.root);
    await runAnalysis(config, {
      outDir: hooks.outDir ?? s.out ?? join("results", name),
      ...(hooks.voxelAnalyzer ? { voxelAnalyzer: hooks.voxelAnalyzer } : {}),
      data: dataSettings(s),
      backend: s.backend,
      ...(s.threads !== undefined ? { threads: s.threads } : {}),
      quiet: s.quiet,
      command,
    });
    return 0;
  }
  const fail = flagFailure("demo", ANALYZE_HELP);
  const s = resolveSettings("demo", line.given, { scope: "run", fail });
  const plan = planned(args, s, hooks);
  if (plan) return await plan;
  await runDemo({
    ...resolveSettings("demo", line.given, { scope: "analysis", fail }),
    outDir: hooks.outDir ?? s.out,
    ...(hooks.voxelAnalyzer ? { voxelAnalyzer: hooks.voxelAnalyzer } : {}),
    data: dataSettings(s),
    backend: s.backend,
    ...(s.threads !== undefined ? { threads: s.threads } : {}),
    quiet: s.quiet,
    command,
  });
  return 0;
}
