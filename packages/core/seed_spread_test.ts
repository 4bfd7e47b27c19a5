import assert from "node:assert/strict";
import { join } from "node:path";
import { createCpuBackend, type Matrix, rng } from "@brainorg/kernels";
import { sampleHrf } from "@brainorg/neuro";
import { havePython, runPython } from "../../test/python.ts";
import { generatePhantom } from "./phantom.ts";
import { NetworkMatcher, type NetworkSet } from "./networks.ts";
import { organizationMetrics } from "./organization.ts";
import { sizedParts } from "./bootstrap.ts";
import { alignSeedAtoms, seedAtomsOf, seedSpreadFromMaps } from "./seed_spread.ts";
import { matchAtoms } from "./stability.ts";
import { oneSampleT, studentTQuantileUpper } from "./stats.ts";
import { brainMask, templateNetworks } from "./templates.ts";
import { analyzeVoxels } from "./voxel_analysis.ts";
import { cleanSeries } from "./clean.ts";

/** Standard normal draws (Box–Muller) from a seeded generator. */
function normals(seed: number) {
  const rand = rng(seed);
  return () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

/** K story-like atoms: sparse event trains convolved with the SPM HRF (T × K). */
function syntheticAtoms(T: number, K: number, seed: number): Matrix {
  const rand = rng(seed), h = sampleHrf("spm", 2), data = new Float32Array(T * K);
  for (let k = 0; k < K; k++) {
    const events = Float64Array.from({ length: T }, () => (rand() < 0.3 ? rand() : 0));
    for (let t = 0; t < T; t++) {
      let s = 0;
      for (let j = 0; j < h.length && j <= t; j++) s += h[j] * events[t - j];
      data[t * K + k] = s;
    }
  }
  return { rows: T, cols: K, data };
}

/** `atoms`' columns in the order `perm` (column j ← atom perm[j]), those in `negate` negated. */
function shuffled(atoms: Matrix, perm: number[], negate: Set<number>): Matrix {
  const { rows: T, cols: K } = atoms, out = new Float32Array(T * K);
  for (let t = 0; t < T; t++) {
    for (let j = 0; j < K; j++) {
      out[t * K + j] = (negate.has(j) ? -1 : 1) * atoms.data[t * K + perm[j]];
    }
  }
  return { rows: T, cols: K, data: out };
}

Deno.test("alignSeedAtoms: the stability matching undoes a seed's order and signs", () => {
  const ref = syntheticAtoms(120, 5, 1);
  const dict = shuffled(ref, [3, 0, 4, 1, 2], new Set([0, 2]));
  const pairs = matchAtoms(ref, dict);
  const matched = Int32Array.from(pairs.map((p) => p.matchedAtom));
  const r = Float64Array.from(pairs.map((p) => p.r));
  assert.deepEqual(Array.from(matched), [1, 3, 4, 0, 2]);
  assert.deepEqual(alignSeedAtoms(dict, matched, r).data, ref.data);
  const fits = [
    {
      kind: "seed" as const,
      seed: 1,
      volumes: [0, 120] as [number, number],
      r,
      matched,
      dictionary: dict,
    },
    { kind: "part" as const, seed: 0, volumes: [0, 60] as [number, number], r, matched },
  ];
  const seeds = seedAtomsOf(fits);
  assert.equal(seeds.length, 1);
  assert.equal(seeds[0].seed, 1);
  assert.deepEqual(seeds[0].atoms.data, ref.data);
  assert.throws(
    () => alignSeedAtoms(dict, Int32Array.from([7, 0, 1, 2, 3]), r),
    /matched\[0\]/,
  );
});

/**
 * A toy study (bootstrap_test's): network 0 driven by atom 0, network 1 by
 * atom 2 (negative). The networks are a small share of the voxels, as a
 * template's in a brain: a noise part of a linked part's size then rarely
 * overlaps one (with networks a quarter of the voxels it would beat the
 * null's small noise parts by chance).
 */
function toy(seed: number) {
  const S = 10, K = 3, V = 1200, draw = normals(seed);
  const member = (a: number, b: number) =>
    Uint8Array.from({ length: V }, (_, v) => v >= a && v < b ? 1 : 0);
  const networks: NetworkSet[] = [
    { index: 1, name: "net0", member: member(0, 40), voxels: 40 },
    { index: 2, name: "net1", member: member(40, 80), voxels: 40 },
  ];
  const threshold = studentTQuantileUpper(0.01, S - 1);
  const groupT = (signal: number[][]): Matrix => {
    const maps = Array.from({ length: S }, () => {
      const data = Float32Array.from({ length: K * V }, () => draw());
      for (const [k, from, to, d] of signal) for (let v = from; v < to; v++) data[k * V + v] += d;
      return data;
    });
    return { rows: K, cols: V, data: Float32Array.from(oneSampleT(maps).t) };
  };
  const matcher = new NetworkMatcher(networks, threshold);
  for (let p = 0; p < 60; p++) matcher.observe(groupT([]));
  const t = groupT([[0, 0, 40, 2.5], [2, 40, 80, -2.5]]);
  const atoms: Matrix = { rows: 30, cols: K, data: Float32Array.from({ length: 30 * K }, draw) };
  const layerCounts = [[3, 1], [1, 1], [2, 2]], names = networks.map((n) => n.name);
  const partOf = (k: number, sign: 1 | -1) =>
    Uint8Array.from({ length: V }, (_, v) => sign * t.data[k * V + v] > threshold ? 1 : 0);
  const matches = matcher.match(t);
  const metrics = organizationMetrics(matches, names, atoms, layerCounts, partOf);
  return {
    t,
    threshold,
    atoms,
    groupT,
    reference: {
      t,
      threshold,
      templates: [{ name: "toy", matcher, networkNames: names, matches, metrics }],
      layerCounts,
    },
  };
}

Deno.test("seedSpreadFromMaps: seeds with the reference's maps give spread 0 and links reappearing 100%", () => {
  const { reference, atoms, t } = toy(3);
  const linked = reference.templates[0].matches.filter((m) => m.linked);
  assert.ok(linked.length >= 2, `the toy must link: ${JSON.stringify(linked)}`);
  const spread = seedSpreadFromMaps({
    ...reference,
    seeds: [1, 2, 3].map((seed) => ({ seed, atoms, t })),
  });
  assert.deepEqual(spread.seeds, [1, 2, 3]);
  const [tpl] = spread.templates;
  for (const l of tpl.links) assert.ok(l.linked && l.reappearance === 1, JSON.stringify(l));
  assert.equal(tpl.links.length, linked.length);
  for (const m of tpl.metrics) {
    if (!Number.isFinite(m.value)) {
      assert.ok(m.perSeed.every((x) => !Number.isFinite(x)) && m.finite === 0, JSON.stringify(m));
      continue;
    }
    assert.deepEqual(m.perSeed, [m.value, m.value, m.value], m.metric);
    assert.equal(m.min, m.value);
    assert.equal(m.max, m.value);
    assert.equal(m.sd, 0);
    assert.equal(m.finite, 4);
  }
});

Deno.test("seedSpreadFromMaps: an atom lost with one seed reappears < 100%, and the metrics move", () => {
  const { reference, atoms, groupT } = toy(4);
  const stable = groupT([[0, 0, 40, 2.5], [2, 40, 80, -2.5]]);
  // Seed 2 lost atom 2's network: its map is noise.
  const unstable = groupT([[0, 0, 40, 2.5]]);
  const spread = seedSpreadFromMaps({
    ...reference,
    seeds: [{ seed: 1, atoms, t: stable }, { seed: 2, atoms, t: unstable }],
  });
  const links = spread.templates[0].links;
  const lost = links.find((l) => l.atom === 2 && l.sign === -1 && l.network === 1)!;
  assert.ok(lost.linked && lost.reappearance === 0.5, JSON.stringify(lost));
  const kept = links.find((l) => l.atom === 0 && l.sign === 1 && l.network === 0)!;
  assert.equal(kept.reappearance, 1);
  const engaged = spread.templates[0].metrics.find((m) => m.metric === "networksEngaged")!;
  assert.deepEqual(engaged.perSeed, [2, 1]);
  assert.deepEqual([engaged.value, engaged.min, engaged.max], [2, 1, 2]);
  assert.ok(Math.abs(engaged.sd - Math.sqrt(1 / 3)) < 1e-12, String(engaged.sd));
});

Deno.test("seedSpreadFromMaps: per-seed metrics equal organizationMetrics on the same maps, cut by a sort", () => {
  const { reference, atoms, groupT, t, threshold } = toy(5);
  const seedT = groupT([[0, 0, 40, 1.5], [2, 40, 80, -2], [1, 90, 120, 1]]);
  const spread = seedSpreadFromMaps({ ...reference, seeds: [{ seed: 7, atoms, t: seedT }] });
  // Independent path: each part's voxels of largest signed t by sorting, at the reference's count.
  const K = t.rows, V = t.cols, parts: Uint8Array[] = [];
  for (let k = 0; k < K; k++) {
    for (const sign of [1, -1]) {
      const n = Array.from({ length: V }, (_, v) => sign * t.data[k * V + v] > threshold)
        .filter(Boolean).length;
      const order = Array.from({ length: V }, (_, v) => v)
        .filter((v) => sign * seedT.data[k * V + v] > 0)
        .sort((a, b) => sign * (seedT.data[k * V + b] - seedT.data[k * V + a]));
      const part = new Uint8Array(V);
      for (const v of order.slice(0, n)) part[v] = 1;
      parts.push(part);
    }
  }
  const partOf = (k: number, sign: 1 | -1) => parts[2 * k + (sign > 0 ? 0 : 1)];
  const stat = new Float32Array(K * V);
  for (let k = 0; k < K; k++) {
    for (let v = 0; v < V; v++) {
      stat[k * V + v] = partOf(k, 1)[v] ? threshold + 1 : partOf(k, -1)[v] ? -threshold - 1 : 0;
    }
  }
  assert.deepEqual(
    sizedParts(seedT, Int32Array.from(parts.map((p) => p.reduce((a, x) => a + x, 0))), threshold),
    stat,
  );
  const tpl = reference.templates[0];
  const matches = tpl.matcher.match({ rows: K, cols: V, data: stat });
  const direct = organizationMetrics(
    matches,
    tpl.networkNames,
    atoms,
    reference.layerCounts,
    partOf,
  );
  const got = new Map(spread.templates[0].metrics.map((m) => [m.metric, m.perSeed[0]]));
  const want: Record<string, number> = {
    linkedAtoms: direct.linkedAtoms,
    links: direct.links,
    networksEngaged: direct.networksEngaged,
    assignmentEntropy: direct.assignmentEntropy,
    normalizedEntropy: direct.normalizedEntropy,
    layerSpread: direct.layerSpread,
    "consistency.timeCourse": direct.consistency.timeCourse,
    "consistency.mapOverlap": direct.consistency.mapOverlap,
  };
  for (const [name, value] of Object.entries(want)) {
    assert.ok(Object.is(got.get(name), value), name);
  }
  assert.ok(direct.links > 0, "the seed's map must link something to compare");
  assert.throws(
    () =>
      seedSpreadFromMaps({
        ...reference,
        seeds: [{ seed: 1, atoms, t: { rows: 2, cols: V, data: new Float32Array(2 * V) } }],
      }),
    /seeds\[0\]/,
  );
});

Deno.test({
  name: "seedSpreadFromMaps: min, max and SD match numpy",
  ignore: !havePython(["numpy"], "seed spread SD parity with numpy"),
  fn: async () => {
    const { reference, atoms, groupT } = toy(6);
    const seeds = [1, 2, 3, 4].map((seed) => ({
      seed,
      atoms,
      // Seeds 3 and 4 lose atom 2's network; atom 1 reaches network 1 with seeds 1 and 2.
      t: groupT([[0, 0, 40, 1 + seed / 2], [2, 40, 80, seed < 3 ? -2.5 : 0], [
        1,
        40,
        80,
        3 - seed,
      ]]),
    }));
    const spread = seedSpreadFromMaps({ ...reference, seeds });
    const rows = spread.templates[0].metrics.map((m) => [m.value, ...m.perSeed]);
    const ref = await runPython<number[][]>(
      `
import json, sys
import numpy as np
out = []
for row in json.loads(sys.argv[1]):
    x = np.array([np.nan if v is None else v for v in row], dtype=float)
    x = x[np.isfinite(x)]
    out.append([x.min(), x.max(), x.std(ddof=1)] if len(x) > 1 else [None, None, None])
print(json.dumps(out))
`,
      [JSON.stringify(rows.map((r) => r.map((v) => Number.isFinite(v) ? v : null)))],
    );
    spread.templates[0].metrics.forEach((m, i) => {
      if (ref[i][0] === null) return;
      assert.ok(Math.abs(m.min - ref[i][0]) < 1e-12, m.metric);
      assert.ok(Math.abs(m.max - ref[i][1]) < 1e-12, m.metric);
      assert.ok(Math.abs(m.sd - ref[i][2]) < 1e-9, `${m.metric}: ${m.sd} vs ${ref[i][2]}`);
    });
    assert.ok(spread.templates[0].metrics.some((m) => m.sd > 0), "some metric must move");
  },
});

Deno.test("analyzeVoxels: a seed equal to the reference up to order and sign changes nothing; a lost atom's links drop; cached", async () => {
  const backend = await createCpuBackend();
  const dir = await Deno.makeTempDir();
  try {
    const K = 8, atoms = syntheticAtoms(200, K, 5);
    const { mask } = await brainMask(4);
    const yeo = await templateNetworks("yeo7", mask, 4);
    const raw: { id: string; data: Matrix }[] = [];
    const truth = await generatePhantom(backend, mask, yeo.networks, atoms, (s, data) => {
      raw.push({ id: `s${s}`, data });
      return Promise.resolve();
    }, { subjects: 5, r2: 0.15, seed: 2 });
    const subjects: { id: string; data: Matrix }[] = [];
    for (const s of raw) {
      subjects.push({ id: s.id, data: await cleanSeries(backend, s.data, { tr: 2 }) });
    }
    // Seed 1: the reference's atoms shuffled and partly negated, aligned back by the matching.
    const perm = [2, 0, 1, 4, 3, 7, 5, 6], dict = shuffled(atoms, perm, new Set([1, 4]));
    const pairs = matchAtoms(atoms, dict);
    const same = alignSeedAtoms(
      dict,
      Int32Array.from(pairs.map((p) => p.matchedAtom)),
      Float64Array.from(pairs.map((p) => p.r)),
    );
    // Seed 2: a driven atom replaced by an unrelated time course.
    const lostAtom = truth.links[0].atom, other = syntheticAtoms(200, K, 99);
    const lost: Matrix = { ...atoms, data: Float32Array.from(atoms.data) };
    for (let t = 0; t < 200; t++) lost.data[t * K + lostAtom] = other.data[t * K + lostAtom];
    const logged: string[] = [];
    const run = () =>
      analyzeVoxels(
        backend,
        subjects,
        [{
          name: "synthetic",
          atoms,
          layerCounts: Array.from({ length: K }, () => [1]),
          seedAtoms: [{ seed: 1, atoms: same }, { seed: 2, atoms: lost }],
        }],
        [yeo],
        {
          permutations: 20,
          tr: 2,
          seed: 1,
          seedSpread: true,
          cacheDir: join(dir, "cache"),
          log: (l) => logged.push(l),
        },
      );
    const { models: [result] } = await run();
    const spread = result.seedSpread!;
    assert.deepEqual(spread.seeds, [1, 2]);
    const linked = result.templates[0].matches.filter((m) => m.linked);
    assert.ok(
      linked.some((m) => m.atom === lostAtom),
      "the lost atom must be linked in the reference",
    );
    for (const l of spread.templates[0].links) {
      if (l.atom === lostAtom && l.linked) {
        assert.equal(l.reappearance, 0.5, `lost atom's link ${JSON.stringify(l)}`);
      }
    }
    // Seed 1 alone: every metric as the reference's.
    for (const m of spread.templates[0].metrics) {
      assert.ok(Object.is(m.perSeed[0], m.value), `${m.metric}: ${m.perSeed[0]} vs ${m.value}`);
    }
    assert.ok(logged.some((l) => /organization with 2 other dictionary seeds/.test(l)));
    // A warm run reads the spread from the cache.
    const { models: [again] } = await run();
    assert.ok(logged.includes("synthetic: voxel results read from the cache"));
    assert.deepEqual(again.seedSpread, spread);
  } finally {
    backend.dispose();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("analyzeVoxels: a sharded or blocked run skips the seed spread, and says why", async () => {
  const logged: string[] = [];
  let handed: Record<string, unknown> = {};
  const backend = await createCpuBackend({ blas: "typescript" });
  try {
    await analyzeVoxels(backend, [], [], [], {
      tr: 2,
      seedSpread: true,
      log: (l) => logged.push(l),
      analyzer: (_b, _s, _m, _t, options) => {
        handed = { ...options };
        return Promise.resolve({
          models: [],
          noiseCeiling: { isc: new Float32Array(0), ceiling: new Float32Array(0) },
        } as unknown as Awaited<ReturnType<typeof analyzeVoxels>>);
      },
    });
  } finally {
    backend.dispose();
  }
  assert.equal(logged.length, 1);
  assert.match(logged[0], /^seed spread: skipped \(a sharded or blocked run/);
  assert.equal("seedSpread" in handed, false);
});
