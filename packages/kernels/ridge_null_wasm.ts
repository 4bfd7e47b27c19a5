/**
 * The per-target half of {@linkcode RidgeRefits}, in this thread's
 * instance of `wasm/ridge_null.c`: what a worker runs on its share of a
 * batch's designs (see that file for the arithmetic and the layouts).
 *
 * @module
 */

import { wasmExports } from "./_wasm.ts";

interface RidgeNullExports {
  memory: WebAssembly.Memory;
  alloc(bytes: number): number;
  reset(): void;
  ridge_null_work_size(K: number): number;
  ridge_null_record_size(K: number, F: number, nA: number, nW: number): number;
  ridge_null(...args: number[]): void;
}

/** Floats in one design's record, as `wasm/ridge_null.c` lays it out. */
export function refitRecordSize(K: number, F: number, nA: number, nW: number): number {
  return wasmExports<RidgeNullExports>("ridge_null").ridge_null_record_size(K, F, nA, nW);
}

/** Some designs of a batch against one block of a subject's targets, padded to vp (a multiple of 4). */
export interface RefitShare {
  K: number;
  /** Folds. */
  F: number;
  /** Designs in the share. */
  nb: number;
  vp: number;
  nA: number;
  nW: number;
  /** Fold products: (F × nb·K × vp); on the BLAS path one more slab, Σ_f P_f (all rows). */
  P: Float32Array;
  /** Σ y per fold: (F × vp). */
  foldSum: Float32Array;
  /** Σ (y − ȳ_f)² per fold: (F × vp). */
  foldSS: Float32Array;
  /** α index of each target's fold fits (vp). */
  alphaIndex: Int32Array;
  /** α index of each target's weights (vp). */
  weightIndex: Int32Array;
  /** The designs' records: (nb × record size). */
  records: Float32Array;
  /** Where to write held-out r: (nb × vp). */
  rOut: Float32Array;
  /** Where to write the weights: (nb × K × vp). */
  weightsOut: Float32Array;
}

/**
 * Held-out r (nb × vp) and weights (nb × K × vp) of a share's designs,
 * written into the share's `rOut` and `weightsOut`.
 *
 * @throws {RangeError} when the module's memory cannot hold the share
 */
export function refitShareWasm(share: RefitShare): void {
  const { K, F, nb, vp, nA, nW } = share;
  const ex = wasmExports<RidgeNullExports>("ridge_null");
  ex.reset();
  const inputs = [
    share.P,
    share.foldSum,
    share.foldSS,
    share.alphaIndex,
    share.weightIndex,
    share.records,
  ];
  const sizes = [...inputs.map((a) => a.length), nb * vp, nb * K * vp, ex.ridge_null_work_size(K)];
  const ptr = sizes.map((count) => {
    const at = ex.alloc(count * 4);
    if (at === 0) {
      throw new RangeError(
        `ridge refits: WebAssembly memory exhausted for ${nb} designs × ${vp} targets; use fewer of either`,
      );
    }
    return at;
  });
  // Views only after every allocation: growing memory detaches older ones.
  const buf = ex.memory.buffer;
  inputs.forEach((a, i) =>
    (a instanceof Int32Array
      ? new Int32Array(buf, ptr[i], a.length)
      : new Float32Array(buf, ptr[i], a.length))
      .set(a as never)
  );
  // A few designs per call: V8 swaps a module's optimized code in only
  // between calls.
  for (let b0 = 0; b0 < nb; b0 += 2) {
    ex.ridge_null(K, F, nb, b0, Math.min(nb, b0 + 2), vp, nA, nW, ...ptr);
  }
  share.rOut.set(new Float32Array(buf, ptr[6], sizes[6]));
  share.weightsOut.set(new Float32Array(buf, ptr[7], sizes[7]));
}
