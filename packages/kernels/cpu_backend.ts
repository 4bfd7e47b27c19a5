/**
 * The CPU backend: products through the fastest library that passes its
 * self-check (OpenBLAS through FFI where the system has it, MLAS through
 * onnxruntime-node, which arrives with the npm packages; see
 * {@linkcode loadProducts}), else plain TypeScript; reductions in
 * TypeScript; LASSO / elastic net in WebAssembly on worker threads
 * ({@linkcode LassoPool}).
 *
 * @module
 */

import type { Backend } from "./backend.ts";
import {
  columnCorrelationReference,
  columnStatsReference,
  stackedR2Reference,
} from "./cpu_reference.ts";
import { type Matrix, type MatrixView, validateMatrix } from "./matrix.ts";
import { loadProducts, type ProductsChoice, productsFromEnv } from "./gemm_libraries.ts";
import { LassoPool } from "./lasso_cd_parallel.ts";
import { keepFreedMemory } from "./_memory.ts";

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
   * Where products come from (see {@linkcode ProductsChoice}). Default, and
   * for `"auto"`: `BRAINORG_BLAS` if set, else `"auto"` (OpenBLAS if it
   * loads and passes its self-check, else MLAS, else TypeScript).
   */
  blas?: ProductsChoice;
  /**
   * Threads for products and the LASSO coordinate descent (WebAssembly, one
   * worker per thread; 1: the calling thread only). Default:
   * `BRAINORG_THREADS` if set, else the number of cores.
   */
  threads?: number;
}

/** `BRAINORG_THREADS` as a positive integer, else undefined. */
function threadsFromEnv(): number | undefined {
  let v: string | undefined;
  try {
    v = typeof Deno !== "undefined" ? Deno.env.get("BRAINORG_THREADS") : undefined;
  } catch {
    return undefined;
  }
  if (v === undefined || v === "") return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) {
    throw new RangeError(`BRAINORG_THREADS must be a positive integer: current value is "${v}"`);
  }
  return n;
}

/**
 * Create the CPU backend.
 *
 * @example
 * ```ts
 * import { createCpuBackend } from "@brainorg/kernels";
 * const cpu = await createCpuBackend();
 * console.log(cpu.info.implementation); // e.g. "cpu: mlas (onnxruntime-node 1.30.0)"
 * cpu.dispose();
 * ```
 */
export async function createCpuBackend(options: CpuBackendOptions = {}): Promise<Backend> {
  keepFreedMemory();
  const threads = Math.max(
    1,
    Math.floor(options.threads ?? threadsFromEnv() ?? navigator.hardwareConcurrency ?? 1),
  );
  // An explicit choice wins; "auto" leaves room for BRAINORG_BLAS (so `off`
  // can force the npm-only path everywhere, tests included).
  const asked = options.blas && options.blas !== "auto" ? options.blas : undefined;
  const products = await loadProducts(asked ?? productsFromEnv() ?? "auto", threads);
  const pool = new LassoPool(threads);
  return {
    // Where each call costs little (BLAS through FFI, the reference), column
    // blocks keep a solver's intermediates in cache; onnxruntime's calls are
    // dearer and its kernels block for themselves, so fewer, wider ones.
    preferredColumnBlock: products.name === "mlas" ? 8192 : 1024,
    info: {
      name: "cpu",
      implementation: products.implementation,
      details: {
        products: products.name,
        ...products.details,
        threads,
        lasso: `WebAssembly SIMD, ${threads} thread${threads > 1 ? "s" : ""}`,
      },
    },
    gemm: (a, b, o) => {
      validateMatrix("a", a, false);
      validateMatrix("b", b, false);
      return products.gemm(a, b, o);
    },
    columnStats: (x) => Promise.resolve(columnStatsReference(x)),
    columnCorrelation: (a, b) => Promise.resolve(columnCorrelationDense(a, b)),
    stackedR2: (p, y) => Promise.resolve(stackedR2Dense(p, y)),
    lassoCD: (batch) => pool.solve(batch),
    dispose: () => {
      pool.close();
      products.close();
    },
  };
}
