/**
 * The CPU backend: products through the fastest library that passes its
 * self-check (OpenBLAS through FFI where the system has it, MLAS through
 * onnxruntime-node, which arrives with the npm packages; see
 * `gemm_libraries.ts`), else plain TypeScript; reductions in
 * TypeScript; LASSO / elastic net in WebAssembly on worker threads
 * ({@linkcode LassoPool}).
 *
 * @module
 */

import type { Backend } from "./backend.ts";
import { columnCorrelationReference, columnStatsReference } from "./cpu_reference.ts";
import { type Matrix, type MatrixView, validateMatrix } from "./matrix.ts";
import {
  type CpuProducts,
  loadProducts,
  type ProductsChoice,
  productsFromEnv,
} from "./gemm_libraries.ts";
import { LassoPool } from "./lasso_cd_parallel.ts";
import { keepFreedMemory } from "./_memory.ts";
import { productR2Wasm, stackedR2Wasm } from "./stacked_r2_wasm.ts";
import { cores } from "./_worker_pool.ts";

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
 * R² from the library's fused squared errors, with the rule of
 * `Backend.stackedR2` for a constant column (1 where predicted exactly, else 0).
 */
async function fusedR2(
  stackedErrors: NonNullable<CpuProducts["stackedErrors"]>,
  a: MatrixView,
  b: MatrixView,
  y: MatrixView,
): Promise<Matrix> {
  validateMatrix("a", a, false);
  validateMatrix("b", b, false);
  validateMatrix("y", y, false);
  const m = y.cols;
  if (y.rows === 0 || a.rows % y.rows !== 0 || b.cols !== m || a.cols !== b.rows) {
    throw new RangeError(
      `productR2: a is ${a.rows} × ${a.cols}, b ${b.rows} × ${b.cols}, y ${y.rows} × ${m}; ` +
        "expected S·n × k, k × p, n × p",
    );
  }
  const { sse, sst } = await stackedErrors(a, b, y);
  const S = a.rows / y.rows, out = new Float32Array(S * m);
  for (let s = 0; s < S; s++) {
    for (let j = 0; j < m; j++) {
      const e = sse[s * m + j], t = sst[j];
      out[s * m + j] = t > 0 ? 1 - e / t : e === 0 ? 1 : 0;
    }
  }
  return { rows: S, cols: m, data: out };
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
 * @param options where products come from and how many threads (see
 *   {@linkcode CpuBackendOptions}). Default: all defaults.
 * @returns the backend; `dispose()` stops its worker threads and releases the library
 * @throws {Error} when `blas` names a library that cannot be used
 * @throws {RangeError} for a bad `BRAINORG_BLAS` or `BRAINORG_THREADS`
 *
 * @example
 * ```ts
 * import { createCpuBackend } from "@brainorg/kernels";
 * const cpu = await createCpuBackend();
 * console.log(cpu.info.implementation); // e.g. "mlas (onnxruntime-node 1.30.0)"
 * cpu.dispose();
 * ```
 */
export async function createCpuBackend(options: CpuBackendOptions = {}): Promise<Backend> {
  keepFreedMemory();
  const threads = Math.max(
    1,
    Math.floor(options.threads ?? threadsFromEnv() ?? cores()),
  );
  // An explicit choice wins; "auto" leaves room for BRAINORG_BLAS (so `off`
  // can force the npm-only path everywhere, tests included).
  const asked = options.blas && options.blas !== "auto" ? options.blas : undefined;
  const products = await loadProducts(asked ?? productsFromEnv() ?? "auto", threads);
  const gemm: Backend["gemm"] = (a, b, o) => {
    validateMatrix("a", a, false);
    validateMatrix("b", b, false);
    return products.gemm(a, b, o);
  };
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
    gemm,
    columnStats: (x) => Promise.resolve(columnStatsReference(x)),
    columnCorrelation: (a, b) => Promise.resolve(columnCorrelationDense(a, b)),
    stackedR2: (p, y) => Promise.resolve(stackedR2Wasm(p, y)),
    // With MLAS the stacked predictions are scored inside onnxruntime, on
    // every core, and never copied out (float32 sums; see scoreModel).
    productR2: products.stackedErrors
      ? (a, b, y) => fusedR2(products.stackedErrors!, a, b, y)
      : (a, b, y) => productR2Wasm(gemm, a, b, y),
    ...(products.foldErrors ? { foldErrors: products.foldErrors } : {}),
    lassoCD: (batch) => pool.solve(batch),
    dispose: () => {
      pool.close();
      products.close();
    },
  };
}
