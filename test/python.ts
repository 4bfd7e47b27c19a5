/**
 * Runs reference computations in Python (Debian's python3 with numpy, scipy,
 * scikit-learn, nibabel) for tests that compare brainorg with the tools
 * users know. A test whose reference is missing is ignored, and says so;
 * with BRAINORG_REQUIRE_REFERENCES=1 (as in CI) it fails instead.
 *
 * @module
 */

import { reportMissing } from "./missing.ts";

const CANDIDATES = ["/usr/bin/python3", "python3"];

let found: string | null | undefined;

/** The first Python that imports all of `modules`, or null. */
export function findPython(modules: string[] = ["numpy"]): string | null {
  if (found !== undefined && modules.length <= 1) return found;
  for (const exe of CANDIDATES) {
    try {
      const r = new Deno.Command(exe, {
        args: ["-c", modules.map((m) => `import ${m}`).join(";")],
        stdout: "null",
        stderr: "null",
      }).outputSync();
      if (r.success) {
        if (modules.length <= 1) found = exe;
        return exe;
      }
    } catch { /* not installed */ }
  }
  if (modules.length <= 1) found = null;
  return null;
}

/**
 * Whether a reference test can run; prints a visible notice when it cannot.
 * Use as `Deno.test({ ignore: !havePython(["nibabel"], "nibabel round trip"), ... })`.
 */
export function havePython(modules: string[], what: string): boolean {
  if (findPython(modules) !== null) return true;
  return reportMissing(
    `REFERENCE MISSING: ${what} needs python3 with ${modules.join(", ")} ` +
      `(apt-get install python3-sklearn python3-nibabel); test ignored.`,
    "BRAINORG_REQUIRE_REFERENCES",
    `${what} needs python3 with ${modules.join(", ")}, required here`,
  );
}

/** Run a Python script with arguments; returns stdout parsed as JSON. */
export async function runPython<T = unknown>(
  script: string,
  args: string[] = [],
  modules: string[] = ["numpy"],
): Promise<T> {
  const exe = findPython(modules);
  if (!exe) throw new Error(`python3 with ${modules.join(", ")} is not installed`);
  const r = await new Deno.Command(exe, {
    args: ["-c", script, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const err = new TextDecoder().decode(r.stderr);
  if (!r.success) throw new Error(`python reference failed:\n${err}`);
  return JSON.parse(new TextDecoder().decode(r.stdout)) as T;
}
