/**
 * The CPU backend's LASSO / elastic net: `wasm/lasso_cd.c` compiled to
 * WebAssembly with SIMD, one target after another, in float64. Its
 * coordinate descent has the iterates, stopping rule and results of
 * `lassoCDReference`; for LASSO an active-set solver (see the C source)
 * goes first at each penalty and hands over to coordinate descent when it
 * cannot finish. Runs in Deno and in browsers; `LassoPool` spreads the
 * targets over worker threads.
 *
 * @module
 */

import type { LassoBatch, LassoBatchResult } from "./lasso_batch.ts";
import { wasmExports } from "./_wasm.ts";

interface LassoExports {
  memory: WebAssembly.Memory;
  alloc(bytes: number): number;
  reset(): void;
  lasso_batch(...args: number[]): void;
  lasso_work_size(p: number): number;
}

/** Targets per call into the module (see the loop in lassoCDWasm). */
const CHUNK = 8;

/** Options of {@linkcode lassoCDWasm}. */
export interface LassoWasmOptions {
  /**
   * Try the active-set solver at each penalty before coordinate descent
   * (LASSO only; see `wasm/lasso_cd.c`). `false`: coordinate descent alone,
   * the reference's iterates. Default: true.
   */
  activeSet?: boolean;
  /** Where to write the path weights (V × nα × p) instead of a new array. */
  pathOut?: Float32Array;
}

/** Solve a batch in this thread (see the module doc). */
export function lassoCDWasm(batch: LassoBatch, options: LassoWasmOptions = {}): LassoBatchResult {
  const { p, yy, path, l1Ratio = 1, positive = false, tol = 1e-4, maxIter = 1000 } = batch;
  const V = yy.length, nA = path.length, pp = p + (p & 1);
  const held = batch.heldOut;
  const wantWeights = !!batch.stopIndex || !held;
  const ex = wasmExports<LassoExports>("lasso_cd");
  ex.reset();
  const bytes = { f64: 8, f32: 4, u16: 2, u32: 4 } as const;
  const plan: [keyof typeof bytes, number][] = [
    ["f64", p * pp], // G
    ["f64", p], // diag
    ["f32", p * V], // q
    ["f32", V], // yy
    ["f32", V], // scale
    ["f64", nA], // path
    ["u16", V], // stop
    ["f32", batch.warmStart ? p * V : 0],
    ["f64", held ? p * pp : 0], // HG
    ["f32", held ? p * V : 0], // hq
    ["f32", held ? V : 0], // hyy
    ["f32", held ? nA * V : 0], // sse
    ["f32", wantWeights ? p * V : 0], // weights
    ["f32", batch.keepPath ? nA * p * V : 0], // pathWeights
    ["u32", V], // iterations
    ["f64", wantWeights ? V : 0], // objective
    ["f64", ex.lasso_work_size(p)], // scratch
  ];
  const ptr = plan.map(([type, n]) => {
    if (n === 0) return 0;
    const at = ex.alloc(n * bytes[type]);
    if (at === 0) {
      throw new RangeError(
        `lassoCD: WebAssembly memory exhausted for ${V} targets × ${nA} penalties; use smaller batches`,
      );
    }
    return at;
  });
  // Views only after every allocation: growing memory detaches older ones.
  const buf = ex.memory.buffer;
  const view = (i: number) => {
    const [type, n] = plan[i];
    if (type === "f64") return new Float64Array(buf, ptr[i], n);
    if (type === "f32") return new Float32Array(buf, ptr[i], n);
    if (type === "u16") return new Uint16Array(buf, ptr[i], n);
    return new Uint32Array(buf, ptr[i], n);
  };
  const padded = (m: ArrayLike<number>, out: Float64Array) => {
    for (let j = 0; j < p; j++) for (let k = 0; k < p; k++) out[j * pp + k] = m[j * p + k];
  };
  const G = view(0) as Float64Array;
  padded(batch.gram, G);
  const diag = view(1);
  for (let j = 0; j < p; j++) diag[j] = batch.gram[j * p + j];
  view(2).set(batch.q);
  view(3).set(yy);
  view(4).set(batch.scale);
  view(5).set(path);
  const stop = view(6);
  if (batch.stopIndex) stop.set(batch.stopIndex);
  else stop.fill(nA - 1);
  if (batch.warmStart) view(7).set(batch.warmStart);
  if (held) {
    padded(held.gram, view(8) as Float64Array);
    view(9).set(held.q);
    view(10).set(held.yy);
  }
  // A few targets per call: V8 runs a new module in baseline code and
  // swaps in its optimized code only between calls.
  for (let v0 = 0; v0 < V; v0 += CHUNK) {
    ex.lasso_batch(
      p,
      pp,
      V,
      v0,
      Math.min(V, v0 + CHUNK),
      nA,
      ptr[0],
      ptr[1],
      ptr[2],
      ptr[3],
      ptr[4],
      ptr[5],
      ptr[6],
      ptr[7],
      l1Ratio,
      positive ? 1 : 0,
      tol,
      maxIter,
      ptr[8],
      ptr[9],
      ptr[10],
      ptr[11],
      ptr[12],
      ptr[13],
      ptr[14],
      ptr[15],
      options.activeSet === false ? 0 : 1,
      ptr[16],
    );
  }
  const out = (i: number) => (view(i) as Float32Array).slice();
  return {
    ...(held ? { sse: out(11) } : {}),
    ...(wantWeights ? { weights: out(12), objective: (view(15) as Float64Array).slice() } : {}),
    ...(batch.keepPath
      ? {
        pathWeights: options.pathOut ? (options.pathOut.set(view(13)), options.pathOut) : out(13),
      }
      : {}),
    iterations: (view(14) as Uint32Array).slice(),
  };
}
