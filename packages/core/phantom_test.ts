import assert from "node:assert/strict";
import { join } from "node:path";
import { createCpuBackend, type Matrix, rng } from "@brainorg/kernels";
import { readNifti, sampleHrf, volumeCount } from "@brainorg/neuro";
import { phantomFiles, writePhantom } from "./phantom_files.ts";
import { generatePhantom, scoreRecovery } from "./phantom.ts";
import { brainMask, templateNetworks } from "./templates.ts";
import { analyzeVoxels } from "./voxel_analysis.ts";
import { loadVoxelSubjects } from "./voxel_data.ts";

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

Deno.test("the pipeline recovers the links planted in a phantom on Yeo-7, and nothing else", async () => {
  const backend = await createCpuBackend();
  const dir = await Deno.makeTempDir();
  try {
    const atoms = syntheticAtoms(240, 10, 4);
    const folder = join(dir, "phantom");
    const truth = await writePhantom(folder, backend, atoms, { resolution: 4, networks: "yeo7" }, {
      subjects: 5,
      r2: 0.1,
      seed: 3,
    });
    assert.equal(truth.links.length, 8);
    assert.equal(truth.undrivenAtoms.length, 3);
    assert.ok(truth.medianR2.every((r) => Math.abs(r - 0.1) < 1e-3));
    const files = phantomFiles(folder, 5);
    const img = await readNifti(files.subjects[0].path);
    assert.equal(volumeCount(img), 240);
    assert.equal(img.tr, 2);

    const { mask } = await brainMask(4);
    const { subjects } = await loadVoxelSubjects(backend, {
      file: "phantom",
      mask: files.mask,
      subjects: files.subjects.map((s) => ({ id: s.id, bold: s.path })),
      discarded: 0,
      maxBadVoxelShare: 0.1,
      highPassSeconds: 128,
    }, { volumes: 240, tr: 2, log: () => {} });
    const yeo = await templateNetworks("yeo7", mask, 4);
    const cacheDir = join(dir, "cache");
    const logged: string[] = [];
    const run = () =>
      analyzeVoxels(
        backend,
        subjects,
        [{ name: "synthetic", atoms, layerCounts: Array.from({ length: 10 }, () => [1]) }],
        [yeo],
        { permutations: 30, tr: 2, seed: 1, cacheDir, log: (l) => logged.push(l) },
      );
    const { models: [result] } = await run();
    // The noise ceiling is of the data, computed (and logged) once per analysis.
    assert.equal(logged.length, 1);
    assert.match(logged[0], /^noise ceiling: median \d/);
    // A second run reads the finished model from the cache (observed): the same maps and links,
    // non-finite values included.
    const { models: [again] } = await run();
    assert.deepEqual(logged.slice(1), [logged[0], "synthetic: voxel results read from the cache"]);
    assert.deepEqual(again.templates, result.templates);
    assert.deepEqual(again.group.t.data, result.group.t.data);
    assert.deepEqual(again.subjects[2].q, result.subjects[2].q);
    const [entry] = [...Deno.readDirSync(join(cacheDir, "voxels"))];
    // A damaged cache entry is recomputed, not trusted.
    await Deno.writeFile(join(cacheDir, "voxels", entry.name, "group_t.f32"), new Uint8Array(8));
    const { models: [recomputed] } = await run();
    assert.deepEqual(logged.slice(3), [logged[0]], "a damaged entry must not be read");
    assert.deepEqual(recomputed.group.t.data, result.group.t.data);
    const found = result.templates[0].matches.filter((m) => m.linked);
    const rec = scoreRecovery(truth.links, found, truth.undrivenAtoms);
    assert.ok(rec.precision >= 0.9 && rec.recall >= 0.9, JSON.stringify(rec));
    assert.deepEqual(rec.undrivenLinked, []);
    // The planted atoms explain the driven networks: held-out r well above 0 there.
    const driven = yeo.networks[truth.links[0].network].values;
    let sum = 0, n = 0;
    driven.forEach((v, i) => v > 0 && ((sum += result.group.meanR[i]), n++));
    assert.ok(sum / n > 0.15, `mean r in a driven network ${sum / n}`);
  } finally {
    backend.dispose();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a phantom with nothing planted yields no network links", async () => {
  const backend = await createCpuBackend();
  try {
    const atoms = syntheticAtoms(200, 8, 5);
    const { mask } = await brainMask(4);
    const yeo = await templateNetworks("yeo7", mask, 4);
    const subjects: { id: string; data: Matrix }[] = [];
    await generatePhantom(backend, mask, yeo.networks, atoms, (s, data) => {
      subjects.push({ id: `s${s}`, data });
      return Promise.resolve();
    }, { subjects: 4, links: [], seed: 9 });
    const { cleanSeries } = await import("./clean.ts");
    const cleaned = [];
    for (const s of subjects) {
      cleaned.push({ id: s.id, data: await cleanSeries(backend, s.data, { tr: 2 }) });
    }
    const { models: [result] } = await analyzeVoxels(
      backend,
      cleaned,
      [{ name: "noise", atoms, layerCounts: Array.from({ length: 8 }, () => [1]) }],
      [yeo],
      { permutations: 20, tr: 2, seed: 2 },
    );
    assert.deepEqual(result.templates[0].matches.filter((m) => m.linked), []);
    // Under the null the voxels' permutation p-values are roughly uniform.
    const p = result.subjects[0].p;
    const small = p.reduce((a, x) => a + (x <= 0.1 ? 1 : 0), 0) / p.length;
    assert.ok(small < 0.2, `share of voxels with p ≤ 0.1: ${small}`);
  } finally {
    backend.dispose();
  }
});

Deno.test("recovery scoring counts true and false links", () => {
  const planted = [{ atom: 0, network: 1, sign: 1 as const }, {
    atom: 2,
    network: 3,
    sign: -1 as const,
  }];
  const r = scoreRecovery(planted, [
    { atom: 0, network: 1, sign: 1 },
    { atom: 2, network: 3, sign: 1 },
    { atom: 5, network: 0, sign: 1 },
  ], [5, 6]);
  assert.deepEqual(r, {
    truePositives: 1,
    falsePositives: 2,
    falseNegatives: 1,
    precision: 1 / 3,
    recall: 0.5,
    undrivenLinked: [5],
  });
});
