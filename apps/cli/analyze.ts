/**
 * `brainorg analyze`: the main job. Without inputs it runs the built-in demo.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { runDemo } from "@brainorg/core";
import { UsageError } from "./usage_error.ts";

export const ANALYZE_HELP =
  `brainorg analyze — find brain-like functional organization in a language model

Usage:
  deno task analyze [options]          run the built-in demo (Alice story, 28 subjects,
                                       stories260K and a random-weights control)

Options:
  --out DIR         results folder to write (default: results/demo); replaced atomically
  --data-dir DIR    folder holding the reference data (see 'deno task data where')
  --offline         never download reference data (same as BRAINORG_OFFLINE=1)
  --cache-dir DIR   downloads and model activations are cached here (default:
                    $BRAINORG_CACHE, else $XDG_CACHE_HOME/brainorg, else ~/.cache/brainorg)
  --backend NAME    compute backend: auto, webgpu or cpu (default: auto: WebGPU on a
                    hardware adapter, else the CPU)
  --permutations N  circular-shift permutations per subject for p-values (default: 200)
  --seed N          seed of every random choice (default: 0)
  --atoms K         atoms per model (default: 16)
  --quiet           print nothing but errors
  -h, --help        this help

What the demo does today (about 1.5 minutes on 2 cores): builds the story's
TR-grid word-rate regressor from its TextGrid and checks it against the
authors'; checks every subject's ROI data (excluding unusable ones with the
reason); fits the baseline encoding model (the authors' word-rate and
sound-power regressors → each ROI; ridge CV, held-out r, permutation p-values,
FDR); runs stories260K and a random-weights control over the story, records
every FFN down_proj unit per word, learns 16 atoms from their time series and
tests the atoms (with and without the baseline) on every ROI. Voxel encoding
and network matching are listed as pending in results/demo/summary.json.

Exit codes: 0 done, 1 unexpected failure, 2 bad usage, 3 bad input file,
4 reference data missing or corrupt.
`;

/** Run `analyze` with the arguments after the subcommand. */
export async function analyzeCommand(args: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        out: { type: "string", default: "results/demo" },
        "data-dir": { type: "string" },
        "cache-dir": { type: "string" },
        offline: { type: "boolean", default: false },
        backend: { type: "string", default: "auto" },
        permutations: { type: "string", default: "200" },
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
  if (!["auto", "webgpu", "cpu"].includes(values.backend)) {
    throw new UsageError(
      `--backend must be auto, webgpu or cpu: current value is "${values.backend}"`,
      ANALYZE_HELP,
    );
  }
  const permutations = Number(values.permutations);
  if (!Number.isInteger(permutations) || permutations < 0) {
    throw new UsageError(
      `--permutations must be a whole number ≥ 0: current value is "${values.permutations}"`,
      ANALYZE_HELP,
    );
  }
  const atoms = Number(values.atoms), seed = Number(values.seed);
  if (!Number.isInteger(atoms) || atoms < 1) {
    throw new UsageError(
      `--atoms must be a whole number ≥ 1: current value is "${values.atoms}"`,
      ANALYZE_HELP,
    );
  }
  if (!Number.isInteger(seed) || seed < 0) {
    throw new UsageError(
      `--seed must be a whole number ≥ 0: current value is "${values.seed}"`,
      ANALYZE_HELP,
    );
  }
  await runDemo({
    outDir: values.out,
    data: {
      dataDir: values["data-dir"],
      ...(values["cache-dir"] ? { cacheDir: values["cache-dir"] } : {}),
      ...(values.offline ? { download: false } : {}),
    },
    quiet: values.quiet,
    backend: values.backend as "auto" | "cpu" | "webgpu",
    permutations,
    seed,
    atoms,
    command: ["analyze", ...args],
  });
  return 0;
}
