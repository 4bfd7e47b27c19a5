import assert from "node:assert/strict";
import { haveWebGpu } from "../../test/webgpu.ts";
import type { Backend } from "./backend.ts";
import {
  columnCorrelationReference,
  columnStatsReference,
  gemmReference,
  stackedR2Reference,
} from "./cpu_reference.ts";
import { columnBlock, type Matrix } from "./matrix.ts";
import { createWebGpuBackend } from "./webgpu_backend.ts";
import { createBackend, isSoftwareAdapter } from "./select_backend.ts";
import { createCpuBackend } from "./cpu_backend.ts";
import { ridgeCV } from "./ridge.ts";
import {
  maxRelativeError,
  pearsonColumns,
  plantedSignals,
  randomMatrix,
  scaledError,
} from "./_testing.ts";
import { learnDictionary } from "./dictionary_learning.ts";

const GPU = await haveWebGpu();

async function withGpu(fn: (b: Backend) => Promise<void>, maxBindingBytes?: number) {
  const b = await createWebGpuBackend({ maxBindingBytes });
  try {
    await fn(b);
  } finally {
    b.dispose();
  }
}

Deno.test({
  name: "webgpu gemm equals the reference for every transpose, odd and degenerate shapes",
  ignore: !GPU,
  fn: () =>
    withGpu(async (gpu) => {
      // [250, 260, 131] and [256, 384, 64] take the 128 × 128-tile kernel (gemm_large.wgsl).
      const shapes = [
        [1, 1, 1],
        [1, 300, 64],
        [300, 1, 64],
        [5, 7, 3],
        [65, 63, 129],
        [
          130,
          67,
          33,
        ],
        [64, 64, 64],
        [250, 260, 131],
        [256, 384, 64],
      ];
      let seed = 1;
      for (const [m, n, k] of shapes) {
        for (const transA of [false, true]) {
          for (const transB of [false, true]) {
            const a = transA ? randomMatrix(k, m, seed++) : randomMatrix(m, k, seed++);
            const b = transB ? randomMatrix(n, k, seed++) : randomMatrix(k, n, seed++);
            const got = await gpu.gemm(a, b, { transA, transB });
            const want = gemmReference(a, b, { transA, transB });
            assert.equal(got.rows, m);
            assert.equal(got.cols, n);
            const err = scaledError(got.data, want.data);
            assert.ok(err < 1e-5, `${m}×${n}×${k} tA=${transA} tB=${transB}: ${err}`);
          }
        }
      }
      await assert.rejects(
        gpu.gemm(randomMatrix(2, 3, 1), randomMatrix(4, 2, 2)),
        /inner dimensions differ/,
      );
    }),
});

Deno.test({
  name:
    "webgpu kernels tile operands larger than one storage binding (GEMM, strided views, stacked R²); a LASSO Gram too large is refused",
  ignore: !GPU,
  fn: () =>
    withGpu(async (gpu) => {
      // A 64 KiB binding limit forces many row and column tiles.
      const a = randomMatrix(300, 97, 3), y = randomMatrix(300, 1000, 4);
      const view = columnBlock(y, 101, 555);
      const got = await gpu.gemm(a, view, { transA: true });
      const want = gemmReference(a, view, { transA: true });
      assert.ok(scaledError(got.data, want.data) < 1e-5);
      // An inner dimension longer than one binding holds: split and summed.
      for (
        const [x, y] of [[randomMatrix(3, 1500, 8), randomMatrix(1500, 5, 9)], [
          randomMatrix(700, 40, 5),
          randomMatrix(40, 900, 6),
        ]]
      ) {
        assert.ok(scaledError((await gpu.gemm(x, y)).data, gemmReference(x, y).data) < 1e-5);
      }
      // 40 stacked predictions of 300 rows overflow the binding even for one column: rows split.
      const pred = randomMatrix(40 * 300, 3, 10), target = randomMatrix(300, 3, 11);
      const r2 = await gpu.stackedR2(pred, target);
      assert.ok(maxRelativeError(r2.data, stackedR2Reference(pred, target).data, 1e-5) < 1e-4);
      // Two 64 × 64 Gram matrices do not fit 32 KiB: LASSO says so.
      const p = 64, one = new Float32Array(1);
      await assert.rejects(
        gpu.lassoCD({
          p,
          gram: new Float32Array(p * p),
          q: new Float32Array(p),
          yy: one,
          scale: one,
          path: Float64Array.of(1),
        }),
        /lassoCD: 64 regressors need two 64 × 64 Gram matrices and a target in one 32768-byte/,
      );
    }, 32 * 1024),
});

Deno.test({
  name: "webgpu gemm on a real-size BOLD matrix larger than the 128 MiB binding",
  ignore: !GPU,
  fn: () =>
    withGpu(async (gpu) => {
      const limit = Number(gpu.info.details.maxStorageBufferBindingSize);
      const T = 300, V = Math.ceil((limit / 4 / T) * 1.15); // 15% over one binding
      const x = randomMatrix(T, 64, 7);
      const y: Matrix = { rows: T, cols: V, data: new Float32Array(T * V) };
      for (let i = 0; i < y.data.length; i++) y.data[i] = ((i * 2654435761) % 1000) / 500 - 1;
      const got = await gpu.gemm(x, y, { transA: true });
      assert.equal(got.cols, V);
      // Check a spread of columns against the reference.
      for (const c0 of [0, Math.floor(V / 2), V - 37]) {
        const want = gemmReference(x, columnBlock(y, c0, 37), { transA: true });
        const part = new Float32Array(64 * 37);
        for (let r = 0; r < 64; r++) {
          part.set(got.data.subarray(r * V + c0, r * V + c0 + 37), r * 37);
        }
        assert.ok(scaledError(part, want.data) < 1e-5, `columns from ${c0}`);
      }
    }),
});

Deno.test({
  name: "webgpu column statistics, correlations and stacked R² equal the reference",
  ignore: !GPU,
  fn: () =>
    withGpu(async (gpu) => {
      for (const [n, p] of [[1, 1], [300, 1], [7, 129], [300, 200]]) {
        const a = randomMatrix(n, p, n + p), b = randomMatrix(n, p, n * p);
        for (let i = 0; i < n; i++) b.data[i * p] = 3; // a constant column
        const s = await gpu.columnStats(a), sr = columnStatsReference(a);
        assert.ok(maxRelativeError(s.mean, sr.mean, 1e-5) < 1e-3);
        assert.ok(maxRelativeError(s.std, sr.std, 1e-5) < 1e-4);
        const r = await gpu.columnCorrelation(a, b), rr = columnCorrelationReference(a, b);
        assert.ok(maxRelativeError(r, rr, 1e-5) < 1e-3, `${n}×${p}`);
        assert.equal(r[0], 0);
        const pred = randomMatrix(3 * n, p, 5);
        const q = await gpu.stackedR2(pred, b), qr = stackedR2Reference(pred, b);
        assert.ok(maxRelativeError(q.data, qr.data, 1e-5) < 1e-4, `R² ${n}×${p}`);
      }
    }, 32 * 1024),
});

Deno.test({
  name:
    "webgpu column kernels and GEMM stay right past Mesa's loop limit (40,000 rows; K = 300,000)",
  ignore: !GPU,
  fn: () =>
    withGpu(async (gpu) => {
      // llvmpipe and lavapipe cut an invocation's loops after 65,535 iterations,
      // silently: these sizes returned wrong statistics and products before the
      // host split rows and K (issue #14).
      const n = 40_000, p = 5;
      const a = randomMatrix(n, p, 41), b = randomMatrix(n, p, 42);
      for (let i = 0; i < n * p; i++) {
        a.data[i] = 100 + a.data[i] * (1 + (i % p)); // an offset the chunk merge must carry
        b.data[i] += 0.5 * a.data[i];
      }
      const s = await gpu.columnStats(a), sr = columnStatsReference(a);
      assert.ok(maxRelativeError(s.mean, sr.mean, 1e-5) < 1e-5, `mean ${s.mean} vs ${sr.mean}`);
      assert.ok(maxRelativeError(s.std, sr.std, 1e-5) < 1e-4, `std ${s.std} vs ${sr.std}`);
      const r = await gpu.columnCorrelation(a, b), rr = columnCorrelationReference(a, b);
      assert.ok(maxRelativeError(r, rr, 1e-5) < 1e-4, `r ${r} vs ${rr}`);
      const pred = randomMatrix(2 * n, p, 43);
      for (let i = 0; i < 2 * n * p; i++) pred.data[i] = b.data[i % (n * p)] + pred.data[i];
      const q = await gpu.stackedR2(pred, b), qr = stackedR2Reference(pred, b);
      assert.ok(maxRelativeError(q.data, qr.data, 1e-5) < 1e-4, `R² ${q.data} vs ${qr.data}`);
      const x = randomMatrix(3, 300_000, 44), y = randomMatrix(300_000, 4, 45);
      const err = scaledError((await gpu.gemm(x, y)).data, gemmReference(x, y).data);
      // float32 sums of 300,000 products round at ≈ √K · 2⁻²⁴ ≈ 3e-5; a lost K block costs ≈ 0.3.
      assert.ok(err < 1e-4, `gemm K = 300,000: ${err}`);
    }),
});

Deno.test({
  name: "ridgeCV on WebGPU equals ridgeCV on the CPU reference",
  ignore: !GPU,
  fn: () =>
    withGpu(async (gpu) => {
      const x = randomMatrix(120, 10, 1),
        w = randomMatrix(10, 77, 2),
        noise = randomMatrix(120, 77, 3);
      const y = gemmReference(x, w);
      for (let i = 0; i < y.data.length; i++) y.data[i] += 2 * noise.data[i] * ((i % 77) / 20);
      const cpu = await createCpuBackend({ blas: "typescript" });
      const ref = await ridgeCV(cpu, x, y, { targetBatch: 30 });
      const got = await ridgeCV(gpu, x, y, { targetBatch: 30 });
      assert.deepEqual(got.alphaIndex, ref.alphaIndex);
      assert.ok(scaledError(got.weights.data, ref.weights.data) < 1e-4);
      assert.ok(scaledError(got.predictions!.data, ref.predictions!.data) < 1e-4);
    }),
});

Deno.test({
  name: "auto backend: CPU when the only adapter is a software one; the choice is reported",
  ignore: !GPU,
  async fn() {
    const gpu = await createWebGpuBackend();
    const software = isSoftwareAdapter(gpu);
    gpu.dispose();
    const auto = await createBackend();
    try {
      assert.equal(auto.info.name, software ? "cpu" : "webgpu");
      assert.match(String(auto.info.details.choice), /^auto: /);
    } finally {
      auto.dispose();
    }
  },
});

Deno.test({
  name: "dictionary learning on WebGPU recovers planted atoms, as on the CPU",
  ignore: !GPU,
  fn: () =>
    withGpu(async (gpu) => {
      const K = 6;
      const planted = { T: 60, K, N: 1500, perSignal: 2, noise: 0.05, seed: 1 };
      const { atoms, signals } = plantedSignals(planted);
      const fit = await learnDictionary(gpu, signals, {
        atoms: K,
        alpha: 0.3,
        batchSize: 128,
        passes: 5,
        seed: 1,
      });
      const r = pearsonColumns(atoms, fit.dictionary);
      for (let k = 0; k < K; k++) {
        const best = Math.max(...Array.from({ length: K }, (_, j) => Math.abs(r[k * K + j])));
        assert.ok(best >= 0.95, `atom ${k}: ${best}`);
      }
    }),
});
