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
  /** The kernel's name: the label of its GPU objects and the first part of its cache key. */
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

const KEYS = new WeakMap<KernelSpec<unknown>, string>();

/**
 * Cache key of a kernel: its name, workgroup size, constants and a hash of
 * its source (so a replaced kernel never reuses another's pipeline), never
 * assembled by hand elsewhere. Computed once per spec object.
 *
 * @param spec the kernel
 * @returns `name|WxH|constant=value…|fnv1a-of-source`
 *
 * @example
 * ```ts
 * import { cacheKey, gemmKernel } from "@brainorg/kernels";
 * console.log(cacheKey(gemmKernel)); // "gemm|8x8|…" then the source's hash
 * ```
 */
export function cacheKey(spec: KernelSpec<unknown>): string {
  let key = KEYS.get(spec);
  if (key === undefined) {
    const c = Object.keys(spec.constants).sort().map((k) => `${k}=${spec.constants[k]}`);
    // FNV-1a over the UTF-16 code units.
    let h = 0x811c9dc5;
    for (let i = 0; i < spec.source.length; i++) {
      h = Math.imul(h ^ spec.source.charCodeAt(i), 0x01000193) >>> 0;
    }
    key = [spec.name, spec.workgroupSize.join("x"), ...c, h.toString(16).padStart(8, "0")].join(
      "|",
    );
    KEYS.set(spec, key);
  }
  return key;
}

/**
 * Loop iterations after which Mesa's gallivm (llvmpipe under GL, lavapipe
 * under Vulkan) cuts an invocation's loops short and carries on: all loops
 * together, counted per SIMD vector of invocations, so the loops of
 * divergent neighbours add up (LP_MAX_TGSI_LOOP_ITERATIONS). A kernel whose
 * invocation can loop longer returns wrong numbers there, silently; every
 * kernel here keeps within half of it.
 */
export const GALLIVM_LOOP_LIMIT = 65_535;

/**
 * Rows one invocation of the per-column kernels (column_stats,
 * column_correlation, stacked_r2) reads: two passes over them stay within
 * half of {@linkcode GALLIVM_LOOP_LIMIT}; the host merges longer columns
 * from chunks.
 */
export const ROWS_PER_INVOCATION: number = Math.floor(GALLIVM_LOOP_LIMIT / 4);

/**
 * Inner dimension of one GEMM dispatch at most (a multiple of 4): one
 * iteration per 4 values stays within half of {@linkcode GALLIVM_LOOP_LIMIT};
 * the host sums the partial products of longer ones.
 */
export const GEMM_MAX_K: number = 4 * Math.floor(GALLIVM_LOOP_LIMIT / 2);

/** Shape of one GEMM dispatch, on packed operands (M, N multiples of 64; K of 4). */
export interface GemmShape {
  /** Rows of A and C, padded. */
  M: number;
  /** Columns of B and C, padded. */
  N: number;
  /** Columns of A and rows of B, padded. */
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

/** Per-column mean and std of (rows × cols); rows ≤ {@linkcode ROWS_PER_INVOCATION}. */
export const columnStatsKernel: KernelSpec<{ rows: number; cols: number }> = {
  name: "column_stats",
  workgroupSize: [64, 1],
  source: WGSL.column_stats,
  constants: {},
  dispatch: (s) => [Math.ceil(s.cols / 64), 1],
  uniforms: (s) => Uint32Array.from([s.rows, s.cols]),
};

/**
 * Per-column means and centred sums of squares and products of two
 * (rows × cols) matrices, (5 × cols); rows ≤ {@linkcode ROWS_PER_INVOCATION}.
 */
export const columnCorrelationKernel: KernelSpec<{ rows: number; cols: number }> = {
  name: "column_correlation",
  workgroupSize: [64, 1],
  source: WGSL.column_correlation,
  constants: {},
  dispatch: (s) => [Math.ceil(s.cols / 64), 1],
  uniforms: (s) => Uint32Array.from([s.rows, s.cols]),
};

/**
 * Mean and centred sum of squares of (n × p) targets and the squared error
 * of S stacked predictions of them, ((S + 2) × p); n ≤ {@linkcode ROWS_PER_INVOCATION}.
 */
export const stackedR2Kernel: KernelSpec<{ n: number; p: number; S: number }> = {
  name: "stacked_r2",
  workgroupSize: [64, 1],
  source: WGSL.stacked_r2,
  constants: {},
  dispatch: (s) => [Math.ceil(s.p / 64), s.S + 1],
  uniforms: (s) => Uint32Array.from([s.n, s.p, s.S, 0]),
};

/** Shape and settings of one LASSO coordinate-descent dispatch (see shaders/lasso_cd.wgsl). */
export interface LassoCDShape {
  /** Regressors. */
  p: number;
  /** Targets, one invocation each. */
  V: number;
  /** Penalties on the path. */
  nA: number;
  /** {@linkcode LASSO_FLAGS} or'ed together. */
  flags: number;
  /** Mix of the L1 and L2 penalties, 1 = LASSO. */
  l1Ratio: number;
  /** Relative tolerance (updates, and duality gap ÷ yᵀy). */
  tol: number;
  /** Most sweeps per penalty. */
  maxIter: number;
  /** Kernel steps per dispatch, at most and by default {@linkcode lassoSteps}(p). */
  steps?: number;
  /** Offsets of gram, q, yy, scale, path, held-out gram, q, yy, stop in the input buffer. */
  offsets: number[];
}

/**
 * Steps of shaders/lasso_cd.wgsl per dispatch for p regressors: a vector of
 * invocations then loops at most p + steps·(3p + 4) times, within half of
 * {@linkcode GALLIVM_LOOP_LIMIT}.
 *
 * @param p regressors
 * @returns kernel steps per dispatch, at least 1
 *
 * @example
 * ```ts
 * import { lassoSteps } from "@brainorg/kernels";
 * const steps = lassoSteps(16); // 629: 16 + 629 · 52 = 32,724 ≤ 65,535 / 2
 * ```
 */
export function lassoSteps(p: number): number {
  return Math.max(1, Math.floor((GALLIVM_LOOP_LIMIT / 2 - p) / (3 * p + 4)));
}

/** Words of state per target kept between lasso_cd dispatches (see the shader). */
export const LASSO_STATE_WORDS = 8;

/** Flags of shaders/lasso_cd.wgsl. */
export const LASSO_FLAGS = { positive: 1, heldOut: 2, stop: 4, warm: 8, init: 16 } as const;

/**
 * Resumable coordinate descent along a penalty path, one invocation per
 * target; dispatched until no target is active. Its `uniforms` are bound as
 * a read-only storage buffer, not a uniform one (see the shader for why).
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
    u[7] = Math.min(s.steps ?? Infinity, lassoSteps(s.p));
    s.offsets.forEach((o, i) => (u[8 + i] = o));
    return u;
  },
};

/** The kernels a WebGPU backend runs, by role. */
export interface KernelSet {
  /** Products with 64 × 64 tiles: {@linkcode gemmKernel}. */
  gemm: KernelSpec<GemmShape>;
  /** Products with 128 × 128 tiles, for big ones: {@linkcode gemmLargeKernel}. */
  gemmLarge: KernelSpec<GemmShape>;
  /** Per-column mean and std: {@linkcode columnStatsKernel}. */
  columnStats: KernelSpec<{ rows: number; cols: number }>;
  /** Per-column sums for Pearson r: {@linkcode columnCorrelationKernel}. */
  columnCorrelation: KernelSpec<{ rows: number; cols: number }>;
  /** Sums for the R² of stacked predictions: {@linkcode stackedR2Kernel}. */
  stackedR2: KernelSpec<{ n: number; p: number; S: number }>;
  /** LASSO coordinate descent, one invocation per target: {@linkcode lassoCDKernel}. */
  lassoCD: KernelSpec<LassoCDShape>;
}

/** The kernels of `shaders/`. */
export const KERNELS: Readonly<KernelSet> = Object.freeze({
  gemm: gemmKernel,
  gemmLarge: gemmLargeKernel,
  columnStats: columnStatsKernel,
  columnCorrelation: columnCorrelationKernel,
  stackedR2: stackedR2Kernel,
  lassoCD: lassoCDKernel,
});
