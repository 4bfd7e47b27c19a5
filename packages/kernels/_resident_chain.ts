/**
 * The GPU-resident chain of the tests (Deno: webgpu_resident_test.ts;
 * Chromium: test/browser/resident_page.ts): targets made by a GEMM on the
 * device, ridge CV on them, the correlation of its out-of-fold predictions
 * with the targets, one download. Seeded, so both runtimes see the same data.
 */

import type { Matrix } from "./matrix.ts";
import type { WebGpuBackend } from "./webgpu_backend.ts";
import { ridgeCVGpu } from "./webgpu_ridge.ts";
import { normal, rng } from "./_testing.ts";

/** Inputs: Y = Z · M with Z = [X | noise sources], so Y is X's planted signal plus noise. */
export interface ChainProblem {
  n: number;
  p: number;
  V: number;
  /** Regressors (n × p). */
  x: Matrix;
  /** [X | N]: (n × (p + q)). */
  z: Matrix;
  /** Planted weights over noise loadings: ((p + q) × V). */
  m: Matrix;
  alphas: number[];
  folds: number;
}

/** 240 samples, 6 regressors, 300 targets whose noise grows from none to dominant. */
export function chainProblem(): ChainProblem {
  const n = 240, p = 6, q = 24, V = 300;
  const rand = rng(2024);
  const x = normal(rand, n * p), noise = normal(rand, n * q);
  const z = new Float32Array(n * (p + q));
  for (let i = 0; i < n; i++) {
    z.set(x.subarray(i * p, (i + 1) * p), i * (p + q));
    z.set(noise.subarray(i * q, (i + 1) * q), i * (p + q) + p);
  }
  const m = new Float32Array((p + q) * V);
  const w = normal(rand, p * V), b = normal(rand, q * V);
  for (let j = 0; j < V; j++) {
    const level = 2 * j / V; // noise scale: 0 for target 0, near 2 for the last
    for (let k = 0; k < p; k++) m[k * V + j] = w[k * V + j];
    for (let k = 0; k < q; k++) m[(p + k) * V + j] = level * b[k * V + j] / Math.sqrt(q / p);
  }
  return {
    n,
    p,
    V,
    x: { rows: n, cols: p, data: x },
    z: { rows: n, cols: p + q, data: z },
    m: { rows: p + q, cols: V, data: m },
    alphas: [0.1, 3, 100, 3000],
    folds: 4,
  };
}

/** The chain's results, read back after the counted part. */
export interface ChainResult {
  /** Readbacks from the first upload to just before the download of r (0 expected). */
  readbacksBeforeDownload: number;
  /** Readbacks from the first upload to just after it (1 expected). */
  readbacks: number;
  /** Uploads in the same span. */
  uploads: number;
  /** Held-out r per target (V). */
  r: Float32Array;
  /** For checks: Y (n × V), weights (p × V), intercept (V), α indices (V), CV scores (nα × V), predictions (n × V). */
  y: Float32Array;
  weights: Float32Array;
  intercept: Float32Array;
  alphaIndex: Float32Array;
  cvScores: Float32Array;
  predictions: Float32Array;
}

/** Run the chain on `gpu` and read back r, then (outside the count) everything else. */
export async function runChain(gpu: WebGpuBackend, problem: ChainProblem): Promise<ChainResult> {
  const r0 = gpu.stats.readbacks, u0 = gpu.stats.uploads;
  const z = gpu.upload(problem.z), m = gpu.upload(problem.m);
  const y = await gpu.gemmGpu(z, m); // (n × V), stays on the device
  const fit = await ridgeCVGpu(gpu, problem.x, y, {
    alphas: problem.alphas,
    folds: problem.folds,
  });
  const r = await gpu.columnCorrelationGpu(fit.predictions!, y); // (1 × V)
  const readbacksBeforeDownload = gpu.stats.readbacks - r0;
  const rHost = (await gpu.download(r)).data;
  const readbacks = gpu.stats.readbacks - r0, uploads = gpu.stats.uploads - u0;
  try {
    return {
      readbacksBeforeDownload,
      readbacks,
      uploads,
      r: rHost,
      y: (await gpu.download(y)).data,
      weights: (await gpu.download(fit.weights)).data,
      intercept: (await gpu.download(fit.intercept)).data,
      alphaIndex: (await gpu.download(fit.alphaIndex)).data,
      cvScores: (await gpu.download(fit.cvScores)).data,
      predictions: (await gpu.download(fit.predictions!)).data,
    };
  } finally {
    for (const g of [z, m, y, r]) g.dispose();
    fit.dispose();
  }
}
