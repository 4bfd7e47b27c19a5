import assert from "node:assert/strict";
import {
  createCpuBackend,
  type Matrix,
  permutationNull,
  permutationPValues,
  ridgeCV,
  ridgeFixedAlpha,
  rng,
} from "@brainorg/kernels";
import { scaledError } from "../kernels/_testing.ts";
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

/**
 * The null as it was computed before the batched refits: every surrogate
 * refit subject by subject with ridgeFixedAlpha, all scores kept. The
 * batched null must give the same p-values and coefficient z.
 */
async function storedNull(
  backend: Awaited<ReturnType<typeof createCpuBackend>>,
  x: Matrix,
  data: { id: string; data: Matrix }[],
  permutations: number,
  seed: number,
) {
  const S = data.length, K = x.cols, V = data[0].data.cols;
  const fits: {
    alpha: Float64Array;
    folds: [number, number][];
    r: Float32Array;
    w: Float32Array;
  }[] = [];
  for (const s of data) {
    const cv = await ridgeCV(backend, x, s.data, { folds: 5, returnPredictions: false });
    const fixed = await ridgeFixedAlpha(backend, x, s.data, cv.alphas, {
      folds: cv.folds,
      weightAlphas: new Float64Array(V).fill(1),
    });
    fits.push({ alpha: cv.alphas, folds: cv.folds, r: fixed.r, w: fixed.weights.data });
  }
  const observed = new Float32Array((S + 1) * V);
  fits.forEach((f, s) => observed.set(f.r, s * V));
  for (let v = 0; v < V; v++) observed[S * V + v] = fits.reduce((a, f) => a + f.r[v], 0) / S;
  const sums = fits.map(() => ({ sum: new Float64Array(K * V), sq: new Float64Array(K * V) }));
  const { null: nul } = await permutationNull(x, async (surrogate) => {
    const out = new Float32Array((S + 1) * V);
    for (let s = 0; s < S; s++) {
      const fit = await ridgeFixedAlpha(backend, surrogate, data[s].data, fits[s].alpha, {
        folds: fits[s].folds,
        weightAlphas: new Float64Array(V).fill(1),
      });
      out.set(fit.r, s * V);
      for (let v = 0; v < V; v++) out[S * V + v] += fit.r[v] / S;
      for (let i = 0; i < K * V; i++) {
        sums[s].sum[i] += fit.weights.data[i];
        sums[s].sq[i] += fit.weights.data[i] ** 2;
      }
    }
    return out;
  }, { permutations, seed });
  const p = permutationPValues(observed, nul);
  const z = fits.map((f, s) =>
    Float32Array.from(f.w, (w, i) => {
      const m = sums[s].sum[i] / permutations;
      return (w - m) / Math.sqrt(sums[s].sq[i] / permutations - m * m);
    })
  );
  return { p, z };
}

Deno.test("the batched null equals the stored null of per-surrogate refits (p-values, coefficient z)", async () => {
  const { backend, X, data } = await problem(3);
  try {
    const P = 23, V = 300, S = 3;
    const want = await storedNull(backend, X, data, P, 5);
    const got = await encodeVoxels(backend, X, data, { permutations: P, seed: 5 });
    const p = new Float64Array((S + 1) * V);
    got.subjects.forEach((m, s) => p.set(m.p, s * V));
    p.set(got.group.pR, S * V);
    // A surrogate's r can tie the observed one to within float rounding; allow a handful of flips.
    const differ = p.filter((v, i) => Math.abs(v - want.p[i]) > 1e-12).length;
    assert.ok(differ <= 3, `${differ} of ${p.length} p-values differ`);
    assert.ok(p.some((v) => v > 0.5) && p.some((v) => v < 0.05), "the p-values span the range");
    for (let s = 0; s < S; s++) {
      const err = scaledError(got.subjects[s].z.data, want.z[s]);
      assert.ok(err < 1e-3, `subject ${s}: coefficient z differs by ${err}`);
    }
  } finally {
    backend.dispose();
  }
});
