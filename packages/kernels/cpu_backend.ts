/**
 * The CPU backend: products through the system BLAS when it can be loaded
 * (Deno with `--allow-ffi`), else plain TypeScript; reductions in
 * TypeScript; LASSO / elastic net in WebAssembly on worker threads
 * ({@linkcode LassoPool}).
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
import { type Matrix, type MatrixView, validateMatrix } from "./matrix.ts";
import type { Blas } from "./blas_ffi.ts";
import { LassoPool } from "./lasso_cd_parallel.ts";

/**
 * Per-column Pearson r, the reference's sums taken in row order so the
 * inner loops run over contiguous memory (several times faster on wide
 * matrices than walking each column down its stride).
 */
function columnCorrelationDense(a: MatrixView, b: MatrixView): Float32Array {
  if (a.rows !== b.rows || a.cols !== b.cols) return columnCorrelationReference(a, b);
  const n = a.rows, p = a.cols;
  const ad = a.data, as = a.rowStride ?? p, ao = a.offset ?? 0;
  const bd = b.data, bs = b.rowStride ?? p, bo = b.offset ?? 0;
  const ma = new Float64Array(p), mb = new Float64Array(p);
  const sab = new Float64Array(p), saa = new Float64Array(p), sbb = new Float64Array(p);
  // Column blocks keep the five accumulators of a block in cache across rows.
  for (let j0 = 0; j0 < p; j0 += 1024) {
    const j1 = Math.min(p, j0 + 1024);
    for (let i = 0; i < n; i++) {
      const ra = ao + i * as, rb = bo + i * bs;
      for (let j = j0; j < j1; j++) (ma[j] += ad[ra + j]), (mb[j] += bd[rb + j]);
    }
    for (let j = j0; j < j1; j++) (ma[j] /= n), (mb[j] /= n);
    for (let i = 0; i < n; i++) {
      const ra = ao + i * as, rb = bo + i * bs;
      for (let j = j0; j < j1; j++) {
        const x = ad[ra + j] - ma[j], y = bd[rb + j] - mb[j];
        sab[j] += x * y;
        saa[j] += x * x;
        sbb[j] += y * y;
      }
    }
  }
  return Float32Array.from(
    sab,
    (s, j) => (saa[j] > 0 && sbb[j] > 0 ? s / Math.sqrt(saa[j] * sbb[j]) : 0),
  );
}

/**
 * R² of stacked predictions over dense rows: the same sums as
 * {@linkcode stackedR2Reference} in row order, so the inner loops run over
 * contiguous columns.
 */
function stackedR2Dense(predView: MatrixView, yView: MatrixView): Matrix {
  const n = yView.rows, p = yView.cols;
  if (predView.cols !== p || predView.rows % n !== 0) return stackedR2Reference(predView, yView);
  const S = predView.rows / n;
  const pd = predView.data, ps = predView.rowStride ?? p, po = predView.offset ?? 0;
  const yd = yView.data, ys = yView.rowStride ?? p, yo = yView.offset ?? 0;
  const mean = new Float64Array(p), sst = new Float64Array(p);
  for (let i = 0; i < n; i++) for (let j = 0; j < p; j++) mean[j] += yd[yo + i * ys + j];
  for (let j = 0; j < p; j++) mean[j] /= n;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < p; j++) {
      const d = yd[yo + i * ys + j] - mean[j];
      sst[j] += d * d;
    }
  }
  const out = new Float32Array(S * p);
  const finish = (
    s: number,
    j: number,
    sse: number,
  ) => (out[s * p + j] = sst[j] > 0 ? 1 - sse / sst[j] : (sse === 0 ? 1 : 0));
  for (let s = 0; s < S; s++) {
    // Eight columns at a time in locals: V8 keeps them in registers, which
    // is worth about a third of the time of this, the solver's hottest loop.
    let j = 0;
    for (; j + 8 <= p; j += 8) {
      let a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0, a6 = 0, a7 = 0;
      for (let i = 0, pr = po + s * n * ps + j, yr = yo + j; i < n; i++, pr += ps, yr += ys) {
        let e = yd[yr] - pd[pr];
        a0 += e * e;
        e = yd[yr + 1] - pd[pr + 1];
        a1 += e * e;
        e = yd[yr + 2] - pd[pr + 2];
        a2 += e * e;
        e = yd[yr + 3] - pd[pr + 3];
        a3 += e * e;
        e = yd[yr + 4] - pd[pr + 4];
        a4 += e * e;
        e = yd[yr + 5] - pd[pr + 5];
        a5 += e * e;
        e = yd[yr + 6] - pd[pr + 6];
        a6 += e * e;
        e = yd[yr + 7] - pd[pr + 7];
        a7 += e * e;
      }
      finish(s, j, a0);
      finish(s, j + 1, a1);
      finish(s, j + 2, a2);
      finish(s, j + 3, a3);
      finish(s, j + 4, a4);
      finish(s, j + 5, a5);
      finish(s, j + 6, a6);
      finish(s, j + 7, a7);
    }
    for (; j < p; j++) {
      let a = 0;
      for (let i = 0; i < n; i++) {
        const e = yd[yo + i * ys + j] - pd[po + (s * n + i) * ps + j];
        a += e * e;
      }
      finish(s, j, a);
    }
  }
  return { rows: S, cols: p, data: out };
}

/** Options of {@linkcode createCpuBackend}. */
export interface CpuBackendOptions {
  /**
   * `"auto"`: the system BLAS when usable, else TypeScript (default).
   * `"typescript"`: the plain reference only.
   */
  blas?: "auto" | "typescript";
  /**
   * Threads for the LASSO coordinate descent (WebAssembly, one worker per
   * thread; 1: the calling thread only). Default: the number of cores.
   */
  threads?: number;
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
  const threads = Math.max(1, Math.floor(options.threads ?? navigator.hardwareConcurrency ?? 1));
  const pool = new LassoPool(threads);
  const gemm = (a: MatrixView, b: MatrixView, o?: GemmOptions): Matrix => {
    validateMatrix("a", a, false);
    validateMatrix("b", b, false);
    return blas ? blas.sgemm(a, b, o) : gemmReference(a, b, o);
  };
  return {
    preferredColumnBlock: 1024,
    info: {
      name: "cpu",
      implementation: blas ? `openblas (${blas.core})` : "typescript",
      details: {
        ...(blas
          ? {
            library: blas.library,
            core: blas.core,
            threads: blas.threads,
            coreTypeSetByBrainorg: blas.coreTypeSetByBrainorg,
          }
          : { why }),
        lasso: `WebAssembly SIMD, ${threads} thread${threads > 1 ? "s" : ""}`,
      },
    },
    gemm: (a, b, o) => Promise.resolve(gemm(a, b, o)),
    columnStats: (x) => Promise.resolve(columnStatsReference(x)),
    columnCorrelation: (a, b) => Promise.resolve(columnCorrelationDense(a, b)),
    stackedR2: (p, y) => Promise.resolve(stackedR2Dense(p, y)),
    lassoCD: (batch) => pool.solve(batch),
    dispose: () => {
      pool.close();
      blas?.close();
    },
  };
}
