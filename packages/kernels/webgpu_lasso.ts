/**
 * LASSO / elastic-net coordinate descent on the WebGPU device
 * (shaders/lasso_cd.wgsl): packing a {@linkcode LassoBatch} into the
 * kernel's buffers and dispatching it until every target's path is solved.
 *
 * @module
 */

import type { LassoBatch, LassoBatchResult } from "./lasso_batch.ts";
import { type KernelContext, USAGE_IN, USAGE_OUT, USAGE_READ } from "./webgpu_context.ts";
import {
  type KernelSpec,
  LASSO_FLAGS,
  LASSO_STATE_WORDS,
  type LassoCDShape,
} from "./webgpu_kernels.ts";

/** Columns [v0, v0 + n) of a (rows × V) row-major matrix, dense. */
function columnsOf(m: Float32Array, rows: number, V: number, v0: number, n: number): Float32Array {
  const out = new Float32Array(rows * n);
  for (let r = 0; r < rows; r++) out.set(m.subarray(r * V + v0, r * V + v0 + n), r * n);
  return out;
}

/**
 * Batched coordinate descent on the device (see `Backend.lassoCD`): targets
 * in chunks that fit one binding; per chunk, an initialising dispatch, then
 * resumable dispatches (eight per submit) until no target is active.
 * `steps` caps the kernel's steps per dispatch (default: `lassoSteps(p)`,
 * the most Mesa's loop limit allows).
 */
export async function lassoCDOnDevice(
  ctx: KernelContext,
  kernel: KernelSpec<LassoCDShape>,
  batch: LassoBatch,
  maxElems: number,
  steps?: number,
): Promise<LassoBatchResult> {
  const { p, yy } = batch, V = yy.length, nA = batch.path.length;
  const held = batch.heldOut;
  const perTarget = 2 * p + 4, fixed = 2 * p * p + nA;
  if (fixed + perTarget > maxElems) {
    throw new RangeError(
      `lassoCD: ${p} regressors need two ${p} × ${p} Gram matrices and a target in one ` +
        `${maxElems * 4}-byte storage binding; use the CPU backend`,
    );
  }
  const vc = Math.max(
    1,
    Math.min(
      V,
      65_536,
      Math.floor((maxElems - fixed) / perTarget),
      Math.floor(maxElems / Math.max(p, nA, LASSO_STATE_WORDS)),
    ),
  );
  const sse = held ? new Float32Array(nA * V) : undefined;
  const weights = batch.stopIndex || !held ? new Float32Array(p * V) : undefined;
  const iterations = new Uint32Array(V);
  const device = ctx.device;
  const pipeline = await ctx.pipeline(kernel as KernelSpec<unknown>);
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
      steps,
      offsets,
    };
    const storage = (label: string, bytes: number, init?: ArrayBufferView) => {
      const buf = device.createBuffer({
        label: `lasso_cd:${label}`,
        size: Math.max(16, bytes),
        usage: USAGE_OUT | 0x08,
      });
      if (init) ctx.write(buf, init);
      return buf;
    };
    // The parameters go in a storage buffer, not a uniform one (see the shader):
    // lavapipe would recompile the shader for every dispatch.
    const params = (words: Uint32Array) => {
      const buf = device.createBuffer({
        label: "lasso_cd:params",
        size: words.byteLength,
        usage: USAGE_IN,
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
    const state = storage("state", 4 * LASSO_STATE_WORDS * n);
    const active = storage("active", 4);
    const uInit = params(kernel.uniforms({ ...shape, flags: flags | LASSO_FLAGS.init }));
    const uRun = params(kernel.uniforms(shape));
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
    const [gx] = kernel.dispatch(shape);
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
        const still = new Uint32Array(await ctx.read(readActive, 4))[0];
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
        out.push(await ctx.read(dst, dst.size));
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
