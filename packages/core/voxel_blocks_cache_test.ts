/**
 * The blocked run's cache: a cached run gives the uncached run's results
 * bit for bit, a warm rerun encodes nothing, an interrupted run resumes
 * from the blocks it finished, anything that changes a block's results
 * changes its key, and a damaged entry is recomputed with a warning.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { type Backend, createCpuBackend, type Matrix, rng } from "@brainorg/kernels";
import { blockResultOf, readBlockResult, writeBlockResult } from "./block_result.ts";
import type { TemplateSet } from "./templates.ts";
import { analyzeVoxels, type AtomSource, type VoxelAnalysis } from "./voxel_analysis.ts";
import { blockedAnalyzer, type VoxelBlockSource } from "./voxel_blocks.ts";

const S = 3, T = 60, V = 90, K = 3, B = 30;

/** Smooth random atoms (T × K). */
function atomsOf(seed: number): Matrix {
  const next = rng(seed), data = new Float32Array(T * K);
  for (let k = 0; k < K; k++) {
    let x = 0;
    for (let t = 0; t < T; t++) data[t * K + k] = x = 0.7 * x + (next() - 0.5);
  }
  return { rows: T, cols: K, data };
}

/** Per subject, (T × V) series: the atoms' weighted sum plus noise, as a spill would hold them. */
function studyData(atoms: Matrix, seed: number): Matrix[] {
  const next = rng(seed), w = Float32Array.from({ length: K * V }, () => 2 * (next() - 0.5));
  return Array.from({ length: S }, () => {
    const data = new Float32Array(T * V);
    for (let t = 0; t < T; t++) {
      for (let v = 0; v < V; v++) {
        let s = 0;
        for (let k = 0; k < K; k++) s += atoms.data[t * K + k] * w[k * V + v];
        data[t * V + v] = s + 1.5 * (next() - 0.5);
      }
    }
    return { rows: T, cols: V, data };
  });
}

/** Columns `[v0, v1)` of a (T × V) matrix. */
function columns(m: Matrix, v0: number, v1: number): Matrix {
  const w = v1 - v0, out = new Float32Array(m.rows * w);
  for (let t = 0; t < m.rows; t++) out.set(m.data.subarray(t * V + v0, t * V + v1), t * w);
  return { rows: m.rows, cols: w, data: out };
}

/** A block source over in-memory series, counting reads; it throws at block `failAt` (0-based). */
function sourceOf(data: Matrix[], failAt = -1): VoxelBlockSource {
  return {
    voxels: V,
    readBlock: (i, v0, v1) => {
      if (v0 / B === failAt) return Promise.reject(new Error("the disk went away"));
      return Promise.resolve(columns(data[i], v0, v1));
    },
  };
}

/** Three label networks over the voxels. */
function templates(seed: number): TemplateSet[] {
  const next = rng(seed);
  return [{
    name: "toy",
    kind: "labels",
    networks: [1, 2, 3].map((index) => ({
      index,
      name: `n${index}`,
      values: Float32Array.from({ length: V }, () => (next() < 0.3 ? 1 : 0)),
    })),
  }];
}

const model = (atoms: Matrix, name = "m"): AtomSource => ({
  name,
  atoms,
  layerCounts: [[2, 0], [0, 3], [1, 1]],
});

interface Run {
  analysis: VoxelAnalysis;
  log: string[];
  warnings: string[];
  /** Progress reports of the encoding: none when every block comes from the cache. */
  progress: number;
}

interface Study {
  data: Matrix[];
  models: AtomSource[];
  sets: TemplateSet[];
  confounds?: Matrix;
}

async function run(
  study: Study,
  options: {
    cacheDir?: string;
    failAt?: number;
    permutations?: number;
    seed?: number;
    voxelP?: number;
  } = {},
): Promise<Run> {
  const log: string[] = [], warnings: string[] = [];
  let progress = 0;
  {
    const { failAt, ...rest } = options;
    const analysis = await analyzeVoxels(
      backend,
      // The series are read by blocks from the source: the subjects carry ids, shapes, confounds.
      study.data.map((_, i) => ({
        id: `sub-0${i + 1}`,
        data: { rows: T, cols: V, data: new Float32Array(0) },
        ...(study.confounds ? { confounds: study.confounds } : {}),
      })),
      study.models,
      study.sets,
      {
        tr: 2,
        permutations: 8,
        seed: 3,
        folds: 3,
        ...rest,
        analyzer: blockedAnalyzer(sourceOf(study.data, failAt), {
          blockVoxels: B,
          warn: (l) => warnings.push(l),
        }),
        log: (l) => log.push(l),
        onProgress: () => progress++,
      },
    );
    return { analysis, log, warnings, progress };
  }
}

/** Which blocks a run read from the cache (true) and which it computed (false). */
function fromCache(r: Run): boolean[] {
  return r.log.flatMap((l) => {
    const m = /^voxels \d+–\d+ \(block \d+ of 3\)(: read from the cache| done in )/.exec(l);
    return m ? [m[1] !== " done in "] : [];
  });
}

const bytes = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/** Two analyses equal to the bit: every map's bytes, every link and metric. */
function assertSame(a: VoxelAnalysis, b: VoxelAnalysis): void {
  assert.equal(a.models.length, b.models.length);
  for (const [m, x] of a.models.entries()) {
    const y = b.models[m];
    for (const [i, s] of x.subjects.entries()) {
      const t = y.subjects[i];
      for (const key of ["r", "r2", "alpha", "p", "q"] as const) {
        assert.deepEqual(bytes(s[key]), bytes(t[key]), `${x.model} ${s.id} ${key}`);
      }
      assert.deepEqual(bytes(s.weights.data), bytes(t.weights.data), `${s.id} weights`);
      assert.deepEqual(bytes(s.z.data), bytes(t.z.data), `${s.id} z`);
    }
    assert.deepEqual(bytes(x.group.t.data), bytes(y.group.t.data), "group t");
    for (const key of ["p", "meanR", "pR", "qR"] as const) {
      assert.deepEqual(bytes(x.group[key]), bytes(y.group[key]), `group ${key}`);
    }
    assert.deepEqual(x.templates, y.templates);
  }
  assert.deepEqual(bytes(a.noiseCeiling.isc), bytes(b.noiseCeiling.isc));
  assert.deepEqual(bytes(a.noiseCeiling.ceiling), bytes(b.noiseCeiling.ceiling));
}

function baseStudy(): Study {
  const atoms = atomsOf(1);
  return { data: studyData(atoms, 2), models: [model(atoms)], sets: templates(4) };
}

let backend: Backend;

/** A temporary folder and a backend for the test's runs, both gone afterwards. */
async function withDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "brainorg-block-cache-" });
  backend = await createCpuBackend();
  try {
    await body(dir);
  } finally {
    backend.dispose();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("a cached blocked run equals the uncached one bit for bit; a rerun reads every block back", async () => {
  await withDir(async (dir) => {
    const study = baseStudy(), cacheDir = join(dir, "cache");
    const plain = await run(study);
    const cold = await run(study, { cacheDir });
    assert.deepEqual(fromCache(plain), [false, false, false]);
    assert.deepEqual(fromCache(cold), [false, false, false]);
    assert.ok(cold.progress > 0);
    assertSame(plain.analysis, cold.analysis);
    // Something was found: the comparison is not of empty maps.
    const linked = cold.analysis.models[0].templates[0].matches.filter((m) => m.voxels > 0);
    assert.ok(linked.length > 0, "some atom's map crosses the threshold");
    const entries = [];
    for await (const e of Deno.readDir(join(cacheDir, "voxel-blocks"))) entries.push(e.name);
    assert.equal(entries.filter((n) => !n.startsWith(".")).length, 3, "one entry per block");

    const warm = await run(study, { cacheDir });
    assert.deepEqual(fromCache(warm), [true, true, true]);
    assert.equal(warm.progress, 0, "a warm rerun encodes nothing");
    assert.ok(warm.log.includes("voxels 30–60 (block 2 of 3): read from the cache"));
    assertSame(plain.analysis, warm.analysis);
    assert.deepEqual(warm.warnings, []);
  });
});

Deno.test("an interrupted blocked run resumes from the blocks it finished", async () => {
  await withDir(async (dir) => {
    const study = baseStudy(), cacheDir = join(dir, "cache");
    await assert.rejects(() => run(study, { cacheDir, failAt: 1 }), /the disk went away/);
    const resumed = await run(study, { cacheDir });
    assert.deepEqual(fromCache(resumed), [true, false, false]);
    assertSame((await run(study)).analysis, resumed.analysis);
    assert.deepEqual(fromCache(await run(study, { cacheDir })), [true, true, true]);
  });
});

Deno.test("whatever changes a block's results changes its key", async () => {
  await withDir(async (dir) => {
    const study = baseStudy(), cacheDir = join(dir, "cache");
    await run(study, { cacheDir });
    const all = [false, false, false];
    // Options of the encoding or of the null's counts: every block again.
    assert.deepEqual(fromCache(await run(study, { cacheDir, voxelP: 0.05 })), all);
    assert.deepEqual(fromCache(await run(study, { cacheDir, permutations: 9 })), all);
    assert.deepEqual(fromCache(await run(study, { cacheDir, seed: 4 })), all);
    // One value of one subject in block 2: that block only.
    const data = study.data.map((d) => ({ ...d, data: Float32Array.from(d.data) }));
    data[1].data[7 * V + 45] += 0.25;
    const changed = await run({ ...study, data }, { cacheDir });
    assert.deepEqual(fromCache(changed), [true, false, true]);
    assertSame((await run({ ...study, data })).analysis, changed.analysis);
    // Other atoms, another model's name, confounds: every block again.
    const atoms = { ...study.models[0].atoms, data: Float32Array.from(study.models[0].atoms.data) };
    atoms.data[5] *= 1.01;
    assert.deepEqual(fromCache(await run({ ...study, models: [model(atoms)] }, { cacheDir })), all);
    assert.deepEqual(
      fromCache(
        await run({ ...study, models: [model(study.models[0].atoms, "m2")] }, { cacheDir }),
      ),
      all,
    );
    const confounds = { rows: T, cols: 1, data: Float32Array.from({ length: T }, (_, t) => t % 7) };
    assert.deepEqual(fromCache(await run({ ...study, confounds }, { cacheDir })), all);
    // A network's membership changed in block 3 only: that block only.
    const sets = templates(4);
    const values = sets[0].networks[1].values;
    values[80] = 1 - values[80];
    assert.deepEqual(fromCache(await run({ ...study, sets }, { cacheDir })), [true, true, false]);
    // Nothing changed: every block read back, and a second model beside it computed.
    const two = await run({ ...study, models: [study.models[0], model(atoms, "m3")] }, {
      cacheDir,
    });
    assert.deepEqual(fromCache(two), all);
    assert.ok(
      two.log.some((l) => /\(1 of 2 models read from the cache\)/.test(l)),
      two.log.join("\n"),
    );
    assert.deepEqual(fromCache(await run(study, { cacheDir })), [true, true, true]);
  });
});

Deno.test("a damaged block entry is recomputed with a warning, never trusted", async () => {
  await withDir(async (dir) => {
    const study = baseStudy(), cacheDir = join(dir, "cache");
    const cold = await run(study, { cacheDir });
    const root = join(cacheDir, "voxel-blocks"), entries: string[] = [];
    for await (const e of Deno.readDir(root)) entries.push(join(root, e.name));
    // Which entry is block 2's: its description says.
    const second = [];
    for (const e of entries) {
      const meta = JSON.parse(await Deno.readTextFile(join(e, "block.json")));
      if (meta.voxels[0] === 30) second.push(e);
    }
    assert.equal(second.length, 1);
    // Truncated: its size no longer matches the manifest.
    const file = join(second[0], "s1_weights.f32");
    await Deno.truncate(file, 12);
    const truncated = await run(study, { cacheDir });
    assert.deepEqual(fromCache(truncated), [true, false, true]);
    assert.equal(truncated.warnings.length, 1);
    assert.match(truncated.warnings[0], /not usable \(s1_weights\.f32 has 12 bytes, not \d+\)/);
    assertSame(cold.analysis, truncated.analysis);
    // The same size, one byte flipped: caught by its SHA-256 as it is read.
    const bytes = await Deno.readFile(file);
    bytes[0] ^= 0xff;
    await Deno.writeFile(file, bytes);
    const flipped = await run(study, { cacheDir });
    assert.deepEqual(fromCache(flipped), [true, false, true]);
    assert.match(flipped.warnings[0], /s1_weights\.f32 does not match its SHA-256/);
    assertSame(cold.analysis, flipped.analysis);
    // Replaced by a whole entry.
    const again = await run(study, { cacheDir });
    assert.deepEqual(fromCache(again), [true, true, true]);
    assert.deepEqual(again.warnings, []);
  });
});

Deno.test("a block's result round-trips bit for bit; a wrong shape is damaged", async () => {
  await withDir(async (dir) => {
    const w = 2,
      P = 2,
      N = 3,
      f32 = (n: number, x: number) => Float32Array.from({ length: n }, (_, i) => x + i);
    const matrix = (x: number) => ({ rows: K, cols: w, data: f32(K * w, x) });
    const subject = {
      id: "s",
      r: Float32Array.of(NaN, 0.5),
      r2: f32(w, 2),
      alpha: Float64Array.of(1, Infinity),
      p: Float64Array.of(0.1, 1),
      q: Float64Array.of(0.2, 1),
      weights: matrix(3),
      z: { rows: K, cols: w, data: Float32Array.of(NaN, -0, 1, 2, 3, 4) },
    };
    const group = {
      subjects: 1,
      t: matrix(5),
      p: Float64Array.of(1, 2, 3, 4, 5, 6),
      meanR: f32(w, 7),
      pR: Float64Array.of(0.3, NaN),
      qR: Float64Array.of(0.3, NaN),
    };
    const counts = [{
      sizes: Uint32Array.from({ length: P * K * 2 }, (_, i) => i),
      inter: Uint32Array.from({ length: P * K * 2 * N }, (_, i) => 2 * i),
    }];
    const block = blockResultOf({ subjects: [subject, subject], group }, counts);
    const folder = join(dir, "b");
    assert.deepEqual(await writeBlockResult(folder, block, { note: "x" }), { written: true });
    const shape = { subjects: 2, atoms: K, voxels: w, permutations: P, networks: [N] };
    const back = await readBlockResult(folder, shape);
    assert.equal(back.state, "whole");
    if (back.state !== "whole") return;
    assert.equal(back.meta.note, "x");
    assert.deepEqual(back.result, block);
    assert.ok(Object.is(back.result.subjects[1].z[1], -0));
    const wrong = await readBlockResult(folder, { ...shape, networks: [N + 1] });
    assert.equal(wrong.state, "damaged");
    assert.match(
      wrong.state === "damaged" ? wrong.reason : "",
      /null0_inter\.u32 has 144 bytes, not 192/,
    );
    assert.deepEqual(await readBlockResult(join(dir, "none"), shape), { state: "absent" });
  });
});
