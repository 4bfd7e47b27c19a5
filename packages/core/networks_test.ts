import assert from "node:assert/strict";
import { diceTable, NetworkMatcher, networkSets } from "./networks.ts";
import { organizationMetrics } from "./organization.ts";
import { dctBasis } from "./clean.ts";

const nets = networkSets([
  { index: 1, name: "A", values: Float32Array.of(1, 1, 1, 0, 0, 0) },
  { index: 2, name: "B", values: Float32Array.of(0, 0, 0, 1, 1, 0) },
], "labels");

Deno.test("Dice and overlap of thresholded positive and negative parts", () => {
  // atom 0: + on voxels 0,1 (inside A), − on voxel 3 (inside B); atom 1: nothing.
  const stat = { rows: 2, cols: 6, data: Float32Array.of(5, 4, 0.5, -6, 0, 0, 0, 0, 0, 0, 0, 0) };
  const { dice, overlap, voxels } = diceTable(stat, nets, 3);
  assert.deepEqual([...voxels], [2, 1, 0, 0]);
  assert.equal(dice[0], (2 * 2) / (2 + 3)); // atom 0 +, A
  assert.equal(dice[1], 0); // atom 0 +, B
  assert.equal(dice[3], (2 * 1) / (1 + 2)); // atom 0 −, B
  assert.equal(overlap[0], 1);
  assert.equal(dice[4], 0);
});

Deno.test("continuous templates keep their top voxels", () => {
  const [s] = networkSets(
    [{ index: 1, name: "ica", values: Float32Array.of(0, 1, 2, 3, 4, 5, 6, 7, 8, 9) }],
    "continuous",
    0.8,
  );
  assert.deepEqual([...s.member], [0, 0, 0, 0, 0, 0, 0, 0, 1, 1]);
});

Deno.test("a match beats a null of chance maps; chance maps do not link", () => {
  const matcher = new NetworkMatcher(nets, 3);
  for (let j = 0; j < 19; j++) {
    const data = new Float32Array(12);
    data[j % 6] = 5; // one random voxel per null map
    matcher.observe({ rows: 2, cols: 6, data });
  }
  const real = { rows: 2, cols: 6, data: Float32Array.of(5, 4, 4, 0, 0, 0, 0, 0, 0, 0, 0, 5) };
  const cells = matcher.match(real);
  const linked = cells.filter((c) => c.linked);
  assert.deepEqual(linked.map((c) => [c.atom, c.sign, c.networkName]), [[0, 1, "A"]]);
  assert.equal(linked[0].dice, 1);
  assert.ok(linked[0].p <= 1 / 20 + 1e-12);
});

Deno.test("organization metrics follow their definitions", () => {
  const T = 50;
  const course = (f: (t: number) => number) => Array.from({ length: T }, (_, t) => f(t));
  const a = course((t) => Math.sin(t / 3)), b = course((t) => Math.sin(t / 3) + 0.1 * Math.cos(t));
  const c = course((t) => Math.cos(t / 7));
  const atoms = { rows: T, cols: 3, data: new Float32Array(T * 3) };
  for (let t = 0; t < T; t++) atoms.data.set([a[t], b[t], c[t]], t * 3);
  const cell = (atom: number, sign: 1 | -1, network: number) => ({
    atom,
    sign,
    network,
    networkName: "",
    voxels: 1,
    dice: 0.5,
    overlap: 1,
    p: 0.01,
    z: 5,
    q: 0.01,
    pFWE: 0.01,
    linked: true,
  });
  const parts = [Uint8Array.of(1, 1, 0, 0), Uint8Array.of(1, 0, 0, 0), Uint8Array.of(0, 0, 1, 1)];
  const m = organizationMetrics(
    [cell(0, 1, 0), cell(1, 1, 0), cell(2, -1, 1)],
    ["A", "B", "C", "D"],
    atoms,
    [[4, 0], [2, 2], [1, 1]],
    (atom) => parts[atom],
  );
  assert.equal(m.links, 3);
  assert.equal(m.networksEngaged, 2);
  const h = -(2 / 3) * Math.log2(2 / 3) - (1 / 3) * Math.log2(1 / 3);
  assert.ok(Math.abs(m.assignmentEntropy - h) < 1e-12);
  assert.ok(Math.abs(m.normalizedEntropy - h / 2) < 1e-12);
  assert.ok(Math.abs(m.layerSpread - (0 + 1 + 1) / 3) < 1e-12);
  assert.equal(m.consistency.perNetwork.length, 1);
  assert.ok(m.consistency.timeCourse > 0.95);
  assert.ok(Math.abs(m.consistency.mapOverlap - 2 / 3) < 1e-12);
});

Deno.test("the DCT high-pass basis is orthonormal and has SPM's size", () => {
  const b = dctBasis(362, 2, 128);
  assert.equal(b.cols, Math.floor((2 * 362 * 2) / 128) + 1);
  for (let i = 0; i < b.cols; i++) {
    for (let j = 0; j < b.cols; j++) {
      let s = 0;
      for (let t = 0; t < b.rows; t++) s += b.data[t * b.cols + i] * b.data[t * b.cols + j];
      assert.ok(Math.abs(s - (i === j ? 1 : 0)) < 1e-5);
    }
  }
});

Deno.test("cleaning runs end to end cleans each run on its own", async () => {
  const { cleanSeries } = await import("./clean.ts");
  const { createCpuBackend } = await import("@brainorg/kernels");
  const backend = await createCpuBackend();
  const T1 = 50, T2 = 40, cols = 3;
  const data = Float32Array.from(
    { length: (T1 + T2) * cols },
    (_, i) => Math.sin(i * 0.37) * 3 + (i < T1 * cols ? 5 : -7) + i * 0.01,
  );
  const m = { rows: T1 + T2, cols, data };
  const both = await cleanSeries(backend, m, { tr: 2, runs: [T1, T2] });
  const a = await cleanSeries(backend, { rows: T1, cols, data: data.subarray(0, T1 * cols) }, {
    tr: 2,
  });
  const b = await cleanSeries(backend, { rows: T2, cols, data: data.subarray(T1 * cols) }, {
    tr: 2,
  });
  assert.deepEqual(both.data.subarray(0, T1 * cols), a.data);
  assert.deepEqual(both.data.subarray(T1 * cols), b.data);
  await assert.rejects(
    () => cleanSeries(backend, m, { tr: 2, runs: [10, 10] }),
    /do not add up to the 90 rows/,
  );
});
