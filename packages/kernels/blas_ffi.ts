/**
 * The system's BLAS (OpenBLAS on Debian) through Deno's FFI, for the CPU
 * backend's products. Deno only: loaded dynamically, never in a browser.
 *
 * OpenBLAS chooses its kernels from the CPU it detects; on virtual machines
 * whose CPU it does not recognise it falls back to generic kernels several
 * times slower. When `OPENBLAS_CORETYPE` is unset and the CPU reports
 * AVX-512 (or AVX2 with FMA), brainorg names the matching core type
 * ({@linkcode openBlasCoreType}), times it against OpenBLAS's own detection
 * once per machine, each in a child process (_blas_probe_decide.ts), and
 * loads the library with the faster; one set in the environment is kept
 * unless the CPU cannot run it ({@linkcode coreTypeConflict}). A product is
 * then checked against the reference; a library that disagrees is not used.
 *
 * @module
 */

import { gemmReference } from "./cpu_reference.ts";
import type { GemmOptions } from "./backend.ts";
import type { Matrix, MatrixView } from "./matrix.ts";
import { gemmShape } from "./backend.ts";
import { BLAS_CANDIDATES, coreNameOf, openBlasLibrary } from "./_blas_probe_library.ts";
import { type CoreTypeChoice, settleCoreType } from "./_blas_probe_decide.ts";

export {
  coreTypeCandidates,
  coreTypeConflict,
  type CpuInfo,
  openBlasCoreType,
  parseCpuInfo,
  readCpuInfo,
} from "./_blas_cpu.ts";
export { type CoreTypeChoice, describeRates } from "./_blas_probe_decide.ts";

/** A loaded BLAS. */
export interface Blas {
  /** The library file loaded. */
  library: string;
  /** OpenBLAS's core name (e.g. `SkylakeX`), or `"unknown"` for another BLAS. */
  core: string;
  /** Whether brainorg set `OPENBLAS_CORETYPE` itself. */
  coreTypeSetByBrainorg: boolean;
  /** How the core type was chosen: as set, named, probed (with both rates), or OpenBLAS's own. */
  coreType: CoreTypeChoice;
  threads: number;
  sgemm(a: MatrixView, b: MatrixView, options?: GemmOptions): Matrix;
  close(): void;
}

/** Whether this process has loaded the library before: its core type was fixed then. */
let loadedBefore = false;

/**
 * Load the system BLAS, or explain why it cannot be used.
 *
 * The OpenBLAS core type it loads with (see {@linkcode CoreTypeChoice}):
 * `OPENBLAS_CORETYPE` as set in the environment, kept (refused where the
 * CPU cannot run it); none with `BRAINORG_NO_CORETYPE` set; else the faster
 * of the one brainorg names ({@linkcode openBlasCoreType}) and OpenBLAS's
 * own detection, each timed once per machine in a child process of its own
 * and cached in brainorg's cache folder (`$BRAINORG_CACHE`, else
 * `$XDG_CACHE_HOME/brainorg`, else `~/.cache/brainorg`; the entry holds
 * while the CPU, the core type named and the library file are the same).
 * Where children cannot run (no `--allow-run`, no `Deno.execPath`) a cached
 * choice is still used, else the named one, unprobed, as with
 * `BRAINORG_CORETYPE_PROBE=0`. The probe (two children per candidate) took
 * 1.5–2.4 s on a 2-core machine; loading is synchronous throughout.
 *
 * @param options.cpuInfo /proc/cpuinfo's text the core type is chosen
 *   from (default: this machine's, {@linkcode readCpuInfo}; tests pass
 *   another CPU's, which is never probed)
 * @returns the BLAS, or `{ reason }` when there is none usable (no FFI
 *   permission, no library, an `OPENBLAS_CORETYPE` this CPU cannot run, or
 *   a failed self-check)
 *
 * @example
 * ```ts
 * import { loadBlas } from "./blas_ffi.ts";
 * const blas = loadBlas();
 * if (!("reason" in blas)) {
 *   console.log(blas.core, blas.coreType.summary);
 *   blas.close();
 * }
 * ```
 */
export function loadBlas(options: { cpuInfo?: string } = {}): Blas | { reason: string } {
  if (typeof Deno === "undefined" || typeof Deno.dlopen !== "function") {
    return { reason: "no FFI in this runtime" };
  }
  const settled = settleCoreType(options.cpuInfo);
  if ("reason" in settled) return settled;
  let { choice } = settled;
  const coreTypeSetByBrainorg = settled.setByBrainorg;
  const errors: string[] = [];
  for (const name of BLAS_CANDIDATES) {
    let lib;
    try {
      lib = openBlasLibrary(name);
    } catch (err) {
      const msg = (err as Error).message;
      if (err instanceof Deno.errors.NotCapable || /permission|--allow-ffi/i.test(msg)) {
        return { reason: "FFI not permitted (run with --allow-ffi)" };
      }
      errors.push(`${name}: ${msg.split("\n")[0]}`);
      continue;
    }
    const core = coreNameOf(lib);
    const threads = lib.symbols.openblas_get_num_threads?.() ?? 1;
    // A second load gets the library the first fixed: nothing to verify.
    if (!loadedBefore) choice = settled.verify(name, core);
    loadedBefore = true;
    const blas: Blas = {
      library: name,
      core,
      coreTypeSetByBrainorg,
      coreType: choice,
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
