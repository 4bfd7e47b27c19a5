import assert from "node:assert/strict";
import { createCpuBackend, type Matrix, rng } from "@brainorg/kernels";
import { encodeVoxels } from "./voxel_encoding.ts";
import { cleanSeries } from "./clean.ts";

/** 4 smooth regressors; voxels 0–99 driven by regressor 0, 100–199 by regressor 2 (negative), 200–299 by none. */
async function problem(subjects: number) {
  const backend = await createCpuBackend();
  const T = 200, K = 4, V = 300, rand = rng(11);
  const gauss = () =>
    Math.sqrt(-2 * Math.log(Math.max(rand(), 1e-12))) * Math.cos(2 * Math.PI * rand());
  const x = new Float32Array(T * K);
  for (let k = 0; k < K; k++) {
    let a = 0;
    for (let t = 0; t < T; t++) x[t * K + k] = a = 0.8 * a + gauss();
  }
  const X = await cleanSeries(backend, { rows: T, cols: K, data: x }, {
    tr: 2,
    highPassSeconds: 0,
  });
  const data = [];
  for (let s = 0; s < subjects; s++) {
    const y = new Float32Array(T * V);
    for (let t = 0; t < T; t++) {
      for (let v = 0; v < V; v++) {
        const signal = v < 100 ? X.data[t * K] : v < 200 ? -X.data[t * K + 2] : 0;
        y[t * V + v] = 0.5 * signal + gauss();
      }
    }
    data.push({
      id: `s${s}`,
      data: await cleanSeries(backend, { rows: T, cols: V, data: y }, {
        tr: 2,
        highPassSeconds: 0,
      }) as Matrix,
    });
  }
  return { backend, X, data };
}

Deno.test("voxel encoding: driven voxels get their atom's sign and significance; LASSO maps are sparse", async () => {
  const { backend, X, data } = await problem(4);
  try {
    const ridge = await encodeVoxels(backend, X, data, { permutations: 20, seed: 1 });
    const lasso = await encodeVoxels(backend, X, data, {
      permutations: 20,
      seed: 1,
      maps: "lasso",
    });
    const V = 300;
    for (const res of [ridge, lasso]) {
      const t = res.group.t.data;
      const mean = (k: number, a: number, b: number) =>
        t.slice(k * V + a, k * V + b).reduce((s, v) => s + v, 0) / (b - a);
      assert.ok(mean(0, 0, 100) > 5, `atom 0 on its voxels: ${mean(0, 0, 100)}`);
      assert.ok(mean(2, 100, 200) < -5, `atom 2 on its voxels: ${mean(2, 100, 200)}`);
      assert.ok(Math.abs(mean(1, 0, 300)) < 1.5, "an undriven atom stays near 0");
      // Held-out r is significant where there is signal, rarely where there is none.
      const p = res.subjects[0].p;
      assert.ok(p.slice(0, 200).filter((x) => x <= 0.05).length > 180);
      assert.ok(p.slice(200).filter((x) => x <= 0.05).length < 20);
    }
    const zeros = (m: Matrix) => m.data.filter((v) => v === 0).length;
    assert.ok(
      zeros(lasso.subjects[0].weights) > zeros(ridge.subjects[0].weights) + 300,
      "LASSO zeroes weights",
    );
  } finally {
    backend.dispose();
  }
});
