/**
 * The voxel null's refits per path: seconds per subject × surrogate of
 * {@linkcode RidgeRefits} with its per-target work in WebAssembly
 * (`perTarget: "wasm"`) and as BLAS products (`"gemm"`), at the null's own
 * batch and block sizes (those of `voxelNull`: 512 / K designs per batch,
 * 256 MiB of products per block), 5 folds, 10 α, one weight α, random α per
 * voxel. One batch against VOXELS voxels, scaled to 228,483 voxels (the
 * paper's mask) linearly, in wall and in process CPU seconds (on a shared
 * machine the CPU seconds say more: the paths' threads get what is left).
 * Also the share of the wall time spent inside the backend's products
 * (with `NULL_PATHS_SHAPES=1`, per product shape). The paths' repeats are
 * interleaved; the first pays for page faults and compilation.
 *
 * Usage: deno run -A bench/null_paths.ts [--k 64] [--voxels 50000] [--volumes 400]
 *   [--blas openblas|mlas] [--threads N] [--paths gemm,wasm] [--repeats 2] [--sequential]
 *
 * @module
 */

import process from "node:process";
import { parseArgs } from "node:util";
import {
  type Backend,
  contiguousFolds,
  createCpuBackend,
  type ProductsChoice,
  refitBatchSize,
  RidgeRefits,
} from "@brainorg/kernels";
import { seeded } from "./_data.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    k: { type: "string", default: "64" },
    voxels: { type: "string", default: "50000" },
    volumes: { type: "string", default: "400" },
    blas: { type: "string", default: "openblas" },
    paths: { type: "string", default: "gemm,wasm" },
    repeats: { type: "string", default: "2" },
    threads: { type: "string" },
    sequential: { type: "boolean", default: false },
  },
});
const K = Number(values.k), V = Number(values.voxels), n = Number(values.volumes);
const F = 5, PAPER_VOXELS = 228_483, B = refitBatchSize(K);
// voxelNull's block: 256 MiB / 2 of fold products (F × B·K × vb floats).
const block = Math.min(V, Math.max(4, Math.floor(128 * 2 ** 20 / (4 * F * B * K) / 4) * 4));
const alphas = Array.from({ length: 10 }, (_, i) => 10 ** (-1 + (5 * i) / 9));

const base = await createCpuBackend({
  blas: values.blas as ProductsChoice,
  ...(values.threads ? { threads: Number(values.threads) } : {}),
});
let inGemm = 0;
const byShape = new Map<string, { calls: number; ms: number; flops: number }>();
const backend: Backend = {
  ...base,
  gemm: async (a, b, o) => {
    const t = performance.now();
    try {
      return await base.gemm(a, b, o);
    } finally {
      const ms = performance.now() - t;
      inGemm += ms;
      if (Deno.env.get("NULL_PATHS_SHAPES")) {
        const key = `${a.rows}x${a.cols}`, e = byShape.get(key) ?? { calls: 0, ms: 0, flops: 0 };
        e.calls++;
        e.ms += ms;
        e.flops += 2 * a.rows * a.cols * b.cols;
        byShape.set(key, e);
      }
    }
  },
};
const ar = (seed: number, rows: number, cols: number) => {
  const noise = seeded(rows * cols, seed), data = new Float32Array(rows * cols);
  for (let t = 0; t < rows; t++) {
    for (let j = 0; j < cols; j++) {
      data[t * cols + j] = (t > 0 ? 0.8 * data[(t - 1) * cols + j] : 0) + noise[t * cols + j];
    }
  }
  return { rows, cols, data };
};
const xs = Array.from({ length: B }, (_, b) => ar(100 + b, n, K));
const y = { rows: n, cols: V, data: seeded(n * V, 7) };
const draw = seeded(V, 8);
const alphaIndex = Int32Array.from(draw, (u) => Math.min(9, Math.floor((u + 0.5) * 10)));
const results = [];
const paths = values.paths.split(",") as ("gemm" | "wasm")[];
const runs = [];
for (const path of paths) {
  const refits = new RidgeRefits(backend, n, K, {
    folds: contiguousFolds(n, F),
    alphas,
    weightAlphas: [1],
    perTarget: path,
  });
  const subject = refits.subject(y, alphaIndex, new Int32Array(V));
  const t0 = performance.now(), designs = refits.designs(xs);
  const designSeconds = (performance.now() - t0) / 1000;
  // Warm-up, and the path's per-batch algebra.
  await refits.refit(designs, subject, 0, Math.min(V, 64));
  runs.push({ path, refits, subject, designs, designSeconds });
}
// Repeats interleave the paths, so that both see the same load of a shared machine.
for (let rep = 0; rep < Number(values.repeats); rep++) {
  for (const { path, refits, subject, designs, designSeconds } of runs) {
    inGemm = 0;
    const t1 = performance.now(), cpu0 = process.cpuUsage();
    let pending: Promise<unknown> | undefined;
    for (let v0 = 0; v0 < V; v0 += block) {
      // Two calls in flight, as voxelNull keeps them: one's products overlap the other's rest.
      const next = refits.refit(designs, subject, v0, Math.min(block, V - v0));
      if (pending) await pending;
      pending = next;
      if (values.sequential) await pending;
    }
    await pending;
    const seconds = (performance.now() - t1) / 1000, cpu = process.cpuUsage(cpu0);
    const scale = PAPER_VOXELS / V / B;
    results.push({
      path,
      products: base.info.implementation,
      K,
      volumes: n,
      voxels: V,
      block,
      designs: B,
      repeat: rep + 1,
      seconds: Number(seconds.toFixed(3)),
      secondsPerSubjectSurrogateAtPaperScale: Number((seconds * scale).toFixed(4)),
      cpuSecondsPerSubjectSurrogateAtPaperScale: Number(
        ((cpu.user + cpu.system) / 1e6 * scale).toFixed(4),
      ),
      gemmShare: Number((inGemm / 1000 / seconds).toFixed(3)),
      designSecondsPerBatch: Number(designSeconds.toFixed(3)),
    });
    console.log(JSON.stringify(results.at(-1)));
    for (const [key, e] of byShape) {
      console.log(
        `  ${key}: ${e.calls} calls, ${e.ms.toFixed(0)} ms, ${
          (e.flops / e.ms / 1e6).toFixed(1)
        } GFLOP/s`,
      );
    }
    byShape.clear();
  }
}
for (const { refits } of runs) refits.dispose();
base.dispose();
