import assert from "node:assert/strict";
import { createCpuBackend, type Matrix, rng } from "@brainorg/kernels";
import { join } from "node:path";
import {
  analyzeVoxelVariance,
  roiVariancePartition,
  voxelVariancePartition,
  voxelVarianceSummary,
} from "./variance_partition.ts";

/** Standard normal draws (Box–Muller) from a seeded generator. */
function normals(rand: () => number, n: number): Float32Array {
  return Float32Array.from(
    { length: n },
    () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand()),
  );
}

/**
 * Atoms (T × 4), a low-level regressor (T × 1) and per subject voxels in
 * thirds: driven by the atoms only, by the low level only, by neither.
 */
function planted(T: number, V: number, subjects: number) {
  const rand = rng(3);
  const atoms: Matrix = { rows: T, cols: 4, data: normals(rand, T * 4) };
  const low: Matrix = { rows: T, cols: 1, data: normals(rand, T) };
  const kind = (v: number) => (v < V / 3 ? "atoms" : v < (2 * V) / 3 ? "low" : "none");
  const data = Array.from({ length: subjects }, (_, s) => {
    const noise = normals(rand, T * V), y = new Float32Array(T * V);
    for (let t = 0; t < T; t++) {
      for (let v = 0; v < V; v++) {
        const signal = kind(v) === "atoms"
          ? atoms.data[t * 4 + (v % 4)] - 0.5 * atoms.data[t * 4 + ((v + 1) % 4)]
          : kind(v) === "low"
          ? low.data[t]
          : 0;
        y[t * V + v] = signal + noise[t * V + v] * (1 + 0.1 * s);
      }
    }
    return { id: `s${s}`, data: { rows: T, cols: V, data: y } as Matrix };
  });
  return { atoms, low, data, kind };
}

Deno.test("voxel variance partitioning: unique atoms R² where the atoms drive, ≈ 0 where only the low level does", async () => {
  const backend = await createCpuBackend({ blas: "typescript" });
  try {
    const { atoms, low, data, kind } = planted(240, 30, 3);
    const maps = await voxelVariancePartition(backend, "planted", atoms, low, data, {
      folds: 4,
      lowLevel: ["word rate"],
    });
    assert.equal(maps.subjects, 3);
    for (let v = 0; v < 30; v++) {
      const [ua, ul, sh] = [maps.uniqueAtoms[v], maps.uniqueLowLevel[v], maps.shared[v]];
      const at = `voxel ${v} (${kind(v)}): unique atoms ${ua}, unique low ${ul}, shared ${sh}`;
      if (kind(v) === "atoms") assert.ok(ua > 0.2 && Math.abs(ul) < 0.03, at);
      if (kind(v) === "low") assert.ok(ul > 0.2 && Math.abs(ua) < 0.03, at);
      if (kind(v) === "none") assert.ok(Math.abs(ua) < 0.03 && Math.abs(ul) < 0.03, at);
      // Independent bands share nothing, less the small negative held-out R² of a band
      // that explains nothing (its fit to noise): shared = R²(low) − unique low.
      assert.ok(Math.abs(sh) < 0.06, at);
      assert.ok(Math.abs(maps.r2Joint[v] - (ua + ul + sh)) < 1e-5, "the parts sum to the joint R²");
    }
    const s = voxelVarianceSummary(maps);
    assert.equal(s.topVoxels, 2);
    assert.ok(
      s.positiveUniqueAtoms > 0.33 && s.positiveUniqueAtoms < 1,
      `${s.positiveUniqueAtoms}`,
    );
    // The best-fit voxels are atoms' or the low level's: one of the two is large there.
    assert.ok(Math.max(s.topMedianUniqueAtoms, s.topMedianUniqueLowLevel) > 0.2);
  } finally {
    backend.dispose();
  }
});

Deno.test("ROI variance partitioning: group means over subjects and t of the unique atoms R²", async () => {
  const backend = await createCpuBackend({ blas: "typescript" });
  try {
    const { atoms, low, data } = planted(200, 3, 4);
    const { summary, rows } = await roiVariancePartition(
      backend,
      data.map((d) => ({ id: d.id, y: d.data, lowLevel: low })),
      ["A", "L", "N"],
      [{ name: "m", atoms }],
      { folds: 5, lowLevel: ["word rate"] },
    );
    assert.equal(rows.length, 4 * 3);
    assert.deepEqual(summary.group.map((g) => g.roi), ["A", "L", "N"]);
    const [a, l, n] = summary.group;
    assert.ok(a.uniqueAtoms > 0.2 && a.tUniqueAtoms > 5, JSON.stringify(a));
    assert.ok(l.uniqueLowLevel > 0.2 && Math.abs(l.uniqueAtoms) < 0.03, JSON.stringify(l));
    assert.ok(Math.abs(n.uniqueAtoms) < 0.03, JSON.stringify(n));
    const mean = rows.filter((r) => r.roi === "A").reduce((s, r) => s + r.uniqueAtoms, 0) / 4;
    assert.ok(Math.abs(mean - a.uniqueAtoms) < 1e-9, "the group mean is the subjects' mean");
  } finally {
    backend.dispose();
  }
});

Deno.test("voxel variance partitioning: a repeated run reads each model's maps from the cache; a damaged entry is fitted again", async () => {
  const backend = await createCpuBackend({ blas: "typescript" });
  const cacheDir = await Deno.makeTempDir();
  try {
    const { atoms, low, data } = planted(240, 30, 2);
    const models = [
      { name: "a", atoms, layerCounts: [] },
      { name: "b", atoms: { ...atoms, data: atoms.data.map((x) => -x) }, layerCounts: [] },
    ];
    const lowLevel = { names: ["word rate"], values: low };
    const lines: string[] = [];
    const options = { tr: 2, folds: 4, cacheDir, log: (l: string) => lines.push(l) };
    const first = await analyzeVoxelVariance(backend, data, models, lowLevel, options);
    const entries = [...Deno.readDirSync(join(cacheDir, "variance"))].map((e) => e.name);
    assert.equal(entries.length, 2, "one entry per model");
    const second = await analyzeVoxelVariance(backend, data, models, lowLevel, options);
    assert.ok(lines.includes("variance partitioning read from the cache"), lines.join("\n"));
    assert.deepEqual(second, first);
    // Not keyed alike: other data must not read the first data's maps.
    const other = data.map((s) => ({
      ...s,
      data: { ...s.data, data: s.data.data.map((x) => x * 2) },
    }));
    lines.length = 0;
    await analyzeVoxelVariance(backend, other, models, lowLevel, options);
    assert.ok(!lines.includes("variance partitioning read from the cache"), lines.join("\n"));
    assert.equal([...Deno.readDirSync(join(cacheDir, "variance"))].length, 4);
    // A map's bytes changed on disk: warned, fitted again, equal to the first fit.
    const dir = join(cacheDir, "variance", entries[0]);
    const f = join(dir, "uniqueAtoms.f32"), bytes = Deno.readFileSync(f);
    bytes[0] ^= 0xff;
    Deno.writeFileSync(f, bytes);
    lines.length = 0;
    const fourth = await analyzeVoxelVariance(backend, data, models, lowLevel, options);
    assert.ok(
      lines.some((l) => /variance partition cache .* not used .*SHA-256/.test(l)),
      lines.join("\n"),
    );
    assert.deepEqual(fourth, first);
  } finally {
    backend.dispose();
    await Deno.remove(cacheDir, { recursive: true });
  }
});
