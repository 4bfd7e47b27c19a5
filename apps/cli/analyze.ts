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
  deno task analyze [options]          run the built-in demo (Alice story, 28 subjects)

Options:
  --out DIR         results folder to write (default: results/demo); replaced atomically
  --data-dir DIR    folder holding the reference data (see 'deno task data where')
  --offline         never download reference data (same as BRAINORG_OFFLINE=1)
  --backend NAME    compute backend: auto, webgpu or cpu (default: auto)
  --quiet           print nothing but errors
  -h, --help        this help

What the demo does today: builds the story's TR-grid word-rate regressor from
its TextGrid, checks it against the authors' regressor for every subject, and
checks every subject's ROI data (excluding unusable ones with the reason).
The model steps (capture, dictionary learning, encoding, networks) are listed
as pending in results/demo/summary.json until they are built.

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
        offline: { type: "boolean", default: false },
        backend: { type: "string", default: "auto" },
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
  await runDemo({
    outDir: values.out,
    data: { dataDir: values["data-dir"], ...(values.offline ? { download: false } : {}) },
    quiet: values.quiet,
    command: ["analyze", ...args],
  });
  return 0;
}
