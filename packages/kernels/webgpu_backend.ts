/**
 * The WebGPU backend: the WGSL kernels of `shaders/` on a GPUDevice (a real
 * GPU, or Mesa's and SwiftShader's software adapters), in Deno or a browser.
 *
 * Operands larger than one storage binding (128 MiB on the software
 * adapters) are tiled over rows and columns, never rejected; dispatches stay
 * within `maxComputeWorkgroupsPerDimension`, and every invocation within
 * Mesa's loop limit (`GALLIVM_LOOP_LIMIT`). Before a backend is
 * handed out, its kernels pass a self-check on the device
 * (webgpu_self_check.ts).
 *
 * @module
 */

import { type Backend, type GemmOptions, gemmShape } from "./backend.ts";
import { type Matrix, type MatrixView, validateMatrix } from "./matrix.ts";
import type { LassoBatch } from "./lasso_batch.ts";
import { acquireDevice, type AcquireOptions } from "./webgpu_device.ts";
import { KernelContext, packPadded, roundUp, type TransferStats } from "./webgpu_context.ts";
import type { GpuMatrix } from "./webgpu_gpu_matrix.ts";
import { registerResident, Resident } from "./webgpu_resident.ts";
import {
  columnCorrelationOnDevice,
  type ColumnLimits,
  columnStatsOnDevice,
  stackedR2OnDevice,
} from "./webgpu_columns.ts";
import { lassoCDOnDevice } from "./webgpu_lasso.ts";
import { cacheKey, KERNELS, type KernelSet } from "./webgpu_kernels.ts";
import { planGemm } from "./webgpu_gemm_plan.ts";
import { runSelfCheck, type SelfCheckReport, WebGpuSelfCheckError } from "./webgpu_self_check.ts";

export type { TransferStats } from "./webgpu_context.ts";
export {
  describeFailures,
  type SelfCheckFailure,
  type SelfCheckReport,
  WebGpuSelfCheckError,
} from "./webgpu_self_check.ts";

/** Options of {@linkcode createWebGpuBackend}. */
export interface WebGpuBackendOptions extends AcquireOptions {
  /**
   * Largest storage binding to use, in bytes; smaller values force tiling
   * (for tests). Default: the device's `maxStorageBufferBindingSize`.
   */
  maxBindingBytes?: number;
  /**
   * Run the kernel self-check before returning, and throw
   * {@linkcode WebGpuSelfCheckError} when the adapter fails it. Default:
   * true. With false, call {@linkcode WebGpuBackend.selfCheck} yourself.
   */
  selfCheck?: boolean;
  /**
   * Kernels to run instead of those of `shaders/`, by role (tests inject
   * broken ones to watch the self-check refuse them). Default: none.
   */
  kernels?: Partial<KernelSet>;
}

/** Options of {@linkcode WebGpuBackend.gemmGpu}. */
export interface GemmGpuOptions {
  /** Use Aᵀ: A is stored (k × m). Default: false. */
  transA?: boolean;
  /** Use Bᵀ: B is stored (n × k). Default: false. */
  transB?: boolean;
}

/**
 * The WebGPU backend: a {@linkcode Backend} whose adapter can be checked,
 * and which also computes on data already on its device (WebGPU only: the
 * CPU backend has none of the `…Gpu` methods, `upload` or `download`).
 *
 * Resident calls take {@linkcode GpuMatrix} operands on the backend's
 * device (host matrices are uploaded first, counted in `stats`) and return
 * new GpuMatrix results that the caller owns and disposes; they read
 * nothing back, so a chain of them waits for the device only at
 * {@linkcode WebGpuBackend.download}. Each operand and result must fit one
 * storage binding (`device.limits.maxStorageBufferBindingSize`).
 *
 * @example
 * ```ts
 * import { createWebGpuBackend } from "@brainorg/kernels";
 * const gpu = await createWebGpuBackend();
 * const before = { ...gpu.stats };
 * const a = gpu.upload({ rows: 3, cols: 2, data: new Float32Array([1, 2, 3, 4, 5, 6]) });
 * const c = await gpu.gemmGpu(a, a, { transA: true }); // Aᵀ A, (2 × 2), on the device
 * const r = await gpu.columnCorrelationGpu(a, a); // (1 × 2): [1, 1], on the device
 * console.log((await gpu.download(c)).data, gpu.stats.readbacks - before.readbacks); // [35, 44, 44, 56], 1
 * for (const m of [a, c, r]) m.dispose();
 * gpu.dispose();
 * ```
 */
export interface WebGpuBackend extends Backend {
  /**
   * Run the kernel self-check on this backend's device and kernels, once:
   * the verdict is cached per device and kernel set, and later calls (from
   * any backend on the same device) return it with `cached: true`.
   */
  selfCheck(): Promise<SelfCheckReport>;

  /** The device the backend runs on: create GpuMatrix buffers on it. */
  readonly device: GPUDevice;

  /**
   * Uploads and readbacks so far, the self-check's included (see
   * {@linkcode TransferStats}); live, so snapshot it (`{ ...backend.stats }`)
   * to count a piece of work's.
   */
  readonly stats: Readonly<TransferStats>;

  /**
   * Copy a host matrix to a new GpuMatrix on the backend's device (one upload).
   *
   * @param m (rows × cols), float32, row-major (strided views are packed)
   * @returns the matrix on the device; the caller disposes it
   */
  upload(m: MatrixView): GpuMatrix;

  /**
   * Read a GpuMatrix back to the host (one readback: waits for every
   * command submitted before it).
   *
   * @param m (rows × cols), on the backend's device
   * @returns a new host matrix, (rows × cols)
   * @throws {TypeError} for a matrix of another device, disposed, or whose
   *   buffer lacks STORAGE | COPY_SRC | COPY_DST usage
   */
  download(m: GpuMatrix): Promise<Matrix>;

  /**
   * C = op(A) · op(B), kept on the device.
   *
   * @param a (m × k), or (k × m) with `transA`: on the device, or a host matrix (uploaded)
   * @param b (k × n), or (n × k) with `transB`: likewise
   * @param options the transposes (see {@linkcode GemmGpuOptions}). Default: none.
   * @returns C, (m × n), a new GpuMatrix the caller disposes
   * @throws {RangeError} when the inner dimensions differ, or an operand or C
   *   does not fit one storage binding
   */
  gemmGpu(
    a: GpuMatrix | MatrixView,
    b: GpuMatrix | MatrixView,
    options?: GemmGpuOptions,
  ): Promise<GpuMatrix>;

  /**
   * Per-column Pearson correlation of two matrices of the same shape (e.g.
   * predictions and targets), kept on the device; 0 where a column is constant.
   *
   * @param a (n × p), on the device
   * @param b (n × p), on the device
   * @returns r, (1 × p), a new GpuMatrix the caller disposes
   * @throws {RangeError} when the shapes differ
   */
  columnCorrelationGpu(a: GpuMatrix, b: GpuMatrix): Promise<GpuMatrix>;
}

// Self-check verdicts per device, then per kernel set.
const VERDICTS = new WeakMap<GPUDevice, Map<string, Promise<SelfCheckReport>>>();

/**
 * Create the WebGPU backend; its kernels are checked on the device first
 * (see {@linkcode WebGpuBackendOptions.selfCheck}).
 *
 * @param options a device to use, the adapter preference, binding size,
 *   self-check, kernels (see {@linkcode WebGpuBackendOptions}). Default: all defaults.
 * @returns the backend; `dispose()` destroys the device when brainorg created it
 * @throws {Error} when WebGPU is missing or no adapter exists (see {@linkcode acquireDevice})
 * @throws {WebGpuSelfCheckError} when a kernel gives wrong results on the adapter
 *
 * @example
 * ```ts
 * import { createWebGpuBackend } from "@brainorg/kernels";
 * const gpu = await createWebGpuBackend();
 * const c = await gpu.gemm({ rows: 2, cols: 2, data: new Float32Array([1, 2, 3, 4]) },
 *   { rows: 2, cols: 1, data: new Float32Array([1, 1]) }); // [3, 7]
 * gpu.dispose();
 * ```
 */
export async function createWebGpuBackend(
  options: WebGpuBackendOptions = {},
): Promise<WebGpuBackend> {
  const gpu = await acquireDevice(options);
  const ctx = new KernelContext(gpu);
  const kernels: KernelSet = { ...KERNELS, ...options.kernels };
  const limits = gpu.device.limits;
  const maxElems = Math.floor(
    Math.min(options.maxBindingBytes ?? Infinity, limits.maxStorageBufferBindingSize) / 4,
  );
  const maxWg = limits.maxComputeWorkgroupsPerDimension;
  const columnLimits: ColumnLimits = { maxElems, maxWg };

  async function gemm(a: MatrixView, b: MatrixView, o: GemmOptions = {}): Promise<Matrix> {
    validateMatrix("a", a, false);
    validateMatrix("b", b, false);
    const { m, n, k } = gemmShape(a, b, o);
    const transA = !!o.transA, transB = !!o.transB;
    const { large, tile: T, kc, mc, nc } = planGemm(m, n, k, maxElems, maxWg);
    const kernel = large ? kernels.gemmLarge : kernels.gemm;
    const c = o.out ? o.out.subarray(0, m * n) : new Float32Array(m * n);
    if (c.length < m * n) {
      throw new RangeError(`gemm: out holds ${c.length} values; C needs ${m * n}`);
    }
    for (let k0 = 0; k0 < k; k0 += kc) {
      const kk = Math.min(kc, k - k0), kp = roundUp(kk, 4);
      for (let m0 = 0; m0 < m; m0 += mc) {
        const mm = Math.min(mc, m - m0), mp = roundUp(mm, T);
        const aBlock = packPadded(a, transA, m0, mm, k0, kk, mp, kp);
        for (let n0 = 0; n0 < n; n0 += nc) {
          const nn = Math.min(nc, n - n0), np = roundUp(nn, T);
          const bBlock = packPadded(b, transB, k0, kk, n0, nn, kp, np);
          const block = await ctx.run(
            kernel,
            { M: mp, N: np, K: kp },
            [aBlock, bBlock],
            mp * np,
          );
          for (let r = 0; r < mm; r++) {
            const dst = (m0 + r) * n + n0, src = r * np;
            if (k0 === 0) c.set(block.subarray(src, src + nn), dst);
            else for (let j = 0; j < nn; j++) c[dst + j] += block[src + j];
          }
        }
      }
    }
    return { rows: m, cols: n, data: c };
  }

  const lassoCD = (batch: LassoBatch, steps?: number) =>
    lassoCDOnDevice(ctx, kernels.lassoCD, batch, maxElems, steps);
  const primitives = {
    gemm,
    columnStats: (x: MatrixView) => columnStatsOnDevice(ctx, kernels, x, columnLimits),
    columnCorrelation: (a: MatrixView, b: MatrixView) =>
      columnCorrelationOnDevice(ctx, kernels, a, b, columnLimits),
    stackedR2: (pred: MatrixView, y: MatrixView) =>
      stackedR2OnDevice(ctx, kernels, pred, y, columnLimits),
  };
  // The products come back to the host between the two kernels (one readback per call).
  const productR2 = async (a: MatrixView, b: MatrixView, y: MatrixView) =>
    primitives.stackedR2(await gemm(a, b), y);
  const implementation = gpu.adapter.description ||
    [gpu.adapter.vendor, gpu.adapter.architecture].filter(Boolean).join(" ") ||
    "WebGPU adapter";

  const resident = new Resident(ctx, kernels, maxElems, maxWg);
  const backend: WebGpuBackend = {
    info: {
      name: "webgpu",
      implementation,
      details: {
        ...gpu.adapter,
        maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
        maxComputeWorkgroupsPerDimension: maxWg,
        shaderF16: gpu.device.features.has("shader-f16"),
      },
    },
    ...primitives,
    productR2,
    lassoCD: (batch) => lassoCD(batch),
    get device() {
      return gpu.device;
    },
    stats: ctx.stats,
    upload: (m) => resident.upload("m", m),
    download: (m) => resident.scoped("download", () => resident.download("m", m)),
    gemmGpu: (a, b, o = {}) =>
      resident.scoped(
        "gemmGpu",
        () => resident.gemm(a, b, { transA: o.transA, transB: o.transB, label: "gemmGpu" }),
      ),
    columnCorrelationGpu: (a, b) =>
      resident.scoped("columnCorrelationGpu", () => resident.columnCorrelation(a, b)),
    selfCheck() {
      let perDevice = VERDICTS.get(gpu.device);
      if (!perDevice) VERDICTS.set(gpu.device, perDevice = new Map());
      const key = Object.values(kernels).map(cacheKey).join(" ");
      const earlier = perDevice.get(key);
      let verdict: Promise<SelfCheckReport>;
      if (earlier) {
        verdict = earlier.then((r) => ({ ...r, cached: true }));
      } else {
        verdict = runSelfCheck({ ...primitives, lassoCD });
        perDevice.set(key, verdict);
      }
      return verdict.then((r) => {
        backend.info.details.selfCheck = {
          ok: r.ok,
          ms: Math.round(r.ms),
          msByKernel: r.msByKernel,
          cached: r.cached,
          failures: r.failures,
        };
        return r;
      });
    },
    dispose() {
      if (gpu.owned) gpu.device.destroy();
    },
  };
  registerResident(backend, resident);
  if (options.selfCheck ?? true) {
    const report = await backend.selfCheck();
    if (!report.ok) {
      backend.dispose();
      throw new WebGpuSelfCheckError(implementation, report);
    }
  }
  return backend;
}
