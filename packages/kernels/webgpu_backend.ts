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
import type { LassoBatch, LassoBatchResult } from "./lasso_batch.ts";
import { type AcquiredDevice, acquireDevice, type AcquireOptions } from "./webgpu_device.ts";
import {
  cacheKey,
  columnCorrelationKernel,
  columnStatsKernel,
  GEMM_LARGE_TILE,
  GEMM_TILE,
  gemmKernel,
  gemmLargeKernel,
  type KernelSpec,
  LASSO_FLAGS,
  lassoCDKernel,
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

  /** The kernel's pipeline, compiled once per device; a shader that fails to compile throws. */
  async pipeline(spec: KernelSpec<unknown>): Promise<GPUComputePipeline> {
    const key = cacheKey(spec);
    let p = this.pipelines.get(key);
    if (!p) {
      const device = this.device;
      device.pushErrorScope("validation");
      const module = device.createShaderModule({ label: spec.name, code: spec.source });
      const pipeline = device.createComputePipeline({
        label: key,
        layout: "auto",
        compute: { module, entryPoint: "main", constants: spec.constants },
      });
      const error = await device.popErrorScope();
      if (error) throw new Error(`WebGPU kernel "${key}" failed to compile: ${error.message}`);
      this.pipelines.set(key, p = pipeline);
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
    return (await this.runMany(spec, shape, inputs, [{ length: outputLength }]))[0];
  }

  /**
   * Run one kernel: bindings are the inputs, then the outputs (each
   * optionally filled with `init` first), then the uniforms; returns every
   * output read back.
   */
  async runMany<S>(
    spec: KernelSpec<S>,
    shape: S,
    inputs: Float32Array[],
    outputs: { length: number; init?: Float32Array }[],
  ): Promise<Float32Array[]> {
    const device = this.device;
    const [gx, gy] = spec.dispatch(shape);
    const maxWg = device.limits.maxComputeWorkgroupsPerDimension;
    if (gx > maxWg || gy > maxWg) {
      throw new RangeError(
        `${spec.name}: dispatch ${gx} × ${gy} exceeds ${maxWg} workgroups per dimension`,
      );
    }
    const buffers = inputs.map((d, i) => this.upload(`${spec.name}:in${i}`, d));
    const outs = outputs.map((o, i) => {
      const size = Math.max(4, o.length * 4);
      const buf = device.createBuffer({
        label: `${spec.name}:out${i}`,
        size,
        usage: USAGE_OUT | 0x08,
      });
      if (o.init && o.init.byteLength > 0) {
        device.queue.writeBuffer(
          buf,
          0,
          o.init.buffer as ArrayBuffer,
          o.init.byteOffset,
          o.init.byteLength,
        );
      }
      return buf;
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
    const reads = outputs.map((o, i) =>
      device.createBuffer({
        label: `${spec.name}:read${i}`,
        size: Math.max(4, o.length * 4),
        usage: USAGE_READ,
      })
    );
    try {
      const pipeline = await this.pipeline(spec as KernelSpec<unknown>);
      const bind = device.createBindGroup({
        label: spec.name,
        layout: pipeline.getBindGroupLayout(0),
        entries: [...buffers, ...outs, uni].map((buffer, binding) => ({
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
      outs.forEach((o, i) =>
        enc.copyBufferToBuffer(o, 0, reads[i], 0, Math.max(4, outputs[i].length * 4))
      );
      device.queue.submit([enc.finish()]);
      const results: Float32Array[] = [];
      for (let i = 0; i < reads.length; i++) {
        await reads[i].mapAsync(1 /* READ */);
        results.push(new Float32Array(reads[i].getMappedRange().slice(0, outputs[i].length * 4)));
        reads[i].unmap();
      }
      return results;
    } finally {
      for (const b of [...buffers, ...outs, uni, ...reads]) b.destroy();
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
    // 128 × 128 workgroup tiles feed more FMAs per load (≈ 1.4× on llvmpipe), when
    // padding both sides to 128 costs at most a quarter more work than to 64.
    const large = m >= 128 && n >= 128 && maxElems >= GEMM_LARGE_TILE * GEMM_LARGE_TILE * 4 &&
      roundUp(m, 128) * roundUp(n, 128) <= 1.25 * roundUp(m, 64) * roundUp(n, 64);
    const T = large ? GEMM_LARGE_TILE : GEMM_TILE;
    const kernel = large ? gemmLargeKernel : gemmKernel;
    const kc = Math.min(roundUp(k, 4), Math.floor(maxElems / T / 4) * 4);
    // Tile C so that every packed operand fits one binding and one dispatch.
    const fit = (x: number) => Math.max(T, Math.floor(x / T) * T);
    let mc = Math.min(roundUp(m, T), fit(maxElems / kc), maxWg * T);
    let nc = Math.min(roundUp(n, T), fit(maxElems / kc), maxWg * T);
    while (mc * nc > maxElems) {
      if (nc >= mc && nc > T) nc = fit(nc / 2);
      else mc = fit(mc / 2);
    }
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
      const res = await go(
        views.map((v) => packPadded(v, false, 0, rows, c0, nc, rows, nc)),
        rows,
        nc,
      );
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
          [
            packPadded(pred, false, 0, pred.rows, c0, nc, pred.rows, nc),
            packPadded(y, false, 0, n, c0, nc, n, nc),
          ],
          S * nc,
        );
        for (let s = 0; s < S; s++) out.set(res.subarray(s * nc, (s + 1) * nc), s * p + c0);
      }
      return { rows: S, cols: p, data: out };
    },
    lassoCD: (batch) => lassoCDOnDevice(ctx, batch, maxElems),
    dispose() {
      if (gpu.owned) gpu.device.destroy();
    },
  };
}

/** Columns [v0, v0 + n) of a (rows × V) row-major matrix, dense. */
function columnsOf(m: Float32Array, rows: number, V: number, v0: number, n: number): Float32Array {
  const out = new Float32Array(rows * n);
  for (let r = 0; r < rows; r++) out.set(m.subarray(r * V + v0, r * V + v0 + n), r * n);
  return out;
}

/**
 * Batched coordinate descent on the device: targets in chunks that fit one
 * binding; per chunk, an initialising dispatch, then resumable dispatches
 * (eight per submit) until no target is active.
 */
async function lassoCDOnDevice(
  ctx: KernelContext,
  batch: LassoBatch,
  maxElems: number,
): Promise<LassoBatchResult> {
  const { p, yy } = batch, V = yy.length, nA = batch.path.length;
  const held = batch.heldOut;
  const perTarget = 2 * p + 4, fixed = 2 * p * p + nA;
  const vc = Math.max(
    1,
    Math.min(
      V,
      65_536,
      Math.floor((maxElems - fixed) / perTarget),
      Math.floor(maxElems / Math.max(p, nA)),
    ),
  );
  const sse = held ? new Float32Array(nA * V) : undefined;
  const weights = batch.stopIndex || !held ? new Float32Array(p * V) : undefined;
  const iterations = new Uint32Array(V);
  const device = ctx.device;
  const pipeline = await ctx.pipeline(lassoCDKernel as KernelSpec<unknown>);
  for (let v0 = 0; v0 < V; v0 += vc) {
    const n = Math.min(vc, V - v0);
    const parts: ArrayLike<number>[] = [
      batch.gram,
      columnsOf(batch.q, p, V, v0, n),
      yy.subarray(v0, v0 + n),
      batch.scale.subarray(v0, v0 + n),
      batch.path,
      held ? held.gram : [],
      held ? columnsOf(held.q, p, V, v0, n) : [],
      held ? held.yy.subarray(v0, v0 + n) : [],
      batch.stopIndex ? batch.stopIndex.subarray(v0, v0 + n) : [],
    ];
    const offsets: number[] = [];
    let total = 0;
    for (const part of parts) {
      offsets.push(total);
      total += part.length;
    }
    const inpData = new Float32Array(Math.max(total, 1));
    parts.forEach((part, i) => inpData.set(part, offsets[i]));
    const flags = (batch.positive ? LASSO_FLAGS.positive : 0) | (held ? LASSO_FLAGS.heldOut : 0) |
      (batch.stopIndex ? LASSO_FLAGS.stop : 0) | (batch.warmStart ? LASSO_FLAGS.warm : 0);
    const shape = {
      p,
      V: n,
      nA,
      flags,
      l1Ratio: batch.l1Ratio ?? 1,
      // float32 cannot reach float64 gaps: below 1e-6 the tolerance only costs sweeps.
      tol: Math.max(batch.tol ?? 1e-4, 1e-6),
      maxIter: batch.maxIter ?? 1000,
      budget: Math.max(4, Math.floor(60_000 / (p * p))),
      offsets,
    };
    const storage = (label: string, bytes: number, init?: ArrayBufferView) => {
      const buf = device.createBuffer({
        label: `lasso_cd:${label}`,
        size: Math.max(16, bytes),
        usage: USAGE_OUT | 0x08,
      });
      if (init && init.byteLength > 0) {
        device.queue.writeBuffer(
          buf,
          0,
          init.buffer as ArrayBuffer,
          init.byteOffset,
          init.byteLength,
        );
      }
      return buf;
    };
    const uniform = (words: Uint32Array) => {
      const buf = device.createBuffer({
        label: "lasso_cd:params",
        size: words.byteLength,
        usage: USAGE_UNIFORM,
      });
      device.queue.writeBuffer(
        buf,
        0,
        words.buffer as ArrayBuffer,
        words.byteOffset,
        words.byteLength,
      );
      return buf;
    };
    const inp = ctx.upload("lasso_cd:in", inpData);
    const wio = storage(
      "weights",
      4 * p * n,
      batch.warmStart ? columnsOf(batch.warmStart, p, V, v0, n) : undefined,
    );
    const grad = storage("gradient", 4 * p * n);
    const sseBuf = storage("sse", 4 * (held ? nA * n : 1));
    const state = storage("state", 4 * 4 * n);
    const active = storage("active", 4);
    const uInit = uniform(lassoCDKernel.uniforms({ ...shape, flags: flags | LASSO_FLAGS.init }));
    const uRun = uniform(lassoCDKernel.uniforms(shape));
    const bind = (u: GPUBuffer) =>
      device.createBindGroup({
        label: "lasso_cd",
        layout: pipeline.getBindGroupLayout(0),
        entries: [inp, wio, grad, sseBuf, state, active, u].map((buffer, binding) => ({
          binding,
          resource: { buffer },
        })),
      });
    const bInit = bind(uInit), bRun = bind(uRun);
    const [gx] = lassoCDKernel.dispatch(shape);
    const readActive = device.createBuffer({
      label: "lasso_cd:read-active",
      size: 16,
      usage: USAGE_READ,
    });
    try {
      let first = true;
      for (let round = 0;; round++) {
        const enc = device.createCommandEncoder({ label: "lasso_cd" });
        for (let d = 0; d < 8; d++) {
          enc.clearBuffer(active);
          const pass = enc.beginComputePass({ label: "lasso_cd" });
          pass.setPipeline(pipeline);
          pass.setBindGroup(0, first ? bInit : bRun);
          pass.dispatchWorkgroups(gx);
          pass.end();
          first = false;
        }
        enc.copyBufferToBuffer(active, 0, readActive, 0, 4);
        device.queue.submit([enc.finish()]);
        await readActive.mapAsync(1);
        const still = new Uint32Array(readActive.getMappedRange().slice(0, 4))[0];
        readActive.unmap();
        if (still === 0) break;
        if (round > 1_000_000) throw new Error("lasso_cd: no progress after a million dispatches");
      }
      const reads = [wio, sseBuf, state].map((b) => {
        const r = device.createBuffer({ label: "lasso_cd:read", size: b.size, usage: USAGE_READ });
        return { src: b, dst: r };
      });
      const enc = device.createCommandEncoder({ label: "lasso_cd:read" });
      for (const { src, dst } of reads) enc.copyBufferToBuffer(src, 0, dst, 0, src.size);
      device.queue.submit([enc.finish()]);
      const out: ArrayBuffer[] = [];
      for (const { dst } of reads) {
        await dst.mapAsync(1);
        out.push(dst.getMappedRange().slice(0));
        dst.unmap();
        dst.destroy();
      }
      const [wOut, sseOut, stOut] = [
        new Float32Array(out[0]),
        new Float32Array(out[1]),
        new Uint32Array(out[2]),
      ];
      if (weights) {
        for (let j = 0; j < p; j++) weights.set(wOut.subarray(j * n, (j + 1) * n), j * V + v0);
      }
      if (sse) {
        for (let i = 0; i < nA; i++) sse.set(sseOut.subarray(i * n, (i + 1) * n), i * V + v0);
      }
      iterations.set(stOut.subarray(2 * n, 3 * n), v0);
    } finally {
      for (const b of [inp, wio, grad, sseBuf, state, active, uInit, uRun, readActive]) b.destroy();
    }
  }
  return { ...(sse ? { sse } : {}), ...(weights ? { weights } : {}), iterations };
}
