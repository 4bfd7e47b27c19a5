/**
 * Held-out R² of stacked predictions in `wasm/stacked_r2.c`: the CPU
 * backend's `stackedR2`, and its `productR2`, which has the product
 * written straight into the module's memory and scored there, so the
 * predictions never make a trip through JavaScript. Both equal
 * {@linkcode stackedR2Reference} to the bit (the same float64 sums in the
 * same order).
 *
 * @module
 */

import type { GemmOptions } from "./backend.ts";
import { newWasmInstance, wasmExports } from "./_wasm.ts";
import { stackedR2Reference } from "./cpu_reference.ts";
import type { Matrix, MatrixView } from "./matrix.ts";

interface StackedR2Exports {
  memory: WebAssembly.Memory;
  alloc(bytes: number): number;
  reset(): void;
  stacked_r2_work_size(S: number, m: number): number;
  stacked_r2(
    pred: number,
    y: number,
    n: number,
    S: number,
    m: number,
    out: number,
    work: number,
  ): void;
}

/** Copy a view's rows, densely, into module memory at byte `at`. */
function copyIn(memory: WebAssembly.Memory, at: number, v: MatrixView): void {
  const stride = v.rowStride ?? v.cols, off = v.offset ?? 0;
  const to = new Float32Array(memory.buffer, at, v.rows * v.cols);
  if (stride === v.cols) to.set(v.data.subarray(off, off + v.rows * v.cols));
  else {
    for (let r = 0; r < v.rows; r++) {
      to.set(v.data.subarray(off + r * stride, off + r * stride + v.cols), r * v.cols);
    }
  }
}

/** Byte offsets of the kernel's buffers in `ex`'s memory (reset first), or null when it cannot grow. */
function buffers(ex: StackedR2Exports, S: number, n: number, m: number) {
  ex.reset();
  const at = [S * n * m * 4, n * m * 4, S * m * 4, ex.stacked_r2_work_size(S, m)].map((bytes) =>
    ex.alloc(bytes)
  );
  if (at.includes(0)) return null;
  const [pred, y, out, work] = at;
  return { pred, y, out, work };
}

function run(
  ex: StackedR2Exports,
  at: { pred: number; y: number; out: number; work: number },
  S: number,
  n: number,
  m: number,
): Matrix {
  ex.stacked_r2(at.pred, at.y, n, S, m, at.out, at.work);
  return { rows: S, cols: m, data: new Float32Array(ex.memory.buffer, at.out, S * m).slice() };
}

/**
 * R² of each of S prediction sets against y, per column (see `Backend.stackedR2`).
 *
 * @param pred predictions ((S·n) × m), set s in rows [s·n, (s+1)·n)
 * @param y targets (n × m)
 * @returns R² (S × m); for a constant column 1 where predicted exactly, else 0
 */
export function stackedR2Wasm(pred: MatrixView, y: MatrixView): Matrix {
  const n = y.rows, m = y.cols;
  if (pred.cols !== m || n === 0 || pred.rows % n !== 0) return stackedR2Reference(pred, y);
  const S = pred.rows / n, ex = wasmExports<StackedR2Exports>("stacked_r2");
  const at = buffers(ex, S, n, m);
  // Out of module memory (a block far larger than any solver asks for): the reference serves.
  if (!at) return stackedR2Reference(pred, y);
  copyIn(ex.memory, at.pred, pred);
  copyIn(ex.memory, at.y, y);
  return run(ex, at, S, n, m);
}

/** Instances idle between `productR2Wasm` calls (one per call in flight at most). */
const idle: StackedR2Exports[] = [];

/**
 * R² of the stacked products a·b against y (see `Backend.productR2`): the
 * product is written by `gemm` into module memory and scored in place.
 *
 * @param gemm the backend's product
 * @param a (S·n × k)
 * @param b (k × m)
 * @param y (n × m)
 * @returns R² (S × m)
 */
export async function productR2Wasm(
  gemm: (a: MatrixView, b: MatrixView, options?: GemmOptions) => Promise<Matrix>,
  a: MatrixView,
  b: MatrixView,
  y: MatrixView,
): Promise<Matrix> {
  const n = y.rows, m = y.cols;
  if (b.cols !== m || n === 0 || a.rows % n !== 0) return stackedR2Wasm(await gemm(a, b), y);
  const S = a.rows / n;
  // An instance of its own while the product is awaited: another call may use the shared one.
  const ex = idle.pop() ?? newWasmInstance<StackedR2Exports>("stacked_r2");
  try {
    const at = buffers(ex, S, n, m);
    if (!at) return stackedR2Reference(await gemm(a, b), y);
    copyIn(ex.memory, at.y, y);
    await gemm(a, b, { out: new Float32Array(ex.memory.buffer, at.pred, S * n * m) });
    return run(ex, at, S, n, m);
  } finally {
    idle.push(ex);
  }
}
