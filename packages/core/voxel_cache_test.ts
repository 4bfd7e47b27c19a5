import assert from "node:assert/strict";
import { join } from "node:path";
import type { OrganizationMetrics } from "./organization.ts";
import { loadVoxelResult, saveVoxelResult } from "./voxel_cache.ts";
import type { ModelVoxelResult } from "./voxel_encoding.ts";

const K = 2, V = 3;
const f32 = (...v: number[]) => Float32Array.from(v);
const f64 = (...v: number[]) => Float64Array.from(v);

/** A result with every kind of non-finite value a real run can hold. */
function result(): ModelVoxelResult {
  const metrics: OrganizationMetrics = {
    atoms: K,
    linkedAtoms: 0,
    links: 0,
    networks: 7,
    networksEngaged: 0,
    assignmentEntropy: NaN,
    normalizedEntropy: NaN,
    layerSpread: Infinity,
    consistency: { timeCourse: NaN, mapOverlap: -Infinity, perNetwork: [] },
  };
  return {
    model: "m",
    threshold: 2.5,
    templates: [{
      name: "yeo7",
      matches: [{
        atom: 0,
        sign: -1,
        network: 3,
        networkName: "Dorsal attention",
        voxels: 0,
        dice: 0,
        overlap: NaN,
        p: 1,
        z: NaN,
        q: 1,
        pFWE: 1,
        linked: false,
      }],
      metrics,
    }],
    subjects: [{
      id: "sub-01",
      r: f32(0.1, NaN, 0.3),
      r2: f32(0, 0.5, -1),
      alpha: f64(1, 10, 100),
      p: f64(0.5, 1, 0.01),
      q: f64(0.5, 1, 0.03),
      weights: { rows: K, cols: V, data: f32(1, 2, 3, 4, 5, 6) },
      z: { rows: K, cols: V, data: f32(NaN, 1, 2, 3, Infinity, 5) },
    }],
    group: {
      subjects: 1,
      t: { rows: K, cols: V, data: f32(1, NaN, 3, 4, 5, 6) },
      p: f64(NaN, 1, 1, 1, 1, 1),
      meanR: f32(0.1, 0.2, 0.3),
      pR: f64(0.5, 0.5, 0.5),
      qR: f64(1, 1, 1),
    },
  };
}

Deno.test("a cached voxel result reads back equal to the fresh one, NaN and ±Inf included", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const entry = join(dir, "entry");
    const fresh = result();
    await saveVoxelResult(entry, fresh);
    const warned: string[] = [];
    const read = await loadVoxelResult(entry, { warn: (l) => warned.push(l) });
    assert.deepEqual(warned, []);
    // strict deepEqual compares numbers with Object.is: null ≠ NaN.
    assert.deepEqual(read, fresh);
    assert.ok(Number.isNaN(read!.templates[0].metrics.assignmentEntropy));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a damaged cached voxel result is reported and recomputed, not used", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const entry = join(dir, "entry");
    await saveVoxelResult(entry, result());
    const file = join(entry, "group_t.f32");
    const bytes = await Deno.readFile(file);
    bytes[0] ^= 0xff;
    await Deno.writeFile(file, bytes);
    const warned: string[] = [];
    assert.equal(await loadVoxelResult(entry, { warn: (l) => warned.push(l) }), null);
    assert.equal(warned.length, 1);
    assert.match(warned[0], /group_t\.f32/);
    assert.equal(await loadVoxelResult(join(dir, "absent")), null);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
