import assert from "node:assert/strict";
import { loadMlas } from "./mlas_gemm.ts";
import { createCpuBackend } from "./cpu_backend.ts";
import { foldErrorsReference, foldRowsOf, planFolds } from "./ridge_folds.ts";
import { ridgeCV } from "./ridge.ts";
import { randomMatrix } from "./_testing.ts";
import type { Backend } from "./backend.ts";

const mlas = await loadMlas(2);
const noMlas = "reason" in mlas;

/** Folds of unequal size (5, 7, 11 rows), a constant target (column 3) and one with a large mean. */
function foldCase() {
  const n = 23, k = 6, m = 37, S = 3;
  const folds: [number, number][] = [[0, 5], [5, 12], [12, 23]];
  const xc1 = randomMatrix(n, k, 11);
  for (let r = 0; r < n; r++) xc1.data[r * k + k - 1] = 1;
  const y = randomMatrix(n, m, 12);
  for (let r = 0; r < n; r++) {
    y.data[r * m + 3] = 1.75;
    y.data[r * m + 4] += 500;
  }
  const stacked = folds.map(([s, e], f) => randomMatrix(S * (e - s), k, 20 + f));
  const shifts = folds.map((_, f) => Float64Array.from({ length: k - 1 }, (_, j) => 0.1 * (f - j)));
  return { n, k, m, S, folds, xc1, y, stacked, shifts };
}

Deno.test({
  name: "MLAS fold errors (one session run, unequal folds padded) equal the float64 reference",
  ignore: noMlas,
  async fn() {
    if ("reason" in mlas) return;
    const { m, S, folds, xc1, y, stacked, shifts } = foldCase();
    const plan = planFolds(xc1, folds, stacked, shifts, true);
    assert.equal(plan.rows, 11);
    assert.equal(plan.maps, S);
    const y3 = new Float32Array(folds.length * plan.rows * m);
    foldRowsOf({ data: y.data, stride: m, offset: 0 }, folds, plan.rows, m, y3);
    const input = { ...plan, m, y: y3 };
    const got = await mlas.foldErrors(input), want = foldErrorsReference(input);
    const close = (name: string, a: Float32Array, b: Float32Array, rel: number) => {
      assert.equal(a.length, b.length, `${name}: length`);
      for (let i = 0; i < a.length; i++) {
        assert.ok(
          Math.abs(a[i] - b[i]) <= rel * (1 + Math.abs(b[i])),
          `${name}[${i}]: ${a[i]} vs ${b[i]}`,
        );
      }
    };
    close("held", got.held, want.held, 1e-5);
    close("all", got.all, want.all, 1e-5);
    // The large-mean column makes the predictions' sums cancel: float32 tolerance on its scale.
    close("sse", got.sse, want.sse, 2e-3);
    close("sst", got.sst, want.sst, 1e-4);
    // A constant column's SST is exactly 0 in every fold (R² then follows the constant rule).
    for (let f = 0; f < folds.length; f++) assert.equal(got.sst[f * m + 3], 0);
  },
});

/** The CPU backend with MLAS, counting the fused calls so the test sees the path it claims. */
async function countingMlas(): Promise<{ backend: Backend; calls: () => number }> {
  const backend = await createCpuBackend({ blas: "mlas" });
  let calls = 0;
  const fused = backend.foldErrors!;
  return {
    backend: {
      ...backend,
      foldErrors: (input) => {
        calls++;
        return fused(input);
      },
    },
    calls: () => calls,
  };
}

for (const intercept of [true, false]) {
  Deno.test({
    name:
      `ridgeCV on MLAS's fused fold path equals the TypeScript reference (intercept: ${intercept}, ` +
      "unequal folds, batches and tiles)",
    ignore: noMlas,
    async fn() {
      const n = 47, p = 5, V = 301;
      const x = randomMatrix(n, p, 31);
      const y = randomMatrix(n, V, 32);
      const w = randomMatrix(p, V, 33);
      for (let r = 0; r < n; r++) {
        for (let c = 0; c < V; c++) {
          let acc = 0;
          for (let j = 0; j < p; j++) acc += x.data[r * p + j] * w.data[j * V + c];
          y.data[r * V + c] = acc * (c % 7) * 0.3 + y.data[r * V + c] + (c === 9 ? 40 : 0);
        }
      }
      const options = {
        alphas: [0.01, 0.3, 3, 30, 300],
        folds: 4, // 47 rows: 12, 12, 12, 11
        fitIntercept: intercept,
        targetBatch: 128, // three batches, the last one narrower
      };
      const ref = await createCpuBackend({ blas: "typescript" });
      const { backend, calls } = await countingMlas();
      try {
        const want = await ridgeCV(ref, x, y, options);
        const got = await ridgeCV(backend, x, y, options);
        assert.equal(calls(), 3, "one fused call per batch (each narrower than a tile)");
        assert.deepEqual([...got.alphaIndex], [...want.alphaIndex]);
        const close = (name: string, a: Float32Array, b: Float32Array, tol: number) => {
          for (let i = 0; i < a.length; i++) {
            assert.ok(Math.abs(a[i] - b[i]) <= tol * (1 + Math.abs(b[i])), `${name}[${i}]`);
          }
        };
        close("cvScores", got.cvScores.data, want.cvScores.data, 1e-4);
        close("weights", got.weights.data, want.weights.data, 1e-4);
        close("intercept", got.intercept, want.intercept, 1e-4);
        close("predictions", got.predictions!.data, want.predictions!.data, 1e-4);
      } finally {
        ref.dispose();
        backend.dispose();
      }
    },
  });
}
