/**
 * brainorg's compute kernels, usable by any WebGPU project: one
 * {@linkcode Backend} interface with a CPU implementation (products through
 * OpenBLAS via FFI, MLAS from onnxruntime-node, or plain TypeScript) and a
 * WebGPU implementation (WGSL), small float64 decompositions, and solvers
 * written against the interface.
 *
 * @example
 * ```ts
 * import { createBackend, ridgeCV } from "@brainorg/kernels";
 * const backend = await createBackend({ backend: "auto" });
 * console.log(backend.info);
 * ```
 *
 * @module
 */

// Files whose exports are listed by name also hold helpers that only this
// package's solvers and tests use (centered designs, fold indicators, the
// CPU products' loader, the upper factor of the null, the code objective).

export * from "./backend.ts";
export * from "./matrix.ts";
export * from "./cpu_reference.ts";
export * from "./cpu_backend.ts";
export * from "./linalg.ts";
export { contiguousFolds, logspace, resolveFolds } from "./cross_validation.ts";
export * from "./ridge.ts";
export type { FoldErrors, FoldProducts } from "./ridge_folds.ts";
export * from "./banded_ridge.ts";
export * from "./ridge_fixed.ts";
export {
  GEMM_MIN_REGRESSORS,
  refitBatchSize,
  type RefitDesigns,
  type RefitResult,
  type RefitSubject,
  type RidgeRefitOptions,
  RidgeRefits,
} from "./ridge_null.ts";
export type { ProductsChoice } from "./gemm_libraries.ts";
export * from "./lasso_batch.ts";
export { lassoCDReference } from "./lasso_cd_reference.ts";
export * from "./webgpu_device.ts";
export * from "./webgpu_kernels.ts";
export * from "./webgpu_backend.ts";
export { GPU_MATRIX_USAGE, GpuMatrix, type GpuMatrixOptions } from "./webgpu_gpu_matrix.ts";
export * from "./webgpu_ridge.ts";
export * from "./select_backend.ts";
export * from "./lasso.ts";
export { type SparseCodes, sparseEncode, type SparseEncodeOptions } from "./sparse_coding.ts";
export * from "./dictionary_learning.ts";
export * from "./random.ts";
export * from "./permutation.ts";
export * from "./assignment.ts";
export { FISHER_R_LIMIT, fisherZ } from "./_fisher.ts";
