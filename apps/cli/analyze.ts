/**
 * `brainorg analyze`: the main job. Without inputs it runs the built-in demo.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { basename, join } from "node:path";
import { unreadableFile } from "@brainorg/common";
import { parseAnalysisConfig, runAnalysis, runDemo } from "@brainorg/core";
import {
  COMPUTE_HELP,
  COMPUTE_OPTIONS,
  computeSettings,
  DATA_OPTIONS,
  dataSettings,
  wholeNumber,
} from "./args.ts";
import { UsageError } from "./usage_error.ts";

export const ANALYZE_HELP =
  `brainorg analyze — find brain-like functional organization in a language model

Usage:
  deno task analyze [options]          run the built-in demo (Alice story, 28 subjects,
                                       stories260K and a random-weights control, a phantom)
  deno task analyze --config FILE      analyse your own story, models and fMRI, described in a
                                       JSON file (see the README, "Your own data")

Options:
  --config FILE     an analysis file (JSON): transcript, timing, GGUF models, subjects' 4-D
                    NIfTI and mask, network templates, atoms, permutations, seed
  --out DIR         results folder to write (default: results/demo, or results/<config name>);
                    replaced atomically
  --data-dir DIR    folder holding the reference data (see 'deno task data where')
  --offline         never download reference data (same as BRAINORG_OFFLINE=1)
  --cache-dir DIR   downloads and model activations are cached here (default:
                    $BRAINORG_CACHE, else $XDG_CACHE_HOME/brainorg, else ~/.cache/brainorg)
${COMPUTE_HELP}
  --permutations N  circular shifts per subject for the ROI p-values (default: 200)
  --voxel-permutations N
                    circular shifts of the voxel-level null (default: 100)
  --phantom-subjects N
                    subjects of the voxel-level phantom (default: 6)
  --no-phantom      skip the voxel level
  --seed N          seed of every random choice (default: 0)
  --atoms K         atoms per model (default: 16)
  --quiet           print nothing but errors
  -h, --help        this help

What the demo does (measured on a 2-core machine: 4.5 minutes the first time, under 1.5 with a warm cache;
the model activations, the phantom and the voxel results are cached):
 1. builds the story's TR-grid word-rate regressor from its TextGrid and checks
    it against the authors'; checks every subject's ROI data (excluding
    unusable ones with the reason);
 2. fits the baseline encoding model (the authors' word-rate and sound-power
    regressors → each ROI; ridge CV, held-out r, permutation p-values, FDR);
 3. runs stories260K and a random-weights control over the story, records every
    FFN down_proj unit per word, learns 16 atoms from their time series and
    tests the atoms (with and without the baseline) on every ROI;
 4. generates a voxel-level phantom (stories260K's atoms planted on Yeo-7
    networks, 6 subjects, fMRI-like noise), encodes every voxel from each
    model's atoms, builds group maps, links atoms to Yeo-7 and Giles networks
    with a shifted-regressor null, computes diversity and consistency, and
    scores the links against the planted truth.
Results: summary.json, CSV tables, NIfTI maps and report.html in --out.

Exit codes: 0 done, 1 unexpected failure, 2 bad usage, 3 bad input file,
4 reference data missing or corrupt, 5 results or cache folder not writable
(read-only, full disk, no permission).
`;

/** Run `analyze` with the arguments after the subcommand. */
export async function analyzeCommand(args: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        out: { type: "string" },
        config: { type: "string" },
        ...DATA_OPTIONS,
        ...COMPUTE_OPTIONS,
        permutations: { type: "string", default: "200" },
        "voxel-permutations": { type: "string", default: "100" },
        "phantom-subjects": { type: "string", default: "6" },
        "no-phantom": { type: "boolean", default: false },
        seed: { type: "string", default: "0" },
        atoms: { type: "string", default: "16" },
        quiet: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
      allowPositionals: false,
    }));
  } catch (err) {
    throw new UsageError((err as Error).message, ANALYZE_HELP);
  }
  if (values.help) {
    console.log(ANALYZE_HELP);
    return 0;
  }
  const compute = computeSettings(values, ANALYZE_HELP);
  const permutations = wholeNumber("permutations", values.permutations, 0, ANALYZE_HELP);
  const voxelPermutations = wholeNumber(
    "voxel-permutations",
    values["voxel-permutations"],
    2,
    ANALYZE_HELP,
  );
  const phantomSubjects = wholeNumber(
    "phantom-subjects",
    values["phantom-subjects"],
    3,
    ANALYZE_HELP,
  );
  const atoms = wholeNumber("atoms", values.atoms, 1, ANALYZE_HELP);
  if (atoms < 7 && !values["no-phantom"]) {
    throw new UsageError(
      `--atoms must be ≥ 7 for the phantom, which plants 7 atoms (or add --no-phantom): ` +
        `current value is "${values.atoms}"`,
      ANALYZE_HELP,
    );
  }
  const seed = wholeNumber("seed", values.seed, 0, ANALYZE_HELP);
  if (values.config) {
    let text: string;
    try {
      text = await Deno.readTextFile(values.config);
    } catch (err) {
      throw unreadableFile(values.config, err);
    }
    const config = parseAnalysisConfig(text, values.config);
    await runAnalysis(config, {
      outDir: values.out ?? join("results", basename(values.config).replace(/\.json$/i, "")),
      data: dataSettings(values),
      ...compute,
      quiet: values.quiet,
      command: ["analyze", ...args],
    });
    return 0;
  }
  await runDemo({
    outDir: values.out ?? "results/demo",
    data: dataSettings(values),
    quiet: values.quiet,
    ...compute,
    permutations,
    seed,
    atoms,
    phantom: !values["no-phantom"],
    phantomSubjects,
    voxelPermutations,
    command: ["analyze", ...args],
  });
  return 0;
}
