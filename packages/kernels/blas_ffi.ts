/**
 * The system's BLAS (OpenBLAS on Debian) through Deno's FFI, for the CPU
 * backend's products. Deno only: loaded dynamically, never in a browser.
 *
 * OpenBLAS chooses its kernels from the CPU it detects; on virtual machines
 * whose CPU it does not recognise it falls back to generic kernels several
 * times slower. When `OPENBLAS_CORETYPE` is unset and the CPU reports
 * AVX-512 (or AVX2 with FMA), brainorg names the matching core type before
 * loading the library, then checks a product against the reference; a
 * library that disagrees is not used.
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
 * as much.
 */
function readCpuInfo(): string {
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
      const buf = new Uint8Array(1 << 16);
      const n = Number(libc.symbols.read(fd, buf, BigInt(buf.length)));
      libc.symbols.close(fd);
      return n > 0 ? new TextDecoder().decode(buf.subarray(0, n)) : "";
    } finally {
      libc.close();
    }
  } catch {
    return "";
  }
}

function guessCoreType(): string | undefined {
  const flags = new Set((/^flags\s*:(.*)$/m.exec(readCpuInfo())?.[1] ?? "").trim().split(/\s+/));
  if (flags.has("avx512f") && flags.has("avx512bw") && flags.has("avx512vl")) return "SkylakeX";
  if (flags.has("avx2") && flags.has("fma")) return "Haswell";
  return undefined;
}

/**
 * Load the system BLAS, or explain why it cannot be used.
 *
 * @returns the BLAS, or `{ reason }` when there is none usable (no FFI
 *   permission, no library, or a failed self-check)
 */
export function loadBlas(): Blas | { reason: string } {
  if (typeof Deno === "undefined" || typeof Deno.dlopen !== "function") {
    return { reason: "no FFI in this runtime" };
  }
  let coreTypeSetByBrainorg = false;
  try {
    if (!Deno.env.get("OPENBLAS_CORETYPE") && !Deno.env.get("BRAINORG_NO_CORETYPE")) {
      const guess = guessCoreType();
      if (guess) {
        Deno.env.set("OPENBLAS_CORETYPE", guess);
        coreTypeSetByBrainorg = true;
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
