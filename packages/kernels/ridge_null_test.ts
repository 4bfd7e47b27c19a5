import assert from "node:assert/strict";
import { createCpuBackend } from "./cpu_backend.ts";
import { contiguousFolds } from "./cross_validation.ts";
import { ridgeFixedAlpha } from "./ridge_fixed.ts";
import { circularShift } from "./permutation.ts";
import { RidgeRefits, upperFactor } from "./ridge_null.ts";
import { normal, randomMatrix, rng, scaledError } from "./_testing.ts";
import { BACKEND_KINDS, ignoreBackend, withBackend } from "./_test_backends.ts";
import type { Matrix } from "./matrix.ts";

/** Targets driven by a few of the regressors, with noise, and a constant target. */
function targets(x: Matrix, V: number, seed: number): Matrix {
  const n = x.rows, K = x.cols, noise = normal(rng(seed), n * V), y = new Float32Array(n * V);
  for (let t = 0; t < n; t++) {
    for (let v = 0; v < V; v++) {
      y[t * V + v] = v === 3 ? 2 : 5 + x.data[t * K + (v % K)] * (v % 3) + noise[t * V + v];
    }
  }
  return { rows: n, cols: V, data: y };
}

for (const kind of BACKEND_KINDS) {
  Deno.test({
    name: `RidgeRefits (${kind}) gives ridgeFixedAlpha's held-out r and weights for every design`,
    ignore: await ignoreBackend(kind),
  }, () =>
    withBackend(kind, async (backend) => {
      const n = 121, K = 6, V = 203, folds = contiguousFolds(n, 5);
      const x = randomMatrix(n, K, 1), y = targets(x, V, 2);
      const alphas = [0.1, 3, 100, 1e4], weightAlphas = [1, 50];
      const alphaIndex = Int32Array.from({ length: V }, (_, v) => (v * 7) % alphas.length);
      const weightIndex = Int32Array.from({ length: V }, (_, v) => v % 2);
      const refits = new RidgeRefits(backend, n, K, { folds, alphas, weightAlphas });
      const xs = [x, circularShift(x, 17), circularShift(x, -40), randomMatrix(n, K, 9)];
      const subject = refits.subject(y, alphaIndex, weightIndex);
      // Two blocks of targets, the second not a whole number of SIMD vectors.
      const parts = [
        await refits.refit(refits.designs(xs), subject, 0, 100),
        await refits.refit(refits.designs(xs), subject, 100, V - 100),
      ];
      for (const [b, xb] of xs.entries()) {
        const want = await ridgeFixedAlpha(
          backend,
          xb,
          y,
          Float64Array.from(alphaIndex, (i) => alphas[i]),
          { folds, weightAlphas: Float64Array.from(weightIndex, (i) => weightAlphas[i]) },
        );
        const r = new Float32Array(V), w = new Float32Array(K * V);
        let v0 = 0;
        for (const part of parts) {
          const vb = part.r.length / xs.length;
          r.set(part.r.subarray(b * vb, (b + 1) * vb), v0);
          for (let j = 0; j < K; j++) {
            w.set(part.weights.subarray((b * K + j) * vb, (b * K + j + 1) * vb), j * V + v0);
          }
          v0 += vb;
        }
        assert.ok(
          scaledError(r, want.r) < 1e-4,
          `design ${b}: r differs by ${scaledError(r, want.r)}`,
        );
        assert.ok(
          scaledError(w, want.weights.data) < 1e-4,
          `design ${b}: weights differ by ${scaledError(w, want.weights.data)}`,
        );
        assert.equal(r[3], 0, "a constant target has r = 0");
        assert.ok(Math.max(...r) > 0.3, "driven targets are predicted");
      }
    }));
}

Deno.test("RidgeRefits rejects folds that do not tile the samples and α indices out of range", async () => {
  const backend = await createCpuBackend({ blas: "typescript" });
  try {
    assert.throws(
      () => new RidgeRefits(backend, 10, 2, { folds: [[0, 5], [6, 10]], alphas: [1] }),
      /contiguous/,
    );
    assert.throws(
      () => new RidgeRefits(backend, 10, 2, { folds: [[0, 5], [5, 9]], alphas: [1] }),
      /end at 9/,
    );
    const refits = new RidgeRefits(backend, 10, 2, { folds: contiguousFolds(10, 2), alphas: [1] });
    const y = randomMatrix(10, 3, 1);
    assert.throws(
      () => refits.subject(y, Int32Array.of(0, 1, 0), new Int32Array(3)),
      /alphaIndex\[1\] is 1/,
    );
  } finally {
    backend.dispose();
  }
});

Deno.test("upperFactor: RᵀR = C for a rank-deficient Gram matrix, R upper triangular", () => {
  const n = 5, K = 8, x = randomMatrix(n, K, 4), c = new Float64Array(K * K);
  for (let i = 0; i < K; i++) {
    for (let j = 0; j < K; j++) {
      for (let t = 0; t < n; t++) c[i * K + j] += x.data[t * K + i] * x.data[t * K + j];
    }
  }
  const r = upperFactor(c, K);
  let worst = 0;
  for (let i = 0; i < K; i++) {
    for (let j = 0; j < K; j++) {
      if (j < i) assert.equal(r[i * K + j], 0);
      let acc = 0;
      for (let k = 0; k < K; k++) acc += r[k * K + i] * r[k * K + j];
      worst = Math.max(worst, Math.abs(acc - c[i * K + j]));
    }
  }
  assert.ok(worst < 1e-9, `RᵀR differs from C by ${worst}`);
});

for (const kind of BACKEND_KINDS) {
  Deno.test({
    name:
      `RidgeRefits (${kind}) with more regressors than a fold has samples matches ridgeFixedAlpha`,
    ignore: await ignoreBackend(kind),
  }, () =>
    withBackend(kind, async (backend) => {
      const n = 60, K = 20, V = 37, folds = contiguousFolds(n, 5);
      const x = randomMatrix(n, K, 5), y = targets(x, V, 6), alphas = [0.5, 20];
      const alphaIndex = Int32Array.from({ length: V }, (_, v) => (v >> 1) % 2);
      const refits = new RidgeRefits(backend, n, K, { folds, alphas, threads: 1 });
      const got = await refits.refit(
        refits.designs([x]),
        refits.subject(y, alphaIndex, alphaIndex),
        0,
        V,
      );
      const per = Float64Array.from(alphaIndex, (i) => alphas[i]);
      const want = await ridgeFixedAlpha(backend, x, y, per, { folds });
      assert.ok(scaledError(got.r, want.r) < 1e-4, `r differs by ${scaledError(got.r, want.r)}`);
      assert.ok(scaledError(got.weights, want.weights.data) < 1e-4);
    }));
}
