import assert from "node:assert/strict";
import type { Backend } from "./backend.ts";
import {
  circularShift,
  fdrBH,
  permutationNull,
  permutationPValues,
  phaseRandomize,
} from "./permutation.ts";
import { ridgeCV } from "./ridge.ts";
import { gemmReference } from "./cpu_reference.ts";
import { normal, rng } from "./_testing.ts";
import { BACKEND_KINDS, ignoreBackend, withBackend } from "./_test_backends.ts";
import type { Matrix } from "./matrix.ts";

/** Autocorrelated regressors, like HRF-convolved features: AR(1) with φ = 0.8. */
function arRegressors(n: number, p: number, seed: number): Matrix {
  const e = normal(rng(seed), n * p), x = new Float32Array(n * p);
  for (let c = 0; c < p; c++) {
    x[c] = e[c];
    for (let t = 1; t < n; t++) x[t * p + c] = 0.8 * x[(t - 1) * p + c] + e[t * p + c];
  }
  return { rows: n, cols: p, data: x };
}

async function cvScore(backend: Backend, x: Matrix, y: Matrix): Promise<Float32Array> {
  const fit = await ridgeCV(backend, x, y, { alphas: [1, 100, 10_000], returnPredictions: false });
  // Each target's mean held-out R² at its chosen α.
  return Float32Array.from(fit.alphaIndex, (a, v) => fit.cvScores.data[a * y.cols + v]);
}

// Each surrogate is one ridgeCV, whose every call waits for the device: on
// WebGPU fewer surrogates, and more planted targets so that their smallest
// p-value, 1/(permutations + 1), still survives the FDR.
const NULL_SIZES = {
  typescript: { permutations: 399, planted: 40 },
  cpu: { permutations: 399, planted: 40 },
  webgpu: { permutations: 59, planted: 160 },
};

for (const kind of BACKEND_KINDS) {
  Deno.test({
    name: `permutation p-values (${kind}) are uniform under the null and small for planted effects`,
    ignore: await ignoreBackend(kind),
    fn: () =>
      withBackend(kind, async (backend) => {
        const n = 200, p = 3, V = 400, { permutations, planted } = NULL_SIZES[kind];
        const x = arRegressors(n, p, 1);
        const y: Matrix = { rows: n, cols: V, data: normal(rng(2), n * V) };
        // The first `planted` targets carry a real effect.
        const mix = gemmReference(x, {
          rows: p,
          cols: V,
          data: Float32Array.from({ length: p * V }, (_, i) => (i % V) < planted ? 0.8 : 0),
        });
        for (let i = 0; i < n * V; i++) y.data[i] += mix.data[i];
        const observed = await cvScore(backend, x, y);
        const { null: nul, shifts } = await permutationNull(x, (s) => cvScore(backend, s, y), {
          permutations,
          seed: 5,
        });
        assert.equal(nul.rows, permutations);
        assert.ok(shifts.every((s) => s >= 20 && s <= 180));
        const pv = permutationPValues(observed, nul);
        for (let v = 0; v < planted; v++) {
          assert.equal(pv[v], 1 / (permutations + 1), `planted target ${v}: p = ${pv[v]}`);
        }
        const nullP = Array.from(pv.subarray(planted)).sort((a, b) => a - b);
        // Kolmogorov–Smirnov distance to the discrete uniform on {1/(P + 1), …, 1}.
        let ks = 0;
        nullP.forEach((q, i) =>
          ks = Math.max(ks, Math.abs((i + 1) / nullP.length - q), Math.abs(i / nullP.length - q))
        );
        assert.ok(ks < 0.1, `KS distance ${ks.toFixed(3)} from uniform`);
        const below05 = nullP.filter((q) => q <= 0.05).length / nullP.length;
        assert.ok(
          below05 > 0.01 && below05 < 0.1,
          `${(below05 * 100).toFixed(1)}% of null targets at p ≤ 0.05`,
        );
        const q = fdrBH(pv);
        assert.ok(Array.from(q.subarray(0, planted)).every((v) => v <= 0.05));
        assert.ok(
          Array.from(q.subarray(planted)).filter((v) => v <= 0.05).length <=
            0.05 * nullP.length + 5,
        );
      }),
  });
}

Deno.test("Benjamini–Hochberg q-values match a hand computation", () => {
  const q = fdrBH([0.01, 0.04, 0.03, 0.2]);
  assert.deepEqual(Array.from(q, (v) => +v.toFixed(6)), [0.04, 0.053333, 0.053333, 0.2]);
});

Deno.test("surrogates: a shift rotates rows; phase randomisation keeps spectra and cross-correlation", () => {
  const x: Matrix = { rows: 4, cols: 2, data: Float32Array.from([1, 10, 2, 20, 3, 30, 4, 40]) };
  assert.deepEqual([...circularShift(x, 1).data], [4, 40, 1, 10, 2, 20, 3, 30]);
  const n = 64, p = 2;
  const ar = arRegressors(n, p, 3);
  for (let t = 0; t < n; t++) ar.data[t * p + 1] = 0.5 * ar.data[t * p] + 0.2 * ar.data[t * p + 1];
  const s = phaseRandomize(ar, rng(7));
  const power = (m: Matrix, c: number, f: number) => {
    let re = 0, im = 0;
    for (let t = 0; t < n; t++) {
      re += m.data[t * p + c] * Math.cos((2 * Math.PI * f * t) / n);
      im -= m.data[t * p + c] * Math.sin((2 * Math.PI * f * t) / n);
    }
    return re * re + im * im;
  };
  for (let f = 0; f <= n / 2; f++) {
    for (let c = 0; c < p; c++) {
      assert.ok(Math.abs(power(s, c, f) - power(ar, c, f)) < 1e-3 * (1 + power(ar, c, f)));
    }
  }
  const dot = (m: Matrix) =>
    Array.from({ length: n }, (_, t) => m.data[t * p] * m.data[t * p + 1]).reduce((a, b) => a + b);
  assert.ok(Math.abs(dot(s) - dot(ar)) < 1e-3 * Math.abs(dot(ar)));
  assert.notDeepEqual([...s.data], [...ar.data]);
});

Deno.test("shifts stay within runs when the samples are runs end to end", async () => {
  const { circularShiftRuns, permutationNull } = await import("./permutation.ts");
  const x = { rows: 7, cols: 1, data: Float32Array.of(0, 1, 2, 3, 10, 11, 12) };
  assert.deepEqual([...circularShiftRuns(x, 1, [4, 3]).data], [3, 0, 1, 2, 12, 10, 11]);
  const seen: number[][] = [];
  await permutationNull(x, (s) => {
    seen.push([...s.data]);
    return Promise.resolve(new Float32Array(1));
  }, { permutations: 5, runs: [4, 3], minShift: 1 });
  for (const s of seen) {
    assert.deepEqual(s.slice(0, 4).sort(), [0, 1, 2, 3]);
    assert.deepEqual(s.slice(4).sort(), [10, 11, 12]);
  }
  await assert.rejects(
    () => permutationNull(x, () => Promise.resolve(new Float32Array(1)), { runs: [4, 4] }),
    /do not add up/,
  );
});
