/**
 * The small kernels that keep data on the device between the WGSL kernels
 * of `webgpu_kernels.ts` (internal: used by webgpu_resident.ts and
 * webgpu_ridge.ts, not exported from the package): a padding / transposing
 * copy that packs operands for GEMM, a column correlation whose result stays
 * on the device, and the scoring and per-target selection of ridge CV.
 *
 * @module
 */

import { WGSL } from "./wgsl_sources.ts";
import type { KernelSpec } from "./webgpu_kernels.ts";

/** A region copy (see shaders/copy_padded.wgsl); every field a count of float32 values. */
export interface CopyShape {
  /** Rows and columns of the region written. */
  rows: number;
  cols: number;
  /** Rows and columns of it read from the source; the rest is zero. */
  nr: number;
  nc: number;
  /** Source row stride, and the region's first row and column in op(source). */
  srcStride: number;
  sr0: number;
  sc0: number;
  /** Destination row stride, and the region's first row and column there. */
  dstStride: number;
  dr0: number;
  dc0: number;
  /** Read the source transposed. */
  trans: boolean;
  /** Add to the destination instead of overwriting it. */
  accumulate: boolean;
}

/** Side of the copy's square workgroup. */
export const COPY_TILE = 16;

/** Copies a region of one matrix into another, padding, transposing or accumulating. */
export const copyPaddedKernel: KernelSpec<CopyShape> = {
  name: "copy_padded",
  workgroupSize: [COPY_TILE, COPY_TILE],
  source: WGSL.copy_padded,
  constants: {},
  dispatch: (s) => [Math.ceil(s.cols / COPY_TILE), Math.ceil(s.rows / COPY_TILE)],
  uniforms: (s) =>
    Uint32Array.from([
      s.rows,
      s.cols,
      s.nr,
      s.nc,
      s.srcStride,
      s.sr0,
      s.sc0,
      s.dstStride,
      s.dr0,
      s.dc0,
      (s.trans ? 1 : 0) | (s.accumulate ? 2 : 0),
      0,
    ]),
};

/** One chunk of rows of a resident column correlation (see shaders/column_pearson.wgsl). */
export interface PearsonShape {
  /** Rows in the chunk, its first row, and the columns. */
  nr: number;
  r0: number;
  cols: number;
  /** First column of this dispatch (columns beyond 64 × the workgroup limit take several). */
  c0: number;
  /** The chunk count: the last writes r. */
  last: boolean;
  /** Columns this dispatch covers. */
  width: number;
}

/** Per-column Pearson r of two resident matrices, merged over chunks of rows on the device. */
export const columnPearsonKernel: KernelSpec<PearsonShape> = {
  name: "column_pearson",
  workgroupSize: [64, 1],
  source: WGSL.column_pearson,
  constants: {},
  dispatch: (s) => [Math.ceil(s.width / 64), 1],
  uniforms: (s) => Uint32Array.from([s.nr, s.cols, s.r0, s.c0, s.last ? 1 : 0, 0, 0, 0]),
};

/** One dispatch of ridge CV's scoring (see shaders/ridge_score.wgsl). */
export interface RidgeScoreShape {
  /** Targets, and the first one and count of this dispatch. */
  V: number;
  c0: number;
  width: number;
  /** α blocks in `pred`, rows per block (the fold's held-out rows), first α of the block. */
  S: number;
  nv: number;
  a0: number;
  /** Chunk of the fold's rows, and the fold's first row in y. */
  r0: number;
  nr: number;
  yRow0: number;
  /** 0: accumulate a chunk; 1: add the fold's R² to the score. */
  mode: 0 | 1;
  /** Penalties in the grid. */
  nA: number;
  /** Whether this dispatch also gathers y's held-out statistics. */
  stats: boolean;
  /** Weight of the fold's R² in the score (1 / folds). */
  weight: number;
}

/** Held-out R² of every α of a fold, accumulated into the CV score on the device. */
export const ridgeScoreKernel: KernelSpec<RidgeScoreShape> = {
  name: "ridge_score",
  workgroupSize: [64, 1],
  source: WGSL.ridge_score,
  constants: {},
  dispatch: (s) => [Math.ceil(s.width / 64), s.mode === 1 ? s.nA : s.S + 1],
  uniforms: (s) => {
    const u = Uint32Array.from([
      s.V,
      s.S,
      s.nv,
      s.a0,
      s.r0,
      s.nr,
      s.yRow0,
      s.mode,
      s.nA,
      s.stats ? 1 : 0,
      s.c0,
      0,
    ]);
    new Float32Array(u.buffer)[11] = s.weight;
    return u;
  },
};

/** One dispatch of the per-target product (see shaders/select_product.wgsl). */
export interface SelectProductShape {
  /** Rows per α block of L, its columns (T's rows), targets, penalties. */
  R: number;
  K: number;
  V: number;
  nA: number;
  /** First output row written. */
  outRow0: number;
  /** First row and target of this dispatch, and how many of each. */
  i0: number;
  j0: number;
  height: number;
  width: number;
  /** Also write each target's chosen α index. */
  writeAlpha: boolean;
}

/** The product with each target's own α block of a stacked left factor. */
export const selectProductKernel: KernelSpec<SelectProductShape> = {
  name: "select_product",
  workgroupSize: [64, 1],
  source: WGSL.select_product,
  constants: {},
  dispatch: (s) => [Math.ceil(s.width / 64), s.height],
  uniforms: (s) =>
    Uint32Array.from([s.R, s.K, s.V, s.nA, s.outRow0, s.i0, s.j0, s.writeAlpha ? 1 : 0]),
};

/** The resident kernels, by role. */
export const RESIDENT_KERNELS = Object.freeze({
  copy: copyPaddedKernel,
  columnPearson: columnPearsonKernel,
  ridgeScore: ridgeScoreKernel,
  selectProduct: selectProductKernel,
});
