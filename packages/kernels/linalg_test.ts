import assert from "node:assert/strict";
import { choleskySolve, eigh, gram64, svdTallSkinny } from "./linalg.ts";
import { randomMatrix } from "./_testing.ts";

Deno.test("eigh reconstructs a symmetric matrix with orthonormal vectors, values descending", () => {
  for (const n of [1, 2, 7, 64]) {
    const x = randomMatrix(n + 5, n, n);
    const a = gram64(x.data, n + 5, n);
    const { values, vectors } = eigh(a, n);
    for (let j = 1; j < n; j++) assert.ok(values[j] <= values[j - 1]);
    let err = 0, orth = 0;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        let r = 0, o = 0;
        for (let k = 0; k < n; k++) {
          r += vectors[i * n + k] * values[k] * vectors[j * n + k];
          o += vectors[k * n + i] * vectors[k * n + j];
        }
        err = Math.max(err, Math.abs(r - a[i * n + j]));
        orth = Math.max(orth, Math.abs(o - (i === j ? 1 : 0)));
      }
    }
    assert.ok(err < 1e-9 * values[0], `n=${n} reconstruction ${err}`);
    assert.ok(orth < 1e-12, `n=${n} orthogonality ${orth}`);
  }
  assert.deepEqual([...eigh([2, 1, 1, 2], 2).values].map((v) => +v.toFixed(12)), [3, 1]);
  assert.throws(() => eigh([1, 2, 3, 4], 2), /not symmetric/);
});

Deno.test("choleskySolve solves SPD systems and rejects indefinite ones", () => {
  const x = randomMatrix(20, 6, 3);
  const a = gram64(x.data, 20, 6);
  const b = Float64Array.from({ length: 12 }, (_, i) => i - 5);
  const sol = choleskySolve(a, b, 6);
  for (let i = 0; i < 6; i++) {
    for (let c = 0; c < 2; c++) {
      let s = 0;
      for (let k = 0; k < 6; k++) s += a[i * 6 + k] * sol[k * 2 + c];
      assert.ok(Math.abs(s - b[i * 2 + c]) < 1e-9);
    }
  }
  assert.throws(() => choleskySolve([1, 2, 2, 1], [1, 1], 2), /not positive definite/);
});

Deno.test("svdTallSkinny: U diag(s) Vᵀ = X", () => {
  const n = 40, p = 5;
  const x = randomMatrix(n, p, 9);
  const { u, s, v } = svdTallSkinny(x.data, n, p);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < p; j++) {
      let r = 0;
      for (let k = 0; k < p; k++) r += u[i * p + k] * s[k] * v[j * p + k];
      assert.ok(Math.abs(r - x.data[i * p + j]) < 1e-5);
    }
  }
});
