import assert from "node:assert/strict";
import { join } from "node:path";
import { haveWebGpu } from "../../test/webgpu.ts";
import { havePython, runPython } from "../../test/python.ts";
import { columnCorrelationReference, gemmReference } from "./cpu_reference.ts";
import { createCpuBackend } from "./cpu_backend.ts";
import type { Matrix } from "./matrix.ts";
import { ridgeCV } from "./ridge.ts";
import { createWebGpuBackend, type WebGpuBackend } from "./webgpu_backend.ts";
import { GPU_MATRIX_USAGE, GpuMatrix } from "./webgpu_gpu_matrix.ts";
import { ROWS_PER_INVOCATION } from "./webgpu_kernels.ts";
import { ridgeCVGpu } from "./webgpu_ridge.ts";
import { randomMatrix, scaledError } from "./_testing.ts";
import { chainProblem, type ChainResult, runChain } from "./_resident_chain.ts";

const GPU = await haveWebGpu();

async function withGpu(
  fn: (b: WebGpuBackend) => Promise<void>,
  options: { maxBindingBytes?: number; device?: GPUDevice } = {},
) {
  const b = await createWebGpuBackend(options);
  try {
    await fn(b);
  } finally {
    b.dispose();
  }
}

/** The largest |a − b|. */
function maxAbs(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

Deno.test({
  name: "a chain GEMM → ridge CV → correlation on GPU buffers equals the host path and reads " +
    "back once, at the final download",
  ignore: !GPU,
  fn: () =>
    withGpu(async (gpu) => {
      const problem = chainProblem();
      const { n, p, V } = problem;
      const got: ChainResult = await runChain(gpu, problem);
      // Nothing is read back until r's download (V floats), and that is the one readback.
      assert.equal(got.readbacksBeforeDownload, 0);
      assert.equal(got.readbacks, 1);
      // Z and M, then per fold its design and its maps, then the refit's two.
      assert.equal(got.uploads, 2 + 2 * problem.folds + 2);

      // The host path: the same steps on the CPU backend, every result on the host.
      const cpu = await createCpuBackend();
      try {
        const y = await cpu.gemm(problem.z, problem.m);
        const want = await ridgeCV(cpu, problem.x, y, {
          alphas: problem.alphas,
          folds: problem.folds,
        });
        const r = await cpu.columnCorrelation(want.predictions!, y);
        assert.ok(maxAbs(got.r, r) < 1e-4, `r differs by ${maxAbs(got.r, r)}`);
        // The chosen α are the host's, target by target; then everything downstream agrees.
        assert.deepEqual(Array.from(got.alphaIndex), Array.from(want.alphaIndex));
        const err = {
          y: scaledError(got.y, y.data),
          weights: scaledError(got.weights, want.weights.data),
          intercept: scaledError(got.intercept, want.intercept),
          cvScores: scaledError(got.cvScores, want.cvScores.data),
          predictions: scaledError(got.predictions, want.predictions!.data),
        };
        assert.ok(err.y < 1e-5, `Y ${err.y}`);
        for (const [k, v] of Object.entries(err)) assert.ok(v < 1e-4, `${k} error ${v}`);
        assert.equal(got.weights.length, p * V);
        assert.equal(got.predictions.length, n * V);
        // The planted signal is found: held-out r is high where the noise is low.
        assert.ok(r[0] > 0.8, `r of a clean target ${r[0]}`);
      } finally {
        cpu.dispose();
      }

      // For scale: the same chain through the WebGPU backend's host API reads back at every step.
      const host0 = gpu.stats.readbacks;
      const y = await gpu.gemm(problem.z, problem.m);
      const fit = await ridgeCV(gpu, problem.x, y, {
        alphas: problem.alphas,
        folds: problem.folds,
      });
      await gpu.columnCorrelation(fit.predictions!, y);
      const hostReadbacks = gpu.stats.readbacks - host0;
      console.log(`readbacks of the chain: resident 1, host API ${hostReadbacks}`);
      assert.ok(hostReadbacks > 10);
    }),
});

Deno.test({
  name: "the resident chain's correlations equal numpy's corrcoef of the downloaded predictions",
  ignore: !GPU || !havePython(["numpy"], "resident correlation vs numpy"),
  fn: () =>
    withGpu(async (gpu) => {
      const problem = chainProblem();
      const got = await runChain(gpu, problem);
      const dir = await Deno.makeTempDir();
      try {
        const file = join(dir, "chain.json");
        await Deno.writeTextFile(
          file,
          JSON.stringify({
            n: problem.n,
            V: problem.V,
            pred: Array.from(got.predictions),
            y: Array.from(got.y),
          }),
        );
        const want = await runPython<number[]>(
          `
import json, sys
import numpy as np
d = json.load(open(sys.argv[1]))
p = np.array(d["pred"], dtype=np.float64).reshape(d["n"], d["V"])
y = np.array(d["y"], dtype=np.float64).reshape(d["n"], d["V"])
print(json.dumps([float(np.corrcoef(p[:, j], y[:, j])[0, 1]) for j in range(d["V"])]))
`,
          [file],
        );
        assert.ok(maxAbs(got.r, want) < 1e-5, `r vs numpy: ${maxAbs(got.r, want)}`);
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    }),
});

Deno.test({
  name: "gemmGpu equals the reference for every transpose, odd shapes, host operands, " +
    "and tiles of C and of the inner dimension",
  ignore: !GPU,
  fn: async () => {
    let seed = 1;
    const shapes = [[1, 1, 1], [5, 7, 3], [65, 63, 129], [250, 260, 131]];
    await withGpu(async (gpu) => {
      for (const [m, n, k] of shapes) {
        for (const transA of [false, true]) {
          for (const transB of [false, true]) {
            const a = transA ? randomMatrix(k, m, seed++) : randomMatrix(m, k, seed++);
            const b = transB ? randomMatrix(n, k, seed++) : randomMatrix(k, n, seed++);
            const ga = gpu.upload(a);
            // B stays on the host: uploaded for the call, counted, and released.
            const u0 = gpu.stats.uploads;
            const c = await gpu.gemmGpu(ga, b, { transA, transB });
            assert.equal(gpu.stats.uploads - u0, 1);
            assert.equal(c.rows, m);
            assert.equal(c.cols, n);
            const got = await gpu.download(c);
            const err = scaledError(got.data, gemmReference(a, b, { transA, transB }).data);
            assert.ok(err < 1e-5, `${m}×${n}×${k} tA=${transA} tB=${transB}: ${err}`);
            c.dispose();
            ga.dispose();
          }
        }
      }
    });
    // A 32 KiB binding: C is cut into 64-row tiles and k = 60 into two pieces, summed on the device.
    await withGpu(async (gpu) => {
      const a = randomMatrix(60, 130, seed++), b = randomMatrix(60, 50, seed++);
      const c = await gpu.gemmGpu(gpu.upload(a), gpu.upload(b), { transA: true });
      const err = scaledError(
        (await gpu.download(c)).data,
        gemmReference(a, b, { transA: true }).data,
      );
      assert.ok(err < 1e-5, `tiled: ${err}`);
      // A result larger than one binding cannot stay on the device.
      await assert.rejects(
        gpu.gemmGpu(randomMatrix(100, 4, 1), randomMatrix(4, 100, 2)),
        /must fit one storage binding of 32768 bytes/,
      );
      await assert.rejects(
        gpu.gemmGpu(randomMatrix(2, 3, 1), randomMatrix(4, 2, 2)),
        /inner dimensions differ/,
      );
    }, { maxBindingBytes: 32 * 1024 });
  },
});

Deno.test({
  name: "columnCorrelationGpu merges chunks of rows past Mesa's loop limit; a constant column " +
    "gives 0",
  ignore: !GPU,
  fn: () =>
    withGpu(async (gpu) => {
      const rows = ROWS_PER_INVOCATION + 3_700, cols = 4;
      const a = randomMatrix(rows, cols, 21), b = randomMatrix(rows, cols, 22);
      for (let r = 0; r < rows; r++) {
        b.data[r * cols + 1] += 2 * a.data[r * cols + 1] + 5; // strongly correlated, offset
        b.data[r * cols + 2] = -a.data[r * cols + 2] + 100; // r = −1 far from zero
        a.data[r * cols + 3] = 7; // constant
      }
      const ga = gpu.upload(a), gb = gpu.upload(b);
      const r = await gpu.columnCorrelationGpu(ga, gb);
      assert.equal(r.rows, 1);
      assert.equal(r.cols, cols);
      const got = (await gpu.download(r)).data;
      const want = columnCorrelationReference(a, b);
      assert.ok(maxAbs(got, want) < 1e-5, `${got} vs ${want}`);
      assert.ok(Math.abs(got[2] + 1) < 1e-5);
      assert.equal(got[3], 0);
      await assert.rejects(
        gpu.columnCorrelationGpu(ga, gpu.upload(randomMatrix(rows, 3, 1))),
        /shapes differ/,
      );
      for (const m of [ga, gb, r]) m.dispose();
    }),
});

Deno.test({
  name: "ridgeCVGpu: fold ranges, no intercept, X on the device (one readback), held-out folds " +
    "longer than one invocation's rows",
  ignore: !GPU,
  fn: () =>
    withGpu(async (gpu) => {
      const cpu = await createCpuBackend();
      try {
        const cases: {
          n: number;
          p: number;
          V: number;
          options: { folds: number | [number, number][]; fitIntercept?: boolean; alphas: number[] };
          xOnGpu: boolean;
        }[] = [
          {
            n: 90,
            p: 4,
            V: 70,
            options: { folds: [[0, 30], [30, 55], [55, 90]], fitIntercept: false, alphas: [1, 30] },
            xOnGpu: true,
          },
          // 2 folds of 17,000 rows: each fold's scoring is merged from two chunks.
          {
            n: 2 * (ROWS_PER_INVOCATION + 617),
            p: 2,
            V: 3,
            options: { folds: 2, alphas: [0.1, 100, 1e5] },
            xOnGpu: false,
          },
        ];
        let seed = 40;
        for (const { n, p, V, options, xOnGpu } of cases) {
          const x = randomMatrix(n, p, seed++), y = randomMatrix(n, V, seed++);
          for (let i = 0; i < n; i++) {
            for (let j = 0; j < V; j++) y.data[i * V + j] += (j % 3) * x.data[i * p + (j % p)] + 3;
          }
          const gy = gpu.upload(y);
          const gx = xOnGpu ? gpu.upload(x) : undefined;
          const r0 = gpu.stats.readbacks;
          const fit = await ridgeCVGpu(gpu, gx ?? x, gy, options);
          assert.equal(gpu.stats.readbacks - r0, xOnGpu ? 1 : 0);
          const want = await ridgeCV(cpu, x, y, options);
          assert.deepEqual(fit.folds, want.folds);
          const alphaIndex = (await gpu.download(fit.alphaIndex)).data;
          assert.deepEqual(Array.from(alphaIndex), Array.from(want.alphaIndex));
          const tag = `n ${n}, V ${V}`;
          const w = (await gpu.download(fit.weights)).data;
          assert.ok(scaledError(w, want.weights.data) < 1e-4, `${tag} weights`);
          const b = (await gpu.download(fit.intercept)).data;
          if (options.fitIntercept === false) assert.ok(b.every((v) => v === 0));
          else assert.ok(scaledError(b, want.intercept) < 1e-4, `${tag} intercept`);
          const s = (await gpu.download(fit.cvScores)).data;
          assert.ok(maxAbs(s, want.cvScores.data) < 1e-4, `${tag} scores`);
          const pr = (await gpu.download(fit.predictions!)).data;
          assert.ok(scaledError(pr, want.predictions!.data) < 1e-4, `${tag} predictions`);
          fit.dispose();
          gy.dispose();
          gx?.dispose();
        }
        // Without predictions none are made.
        const small = gpu.upload(randomMatrix(40, 3, 1));
        const fit = await ridgeCVGpu(gpu, randomMatrix(40, 2, 2), small, {
          returnPredictions: false,
        });
        assert.equal(fit.predictions, undefined);
        fit.dispose();
        small.dispose();
      } finally {
        cpu.dispose();
      }
    }),
});

Deno.test({
  name: "GPU matrices: the caller's buffers stay the caller's, results are the caller's to " +
    "dispose, and bad buffers are refused with clear errors",
  ignore: !GPU,
  async fn() {
    const adapter = (await navigator.gpu.requestAdapter())!;
    const device = await adapter.requestDevice({ label: "caller" });
    const other = await adapter.requestDevice({ label: "other" });
    try {
      const values = Float32Array.from({ length: 6 }, (_, i) => i + 1);
      const mine = device.createBuffer({ size: 32, usage: GPU_MATRIX_USAGE });
      device.queue.writeBuffer(mine, 0, values);
      const wrapped = new GpuMatrix(mine, { rows: 2, cols: 3, device });
      assert.equal(wrapped.layout, "row-major");
      assert.equal(wrapped.dtype, "float32");
      assert.equal(wrapped.byteLength, 24);
      let result: GpuMatrix | undefined;
      await withGpu(async (gpu) => {
        assert.equal(gpu.device, device);
        result = await gpu.gemmGpu(wrapped, wrapped, { transB: true }); // (2 × 2)
        const got = await gpu.download(result);
        assert.deepEqual(Array.from(got.data), [14, 32, 32, 77]);
        // A matrix of another device, a buffer too small, one without COPY_SRC.
        const foreign = new GpuMatrix(
          other.createBuffer({ size: 24, usage: GPU_MATRIX_USAGE }),
          { rows: 2, cols: 3, device: other },
        );
        await assert.rejects(
          gpu.gemmGpu(foreign, wrapped, { transB: true }),
          (e) =>
            e instanceof TypeError && /another GPUDevice \(other\).*\(caller\)/.test(e.message),
        );
        assert.throws(
          () => new GpuMatrix(mine, { rows: 3, cols: 3, device }),
          (e) => e instanceof RangeError && /3 × 3 float32 values \(36 bytes\)/.test(e.message),
        );
        const noCopySrc = device.createBuffer({ size: 24, usage: 0x80 | 0x08 });
        assert.throws(
          () => new GpuMatrix(noCopySrc, { rows: 2, cols: 3, device }),
          (e) => e instanceof TypeError && /lacks COPY_SRC/.test(e.message),
        );
        assert.throws(
          () => new GpuMatrix(mine, { rows: 0, cols: 3, device }),
          RangeError,
        );
        noCopySrc.destroy();
        // Disposed results are refused, and the CPU backend has no resident calls.
        const spent = gpu.upload(randomMatrix(2, 3, 1));
        spent.dispose();
        assert.equal(spent.disposed, true);
        await assert.rejects(gpu.download(spent), /`m` was disposed/);
        const cpu = await createCpuBackend();
        await assert.rejects(
          ridgeCVGpu(cpu as unknown as WebGpuBackend, randomMatrix(10, 2, 1), wrapped),
          (e) => e instanceof TypeError && /GPU-resident calls are WebGPU-only/.test(e.message),
        );
        cpu.dispose();
      }, { device });
      // The backend is gone, the caller's device and buffer are not: read the buffer directly.
      wrapped.dispose(); // only marks the wrapper used up
      const again = new GpuMatrix(mine, { rows: 2, cols: 3, device });
      await withGpu(async (gpu) => {
        assert.deepEqual(Array.from((await gpu.download(again)).data), Array.from(values));
        // A result outlives the backend that made it (the device is the caller's) …
        assert.deepEqual(Array.from((await gpu.download(result!)).data), [14, 32, 32, 77]);
        // … until its dispose() destroys the buffer.
        result!.dispose();
        await assert.rejects(gpu.download(result!), /was disposed/);
        const stale = new GpuMatrix(result!.buffer, { rows: 2, cols: 2, device });
        await assert.rejects(gpu.download(stale), /destroyed|invalid|validation/i);
      }, { device });
      mine.destroy();
    } finally {
      device.destroy();
      other.destroy();
    }
  },
});

/** Checks that the chain's problem is what the browser test relies on: seeded, the same each time. */
Deno.test({
  name: "the chain's problem is seeded: the same inputs every time",
  fn() {
    const a = chainProblem(), b = chainProblem();
    const same = (x: Matrix, y: Matrix) => x.data.every((v, i) => v === y.data[i]);
    assert.ok(same(a.x, b.x) && same(a.z, b.z) && same(a.m, b.m));
  },
});
