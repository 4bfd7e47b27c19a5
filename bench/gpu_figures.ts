/**
 * Absolute GPU figures for the kernels, in a few minutes on a machine with a
 * GPU: GEMM throughput as a fraction of the GPU's float32 peak, and ridge CV
 * at the benchmark sizes. Prints a table and writes JSON.
 *
 * Usage: deno run -A bench/gpu_figures.ts [--peak-tflops 67] [--out gpu.json]
 * (67 TFLOP/s is the H100/H200 SXM float32 peak without tensor cores.)
 * See bench/gpu_run.sh for running it on the lent device machine.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { seeded } from "./_data.ts";
import { createWebGpuBackend, logspace, type Matrix, ridgeCV } from "@brainorg/kernels";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    "peak-tflops": { type: "string", default: "67" },
    out: { type: "string", default: "gpu.json" },
  },
});
const peak = Number(values["peak-tflops"]) * 1e12;

const gpu = await createWebGpuBackend();
console.log(`adapter: ${gpu.info.implementation}`, gpu.info.details);
const rows: Record<string, unknown>[] = [];
for (
  const [m, k, n] of [[2048, 2048, 2048], [4096, 4096, 4096], [8192, 8192, 8192], [
    64,
    300,
    228_483,
  ]]
) {
  const a: Matrix = { rows: m, cols: k, data: seeded(m * k, 1) };
  const b: Matrix = { rows: k, cols: n, data: seeded(k * n, 2) };
  await gpu.gemm(a, b);
  let best = Infinity;
  for (let r = 0; r < 3; r++) {
    const t = performance.now();
    await gpu.gemm(a, b);
    best = Math.min(best, (performance.now() - t) / 1000);
  }
  const flops = 2 * m * n * k;
  rows.push({
    bench: `gemm ${m}×${k}×${n} (incl. transfers)`,
    seconds: best,
    gflops: flops / best / 1e9,
    fractionOfPeak: flops / best / peak,
  });
  console.log(rows.at(-1));
}
for (const V of [26_000, 228_483]) {
  const x: Matrix = { rows: 300, cols: 64, data: seeded(300 * 64, 3) };
  const y: Matrix = { rows: 300, cols: V, data: seeded(300 * V, 4) };
  const t = performance.now();
  await ridgeCV(gpu, x, y, { alphas: logspace(-1, 4, 10), folds: 5 });
  rows.push({ bench: `ridge CV V=${V}`, seconds: (performance.now() - t) / 1000 });
  console.log(rows.at(-1));
}
gpu.dispose();
await Deno.writeTextFile(
  values.out!,
  JSON.stringify({ adapter: gpu.info, peakTflops: peak / 1e12, rows }, null, 2),
);
