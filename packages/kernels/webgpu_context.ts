/**
 * A GPUDevice with its pipeline cache: the context every WebGPU kernel runs
 * in, with the helpers that pack operands for it.
 *
 * @module
 */

import type { MatrixView } from "./matrix.ts";
import type { AcquiredDevice } from "./webgpu_device.ts";
import { cacheKey, type KernelSpec } from "./webgpu_kernels.ts";

/** STORAGE | COPY_DST */
export const USAGE_IN = 0x80 | 0x08;
/** STORAGE | COPY_SRC */
export const USAGE_OUT = 0x80 | 0x04;
/** MAP_READ | COPY_DST */
export const USAGE_READ = 0x01 | 0x08;
/** UNIFORM | COPY_DST */
export const USAGE_UNIFORM = 0x40 | 0x08;

/** x rounded up to a multiple of `to`. */
export function roundUp(x: number, to: number): number {
  return Math.ceil(x / to) * to;
}

/**
 * Rows [r0, r0+nr) × columns [c0, c0+nc) of op(v) (vᵀ when `trans`), dense
 * and zero-padded to (padRows × padCols), row-major.
 */
export function packPadded(
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

/**
 * Host ↔ device transfers of one WebGPU backend since it was created (its
 * self-check included): compare two snapshots to count a piece of work's.
 */
export interface TransferStats {
  /** Buffers written from the host with operand data (uniform blocks are not counted). */
  uploads: number;
  /** Bytes of those writes. */
  bytesUploaded: number;
  /** Buffers mapped for reading: each waits for the device to finish the work before it. */
  readbacks: number;
  /** Bytes mapped for reading. */
  bytesRead: number;
}

// Pipelines per device, shared by every backend made on that device.
const PIPELINES = new WeakMap<GPUDevice, Map<string, GPUComputePipeline>>();

/** A device with its pipeline cache: the context every kernel runs in. */
export class KernelContext {
  /** Compiled pipelines by {@linkcode cacheKey}. */
  readonly pipelines: Map<string, GPUComputePipeline>;
  /** Transfers made through this context (see {@linkcode TransferStats}). */
  readonly stats: TransferStats = { uploads: 0, bytesUploaded: 0, readbacks: 0, bytesRead: 0 };

  /** @param gpu the device, as {@linkcode acquireDevice} returns it */
  constructor(readonly gpu: AcquiredDevice) {
    let cache = PIPELINES.get(gpu.device);
    if (!cache) PIPELINES.set(gpu.device, cache = new Map());
    this.pipelines = cache;
  }

  /** The device; throws once it is lost. */
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

  /** Write `data` to `buffer` at offset 0, counted as an upload. */
  write(buffer: GPUBuffer, data: ArrayBufferView): void {
    if (data.byteLength === 0) return;
    this.stats.uploads++;
    this.stats.bytesUploaded += data.byteLength;
    this.device.queue.writeBuffer(
      buffer,
      0,
      data.buffer as ArrayBuffer,
      data.byteOffset,
      data.byteLength,
    );
  }

  /** Map `buffer` (MAP_READ) and copy out its first `bytes`, counted as a readback. */
  async read(buffer: GPUBuffer, bytes: number): Promise<ArrayBuffer> {
    this.stats.readbacks++;
    this.stats.bytesRead += bytes;
    await buffer.mapAsync(1 /* READ */);
    const out = buffer.getMappedRange().slice(0, bytes);
    buffer.unmap();
    return out;
  }

  /** A storage buffer holding `data` (at least 4 bytes). */
  upload(label: string, data: Float32Array): GPUBuffer {
    const buf = this.device.createBuffer({
      label,
      size: Math.max(4, data.byteLength),
      usage: USAGE_IN,
    });
    this.write(buf, data);
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
      if (o.init) this.write(buf, o.init);
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
        results.push(new Float32Array(await this.read(reads[i], outputs[i].length * 4)));
      }
      return results;
    } finally {
      for (const b of [...buffers, ...outs, uni, ...reads]) b.destroy();
    }
  }
}
