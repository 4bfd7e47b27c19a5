import assert from "node:assert/strict";
import { createCpuBackend } from "./cpu_backend.ts";
import { ridgeCV } from "./ridge.ts";
import { ridgeFixedAlpha } from "./ridge_fixed.ts";
import { normal, randomMatrix, rng, scaledError } from "./_testing.ts";
import { BACKEND_KINDS, ignoreBackend, withBackend } from "./_test_backends.ts";
import type { Matrix } from "./matrix.ts";

function planted(n: number, p: number, v: number, seed: number): { x: Matrix; y: Matrix } {
  const x = randomMatrix(n, p, seed), w = randomMatrix(p, v, seed + 1);
  const noise = normal(rng(seed + 2), n * v), y = new Float32Array(n * v);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < v; c++) {
      let s = 3 + c % 2;
      for (let j = 0; j < p; j++) s += x.data[i * p + j] * w.data[j * v + c];
      y[i * v + c] = s + noise[i * v + c] * (0.5 + 4 * (c / v)) * Math.sqrt(p);
    }
  }
  return { x, y: { rows: n, cols: v, data: y } };
}

/** Held-out r from ridgeCV's out-of-fold predictions, averaged over folds through Fisher's z. */
function foldR(pred: Matrix, y: Matrix, folds: [number, number][]): Float64Array {
  const V = y.cols, z = new Float64Array(V);
  for (const [s, e] of folds) {
    for (let c = 0; c < V; c++) {
      let mp = 0, my = 0;
      for (let i = s; i < e; i++) (mp += pred.data[i * V + c]), (my += y.data[i * V + c]);
      mp /= e - s;
      my /= e - s;
      let sxy = 0, sxx = 0, syy = 0;
      for (let i = s; i < e; i++) {
        const a = pred.data[i * V + c] - mp, b = y.data[i * V + c] - my;
        sxy += a * b;
        sxx += a * a;
        syy += b * b;
      }
      z[c] += Math.atanh(sxy / Math.sqrt(sxx * syy));
    }
  }
  return z.map((v) => Math.tanh(v / folds.length));
}

for (const kind of BACKEND_KINDS) {
  Deno.test({
    name: `ridgeFixedAlpha (${kind}) at ridgeCV's chosen α gives ridgeCV's weights and held-out r`,
    ignore: await ignoreBackend(kind),
    fn: () =>
      withBackend(kind, async (backend) => {
        const { x, y } = planted(97, 7, 301, 3);
        const cv = await ridgeCV(backend, x, y, { folds: 4 });
        const fixed = await ridgeFixedAlpha(backend, x, y, cv.alphas, {
          folds: 4,
          targetBatch: 128,
        });
        assert.ok(new Set(cv.alphas).size > 2, "the test needs targets with different α");
        assert.ok(scaledError(fixed.weights.data, cv.weights.data) < 1e-4);
        assert.ok(scaledError(fixed.intercept, cv.intercept) < 1e-4);
        const r = foldR(cv.predictions!, y, cv.folds);
        assert.ok(scaledError(fixed.r, r) < 1e-4, `r differs by ${scaledError(fixed.r, r)}`);
      }),
  });
}

Deno.test("ridgeFixedAlpha without folds returns weights only; bad α is rejected", async () => {
  const backend = await createCpuBackend();
  const { x, y } = planted(40, 3, 5, 9);
  const fit = await ridgeFixedAlpha(backend, x, y, new Float64Array(5).fill(1), { folds: 0 });
  assert.equal(fit.r.length, 0);
  assert.equal(fit.weights.rows, 3);
  await assert.rejects(
    () => ridgeFixedAlpha(backend, x, y, [1, 1, 0, 1, 1]),
    /alpha of target 2 is 0; expected > 0/,
  );
  await assert.rejects(() => ridgeFixedAlpha(backend, x, y, [1]), /1 alphas for 5 targets/);
});
