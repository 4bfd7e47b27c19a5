/**
 * The system's BLAS (OpenBLAS on Debian) through Deno's FFI, for the CPU
 * backend's products. Deno only: loaded dynamically, never in a browser.
 *
 * OpenBLAS chooses its kernels from the CPU it detects; on virtual machines
 * whose CPU it does not recognise it falls back to generic kernels several
 * times slower. When `OPENBLAS_CORETYPE` is unset and the CPU reports
 * AVX-512 (or AVX2 with FMA), brainorg names the matching core type before
 * loading the library ({@linkcode openBlasCoreType}); one set in the
 * environment is kept unless the CPU cannot run it
 * ({@linkcode coreTypeConflict}). A product is then checked against the
 * reference; a library that disagrees is not used.
 *
 * @module
 */

import { gemmReference } from "./cpu_reference.ts";
import type { GemmOptions } from "./backend.ts";
import type { Matrix, MatrixView } from "./matrix.ts";
import { gemmShape } from "./backend.ts";

const CANDIDATES = ["libopenblas.so.0", "libopenblas.so", "libopenblas.dylib", "libblas.so.3"];

const SYMBOLS = {
  cblas_sgemm: {
    parameters: [
      "i32",
      "i32",
      "i32",
      "i32",
      "i32",
      "i32",
      "f32",
      "buffer",
      "i32",
      "buffer",
      "i32",
      "f32",
      "buffer",
      "i32",
    ],
    result: "void",
  },
} as const;

const OPTIONAL = {
  openblas_get_corename: { parameters: [], result: "pointer", optional: true },
  openblas_get_num_threads: { parameters: [], result: "i32", optional: true },
} as const;

/** A loaded BLAS. */
export interface Blas {
  /** The library file loaded. */
  library: string;
  /** OpenBLAS's core name (e.g. `SkylakeX`), or `"unknown"` for another BLAS. */
  core: string;
  /** Whether brainorg set `OPENBLAS_CORETYPE` itself. */
  coreTypeSetByBrainorg: boolean;
  threads: number;
  sgemm(a: MatrixView, b: MatrixView, options?: GemmOptions): Matrix;
  close(): void;
}

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
 * machine; Zen is OpenBLAS's own choice on AVX2-only AMD CPUs. A timed
 * probe cannot choose instead: OpenBLAS reads the core type once, when the
 * library loads, so each candidate would need its own process.
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
 * Load the system BLAS, or explain why it cannot be used.
 *
 * @param options.cpuInfo /proc/cpuinfo's text the core type is chosen
 *   from (default: this machine's, {@linkcode readCpuInfo}; tests pass
 *   another CPU's)
 * @returns the BLAS, or `{ reason }` when there is none usable (no FFI
 *   permission, no library, an `OPENBLAS_CORETYPE` this CPU cannot run, or
 *   a failed self-check)
 */
export function loadBlas(options: { cpuInfo?: string } = {}): Blas | { reason: string } {
  if (typeof Deno === "undefined" || typeof Deno.dlopen !== "function") {
    return { reason: "no FFI in this runtime" };
  }
  let coreTypeSetByBrainorg = false;
  try {
    const named = Deno.env.get("OPENBLAS_CORETYPE") || undefined;
    if (named || !Deno.env.get("BRAINORG_NO_CORETYPE")) {
      const cpu = parseCpuInfo(options.cpuInfo ?? readCpuInfo());
      if (named) {
        // A core type the CPU cannot run would kill this process, not fail a call.
        const conflict = coreTypeConflict(named, cpu);
        if (conflict) return { reason: conflict };
      } else {
        const guess = openBlasCoreType(cpu);
        if (guess) {
          Deno.env.set("OPENBLAS_CORETYPE", guess);
          coreTypeSetByBrainorg = true;
        }
      }
    }
  } catch { /* no env permission: leave OpenBLAS to detect */ }
  const errors: string[] = [];
  for (const name of CANDIDATES) {
    let lib;
    try {
      lib = Deno.dlopen(name, { ...SYMBOLS, ...OPTIONAL });
    } catch (err) {
      const msg = (err as Error).message;
      if (err instanceof Deno.errors.NotCapable || /permission|--allow-ffi/i.test(msg)) {
        return { reason: "FFI not permitted (run with --allow-ffi)" };
      }
      errors.push(`${name}: ${msg.split("\n")[0]}`);
      continue;
    }
    const corePtr = lib.symbols.openblas_get_corename?.();
    const core = corePtr ? Deno.UnsafePointerView.getCString(corePtr) : "unknown";
    const threads = lib.symbols.openblas_get_num_threads?.() ?? 1;
    const blas: Blas = {
      library: name,
      core,
      coreTypeSetByBrainorg,
      threads,
      sgemm(a, b, options = {}) {
        const { m, n, k } = gemmShape(a, b, options);
        const c = options.out ? options.out.subarray(0, m * n) : new Float32Array(m * n);
        if (c.length < m * n) {
          throw new RangeError(`gemm: out holds ${c.length} values; C needs ${m * n}`);
        }
        const aa = a.data.subarray(a.offset ?? 0), bb = b.data.subarray(b.offset ?? 0);
        lib.symbols.cblas_sgemm(
          101, // row-major
          options.transA ? 112 : 111,
          options.transB ? 112 : 111,
          m,
          n,
          k,
          1,
          aa,
          a.rowStride ?? a.cols,
          bb,
          b.rowStride ?? b.cols,
          0,
          c,
          n,
        );
        return { rows: m, cols: n, data: c };
      },
      close: () => lib.close(),
    };
    if (!selfCheck(blas)) {
      blas.close();
      errors.push(`${name}: self-check product disagreed with the reference`);
      continue;
    }
    return blas;
  }
  return { reason: `no usable BLAS (${errors.join("; ")})` };
}

function selfCheck(blas: Blas): boolean {
  let seed = 12345;
  const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32) - 0.5;
  const a = { rows: 67, cols: 71, data: Float32Array.from({ length: 67 * 71 }, rand) };
  const b = { rows: 67, cols: 53, data: Float32Array.from({ length: 67 * 53 }, rand) };
  const got = blas.sgemm(a, b, { transA: true });
  const want = gemmReference(a, b, { transA: true });
  for (let i = 0; i < want.data.length; i++) {
    if (!(Math.abs(got.data[i] - want.data[i]) <= 1e-4 * (1 + Math.abs(want.data[i])))) {
      return false;
    }
  }
  return true;
}
