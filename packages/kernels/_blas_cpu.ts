/**
 * What the CPU says about the kernels it runs (/proc/cpuinfo's vendor,
 * model and flags), and the OpenBLAS core types that follow from it: the
 * one brainorg names, the ones the CPU cannot run, the ones worth timing.
 * Re-exported by blas_ffi.ts, whose name the bench and the tests import.
 *
 * @module
 */

/**
 * /proc/cpuinfo, read through libc: Deno asks for --allow-all to read /proc
 * itself, while --allow-ffi, which this module needs anyway, already grants
 * as much. "" where there is none (not Linux, no FFI).
 *
 * @returns the file's text (its first MiB: the first processor's block is
 *   what counts), or ""
 *
 * @example
 * ```ts
 * import { parseCpuInfo, readCpuInfo } from "./blas_ffi.ts";
 * console.log(parseCpuInfo(readCpuInfo()).modelName); // e.g. "AMD EPYC 7B13"
 * ```
 */
export function readCpuInfo(): string {
  try {
    return Deno.readTextFileSync("/proc/cpuinfo");
  } catch { /* needs --allow-all; try libc */ }
  try {
    const libc = Deno.dlopen("libc.so.6", {
      open: { parameters: ["buffer", "i32"], result: "i32" },
      read: { parameters: ["i32", "buffer", "usize"], result: "isize" },
      close: { parameters: ["i32"], result: "i32" },
    });
    try {
      const fd = libc.symbols.open(new TextEncoder().encode("/proc/cpuinfo\0"), 0);
      if (fd < 0) return "";
      // /proc files come in pieces of at most a page or so per read().
      const buf = new Uint8Array(1 << 20);
      let used = 0;
      while (used < buf.length) {
        const n = Number(libc.symbols.read(fd, buf.subarray(used), BigInt(buf.length - used)));
        if (n <= 0) break;
        used += n;
      }
      libc.symbols.close(fd);
      return new TextDecoder().decode(buf.subarray(0, used));
    } finally {
      libc.close();
    }
  } catch {
    return "";
  }
}

/** What /proc/cpuinfo says about the first processor. */
export interface CpuInfo {
  /** `vendor_id`: `GenuineIntel`, `AuthenticAMD`, `HygonGenuine`; "" where absent (ARM). */
  vendor: string;
  /** `model name`, e.g. `AMD EPYC 9R14`; "" where absent. */
  modelName: string;
  /** `cpu family`: 6 for most Intel, 23 Zen 1/2, 25 Zen 3/4, 26 Zen 5; undefined where absent. */
  family?: number;
  /** `model`; undefined where absent. */
  model?: number;
  /** Every flag of the `flags` line; empty where there is none (ARM says `Features`). */
  flags: string[];
}

/**
 * The first processor's vendor, model and flags from /proc/cpuinfo's text.
 *
 * @param text the file's text (from {@linkcode readCpuInfo}); "" gives an
 *   empty description
 * @returns the fields found; absent ones empty or undefined
 *
 * @example
 * ```ts
 * import { parseCpuInfo } from "./blas_ffi.ts";
 * const cpu = parseCpuInfo("vendor_id\t: AuthenticAMD\ncpu family\t: 25\nflags\t\t: fma avx2\n");
 * console.log(cpu.vendor, cpu.family, cpu.flags); // AuthenticAMD 25 ["fma", "avx2"]
 * ```
 */
export function parseCpuInfo(text: string): CpuInfo {
  const first = text.split(/\n\s*\n/)[0];
  const field = (name: string) =>
    new RegExp(`^${name}\\s*:(.*)$`, "m").exec(first)?.[1].trim() ?? "";
  const num = (name: string) => {
    const v = field(name);
    return v === "" || !Number.isFinite(Number(v)) ? undefined : Number(v);
  };
  return {
    vendor: field("vendor_id"),
    modelName: field("model name"),
    family: num("cpu family"),
    model: num("model"),
    flags: field("flags").split(/\s+/).filter((f) => f !== ""),
  };
}

const AVX512 = ["avx512f", "avx512bw", "avx512vl"];
const AVX2 = ["avx2", "fma"];

/**
 * The instructions an OpenBLAS core type's kernels execute, for the core
 * types whose kernels need more than SSE (lower case, as OpenBLAS compares
 * names without case).
 */
const CORE_NEEDS: Record<string, string[]> = {
  skylakex: AVX512,
  cooperlake: AVX512,
  sapphirerapids: AVX512,
  haswell: AVX2,
  zen: AVX2,
  sandybridge: ["avx"],
};

/**
 * The OpenBLAS core type brainorg names for a CPU (`OPENBLAS_CORETYPE`),
 * from its vendor and flags:
 *
 * | CPU                                           | core type                   |
 * | --------------------------------------------- | --------------------------- |
 * | avx512f, avx512bw and avx512vl (Intel or AMD) | `SkylakeX`                  |
 * | AMD or Hygon with avx2 and fma (Zen 1–3)      | `Zen`                       |
 * | other vendors with avx2 and fma               | `Haswell`                   |
 * | anything else                                 | undefined: OpenBLAS detects |
 *
 * These are the core types OpenBLAS 0.3.21 (Debian 12's) picks itself on
 * the CPUs it knows (driver/others/dynamic.c): Zen for AMD families 0x17
 * and 0x18 and for 0x19 without AVX-512; for 0x19 with AVX-512 (Zen 4)
 * Cooperlake (SkylakeX's SGEMM kernels plus BF16 ones) or SkylakeX.
 * Naming it matters where OpenBLAS does not know the CPU, as on a
 * hypervisor's model numbers (on the project's Intel VM numpy's OpenBLAS
 * ran 2048³ at 41 GFLOP/s as it detected, at 219 with SkylakeX).
 * Cooperlake is never named: 0.3.21's `OPENBLAS_CORETYPE` parser stops one
 * name short of it.
 *
 * Measured through Debian's OpenBLAS 0.3.21 on an AMD EPYC with AVX-512
 * (family 26, Zen 5, which 0.3.21 does not know and serves by its flags as
 * Cooperlake), numpy matmul on 2 threads, best of 4 interleaved runs,
 * GFLOP/s at 2048³ / (64×300)·(300×26,000) / (300×64)·(64×26,000):
 * SkylakeX 363 / 275 / 253, Cooperlake 357 / 278 / 244, Haswell 204 / 169 /
 * 156, Zen 201 / 165 / 140. Zen and Haswell share their SGEMM kernel and
 * differ in block sizes and copy routines, within the noise of that shared
 * machine; Zen is OpenBLAS's own choice on AVX2-only AMD CPUs. Where
 * OpenBLAS's own detection is faster after all, `loadBlas`'s
 * timed probe finds it (OpenBLAS reads the core type once, when the library
 * loads, so each candidate is timed in a process of its own).
 *
 * @param cpu the CPU (from {@linkcode parseCpuInfo})
 * @returns the core type, or undefined to leave OpenBLAS to detect
 *
 * @example
 * ```ts
 * import { openBlasCoreType, parseCpuInfo } from "./blas_ffi.ts";
 * openBlasCoreType(parseCpuInfo("vendor_id : AuthenticAMD\nflags : fma avx2\n")); // "Zen"
 * ```
 */
export function openBlasCoreType(cpu: CpuInfo): string | undefined {
  const flags = new Set(cpu.flags);
  const all = (need: string[]) => need.every((f) => flags.has(f));
  if (all(AVX512)) return "SkylakeX";
  if (all(AVX2)) return /^(AuthenticAMD|HygonGenuine)$/.test(cpu.vendor) ? "Zen" : "Haswell";
  return undefined;
}

/**
 * Why a core type would crash on this CPU: its kernels use instructions
 * the CPU lacks, and OpenBLAS, told to use them, stops the process with an
 * illegal instruction (SIGILL) at the first product.
 *
 * @param coreType an `OPENBLAS_CORETYPE` value (any case)
 * @param cpu the CPU (from {@linkcode parseCpuInfo}); without flags (not
 *   read, or not x86) nothing is claimed
 * @returns the reason, or undefined when the core type can run (or is not
 *   one whose needs are known)
 *
 * @example
 * ```ts
 * import { coreTypeConflict, parseCpuInfo } from "./blas_ffi.ts";
 * coreTypeConflict("SkylakeX", parseCpuInfo("flags : fma avx2\n")); // "OPENBLAS_CORETYPE=SkylakeX …"
 * ```
 */
export function coreTypeConflict(coreType: string, cpu: CpuInfo): string | undefined {
  const need = CORE_NEEDS[coreType.toLowerCase()];
  if (!need || cpu.flags.length === 0) return undefined;
  const missing = need.filter((f) => !cpu.flags.includes(f));
  if (missing.length === 0) return undefined;
  const name = [cpu.modelName, cpu.vendor].filter((s) => s !== "").join(", ") || "unnamed";
  const own = openBlasCoreType(cpu);
  return `OPENBLAS_CORETYPE=${coreType} selects kernels that need ${need.join(", ")}, ` +
    `but this CPU (${name}) lacks ${missing.join(", ")}: OpenBLAS would stop the process ` +
    `with an illegal instruction (SIGILL). Unset OPENBLAS_CORETYPE${
      own ? ` (brainorg then names ${own})` : ""
    } or name a core type this CPU runs`;
}

/**
 * The core types worth timing on a CPU: the one brainorg names, then
 * OpenBLAS's own detection (null). Never one whose instructions the CPU
 * lacks ({@linkcode coreTypeConflict}): its child would die of SIGILL.
 *
 * @param cpu the CPU (from {@linkcode parseCpuInfo})
 * @param named the core type brainorg names. Default: {@linkcode openBlasCoreType}'s
 * @returns `[named, null]`, or `[null]` where none is named or it cannot run
 *
 * @example
 * ```ts
 * import { coreTypeCandidates, parseCpuInfo } from "./blas_ffi.ts";
 * coreTypeCandidates(parseCpuInfo("vendor_id : AuthenticAMD\nflags : fma avx2\n")); // ["Zen", null]
 * ```
 */
export function coreTypeCandidates(
  cpu: CpuInfo,
  named: string | undefined = openBlasCoreType(cpu),
): (string | null)[] {
  return named && !coreTypeConflict(named, cpu) ? [named, null] : [null];
}
