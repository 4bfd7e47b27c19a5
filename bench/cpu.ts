/**
 * The CPU a benchmark ran on, for its report (so a figure can name its CPU),
 * and the numpy variants worth timing on it: OpenBLAS as installed, and
 * OpenBLAS with the core type brainorg's OpenBLAS runs, which is never one
 * whose instructions the CPU lacks (an AVX-512 core type on an AVX2 CPU
 * dies of SIGILL inside OpenBLAS).
 *
 * @module
 */

import os from "node:os";
import {
  coreTypeConflict,
  type CpuInfo,
  openBlasCoreType,
  parseCpuInfo,
  readCpuInfo,
} from "../packages/kernels/blas_ffi.ts";

/** The flags that decide which kernels a CPU can run. */
export const KERNEL_FLAGS = [
  "avx2",
  "fma",
  "avx512f",
  "avx512bw",
  "avx512vl",
  "avx512_bf16",
] as const;

/** A CPU as the bench reports it. */
export interface BenchCpu {
  /** `model name` (Linux), else Node's `os.cpus()` model; "unknown" where neither says. */
  model: string;
  /** `vendor_id`, e.g. `GenuineIntel`, `AuthenticAMD`; null where not reported. */
  vendor: string | null;
  /** `cpu family` and `model` numbers; null where not reported. */
  family: number | null;
  modelNumber: number | null;
  /** Logical cores the runtime sees. */
  cores: number;
  /** Each of {@linkcode KERNEL_FLAGS}: present or not; null where the OS reports no flags. */
  flags: Record<(typeof KERNEL_FLAGS)[number], boolean> | null;
  /** The OpenBLAS core type brainorg names for this CPU; null: it leaves OpenBLAS to detect. */
  openblasCoreType: string | null;
  /** `OPENBLAS_CORETYPE` as the bench found it, before brainorg set its own; null: unset. */
  openblasCoreTypeEnv: string | null;
  /** Why this CPU cannot run that core type (brainorg then declines OpenBLAS); null: it can. */
  openblasCoreTypeEnvConflict: string | null;
}

/**
 * Describe a CPU from /proc/cpuinfo's text (or, where there is none, from
 * what Node's `os` module says).
 *
 * @param text /proc/cpuinfo's text, or "" where there is none
 * @param env `OPENBLAS_CORETYPE` from the environment, if set
 * @returns the description
 *
 * @example
 * ```ts
 * import { describeCpu } from "./cpu.ts";
 * describeCpu("vendor_id : AuthenticAMD\nflags : fma avx2\n").openblasCoreType; // "Zen"
 * ```
 */
export function describeCpu(text: string, env?: string): BenchCpu {
  const cpu: CpuInfo = parseCpuInfo(text);
  let fallbackModel = "unknown";
  try {
    fallbackModel = os.cpus()[0]?.model.trim() || "unknown";
  } catch { /* no --allow-sys: the model stays unknown */ }
  const has = new Set(cpu.flags);
  return {
    model: cpu.modelName || fallbackModel,
    vendor: cpu.vendor || null,
    family: cpu.family ?? null,
    modelNumber: cpu.model ?? null,
    cores: navigator.hardwareConcurrency,
    flags: cpu.flags.length === 0
      ? null
      : Object.fromEntries(KERNEL_FLAGS.map((f) => [f, has.has(f)])) as BenchCpu["flags"],
    openblasCoreType: openBlasCoreType(cpu) ?? null,
    openblasCoreTypeEnv: env || null,
    openblasCoreTypeEnvConflict: env ? coreTypeConflict(env, cpu) ?? null : null,
  };
}

/**
 * This machine's CPU. Call it before a CPU backend is created: brainorg
 * sets `OPENBLAS_CORETYPE` in its own process when it loads OpenBLAS.
 */
export function thisCpu(): BenchCpu {
  let env: string | undefined;
  try {
    env = Deno.env.get("OPENBLAS_CORETYPE");
  } catch { /* no --allow-env: reported as unset */ }
  return describeCpu(readCpuInfo(), env);
}

/**
 * One line naming the CPU, for the printed report.
 *
 * @example
 * ```ts
 * import { cpuLine, describeCpu } from "./cpu.ts";
 * cpuLine(describeCpu("model name : AMD EPYC 7B13\nvendor_id : AuthenticAMD\nflags : fma avx2\n"));
 * // "CPU: AMD EPYC 7B13 (AuthenticAMD), 2 cores; avx2 fma; no avx512f avx512bw avx512vl
 * //  avx512_bf16; OpenBLAS core type brainorg names: Zen"
 * ```
 */
export function cpuLine(cpu: BenchCpu): string {
  const id = [
    cpu.vendor,
    cpu.family !== null ? `family ${cpu.family}` : null,
    cpu.modelNumber !== null ? `model ${cpu.modelNumber}` : null,
  ].filter((s) => s !== null).join(", ");
  const flags = cpu.flags
    ? [
      KERNEL_FLAGS.filter((f) => cpu.flags![f]).join(" ") || "none of the kernel flags",
      KERNEL_FLAGS.some((f) => !cpu.flags![f])
        ? `no ${KERNEL_FLAGS.filter((f) => !cpu.flags![f]).join(" ")}`
        : "",
    ].filter((s) => s !== "").join("; ")
    : "flags not reported";
  const core = cpu.openblasCoreType
    ? `OpenBLAS core type brainorg names: ${cpu.openblasCoreType}`
    : "brainorg leaves the OpenBLAS core type to OpenBLAS";
  const env = !cpu.openblasCoreTypeEnv
    ? ""
    : `; OPENBLAS_CORETYPE=${cpu.openblasCoreTypeEnv} set in the environment (${
      cpu.openblasCoreTypeEnvConflict
        ? "this CPU cannot run it: brainorg does not load OpenBLAS"
        : "brainorg uses it"
    })`;
  return `CPU: ${cpu.model}${id ? ` (${id})` : ""}, ${cpu.cores} cores; ${flags}; ${core}${env}`;
}

/** A way of running numpy's peers: a label for the report and the environment it adds. */
export interface NumpyVariant {
  impl: string;
  /** Added to the peer's environment; `OPENBLAS_CORETYPE` absent means OpenBLAS detects. */
  env: Record<string, string>;
}

/**
 * The OpenBLAS core type brainorg's own OpenBLAS runs on this CPU:
 * `OPENBLAS_CORETYPE` from the environment where the CPU can run it, else
 * the one brainorg names; null where it names none (OpenBLAS detects).
 * Where brainorg's timed probe found OpenBLAS's own detection faster, it
 * runs that instead, which numpy's "as installed" variant also runs
 * ({@linkcode coreCheckLine} says which).
 */
export function coreTypeInUse(cpu: BenchCpu): string | null {
  return cpu.openblasCoreTypeEnv && !cpu.openblasCoreTypeEnvConflict
    ? cpu.openblasCoreTypeEnv
    : cpu.openblasCoreType;
}

/**
 * The numpy variants to time on this CPU: OpenBLAS as installed (its own
 * detection), and with the core type brainorg's OpenBLAS runs
 * ({@linkcode coreTypeInUse}), so the peer can run the same kernels. No
 * variant names a core type the CPU cannot run.
 *
 * @param cpu the CPU ({@linkcode thisCpu})
 * @param what what is timed, e.g. `"numpy"`, `"numpy SVD ridge"`
 * @returns one or two variants
 *
 * @example
 * ```ts
 * import { describeCpu, numpyVariants } from "./cpu.ts";
 * numpyVariants(describeCpu("vendor_id : AuthenticAMD\nflags : fma avx2\n"), "numpy")
 *   .map((v) => v.impl); // ["numpy (OpenBLAS as installed)", "numpy (OPENBLAS_CORETYPE=Zen)"]
 * ```
 */
export function numpyVariants(cpu: BenchCpu, what: string): NumpyVariant[] {
  const out: NumpyVariant[] = [{ impl: `${what} (OpenBLAS as installed)`, env: {} }];
  const core = coreTypeInUse(cpu);
  if (core) {
    out.push({ impl: `${what} (OPENBLAS_CORETYPE=${core})`, env: { OPENBLAS_CORETYPE: core } });
  }
  return out;
}

/**
 * One line setting the OpenBLAS core brainorg's CPU backend runs, and how it
 * was chosen (with the probe's rates where it was timed), beside the core
 * numpy's OpenBLAS runs as threadpoolctl reports it: the check that
 * brainorg's core is no worse than numpy's.
 *
 * @param details the CPU backend's `info.details` (`products`, `core`, `coreTypeChoice`)
 * @param numpy the BLAS libraries numpy loaded (`api`, `core`, `via`); empty where unknown
 * @returns the line
 *
 * @example
 * ```ts
 * import { coreCheckLine } from "./cpu.ts";
 * coreCheckLine(
 *   { products: "openblas", core: "SkylakeX", coreTypeChoice: "probed (cached): SkylakeX 352.1 GFLOP/s, OpenBLAS's own (Cooperlake) 347.9 GFLOP/s → SkylakeX" },
 *   [{ api: "openblas", core: "Cooperlake", via: "threadpoolctl" }],
 * );
 * // "OpenBLAS core: brainorg runs SkylakeX (probed (cached): …); numpy's OpenBLAS runs Cooperlake (threadpoolctl)"
 * ```
 */
export function coreCheckLine(
  details: Record<string, unknown>,
  numpy: { api: string | null; core: string | null; via: string }[],
): string {
  const mine = details.products !== "openblas"
    ? `brainorg does not run OpenBLAS (products: ${details.products ?? "unknown"})`
    : `brainorg runs ${details.core ?? "unknown"}${
      details.coreTypeChoice ? ` (${details.coreTypeChoice})` : ""
    }`;
  const theirs = numpy.filter((b) => b.api === "openblas");
  const peer = theirs.length === 0
    ? "numpy's OpenBLAS core not reported"
    : `numpy's OpenBLAS runs ${
      theirs.map((b) => `${b.core ?? "an unknown core"} (${b.via})`).join(", ")
    }`;
  return `OpenBLAS core: ${mine}; ${peer}`;
}
