/**
 * How the WebGPU backend tiles a product C = op(A) · op(B) (internal): the
 * tile kernel and the blocks of C and of the inner dimension that fit one
 * storage binding, one dispatch and Mesa's loop limit. Shared by the host
 * path (webgpu_backend.ts) and the resident one (webgpu_resident.ts), so
 * both cut a product the same way.
 *
 * @module
 */

import { roundUp } from "./webgpu_context.ts";
import { GEMM_LARGE_TILE, GEMM_MAX_K, GEMM_TILE } from "./webgpu_kernels.ts";

/** Blocks of one product. */
export interface GemmPlan {
  /** Whether the 128 × 128-tile kernel runs. */
  large: boolean;
  /** Its tile side: rows and columns of C are padded to a multiple of it. */
  tile: number;
  /** Inner dimension per dispatch (a multiple of 4); longer ones are summed. */
  kc: number;
  /** Rows and columns of C per dispatch (multiples of the tile). */
  mc: number;
  nc: number;
}

/**
 * The blocks of C = op(A) · op(B), (m × n) with inner dimension k, for
 * bindings of `maxElems` floats and `maxWg` workgroups per dimension.
 *
 * @throws {RangeError} when one binding cannot hold one 64 × 64 output tile
 */
export function planGemm(
  m: number,
  n: number,
  k: number,
  maxElems: number,
  maxWg: number,
): GemmPlan {
  // Split the inner dimension when one 64-row slice of it overflows a
  // binding, or its loop Mesa's loop limit; the partial products are then summed.
  if (maxElems < GEMM_TILE * GEMM_TILE) {
    throw new RangeError(
      `gemm: a ${maxElems * 4}-byte storage binding cannot hold one 64 × 64 output tile`,
    );
  }
  // 128 × 128 workgroup tiles feed more FMAs per load (≈ 1.4× on llvmpipe), when
  // padding both sides to 128 costs at most a quarter more work than to 64.
  const large = m >= 128 && n >= 128 && maxElems >= GEMM_LARGE_TILE * GEMM_LARGE_TILE * 4 &&
    roundUp(m, 128) * roundUp(n, 128) <= 1.25 * roundUp(m, 64) * roundUp(n, 64);
  const T = large ? GEMM_LARGE_TILE : GEMM_TILE;
  const kc = Math.min(roundUp(k, 4), Math.floor(maxElems / T / 4) * 4, GEMM_MAX_K);
  // Tile C so that every packed operand fits one binding and one dispatch.
  const fit = (x: number) => Math.max(T, Math.floor(x / T) * T);
  let mc = Math.min(roundUp(m, T), fit(maxElems / kc), maxWg * T);
  let nc = Math.min(roundUp(n, T), fit(maxElems / kc), maxWg * T);
  while (mc * nc > maxElems) {
    if (nc >= mc && nc > T) nc = fit(nc / 2);
    else mc = fit(mc / 2);
  }
  return { large, tile: T, kc, mc, nc };
}
