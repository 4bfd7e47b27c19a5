/**
 * Checks shared by the commands' options.
 *
 * @module
 */

import { UsageError } from "./usage_error.ts";

/** A whole number ≥ `min` from an option's text, or a usage error naming the option. */
export function wholeNumber(name: string, text: string, min: number, help: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) {
    throw new UsageError(
      `--${name} must be a whole number ≥ ${min}: current value is "${text}"`,
      help,
    );
  }
  return n;
}

/** One of `choices`, or a usage error listing them. */
export function oneOf<T extends string>(
  name: string,
  text: string,
  choices: readonly T[],
  help: string,
): T {
  if (!(choices as readonly string[]).includes(text)) {
    throw new UsageError(
      `--${name} must be ${choices.slice(0, -1).join(", ")} or ${
        choices.at(-1)
      }: current value is "${text}"`,
      help,
    );
  }
  return text as T;
}

/** The data-layer options every command takes. */
export const DATA_OPTIONS = {
  "data-dir": { type: "string" },
  "cache-dir": { type: "string" },
  offline: { type: "boolean", default: false },
} as const;

/** Data-layer settings from parsed options. */
export function dataSettings(
  values: { "data-dir"?: string; "cache-dir"?: string; offline?: boolean },
) {
  return {
    dataDir: values["data-dir"],
    ...(values["cache-dir"] ? { cacheDir: values["cache-dir"] } : {}),
    ...(values.offline ? { download: false } : {}),
  };
}

/** The compute options every computing command takes. */
export const COMPUTE_OPTIONS = {
  backend: { type: "string", default: "auto" },
  threads: { type: "string" },
} as const;

/** The help lines of {@linkcode COMPUTE_OPTIONS}. */
export const COMPUTE_HELP =
  `  --backend NAME    compute backend: auto, webgpu or cpu (default: auto: WebGPU on a
                    hardware adapter that passes the kernel self-check, else the CPU)
  --threads N       threads for products, LASSO and the null's refits (default: every
                    core, or $BRAINORG_THREADS); BRAINORG_BLAS=off|openblas|mlas|typescript
                    chooses the CPU's product library (default: OpenBLAS if it loads,
                    else MLAS from onnxruntime-node)`;

/** Backend and threads from parsed options, checked. */
export function computeSettings(
  values: { backend?: string; threads?: string },
  help: string,
): { backend: "auto" | "webgpu" | "cpu"; threads?: number } {
  const backend = oneOf(
    "backend",
    values.backend ?? "auto",
    ["auto", "webgpu", "cpu"] as const,
    help,
  );
  if (values.threads === undefined) return { backend };
  return { backend, threads: wholeNumber("threads", values.threads, 1, help) };
}
