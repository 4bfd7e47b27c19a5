/// <reference lib="dom" />
// Runs in Chromium: GEMM and ridge CV on the page's WebGPU device, checked
// against the plain TypeScript reference in the same page.
import {
  createCpuBackend,
  createWebGpuBackend,
  gemmReference,
  ridgeCV,
} from "../../packages/kernels/mod.ts";
import { randomMatrix, scaledError } from "../../packages/kernels/_testing.ts";

async function run() {
  const gpu = await createWebGpuBackend();
  const out: Record<string, unknown> = { adapter: gpu.info };
  try {
    const a = randomMatrix(90, 70, 1), b = randomMatrix(90, 50, 2);
    const c = await gpu.gemm(a, b, { transA: true });
    out.gemmError = scaledError(c.data, gemmReference(a, b, { transA: true }).data);
    const x = randomMatrix(100, 6, 3), y = randomMatrix(100, 40, 4);
    for (let i = 0; i < 100; i++) {
      for (let j = 0; j < 40; j++) y.data[i * 40 + j] += x.data[i * 6 + (j % 6)];
    }
    const cpu = await createCpuBackend();
    out.cpu = cpu.info;
    const want = await ridgeCV(cpu, x, y);
    const got = await ridgeCV(gpu, x, y);
    out.ridgeSameAlphas = got.alphaIndex.every((v, i) => v === want.alphaIndex[i]);
    out.ridgeWeightError = scaledError(got.weights.data, want.weights.data);
  } finally {
    gpu.dispose();
  }
  return out;
}

run().then(
  (r) => {
    document.body.textContent = JSON.stringify(r, null, 2);
    (globalThis as unknown as { __result: unknown }).__result = r;
  },
  (e) => {
    document.body.textContent = String(e?.stack ?? e);
    (globalThis as unknown as { __result: unknown }).__result = { error: String(e?.message ?? e) };
  },
);
