/**
 * The core-type probe's child process: loads OpenBLAS with the
 * `OPENBLAS_CORETYPE` its parent gave it (or none: OpenBLAS detects), times
 * SGEMM at {@linkcode PROBE_SHAPES} and prints one JSON line, a
 * {@linkcode ProbeReport}. A process per core type, because OpenBLAS reads
 * the core type once, when the library loads. Run by
 * `runCoreTypeProbe` (_blas_probe_choice.ts) with
 * `deno run --allow-ffi --allow-env --allow-read`.
 *
 * @module
 */

import {
  BLAS_CANDIDATES,
  type BlasLibrary,
  configOf,
  coreNameOf,
  type LibraryFile,
  loadedLibraryFile,
  openBlasLibrary,
  sgemmPlain,
} from "./_blas_probe_library.ts";

/**
 * The SGEMM shapes timed, C (m×n) = A (m×k) · B (k×n): a square product,
 * and the encoding models' product of a 64-regressor design's Gram side
 * with 26,000 voxels.
 */
export const PROBE_SHAPES: readonly { m: number; k: number; n: number }[] = [
  { m: 1024, k: 1024, n: 1024 },
  { m: 64, k: 300, n: 26_000 },
];

/** What one probe child prints. */
export interface ProbeReport {
  /** The library name that loaded (e.g. `libopenblas.so.0`). */
  library: string;
  /** The file behind it; null where the dynamic linker could not say. */
  file: LibraryFile | null;
  /** `openblas_get_config()`, e.g. `OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Cooperlake MAX_THREADS=64`. */
  config: string;
  /** `openblas_get_corename()`: the kernels OpenBLAS runs. */
  core: string;
  threads: number;
  /** `OPENBLAS_CORETYPE` in the child's environment; null: unset. */
  coreTypeEnv: string | null;
  /** Best GFLOP/s at each of {@linkcode PROBE_SHAPES}. */
  gflops: number[];
}

/**
 * Load the BLAS in this process and time it.
 *
 * @param budgetMs the time the timed repeats may take, over all shapes;
 *   a shape whose warm-up shows that 3 repeats would not fit gets 1.
 *   Default: 600
 * @returns the library, its core and the best GFLOP/s per shape
 * @throws {Error} when no library loads
 */
export function probeThisProcess(budgetMs = 600): ProbeReport {
  let lib: BlasLibrary | undefined, library = "";
  const errors: string[] = [];
  for (const name of BLAS_CANDIDATES) {
    try {
      lib = openBlasLibrary(name);
      library = name;
      break;
    } catch (err) {
      errors.push(`${name}: ${(err as Error).message.split("\n")[0]}`);
    }
  }
  if (!lib) throw new Error(`no BLAS loads (${errors.join("; ")})`);
  try {
    const gflops: number[] = [];
    const perShape = budgetMs / PROBE_SHAPES.length;
    // Values in [-0.5, 0.5): no denormals, no overflow, whatever the kernel.
    const filled = (length: number, seed: number) => {
      const x = new Float32Array(length);
      for (let i = 0; i < length; i++) x[i] = ((i * 2654435761 + seed) >>> 0) / 2 ** 32 - 0.5;
      return x;
    };
    for (const shape of PROBE_SHAPES) {
      const { m, k, n } = shape;
      const a = filled(m * k, 1), b = filled(k * n, 2);
      const c = new Float32Array(m * n);
      let t = performance.now();
      sgemmPlain(lib, a, b, c, shape); // warm-up: threads started, pages touched
      const warm = performance.now() - t;
      const repeats = warm * 3 <= perShape ? 3 : 1;
      let best = Infinity;
      for (let r = 0; r < repeats; r++) {
        t = performance.now();
        sgemmPlain(lib, a, b, c, shape);
        best = Math.min(best, performance.now() - t);
      }
      gflops.push((2 * m * k * n) / (Math.max(best, 1e-3) / 1000) / 1e9);
    }
    let coreTypeEnv: string | null = null;
    try {
      coreTypeEnv = Deno.env.get("OPENBLAS_CORETYPE") ?? null;
    } catch { /* reported as unset */ }
    return {
      library,
      file: loadedLibraryFile(library) ?? null,
      config: configOf(lib),
      core: coreNameOf(lib),
      threads: lib.symbols.openblas_get_num_threads?.() ?? 1,
      coreTypeEnv,
      gflops,
    };
  } finally {
    lib.close();
  }
}

// Typed loosely: the npm build type-checks this file without Deno's ImportMeta.
if ((import.meta as { main?: boolean }).main) {
  try {
    console.log(JSON.stringify(probeThisProcess()));
  } catch (err) {
    console.log(JSON.stringify({ error: (err as Error).message }));
    Deno.exit(1);
  }
}
