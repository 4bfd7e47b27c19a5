import assert from "node:assert/strict";
import { createCpuBackend, learnDictionary, type Matrix, rng } from "@brainorg/kernels";
import { atomStability, matchAtoms } from "./stability.ts";
import { median } from "./stats.ts";

/** Standard normal samples. */
function normals(rand: () => number, n: number): Float32Array {
  return Float32Array.from({ length: n }, () => {
    const u = Math.max(rand(), 1e-12), v = rand();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  });
}

Deno.test("matchAtoms recovers a permutation with sign flips, and its r", () => {
  const rand = rng(5), T = 80, K = 6;
  const a: Matrix = { rows: T, cols: K, data: normals(rand, T * K) };
  const perm = [3, 0, 5, 1, 4, 2], sign = [1, -1, 1, 1, -1, -1];
  const noise = normals(rand, T * K);
  const b: Matrix = { rows: T, cols: K, data: new Float32Array(T * K) };
  for (let t = 0; t < T; t++) {
    for (let k = 0; k < K; k++) {
      // Column perm[k] of b is atom k of a, signed, plus a little noise.
      b.data[t * K + perm[k]] = sign[k] * a.data[t * K + k] + 0.2 * noise[t * K + k];
    }
  }
  const pairs = matchAtoms(a, b);
  assert.deepEqual(pairs.map((p) => p.atom), [0, 1, 2, 3, 4, 5]);
  assert.deepEqual(pairs.map((p) => p.matchedAtom), perm);
  pairs.forEach((p, k) => {
    assert.equal(Math.sign(p.r), sign[k]);
    assert.ok(Math.abs(p.r) > 0.9 && Math.abs(p.r) <= 1, `|r| ${p.r}`);
  });
  // Against numpy's r of one pair, computed here in float64 by definition.
  const x = Array.from({ length: T }, (_, t) => a.data[t * K + 2]);
  const y = Array.from({ length: T }, (_, t) => b.data[t * K + perm[2]]);
  const mx = x.reduce((s, v) => s + v) / T, my = y.reduce((s, v) => s + v) / T;
  let sxy = 0, sxx = 0, syy = 0;
  for (let t = 0; t < T; t++) {
    sxy += (x[t] - mx) * (y[t] - my);
    sxx += (x[t] - mx) ** 2;
    syy += (y[t] - my) ** 2;
  }
  assert.ok(Math.abs(pairs[2].r - sxy / Math.sqrt(sxx * syy)) < 1e-12);
});

Deno.test("matchAtoms pairs min(Ka, Kb) atoms and refuses other volumes", () => {
  const rand = rng(8), T = 30;
  const a: Matrix = { rows: T, cols: 5, data: normals(rand, T * 5) };
  const b: Matrix = { rows: T, cols: 3, data: new Float32Array(T * 3) };
  for (let t = 0; t < T; t++) [4, 1, 2].forEach((k, j) => (b.data[t * 3 + j] = a.data[t * 5 + k]));
  const pairs = matchAtoms(a, b);
  assert.deepEqual(pairs.map((p) => [p.atom, p.matchedAtom]), [[1, 1], [2, 2], [4, 0]]);
  assert.throws(() => matchAtoms(a, { rows: 10, cols: 3, data: new Float32Array(30) }), /30 rows/);
});

Deno.test("atomStability: planted atoms are stable (≈ 1), atoms of pure noise are not", async () => {
  const backend = await createCpuBackend({ blas: "typescript" });
  try {
    // Four planted time courses drive 240 ANs sparsely (1–2 atoms each) with
    // noise; 8 atoms are learned, so 4 have only noise to fit.
    const rand = rng(11), T = 160, N = 240, P = 4, K = 8;
    const truth = normals(rand, T * P);
    const x = new Float32Array(T * N);
    const noise = normals(rand, T * N);
    for (let n = 0; n < N; n++) {
      const first = n % P, second = Math.floor(rand() * P), w2 = rand() < 0.5 ? 0 : 0.7;
      for (let t = 0; t < T; t++) {
        x[t * N + n] = truth[t * P + first] + w2 * truth[t * P + second] + 0.6 * noise[t * N + n];
      }
    }
    const series: Matrix = { rows: T, cols: N, data: x };
    const learn = { atoms: K, targetDensity: 0.2, passes: 20, seed: 0 };
    const ref = await learnDictionary(backend, series, { ...learn, batchSize: 64 });
    const s = await atomStability(backend, series, { reference: ref.dictionary, learn, seeds: 3 });
    assert.equal(s.fits.length, 5);
    assert.deepEqual(s.fits.filter((f) => f.kind === "part").map((f) => f.volumes), [
      [0, 80],
      [80, 160],
    ]);
    // Which reference atoms are the planted ones: best |r| with a true time course.
    const truthM: Matrix = { rows: T, cols: P, data: truth };
    const planted = new Set(
      matchAtoms(truthM, ref.dictionary).filter((p) => Math.abs(p.r) > 0.9).map((p) =>
        p.matchedAtom
      ),
    );
    assert.equal(planted.size, P, "the reference recovers the planted atoms");
    // The halves share the noise's samples with the reference, so a noise
    // atom can come back in part; it still falls well below every planted one.
    const real = s.atoms.filter((a) => planted.has(a.atom));
    const unplanted = s.atoms.filter((a) => !planted.has(a.atom)).map((a) => a.stability);
    for (const a of real) {
      assert.ok(a.stability > 0.9, `planted atom ${a.atom}: stability ${a.stability}`);
      assert.ok(a.halvesMedianR > 0.95, `planted atom ${a.atom}: halves ${a.halvesMedianR}`);
      assert.ok(Math.abs(a.medianSignedR) > 0.9, `planted atom ${a.atom}: ${a.medianSignedR}`);
    }
    const worstReal = Math.min(...real.map((a) => a.stability));
    assert.ok(Math.max(...unplanted) < worstReal, `noise ${unplanted} vs planted ≥ ${worstReal}`);
    assert.ok(median(unplanted) < 0.85, `noise atoms: median stability ${median(unplanted)}`);
    assert.ok(Math.abs(s.median - median(s.atoms.map((a) => a.stability))) < 1e-15);
    // Same inputs, same numbers.
    const again = await atomStability(backend, series, {
      reference: ref.dictionary,
      learn,
      seeds: 3,
    });
    assert.deepEqual(again.atoms, s.atoms);
    // Story spans replace the halves.
    const bySpan = await atomStability(backend, series, {
      reference: ref.dictionary,
      learn,
      seeds: 0,
      spans: [50, 60, 50],
    });
    assert.deepEqual(bySpan.fits.map((f) => f.volumes), [[0, 50], [50, 110], [110, 160]]);
    assert.ok(bySpan.atoms.every((a) => Number.isNaN(a.seedMedianR)));
    await assert.rejects(
      atomStability(backend, series, { reference: ref.dictionary, learn, spans: [100] }),
      /summing to 160/,
    );
  } finally {
    backend.dispose();
  }
});
