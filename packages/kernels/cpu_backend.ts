/**
 * The CPU backend: products through the system BLAS when it can be loaded
 * (Deno with `--allow-ffi`), else plain TypeScript; reductions in
 * TypeScript.
 *
 * @module
 */

import type { Backend, GemmOptions } from "./backend.ts";
import {
  columnCorrelationReference,
  columnStatsReference,
  gemmReference,
  stackedR2Reference,
} from "./cpu_reference.ts";
import type { Matrix, MatrixView } from "./matrix.ts";
import type { Blas } from "./blas_ffi.ts";

/** Options of {@linkcode createCpuBackend}. */
export interface CpuBackendOptions {
  /**
   * `"auto"`: the system BLAS when usable, else TypeScript (default).
   * `"typescript"`: the plain reference only.
   */
  blas?: "auto" | "typescript";
}

/**
 * Create the CPU backend.
 *
 * @example
 * ```ts
 * import { createCpuBackend } from "@brainorg/kernels";
 * const cpu = await createCpuBackend();
 * console.log(cpu.info.implementation); // "openblas (SkylakeX)" or "typescript"
 * ```
 */
export async function createCpuBackend(options: CpuBackendOptions = {}): Promise<Backend> {
  let blas: Blas | undefined;
  let why = "plain TypeScript requested";
  if ((options.blas ?? "auto") === "auto") {
    const { loadBlas } = await import("./blas_ffi.ts");
    const loaded = loadBlas();
    if ("reason" in loaded) why = loaded.reason;
    else blas = loaded;
  }
  const gemm = (a: MatrixView, b: MatrixView, o?: GemmOptions): Matrix =>
    blas ? blas.sgemm(a, b, o) : gemmReference(a, b, o);
  return {
    info: {
      name: "cpu",
      implementation: blas ? `openblas (${blas.core})` : "typescript",
      details: blas
        ? {
          library: blas.library,
          core: blas.core,
          threads: blas.threads,
          coreTypeSetByBrainorg: blas.coreTypeSetByBrainorg,
        }
        : { why },
    },
    gemm: (a, b, o) => Promise.resolve(gemm(a, b, o)),
    columnStats: (x) => Promise.resolve(columnStatsReference(x)),
    columnCorrelation: (a, b) => Promise.resolve(columnCorrelationReference(a, b)),
    stackedR2: (p, y) => Promise.resolve(stackedR2Reference(p, y)),
    dispose: () => blas?.close(),
  };
}
