/**
 * The WebGPU backend's resident operations (internal): uploads, downloads,
 * GEMM and column correlation on {@linkcode GpuMatrix} operands, chained on
 * the device. Operands are packed for the GEMM kernels by a copy kernel
 * (what the host's packPadded does), products are cut as the host path cuts
 * them (webgpu_gemm_plan.ts), and nothing is read back except by
 * {@linkcode Resident.download}.
 *
 * Every resident operand and result is bound whole, so each must fit one
 * storage binding (the device's `maxStorageBufferBindingSize`); larger ones
 * are refused with a RangeError rather than tiled.
 *
 * @module
 */

import { gemmShape } from "./backend.ts";
import { densify, type Matrix, type MatrixView, validateMatrix } from "./matrix.ts";
import { checkGpuMatrix, GPU_MATRIX_USAGE, GpuMatrix } from "./webgpu_gpu_matrix.ts";
import { type KernelContext, roundUp, USAGE_READ, USAGE_UNIFORM } from "./webgpu_context.ts";
import { type KernelSet, type KernelSpec, ROWS_PER_INVOCATION } from "./webgpu_kernels.ts";
import { planGemm } from "./webgpu_gemm_plan.ts";
import { COPY_TILE, type CopyShape, RESIDENT_KERNELS } from "./webgpu_resident_kernels.ts";

/** The values of a GpuMatrix (its first 4 · rows · cols bytes) as one binding. */
export function binding(m: GpuMatrix): GPUBufferBinding {
  return { buffer: m.buffer, offset: 0, size: m.byteLength };
}

/** What the backend's device allows, and the kernels it runs. */
export class Resident {
  /**
   * @param ctx the backend's device, pipelines and transfer counts
   * @param kernels the backend's GEMM kernels
   * @param maxElems floats in one storage binding
   * @param maxWg workgroups per dispatch dimension
   */
  constructor(
    readonly ctx: KernelContext,
    readonly kernels: KernelSet,
    readonly maxElems: number,
    readonly maxWg: number,
  ) {}

  /** The device; throws once it is lost. */
  get device(): GPUDevice {
    return this.ctx.device;
  }

  /**
   * Check a caller's GpuMatrix: a usable buffer (see checkGpuMatrix), on
   * this device, within one binding.
   */
  check(name: string, m: GpuMatrix): void {
    checkGpuMatrix(name, m);
    if (m.device !== this.ctx.gpu.device) {
      throw new TypeError(
        `\`${name}\` lives on another GPUDevice (${m.device.label || "unlabelled"}) than the ` +
          `backend's (${this.ctx.gpu.device.label || "unlabelled"}): create the backend with ` +
          "`createWebGpuBackend({ device })` on the device that holds the data",
      );
    }
    this.checkFits(name, m.rows, m.cols);
  }

  /** Refuse a (rows × cols) matrix larger than one storage binding. */
  checkFits(name: string, rows: number, cols: number): void {
    if (rows * cols > this.maxElems) {
      throw new RangeError(
        `\`${name}\` (${rows} × ${cols}, ${4 * rows * cols} bytes) must fit one storage binding ` +
          `of ${this.maxElems * 4} bytes to stay on the device: split it into column blocks`,
      );
    }
  }

  /** A new, zero-filled (rows × cols) matrix on the device, owned by whoever receives it. */
  alloc(label: string, rows: number, cols: number): GpuMatrix {
    this.checkFits(label, rows, cols);
    const buffer = this.device.createBuffer({
      label,
      size: Math.max(4, 4 * rows * cols),
      usage: GPU_MATRIX_USAGE,
    });
    return new GpuMatrix(buffer, {
      rows,
      cols,
      device: this.ctx.gpu.device,
      dispose: () => buffer.destroy(),
    });
  }

  /** A host matrix copied to a new GpuMatrix (one upload). */
  upload(name: string, m: MatrixView): GpuMatrix {
    validateMatrix(name, m, false);
    const out = this.alloc(`upload:${name}`, m.rows, m.cols);
    this.ctx.write(out.buffer, densify(m).data);
    return out;
  }

  /** A GpuMatrix, or a host matrix uploaded to a temporary one (`temp` then true). */
  operand(name: string, m: GpuMatrix | MatrixView): { g: GpuMatrix; temp: boolean } {
    if (m instanceof GpuMatrix || "buffer" in m) {
      this.check(name, m as GpuMatrix);
      return { g: m as GpuMatrix, temp: false };
    }
    return { g: this.upload(name, m), temp: true };
  }

  /** Read a GpuMatrix back (one readback). */
  async download(name: string, m: GpuMatrix): Promise<Matrix> {
    this.check(name, m);
    const device = this.device;
    const staging = device.createBuffer({
      label: `download:${name}`,
      size: m.byteLength,
      usage: USAGE_READ,
    });
    try {
      const enc = device.createCommandEncoder({ label: `download:${name}` });
      enc.copyBufferToBuffer(m.buffer, 0, staging, 0, m.byteLength);
      device.queue.submit([enc.finish()]);
      const data = new Float32Array(await this.ctx.read(staging, m.byteLength));
      return { rows: m.rows, cols: m.cols, data };
    } finally {
      staging.destroy();
    }
  }

  /**
   * Run `fn`, turning any WebGPU validation error its commands raise into a
   * thrown Error naming `label` (it would otherwise surface, if at all, as
   * an uncaptured error far from its cause).
   */
  async scoped<T>(label: string, fn: () => Promise<T>): Promise<T> {
    const device = this.device;
    device.pushErrorScope("validation");
    let result: T;
    try {
      result = await fn();
    } catch (e) {
      await device.popErrorScope();
      throw e;
    }
    const error = await device.popErrorScope();
    if (error) throw new Error(`${label}: WebGPU validation error: ${error.message}`);
    return result;
  }

  /** Submit one dispatch of `spec` over `entries` (then its uniform block), reading nothing back. */
  async dispatch<S>(spec: KernelSpec<S>, shape: S, entries: GPUBufferBinding[]): Promise<void> {
    const [gx, gy] = spec.dispatch(shape);
    if (gx === 0 || gy === 0) return;
    if (gx > this.maxWg || gy > this.maxWg) {
      throw new RangeError(
        `${spec.name}: dispatch ${gx} × ${gy} exceeds ${this.maxWg} workgroups per dimension`,
      );
    }
    const device = this.device;
    const pipeline = await this.ctx.pipeline(spec as KernelSpec<unknown>);
    const words = spec.uniforms(shape);
    const padded = new Uint32Array(roundUp(words.length, 4));
    padded.set(words);
    const uni = device.createBuffer({
      label: `${spec.name}:dims`,
      size: padded.byteLength,
      usage: USAGE_UNIFORM,
    });
    device.queue.writeBuffer(uni, 0, padded);
    const bind = device.createBindGroup({
      label: spec.name,
      layout: pipeline.getBindGroupLayout(0),
      entries: [...entries, { buffer: uni }].map((resource, b) => ({ binding: b, resource })),
    });
    const enc = device.createCommandEncoder({ label: spec.name });
    const pass = enc.beginComputePass({ label: spec.name });
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bind);
    pass.dispatchWorkgroups(gx, gy);
    pass.end();
    device.queue.submit([enc.finish()]);
    // Destroying after submit is allowed: the device frees it once the work is done.
    uni.destroy();
  }

  /** Copy a region (see shaders/copy_padded.wgsl), in dispatches within the workgroup limit. */
  async copy(src: GPUBufferBinding, dst: GPUBufferBinding, s: CopyShape): Promise<void> {
    const step = COPY_TILE * this.maxWg;
    for (let r = 0; r < s.rows; r += step) {
      for (let c = 0; c < s.cols; c += step) {
        const rows = Math.min(step, s.rows - r), cols = Math.min(step, s.cols - c);
        await this.dispatch(RESIDENT_KERNELS.copy, {
          ...s,
          rows,
          cols,
          nr: Math.max(0, Math.min(rows, s.nr - r)),
          nc: Math.max(0, Math.min(cols, s.nc - c)),
          sr0: s.sr0 + r,
          sc0: s.sc0 + c,
          dr0: s.dr0 + r,
          dc0: s.dc0 + c,
        }, [src, dst]);
      }
    }
  }

  /** A temporary buffer of `floats` values for packed operands. */
  private scratch(label: string, floats: number): GPUBuffer {
    return this.device.createBuffer({ label, size: Math.max(4, 4 * floats), usage: 0x80 | 0x08 });
  }

  /**
   * C = op(A) · op(B) on the device, with the host path's tiles; `aRows`
   * takes rows [r0, r0 + count) of A (A not transposed).
   */
  async gemm(
    aIn: GpuMatrix | MatrixView,
    bIn: GpuMatrix | MatrixView,
    o: { transA?: boolean; transB?: boolean; aRows?: [number, number]; label?: string } = {},
  ): Promise<GpuMatrix> {
    const a = this.operand("a", aIn), b = this.operand("b", bIn);
    try {
      const transA = !!o.transA, transB = !!o.transB;
      const [aR0, aCount] = o.aRows ?? [0, a.g.rows];
      const { m, n, k } = gemmShape({ rows: aCount, cols: a.g.cols, data: new Float32Array() }, {
        rows: b.g.rows,
        cols: b.g.cols,
        data: new Float32Array(),
      }, { transA, transB });
      const { large, tile: T, kc, mc, nc } = planGemm(m, n, k, this.maxElems, this.maxWg);
      const kernel = large ? this.kernels.gemmLarge : this.kernels.gemm;
      const c = this.alloc(o.label ?? "gemm", m, n);
      const aBind = binding(a.g), bBind = binding(b.g), cBind = binding(c);
      try {
        for (let k0 = 0; k0 < k; k0 += kc) {
          const kk = Math.min(kc, k - k0), kp = roundUp(kk, 4);
          for (let m0 = 0; m0 < m; m0 += mc) {
            const mm = Math.min(mc, m - m0), mp = roundUp(mm, T);
            const aPad = this.scratch("gemm:a", mp * kp);
            await this.copy(aBind, { buffer: aPad }, {
              rows: mp,
              cols: kp,
              nr: mm,
              nc: kk,
              srcStride: a.g.cols,
              sr0: aR0 + m0,
              sc0: k0,
              dstStride: kp,
              dr0: 0,
              dc0: 0,
              trans: transA,
              accumulate: false,
            });
            for (let n0 = 0; n0 < n; n0 += nc) {
              const nn = Math.min(nc, n - n0), np = roundUp(nn, T);
              const bPad = this.scratch("gemm:b", kp * np);
              const cPad = this.scratch("gemm:c", mp * np);
              await this.copy(bBind, { buffer: bPad }, {
                rows: kp,
                cols: np,
                nr: kk,
                nc: nn,
                srcStride: b.g.cols,
                sr0: k0,
                sc0: n0,
                dstStride: np,
                dr0: 0,
                dc0: 0,
                trans: transB,
                accumulate: false,
              });
              await this.dispatch(kernel, { M: mp, N: np, K: kp }, [
                { buffer: aPad },
                { buffer: bPad },
                { buffer: cPad },
              ]);
              await this.copy({ buffer: cPad }, cBind, {
                rows: mm,
                cols: nn,
                nr: mm,
                nc: nn,
                srcStride: np,
                sr0: 0,
                sc0: 0,
                dstStride: n,
                dr0: m0,
                dc0: n0,
                trans: false,
                accumulate: k0 > 0,
              });
              bPad.destroy();
              cPad.destroy();
            }
            aPad.destroy();
          }
        }
      } catch (e) {
        c.dispose();
        throw e;
      }
      return c;
    } finally {
      if (a.temp) a.g.dispose();
      if (b.temp) b.g.dispose();
    }
  }

  /** Per-column Pearson r of two (n × p) matrices, as a new (1 × p) GpuMatrix. */
  async columnCorrelation(aIn: GpuMatrix, bIn: GpuMatrix): Promise<GpuMatrix> {
    this.check("a", aIn);
    this.check("b", bIn);
    if (aIn.rows !== bIn.rows || aIn.cols !== bIn.cols) {
      throw new RangeError(
        `columnCorrelationGpu: shapes differ: ${aIn.rows} × ${aIn.cols} and ` +
          `${bIn.rows} × ${bIn.cols}`,
      );
    }
    const { rows, cols } = aIn;
    const state = this.scratch("column_pearson:state", 5 * cols);
    const out = this.alloc("columnCorrelationGpu", 1, cols);
    try {
      const width = 64 * this.maxWg;
      for (let r0 = 0; r0 < rows; r0 += ROWS_PER_INVOCATION) {
        const nr = Math.min(ROWS_PER_INVOCATION, rows - r0);
        for (let c0 = 0; c0 < cols; c0 += width) {
          await this.dispatch(RESIDENT_KERNELS.columnPearson, {
            nr,
            r0,
            cols,
            c0,
            last: r0 + nr === rows,
            width: Math.min(width, cols - c0),
          }, [binding(aIn), binding(bIn), { buffer: state }, binding(out)]);
        }
      }
    } catch (e) {
      out.dispose();
      throw e;
    } finally {
      state.destroy();
    }
    return out;
  }
}

// The resident side of each WebGPU backend, for the solvers of other modules (webgpu_ridge.ts).
const RESIDENT = new WeakMap<object, Resident>();

/** Register the resident side of a backend. */
export function registerResident(backend: object, resident: Resident): void {
  RESIDENT.set(backend, resident);
}

/**
 * The resident side of a WebGPU backend.
 *
 * @throws {TypeError} for any other backend
 */
export function residentOf(backend: { info?: { name?: string } }, what: string): Resident {
  const r = RESIDENT.get(backend);
  if (!r) {
    throw new TypeError(
      `${what} needs a WebGPU backend (createWebGpuBackend): current backend is ` +
        `${backend?.info?.name ?? String(backend)}; GPU-resident calls are WebGPU-only`,
    );
  }
  return r;
}
