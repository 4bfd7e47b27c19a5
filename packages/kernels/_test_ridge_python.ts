/** Test support: python references of ridge problems, fed as a JSON file. */

import { join } from "node:path";
import { runPython } from "../../test/python.ts";
import type { Matrix } from "./matrix.ts";

/** A ridge problem as the python references read it. */
export interface RidgeProblem {
  /** Samples, features, targets and CV folds. */
  n: number;
  p: number;
  v: number;
  folds: number;
  /** Penalties to score. */
  alphas: number[];
  /** Regressors (n × p) and targets (n × v), row-major. */
  x: Matrix;
  y: Matrix;
}

/**
 * Runs `script` with the problem written as JSON (`{n, p, v, folds, alphas,
 * x, y}`, x and y flat row-major lists) to a temporary file, its path the
 * script's `sys.argv[1]`; a file because the matrices outgrow a command line.
 * Returns what the script printed as JSON.
 */
export async function runRidgePython<T>(
  script: string,
  problem: RidgeProblem,
  modules: string[] = ["numpy"],
): Promise<T> {
  const { n, p, v, folds, alphas, x, y } = problem;
  const dir = await Deno.makeTempDir();
  try {
    const file = join(dir, "in.json");
    await Deno.writeTextFile(
      file,
      JSON.stringify({ n, p, v, folds, alphas, x: [...x.data], y: [...y.data] }),
    );
    return await runPython<T>(script, [file], modules);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
