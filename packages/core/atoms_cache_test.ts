import assert from "node:assert/strict";
import { join } from "node:path";
import { MANIFEST, writeCacheEntry } from "@brainorg/common";
import {
  atomsKey,
  cachedLearnedAtoms,
  type LearnedAtoms,
  loadLearnedAtoms,
  saveLearnedAtoms,
} from "./atoms_cache.ts";
import type { AnTimeSeries } from "./model_atoms.ts";

/** Learned atoms with every field set, NaN where the real ones can have it. */
function learnedAtoms(T = 6, K = 3, N = 5): LearnedAtoms {
  const values = (n: number, at: number) => Float32Array.from({ length: n }, (_, i) => at + i / 7);
  return {
    atoms: {
      atoms: { rows: T, cols: K, data: values(T * K, 1) },
      codes: { rows: K, cols: N, data: values(K * N, -2) },
      kept: Uint32Array.from({ length: N }, (_, i) => 2 * i),
      layerSizes: [4, 6],
      alpha: 0.125,
      density: 0.2,
      layerR2: [0.4, NaN],
      subgroups: [{ atom: 0, layer: 1, positive: 2, negative: 1 }],
    },
    stability: {
      atoms: [{
        atom: 0,
        stability: 0.9,
        seedMedianR: 0.8,
        halvesMedianR: NaN,
        medianSignedR: -0.7,
      }],
      median: 0.9,
      skipped: [[0, 2]],
      fits: [
        {
          kind: "seed",
          seed: 1,
          volumes: [0, T],
          r: Float64Array.of(0.9, NaN, -0.3),
          matched: Int32Array.of(2, -1, 0),
          dictionary: { rows: T, cols: K, data: values(T * K, 5) },
        },
        { kind: "part", seed: 0, volumes: [0, 3], r: Float64Array.of(0.1, 0.2, 0.3) },
      ],
    },
  };
}

const series = (data: number[], dead = 0): AnTimeSeries => ({
  series: { rows: 2, cols: data.length / 2, data: Float32Array.from(data) },
  kept: Uint32Array.from({ length: data.length / 2 }, (_, i) => i),
  dead,
});

Deno.test("learned atoms and their stability fits come back from the cache unchanged, NaN included", async () => {
  const dir = await Deno.makeTempDir({ prefix: "brainorg-atoms-" });
  try {
    const learned = learnedAtoms();
    await saveLearnedAtoms(join(dir, "e"), learned);
    assert.deepEqual(await loadLearnedAtoms(join(dir, "e")), learned);
    const plain = { atoms: learnedAtoms().atoms };
    await saveLearnedAtoms(join(dir, "p"), plain);
    assert.deepEqual(await loadLearnedAtoms(join(dir, "p")), plain);
    assert.equal(await loadLearnedAtoms(join(dir, "absent")), null);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cachedLearnedAtoms learns once; a damaged or inconsistent entry is learned again with a warning", async () => {
  const dir = await Deno.makeTempDir({ prefix: "brainorg-atoms-" });
  try {
    let fits = 0;
    const warnings: string[] = [];
    const learn = () => {
      fits++;
      return Promise.resolve(learnedAtoms());
    };
    const get = () =>
      cachedLearnedAtoms(dir, "ab".repeat(32), learn, { warn: (l) => warnings.push(l) });
    const first = await get(), second = await get();
    assert.equal(first.cached, false);
    assert.equal(second.cached, true);
    assert.equal(fits, 1);
    assert.deepEqual(second.atoms, first.atoms);
    assert.deepEqual(second.stability, first.stability);
    const entry = join(dir, "atoms", "ab".repeat(16));
    // A truncated file: the manifest's size no longer matches.
    const codes = join(entry, "codes.f32");
    await Deno.writeFile(codes, (await Deno.readFile(codes)).subarray(4));
    const third = await get();
    assert.equal(third.cached, false);
    assert.equal(fits, 2);
    assert.equal(warnings.length, 1);
    assert.match(
      warnings[0],
      /cached atoms in .* are not usable \(codes\.f32 has \d+ bytes.*learning them again/,
    );
    assert.equal((await get()).cached, true, "the damaged entry was replaced");
    // A whole entry whose meta.json is at odds with its files (N says 7 codes per atom, 5 stored).
    await Deno.remove(entry, { recursive: true });
    await saveLearnedAtoms(entry, learnedAtoms());
    const meta = JSON.parse(await Deno.readTextFile(join(entry, "meta.json")));
    await Deno.remove(entry, { recursive: true });
    await writeCacheEntry(entry, async (tmp) => {
      for (const name of ["atoms.f32", "codes.f32", "kept.u32"]) {
        await Deno.writeFile(join(tmp, name), new Uint8Array(name === "atoms.f32" ? 72 : 60));
      }
      await Deno.writeTextFile(
        join(tmp, "meta.json"),
        JSON.stringify({ ...meta, N: 7, stability: undefined }),
      );
    });
    assert.ok((await Deno.readTextFile(join(entry, MANIFEST))).includes("meta.json"));
    const fourth = await get();
    assert.equal(fourth.cached, false);
    assert.equal(fits, 3);
    assert.match(warnings.at(-1)!, /codes\.f32 has 60 bytes, not 84/);
    assert.equal((await get()).cached, true, "the inconsistent entry was replaced");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("atomsKey changes with the series, its dead ANs, the layers and the settings, and only with them", () => {
  const layerOf = (an: number) => an % 2, settings = { learn: { atoms: 4, seed: 0 } };
  const base = atomsKey(series([1, 2, 3, 4]), layerOf, settings);
  assert.match(base, /^[0-9a-f]{64}$/);
  assert.equal(atomsKey(series([1, 2, 3, 4]), layerOf, { learn: { atoms: 4, seed: 0 } }), base);
  const others = [
    atomsKey(series([1, 2, 3, 5]), layerOf, settings),
    atomsKey(series([1, 2, 3, 4], 1), layerOf, settings),
    atomsKey(series([1, 2, 3, 4]), () => 0, settings),
    atomsKey(series([1, 2, 3, 4]), layerOf, { learn: { atoms: 4, seed: 1 } }),
    atomsKey(series([1, 2, 3, 4]), layerOf, { ...settings, stability: { seeds: 4 } }),
    // The same values in another shape.
    atomsKey(
      { ...series([1, 2, 3, 4]), series: { rows: 1, cols: 4, data: Float32Array.of(1, 2, 3, 4) } },
      layerOf,
      settings,
    ),
  ];
  for (const k of others) assert.notEqual(k, base);
  assert.equal(new Set(others).size, others.length);
});
