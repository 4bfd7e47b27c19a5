import assert from "node:assert/strict";
import { type Matrix, rng } from "@brainorg/kernels";
import { havePython, runPython } from "../../test/python.ts";
import {
  bootstrapIndices,
  bootstrapVoxels,
  meanInterval,
  nthLargest,
  percentileInterval,
  resampleGroupT,
} from "./bootstrap.ts";
import { NetworkMatcher, type NetworkSet } from "./networks.ts";
import { organizationMetrics } from "./organization.ts";
import { oneSampleT, studentTQuantileUpper } from "./stats.ts";

/** Standard normal draws (Box–Muller) from a seeded generator. */
function normals(seed: number) {
  const rand = rng(seed);
  return () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

Deno.test("bootstrapIndices: the same seed gives the same draws, in range; another seed others", () => {
  const a = bootstrapIndices(7, 50, 3),
    b = bootstrapIndices(7, 50, 3),
    c = bootstrapIndices(7, 50, 4);
  assert.equal(a.length, 50);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  for (const idx of a) for (const i of idx) assert.ok(i >= 0 && i < 7);
  // With replacement: some resample repeats a subject (P(no repeat) = 7!/7⁷ ≈ 0.6% each).
  assert.ok(a.some((idx) => new Set(idx).size < 7));
  assert.throws(() => bootstrapIndices(0, 5, 0), /subjects to draw/);
  assert.throws(() => bootstrapIndices(3, -1, 0), /resamples/);
});

Deno.test({
  name: "resampled group t and percentile intervals match numpy on the same indices",
  ignore: !havePython(["numpy"], "bootstrap group t parity with numpy"),
  fn: async () => {
    const S = 5, K = 3, V = 40, B = 25, draw = normals(11);
    const weights: Matrix[] = Array.from({ length: S }, () => ({
      rows: K,
      cols: V,
      data: Float32Array.from({ length: K * V }, () => 0.3 + draw()),
    }));
    const indices = bootstrapIndices(S, B, 5);
    const ours = indices.map((idx) => Array.from(resampleGroupT(weights, idx)));
    const r = Array.from({ length: 28 }, () => 0.1 + 0.1 * draw());
    const roiIdx = bootstrapIndices(r.length, 200, 0);
    const ci = meanInterval(r, roiIdx);
    const pi = percentileInterval(ours.map((t) => t[0]));
    const ref = await runPython<{ t: number[][]; ci: number[]; pi: number[] }>(
      `
import json, sys
import numpy as np
d = json.loads(sys.argv[1])
w = np.array(d["w"], dtype=np.float32).astype(np.float64)  # (S, K*V)
ts = []
for idx in d["idx"]:
    x = w[idx]
    ts.append((x.mean(0) / (x.std(0, ddof=1) / np.sqrt(len(idx)))).tolist())
r = np.array(d["r"])
means = np.array([r[i].mean() for i in d["roiIdx"]])
t0 = np.array([t[0] for t in ts])
print(json.dumps({"t": ts, "ci": np.percentile(means, [2.5, 97.5]).tolist(),
                  "pi": np.percentile(t0, [2.5, 97.5]).tolist()}))
`,
      [JSON.stringify({
        w: weights.map((m) => Array.from(m.data)),
        idx: indices.map((i) => Array.from(i)),
        r,
        roiIdx: roiIdx.map((i) => Array.from(i)),
      })],
    );
    for (let b = 0; b < B; b++) {
      for (let i = 0; i < K * V; i++) {
        assert.ok(
          Math.abs(ours[b][i] - ref.t[b][i]) <= 1e-9 * Math.max(1, Math.abs(ref.t[b][i])),
          `resample ${b}, entry ${i}: ${ours[b][i]} vs numpy ${ref.t[b][i]}`,
        );
      }
    }
    assert.ok(Math.abs(ci.low - ref.ci[0]) < 1e-12 && Math.abs(ci.high - ref.ci[1]) < 1e-12);
    assert.ok(Math.abs(pi.low - ref.pi[0]) < 1e-9 && Math.abs(pi.high - ref.pi[1]) < 1e-9);
  },
});

Deno.test("percentileInterval: numpy's linear rule, non-finite values left out", () => {
  assert.deepEqual(percentileInterval([5, 1, 3, 2, 4]), { low: 1.1, high: 4.9 });
  const x = percentileInterval([NaN, 2, Infinity, 2]);
  assert.deepEqual(x, { low: 2, high: 2 });
  const none = percentileInterval([NaN]);
  assert.ok(Number.isNaN(none.low) && Number.isNaN(none.high));
});

/**
 * A planted study: network 0 (voxels 0–39) driven by atom 0 in every
 * subject, network 1 (voxels 40–79) driven by atom 1 in subject 0 only.
 */
function planted(seed: number) {
  const S = 12, K = 3, V = 160, draw = normals(seed);
  const member = (a: number, b: number) =>
    Uint8Array.from({ length: V }, (_, v) => v >= a && v < b ? 1 : 0);
  const networks: NetworkSet[] = [
    { index: 1, name: "net0", member: member(0, 40), voxels: 40 },
    { index: 2, name: "net1", member: member(40, 80), voxels: 40 },
  ];
  const subject = (s: number, signal: boolean): Matrix => {
    const data = Float32Array.from({ length: K * V }, () => draw());
    if (signal) {
      for (let v = 0; v < 40; v++) data[v] += 2.5;
      if (s === 0) { for (let v = 40; v < 80; v++) data[V + v] += 30; }
    }
    return { rows: K, cols: V, data };
  };
  const weights = Array.from({ length: S }, (_, s) => subject(s, true));
  const threshold = studentTQuantileUpper(0.01, S - 1);
  const matcher = new NetworkMatcher(networks, threshold);
  for (let p = 0; p < 60; p++) {
    const nul = Array.from({ length: S }, (_, s) => subject(s, false).data);
    matcher.observe({ rows: K, cols: V, data: Float32Array.from(oneSampleT(nul).t) });
  }
  const t: Matrix = {
    rows: K,
    cols: V,
    data: Float32Array.from(oneSampleT(weights.map((w) => w.data)).t),
  };
  const matches = matcher.match(t);
  const atoms: Matrix = {
    rows: 20,
    cols: K,
    data: Float32Array.from({ length: 20 * K }, () => draw()),
  };
  const layerCounts = [[3, 1], [1, 1], [2, 2]];
  const names = networks.map((n) => n.name);
  const partOf = (k: number, sign: 1 | -1) =>
    Uint8Array.from({ length: V }, (_, v) => sign * t.data[k * V + v] > threshold ? 1 : 0);
  const metrics = organizationMetrics(matches, names, atoms, layerCounts, partOf);
  return {
    input: {
      weights,
      t,
      threshold,
      templates: [{ name: "toy", matcher, networkNames: names, matches, metrics }],
      atoms,
      layerCounts,
    },
    matches,
  };
}

Deno.test("bootstrapVoxels: a strong link reappears in ≥ 95% of resamples, a one-subject link rarely", () => {
  const { input, matches } = planted(1);
  assert.ok(matches.some((m) => m.atom === 0 && m.sign === 1 && m.network === 0 && m.linked));
  const boot = bootstrapVoxels(input, { resamples: 200, seed: 0 });
  const links = boot.templates[0].links;
  const strong = links.find((l) => l.atom === 0 && l.sign === 1 && l.network === 0)!;
  assert.ok(strong.linked);
  assert.ok(strong.reappearance >= 0.95, `strong link reappears in ${strong.reappearance}`);
  const weak = links.find((l) => l.atom === 1 && l.sign === 1 && l.network === 1);
  assert.ok(
    (weak?.reappearance ?? 0) <= 0.25,
    `one-subject link reappears in ${weak?.reappearance}`,
  );
  // No cell the full sample leaves unlinked comes back often (noise, the one-subject link).
  const others = links.filter((l) => !l.linked).map((l) => l.reappearance);
  assert.ok(Math.max(0, ...others) <= 0.1, `unlinked cells reappear in ${others}`);
  // A fixed |t| threshold lets the noisier resampled maps grow past the null: documented, measured.
  const fixed = bootstrapVoxels(input, { resamples: 200, seed: 0, parts: "threshold" });
  const grown = fixed.templates[0].links.filter((l) => !l.linked).map((l) => l.reappearance);
  assert.ok(Math.max(...grown) > 0.3, `with a fixed threshold unlinked cells reappear in ${grown}`);
  // The strong map comes back voxel by voxel.
  const map = boot.maps.find((m) => m.atom === 0 && m.sign === 1)!;
  assert.ok(map.voxels >= 30 && map.medianFrequency >= 0.9, JSON.stringify(map));
  assert.equal(boot.frequency.length, 3 * 160);
  // Intervals bracket the full sample's metric where it is a count that barely moves.
  const engaged = boot.templates[0].metrics.find((m) => m.metric === "networksEngaged")!;
  assert.equal(engaged.finite, 200);
  assert.ok(
    engaged.ciLow <= engaged.value && engaged.value <= engaged.ciHigh,
    JSON.stringify(engaged),
  );
});

Deno.test("bootstrapVoxels: determined by the seed", () => {
  const { input } = planted(2);
  const a = bootstrapVoxels(input, { resamples: 40, seed: 9 });
  const b = bootstrapVoxels(input, { resamples: 40, seed: 9 });
  const c = bootstrapVoxels(input, { resamples: 40, seed: 10 });
  assert.deepEqual(a, b);
  assert.notDeepEqual(a.frequency, c.frequency);
});

Deno.test("bootstrapVoxels: subjects' maps must be the group map's shape", () => {
  const { input } = planted(3);
  const bad = {
    ...input,
    weights: [...input.weights.slice(1), { rows: 3, cols: 5, data: new Float32Array(15) }],
  };
  assert.throws(() => bootstrapVoxels(bad, { resamples: 2 }), /weights\[11\]/);
});

Deno.test("nthLargest: the n-th largest positive value of sign × row, as a sort gives it", () => {
  const draw = normals(4);
  for (const V of [1, 7, 100, 1001]) {
    const row = Float32Array.from({ length: V }, () => Math.round(draw() * 4) / 2);
    for (const sign of [1, -1] as const) {
      const pos = Array.from(row, (x) => sign * x).filter((x) => x > 0).sort((a, b) => b - a);
      for (const n of [1, 2, 5, 50, 2000]) {
        const want = pos.length ? pos[Math.min(n, pos.length) - 1] : Infinity;
        assert.equal(nthLargest(row, sign, n), want, `V ${V}, sign ${sign}, n ${n}`);
      }
    }
  }
});
