/// <reference lib="dom" />
// Runs in Chromium: the GPU-resident chain (targets made by a GEMM on the
// device, ridge CV on them, the correlation of its out-of-fold predictions
// with the targets, one download) on the page's own GPUDevice, handed to the
// backend. resident_chain_test.ts checks the results against the host path
// computed in Deno.
import { createWebGpuBackend } from "../../packages/kernels/mod.ts";
import { chainProblem, runChain } from "../../packages/kernels/_resident_chain.ts";

async function run() {
  const adapter = await navigator.gpu.requestAdapter();
  if (!adapter) throw new Error("no WebGPU adapter in the page");
  const device = await adapter.requestDevice({ label: "page" });
  try {
    const gpu = await createWebGpuBackend({ device });
    try {
      const got = await runChain(gpu, chainProblem());
      return {
        adapter: gpu.info.implementation,
        sameDevice: gpu.device === device,
        readbacksBeforeDownload: got.readbacksBeforeDownload,
        readbacks: got.readbacks,
        uploads: got.uploads,
        r: Array.from(got.r),
        alphaIndex: Array.from(got.alphaIndex),
        weights: Array.from(got.weights),
        predictions: Array.from(got.predictions),
      };
    } finally {
      gpu.dispose();
    }
  } finally {
    device.destroy();
  }
}

run().then(
  (r) => {
    document.body.textContent = `resident chain: ${r.readbacks} readback(s) on ${r.adapter}`;
    (globalThis as unknown as { __result: unknown }).__result = r;
  },
  (e) => {
    document.body.textContent = String(e?.stack ?? e);
    (globalThis as unknown as { __result: unknown }).__result = { error: String(e?.message ?? e) };
  },
);
