/// <reference lib="dom" />
// Runs in Chromium: the kernels on the page's WebGPU device (SwiftShader on
// a machine without a GPU), checked against the plain TypeScript reference
// in the same page: GEMM, ridge CV, column statistics past Mesa's loop
// limit, a long LASSO path, and the backend's own self-check.
import {
  columnStatsReference,
  createCpuBackend,
  createWebGpuBackend,
  gemmReference,
  type LassoBatch,
  lassoCDReference,
  ridgeCV,
} from "../../packages/kernels/mod.ts";
import { lassoBatchOf, randomMatrix, scaledError } from "../../packages/kernels/_testing.ts";

/** A LASSO path of 20 penalties on 16 correlated regressors, with held-out rows. */
function lassoBatch(): LassoBatch {
  const n = 60, nTrain = 48, p = 16, V = 40;
  const z = randomMatrix(n, p, 11), y = randomMatrix(n, V, 12);
  const x = z.data.map((v, i) => v + (i % p > 0 ? 0.7 * z.data[i - 1] : 0));
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < V; c++) {
      y.data[r * V + c] += 2 * x[r * p + (c % p)] - x[r * p + ((c + 3) % p)];
    }
  }
  return lassoBatchOf(x, y.data, { n, nTrain, p, V, nA: 20 });
}

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
    // 20,000 rows: more than one invocation may loop over on Mesa.
    const tall = randomMatrix(20_000, 3, 5);
    const stats = await gpu.columnStats(tall), statsRef = columnStatsReference(tall);
    out.statsError = Math.max(
      scaledError(stats.mean, statsRef.mean),
      scaledError(stats.std, statsRef.std),
    );
    const batch = lassoBatch();
    const lasso = await gpu.lassoCD(batch), lassoRef = lassoCDReference(batch);
    out.lassoError = scaledError(lasso.sse!, lassoRef.sse!);
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
