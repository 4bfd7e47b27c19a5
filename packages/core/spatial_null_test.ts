import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Matrix, rng } from "@brainorg/kernels";
import { type BrainMask, maskLattice, smoothOnLattice, VariogramSurrogates } from "@brainorg/neuro";
import { diceTable, type NetworkSet } from "./networks.ts";
import { addSpatialNull, spatialNullCells, spatialNullRows } from "./spatial_null.ts";
import { permutationPValue } from "./stats.ts";
import type { ModelVoxelResult } from "./voxel_encoding.ts";

const n = 16;
const mask: BrainMask = {
  grid: {
    shape: [n, n, n],
    affine: Float64Array.from([4, 0, 0, 0, 0, 4, 0, 0, 0, 0, 4, 0, 0, 0, 0, 1]),
  },
  indices: Uint32Array.from({ length: n ** 3 }, (_, i) => i),
  source: "test cube",
};
const lattice = maskLattice(mask), V = lattice.voxels;
const ijk = (v: number) => [v % n, Math.floor(v / n) % n, Math.floor(v / (n * n))];
const set = (name: string, inside: (i: number, j: number, k: number) => boolean): NetworkSet => {
  const member = Uint8Array.from(
    { length: V },
    (_, v) => (inside(...ijk(v) as [number, number, number]) ? 1 : 0),
  );
  return { index: 1, name, member, voxels: member.reduce((a, b) => a + b, 0) };
};
// A compact network (a box), and a second one elsewhere.
const networks = [
  set("box", (i, j, k) => i >= 3 && i < 8 && j >= 3 && j < 8 && k >= 3 && k < 8),
  set("far", (i, j, k) => i >= 10 && j >= 10 && k >= 10),
];

/** Atom 0: the box lit up, smoothly, plus noise; atom 1: a smooth field unrelated to the networks. */
function maps(seed: number): Matrix {
  const rand = rng(seed),
    noise = () =>
      Math.sqrt(-2 * Math.log(Math.max(rand(), 1e-12))) * Math.cos(2 * Math.PI * rand());
  const field = smoothOnLattice(Float64Array.from({ length: V }, noise), lattice, 6);
  const box = smoothOnLattice(networks[0].member, lattice, 2);
  const data = new Float32Array(2 * V);
  for (let v = 0; v < V; v++) {
    data[v] = 12 * box[v] + 0.5 * noise();
    data[V + v] = 8 * field[v] + 0.3 * noise();
  }
  return { rows: 2, cols: V, data };
}

Deno.test("the spatial null's p is the share of rank-matched surrogates reaching the Dice", () => {
  const t = maps(1), threshold = 2, P = 30;
  const { cells, bandwidthsMm } = spatialNullCells(t, lattice, [networks], {
    surrogates: P,
    threshold,
    seed: 3,
  });
  assert.equal(cells[0].length, 2 * 2 * 2);
  assert.ok(bandwidthsMm.every((h) => h > 0));
  // Independently: the generator's full surrogates (target values by rank), thresholded, Dice by diceTable.
  const observed = diceTable(t, networks, threshold).dice;
  for (let k = 0; k < 2; k++) {
    const gen = new VariogramSurrogates(t.data.subarray(k * V, (k + 1) * V), lattice, {
      seed: 3000 + k,
    });
    const ge = new Array(4).fill(0);
    for (let j = 0; j < P; j++) {
      const s = gen.next();
      const d =
        diceTable({ rows: 1, cols: V, data: Float32Array.from(s) }, networks, threshold).dice;
      for (let c = 0; c < 4; c++) if (d[c] >= observed[k * 4 + c]) ge[c]++;
    }
    for (let c = 0; c < 4; c++) {
      assert.equal(cells[0][k * 4 + c].p, permutationPValue(ge[c], P), `atom ${k} cell ${c}`);
    }
  }
  // The planted box is linked; its cell's p is the smallest possible.
  assert.equal(cells[0][0].p, 1 / (P + 1));
  assert.ok(cells[0][0].linked);
});

Deno.test("a smooth map unrelated to the networks is rarely linked (false-positive rate near α)", () => {
  let linked = 0, cellsSeen = 0;
  for (let seed = 1; seed <= 8; seed++) {
    const { cells } = spatialNullCells(maps(seed), lattice, [networks], {
      surrogates: 40,
      threshold: 2,
      seed,
    });
    for (let c = 4; c < 8; c++) (cellsSeen++, linked += cells[0][c].linked ? 1 : 0);
  }
  assert.ok(linked / cellsSeen <= 0.15, `${linked} of ${cellsSeen} unrelated cells linked`);
});

Deno.test("addSpatialNull completes the cells, counts links, and reuses its cache", async () => {
  const dir = await mkdtemp(join(tmpdir(), "spatial-null-"));
  try {
    const t = maps(2);
    const matches = [0, 1].flatMap((atom) =>
      ([1, -1] as const).flatMap((sign) =>
        networks.map((nw, network) => ({
          atom,
          sign,
          network,
          networkName: nw.name,
          voxels: 0,
          dice: 0,
          overlap: 0,
          p: 0.01,
          z: 3,
          q: 0.01,
          pFWE: 0.01,
          linked: atom === 0 && sign === 1 && network === 0,
        }))
      )
    );
    const result = {
      model: "m",
      threshold: 2,
      group: { t },
      templates: [{ name: "Box", matches }],
    } as unknown as ModelVoxelResult;
    const templates = [{
      name: "Box",
      kind: "labels" as const,
      networks: networks.map((nw, i) => ({
        index: i + 1,
        name: nw.name,
        values: Float32Array.from(nw.member),
      })),
    }];
    const lines: string[] = [];
    const first = await addSpatialNull([result], templates, mask, {
      surrogates: 20,
      cacheDir: dir,
      log: (l) => lines.push(l),
    });
    const rows = spatialNullRows(matches);
    assert.equal(rows.length, 8);
    assert.ok(
      rows.every((r) => typeof r.spatialP === "number" && r.spatialP > 0 && r.spatialP <= 1),
    );
    assert.equal(first.models[0].templates[0].shiftLinks, 1);
    assert.equal(
      first.models[0].templates[0].bothLinks,
      matches.filter((m) => m.linked && (m as { spatialLinked?: boolean }).spatialLinked).length,
    );
    const again = await addSpatialNull([result], templates, mask, {
      surrogates: 20,
      cacheDir: dir,
      log: (l) => lines.push(l),
    });
    assert.deepEqual(again, first);
    assert.match(lines[1], /read from the cache/);
    assert.deepEqual(spatialNullRows(matches), rows);
  } finally {
    await rm(dir, { recursive: true });
  }
});

Deno.test("fewer than 2 surrogates is an InputError naming the option", () => {
  assert.throws(
    () => spatialNullCells(maps(1), lattice, [networks], { surrogates: 1, threshold: 2 }),
    /voxels\.spatialNull/,
  );
});
