/**
 * The WGSL kernels described as plain data (as tfjs and onnxruntime-web do):
 * name, workgroup size, the constants that specialise the shader (from which
 * the pipeline cache key is derived), its source, and how to compute the
 * dispatch and uniforms for given shapes.
 *
 * @module
 */

import { WGSL } from "./wgsl_sources.ts";

/** A kernel, independent of any device. */
export interface KernelSpec<Shape> {
  name: string;
  /** `@workgroup_size` of the shader's entry point (x, y). */
  workgroupSize: [number, number];
  /** The WGSL source. */
  source: string;
  /** Pipeline-overridable constants that specialise it. */
  constants: Record<string, number>;
  /** Workgroups along x and y for a shape. */
  dispatch(shape: Shape): [number, number];
  /** The uniform block for a shape, as 32-bit unsigned words. */
  uniforms(shape: Shape): Uint32Array;
}

/** Cache key of a kernel: its name, workgroup size and constants, never assembled by hand elsewhere. */
export function cacheKey(spec: KernelSpec<unknown>): string {
  const c = Object.keys(spec.constants).sort().map((k) => `${k}=${spec.constants[k]}`);
  return [spec.name, spec.workgroupSize.join("x"), ...c].join("|");
}

/** Shape of one GEMM dispatch, on packed operands (M, N multiples of 64; K of 4). */
export interface GemmShape {
  M: number;
  N: number;
  K: number;
}

/** Output tile of one GEMM workgroup, in rows and columns (see shaders/gemm.wgsl). */
export const GEMM_TILE = 64;

/** C = A · B on packed, zero-padded operands. */
export const gemmKernel: KernelSpec<GemmShape> = {
  name: "gemm",
  workgroupSize: [8, 8],
  source: WGSL.gemm,
  constants: {},
  dispatch: (s) => [s.N / GEMM_TILE, s.M / GEMM_TILE],
  uniforms: (s) => Uint32Array.from([s.M, s.N, s.K, 0]),
};

/** Output tile of the large-tile GEMM (see shaders/gemm_large.wgsl). */
export const GEMM_LARGE_TILE = 128;

/** C = A · B with 128 × 128 workgroup tiles, for big products (M, N multiples of 128). */
export const gemmLargeKernel: KernelSpec<GemmShape> = {
  name: "gemm_large",
  workgroupSize: [8, 8],
  source: WGSL.gemm_large,
  constants: {},
  dispatch: (s) => [s.N / GEMM_LARGE_TILE, s.M / GEMM_LARGE_TILE],
  uniforms: (s) => Uint32Array.from([s.M, s.N, s.K, 0]),
};

/** Per-column mean and std of (rows × cols). */
export const columnStatsKernel: KernelSpec<{ rows: number; cols: number }> = {
  name: "column_stats",
  workgroupSize: [64, 1],
  source: WGSL.column_stats,
  constants: {},
  dispatch: (s) => [Math.ceil(s.cols / 64), 1],
  uniforms: (s) => Uint32Array.from([s.rows, s.cols]),
};

/** Per-column Pearson r of two (rows × cols) matrices. */
export const columnCorrelationKernel: KernelSpec<{ rows: number; cols: number }> = {
  name: "column_correlation",
  workgroupSize: [64, 1],
  source: WGSL.column_correlation,
  constants: {},
  dispatch: (s) => [Math.ceil(s.cols / 64), 1],
  uniforms: (s) => Uint32Array.from([s.rows, s.cols]),
};

/** R² of S stacked predictions of (n × p) targets. */
export const stackedR2Kernel: KernelSpec<{ n: number; p: number; S: number }> = {
  name: "stacked_r2",
  workgroupSize: [64, 1],
  source: WGSL.stacked_r2,
  constants: {},
  dispatch: (s) => [Math.ceil(s.p / 64), s.S],
  uniforms: (s) => Uint32Array.from([s.n, s.p, s.S, 0]),
};

/** Shape and settings of one LASSO coordinate-descent dispatch (see shaders/lasso_cd.wgsl). */
export interface LassoCDShape {
  p: number;
  V: number;
  nA: number;
  flags: number;
  l1Ratio: number;
  tol: number;
  maxIter: number;
  /** Work units (p² inner steps each) one invocation may spend per dispatch. */
  budget: number;
  /** Offsets of gram, q, yy, scale, path, held-out gram, q, yy, stop in the input buffer. */
  offsets: number[];
}

/** Flags of shaders/lasso_cd.wgsl. */
export const LASSO_FLAGS = { positive: 1, heldOut: 2, stop: 4, warm: 8, init: 16 } as const;

/**
 * Resumable coordinate descent along a penalty path, one invocation per
 * target; dispatched until no target is active.
 */
export const lassoCDKernel: KernelSpec<LassoCDShape> = {
  name: "lasso_cd",
  workgroupSize: [64, 1],
  source: WGSL.lasso_cd,
  constants: {},
  dispatch: (s) => [Math.ceil(s.V / 64), 1],
  uniforms: (s) => {
    const u = new Uint32Array(20);
    const f = new Float32Array(u.buffer);
    u[0] = s.p;
    u[1] = s.V;
    u[2] = s.nA;
    u[3] = s.flags;
    f[4] = s.l1Ratio;
    f[5] = s.tol;
    u[6] = s.maxIter;
    u[7] = s.budget;
    s.offsets.forEach((o, i) => (u[8 + i] = o));
    return u;
  },
};
