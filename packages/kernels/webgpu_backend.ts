/**
 * The WebGPU backend: the WGSL kernels of `shaders/` on a GPUDevice (a real
 * GPU, or Mesa's and SwiftShader's software adapters), in Deno or a browser.
 *
 * Operands larger than one storage binding (128 MiB on the software
 * adapters) are tiled over rows and columns, never rejected; dispatches stay
 * within `maxComputeWorkgroupsPerDimension`.
 *
 * @module
 */

import { type Backend, type GemmOptions, gemmShape } from "./backend.ts";
import { type Matrix, type MatrixView, validateMatrix } from "./matrix.ts";
import { type AcquiredDevice, acquireDevice, type AcquireOptions } from "./webgpu_device.ts";
import {
  cacheKey,
  columnCorrelationKernel,
  columnStatsKernel,
  GEMM_TILE,
  gemmKernel,
  type KernelSpec,
  stackedR2Kernel,
} from "./webgpu_kernels.ts";

/** Options of {@linkcode createWebGpuBackend}. */
export interface WebGpuBackendOptions extends AcquireOptions {
  /**
   * Largest storage binding to use, in bytes; smaller values force tiling
   * (for tests). Default: the device's `maxStorageBufferBindingSize`.
   */
  maxBindingBytes?: number;
}

const USAGE_IN = 0x80 | 0x08; // STORAGE | COPY_DST
const USAGE_OUT = 0x80 | 0x04; // STORAGE | COPY_SRC
const USAGE_READ = 0x01 | 0x08; // MAP_READ | COPY_DST
const USAGE_UNIFORM = 0x40 | 0x08; // UNIFORM | COPY_DST

/** Dense copy of rows [r0, r0+nr) × columns [c0, c0+nc) of a view. */
function packBlock(v: MatrixView, r0: number, nr: number, c0: number, nc: number): Float32Array {
  const stride = v.rowStride ?? v.cols, off = v.offset ?? 0;
  if (c0 === 0 && nc === stride && off === 0) {
    return v.data.subarray(r0 * stride, (r0 + nr) * stride);
  }
  const out = new Float32Array(nr * nc);
  for (let r = 0; r < nr; r++) {
    const s = off + (r0 + r) * stride + c0;
    out.set(v.data.subarray(s, s + nc), r * nc);
  }
  return out;
}

function roundUp(x: number, to: number): number {
  return Math.ceil(x / to) * to;
}

/**
 * Rows [r0, r0+nr) × columns [c0, c0+nc) of op(v) (vᵀ when `trans`), dense
 * and zero-padded to (padRows × padCols).
 */
function packPadded(
  v: MatrixView,
  trans: boolean,
  r0: number,
  nr: number,
  c0: number,
  nc: number,
  padRows: number,
  padCols: number,
): Float32Array {
  const stride = v.rowStride ?? v.cols, off = v.offset ?? 0, d = v.data;
  if (!trans && padRows === nr && padCols === nc && c0 === 0 && nc === stride && off === 0) {
    return d.subarray(r0 * stride, (r0 + nr) * stride);
  }
  const out = new Float32Array(padRows * padCols);
  if (!trans) {
    for (let r = 0; r < nr; r++) {
      const s = off + (r0 + r) * stride + c0;
      out.set(d.subarray(s, s + nc), r * padCols);
    }
  } else {
    // op(v)[r][c] = v[c][r]: walk v's rows so reads stay sequential.
    for (let c = 0; c < nc; c++) {
      const s = off + (c0 + c) * stride + r0;
      for (let r = 0; r < nr; r++) out[r * padCols + c] = d[s + r];
    }
  }
  return out;
}

// Pipelines per device, shared by every backend made on that device.
const PIPELINES = new WeakMap<GPUDevice, Map<string, GPUComputePipeline>>();

/** A device with its pipeline cache: the context every kernel runs in. */
class KernelContext {
  readonly pipelines: Map<string, GPUComputePipeline>;
  constructor(readonly gpu: AcquiredDevice) {
    let cache = PIPELINES.get(gpu.device);
    if (!cache) PIPELINES.set(gpu.device, cache = new Map());
    this.pipelines = cache;
  }

  get device(): GPUDevice {
    if (this.gpu.lost.reason !== undefined) {
      throw new Error(`the WebGPU device was lost (${this.gpu.lost.reason}); create a new backend`);
    }
    return this.gpu.device;
  }

  pipeline(spec: KernelSpec<unknown>): GPUComputePipeline {
    const key = cacheKey(spec);
    let p = this.pipelines.get(key);
    if (!p) {
      const module = this.device.createShaderModule({ label: spec.name, code: spec.source });
      p = this.device.createComputePipeline({
        label: key,
        layout: "auto",
        compute: { module, entryPoint: "main", constants: spec.constants },
      });
      this.pipelines.set(key, p);
    }
    return p;
  }

  upload(label: string, data: Float32Array): GPUBuffer {
    const buf = this.device.createBuffer({
      label,
      size: Math.max(4, data.byteLength),
      usage: USAGE_IN,
    });
    if (data.byteLength > 0) {
      this.device.queue.writeBuffer(
        buf,
        0,
        data.buffer as ArrayBuffer,
        data.byteOffset,
        data.byteLength,
      );
    }
    return buf;
  }

  /** Run one kernel over `inputs`, writing `outputLength` floats, and read them back. */
  async run<S>(
    spec: KernelSpec<S>,
    shape: S,
    inputs: Float32Array[],
    outputLength: number,
  ): Promise<Float32Array> {
    const device = this.device;
    const [gx, gy] = spec.dispatch(shape);
    const maxWg = device.limits.maxComputeWorkgroupsPerDimension;
    if (gx > maxWg || gy > maxWg) {
      throw new RangeError(
        `${spec.name}: dispatch ${gx} × ${gy} exceeds ${maxWg} workgroups per dimension`,
      );
    }
    const buffers = inputs.map((d, i) => this.upload(`${spec.name}:in${i}`, d));
    const out = device.createBuffer({
      label: `${spec.name}:out`,
      size: Math.max(4, outputLength * 4),
      usage: USAGE_OUT,
    });
    const words = spec.uniforms(shape);
    const padded = new Uint32Array(Math.ceil(words.length / 4) * 4);
    padded.set(words);
    const uni = device.createBuffer({
      label: `${spec.name}:dims`,
      size: padded.byteLength,
      usage: USAGE_UNIFORM,
    });
    device.queue.writeBuffer(uni, 0, padded);
    const read = device.createBuffer({
      label: `${spec.name}:read`,
      size: Math.max(4, outputLength * 4),
      usage: USAGE_READ,
    });
    try {
      const pipeline = this.pipeline(spec as KernelSpec<unknown>);
      const bind = device.createBindGroup({
        label: spec.name,
        layout: pipeline.getBindGroupLayout(0),
        entries: [...buffers, out, uni].map((buffer, binding) => ({
          binding,
          resource: { buffer },
        })),
      });
      const enc = device.createCommandEncoder({ label: spec.name });
      if (gx > 0 && gy > 0) {
        const pass = enc.beginComputePass({ label: spec.name });
        pass.setPipeline(pipeline);
        pass.setBindGroup(0, bind);
        pass.dispatchWorkgroups(gx, gy);
        pass.end();
      }
      enc.copyBufferToBuffer(out, 0, read, 0, Math.max(4, outputLength * 4));
      device.queue.submit([enc.finish()]);
      await read.mapAsync(1 /* READ */);
      const result = new Float32Array(read.getMappedRange().slice(0, outputLength * 4));
      read.unmap();
      return result;
    } finally {
      for (const b of [...buffers, out, uni, read]) b.destroy();
    }
  }
}

/**
 * Create the WebGPU backend.
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
export async function createWebGpuBackend(options: WebGpuBackendOptions = {}): Promise<Backend> {
  const gpu = await acquireDevice(options);
  const ctx = new KernelContext(gpu);
  const limits = gpu.device.limits;
  const maxElems = Math.floor(
    Math.min(options.maxBindingBytes ?? Infinity, limits.maxStorageBufferBindingSize) / 4,
  );
  const maxWg = limits.maxComputeWorkgroupsPerDimension;

  async function gemm(a: MatrixView, b: MatrixView, o: GemmOptions = {}): Promise<Matrix> {
    validateMatrix("a", a, false);
    validateMatrix("b", b, false);
    const { m, n, k } = gemmShape(a, b, o);
    const transA = !!o.transA, transB = !!o.transB;
    // Split the inner dimension only when one 64-row slice of it overflows a binding;
    // the partial products are then summed here.
    if (maxElems < GEMM_TILE * GEMM_TILE) {
      throw new RangeError(
        `gemm: a ${maxElems * 4}-byte storage binding cannot hold one 64 × 64 output tile`,
      );
    }
    const kc = Math.min(roundUp(k, 4), Math.floor(maxElems / GEMM_TILE / 4) * 4);
    // Tile C so that every packed operand fits one binding and one dispatch.
    const fit = (x: number) => Math.max(GEMM_TILE, Math.floor(x / GEMM_TILE) * GEMM_TILE);
    let mc = Math.min(roundUp(m, GEMM_TILE), fit(maxElems / kc), maxWg * GEMM_TILE);
    let nc = Math.min(roundUp(n, GEMM_TILE), fit(maxElems / kc), maxWg * GEMM_TILE);
    while (mc * nc > maxElems) {
      if (nc >= mc && nc > GEMM_TILE) nc = fit(nc / 2);
      else mc = fit(mc / 2);
    }
    const c = o.out ? o.out.subarray(0, m * n) : new Float32Array(m * n);
    if (c.length < m * n) {
      throw new RangeError(`gemm: out holds ${c.length} values; C needs ${m * n}`);
    }
    for (let k0 = 0; k0 < k; k0 += kc) {
      const kk = Math.min(kc, k - k0), kp = roundUp(kk, 4);
      for (let m0 = 0; m0 < m; m0 += mc) {
        const mm = Math.min(mc, m - m0), mp = roundUp(mm, GEMM_TILE);
        const aBlock = packPadded(a, transA, m0, mm, k0, kk, mp, kp);
        for (let n0 = 0; n0 < n; n0 += nc) {
          const nn = Math.min(nc, n - n0), np = roundUp(nn, GEMM_TILE);
          const bBlock = packPadded(b, transB, k0, kk, n0, nn, kp, np);
          const block = await ctx.run(
            gemmKernel,
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

  /** Run a per-column kernel over column blocks that fit one binding. */
  async function perColumn(
    views: MatrixView[],
    outPerCol: number,
    go: (blocks: Float32Array[], rows: number, cols: number) => Promise<Float32Array>,
  ): Promise<Float32Array> {
    const { rows, cols } = views[0];
    const step = Math.max(1, Math.min(cols, Math.floor(maxElems / rows), maxWg * 64));
    const out = new Float32Array(outPerCol * cols);
    for (let c0 = 0; c0 < cols; c0 += step) {
      const nc = Math.min(step, cols - c0);
      const res = await go(views.map((v) => packBlock(v, 0, rows, c0, nc)), rows, nc);
      for (let q = 0; q < outPerCol; q++) {
        out.set(res.subarray(q * nc, (q + 1) * nc), q * cols + c0);
      }
    }
    return out;
  }

  return {
    info: {
      name: "webgpu",
      implementation: gpu.adapter.description ||
        [gpu.adapter.vendor, gpu.adapter.architecture].filter(Boolean).join(" ") ||
        "WebGPU adapter",
      details: {
        ...gpu.adapter,
        maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
        maxComputeWorkgroupsPerDimension: maxWg,
        shaderF16: gpu.device.features.has("shader-f16"),
      },
    },
    gemm,
    async columnStats(x) {
      const out = await perColumn(
        [x],
        2,
        (b, rows, cols) => ctx.run(columnStatsKernel, { rows, cols }, b, 2 * cols),
      );
      return { mean: out.slice(0, x.cols), std: out.slice(x.cols) };
    },
    columnCorrelation(a, b) {
      if (a.rows !== b.rows || a.cols !== b.cols) {
        throw new RangeError(
          `columnCorrelation: shapes differ: ${a.rows} × ${a.cols} and ${b.rows} × ${b.cols}`,
        );
      }
      return perColumn(
        [a, b],
        1,
        (bl, rows, cols) => ctx.run(columnCorrelationKernel, { rows, cols }, bl, cols),
      );
    },
    async stackedR2(pred, y) {
      const n = y.rows, p = y.cols;
      if (pred.cols !== p || pred.rows % n !== 0) {
        throw new RangeError(
          `stackedR2: pred is ${pred.rows} × ${pred.cols}; expected S·${n} × ${p}`,
        );
      }
      const S = pred.rows / n;
      const step = Math.max(1, Math.min(p, Math.floor(maxElems / pred.rows), maxWg * 64));
      const out = new Float32Array(S * p);
      for (let c0 = 0; c0 < p; c0 += step) {
        const nc = Math.min(step, p - c0);
        const res = await ctx.run(
          stackedR2Kernel,
          { n, p: nc, S },
          [packBlock(pred, 0, pred.rows, c0, nc), packBlock(y, 0, n, c0, nc)],
          S * nc,
        );
        for (let s = 0; s < S; s++) out.set(res.subarray(s * nc, (s + 1) * nc), s * p + c0);
      }
      return { rows: S, cols: p, data: out };
    },
    dispose() {
      if (gpu.owned) gpu.device.destroy();
    },
  };
}
