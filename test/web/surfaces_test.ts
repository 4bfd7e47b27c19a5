import assert from "node:assert/strict";
import { join } from "node:path";
import { decodeMz3 } from "@brainorg/neuro";
import { registryEntry } from "@brainorg/datasets";
import { sha256 } from "@brainorg/common";
import { createHandler } from "../../apps/web/server.ts";
import { fileCache } from "../../apps/web/file_cache.ts";
import { writeResultsFolder } from "./fixture.ts";

const MESH = join(import.meta.dirname!, "..", "..", "..", "shared", "data", "meshes");
const haveMeshes = (() => {
  try {
    return Deno.statSync(join(MESH, "BrainMesh_ICBM152.lh.mz3")).isFile;
  } catch {
    return false;
  }
})();

interface SurfaceJson {
  hemisphere: string;
  vertices: number;
  interpolation: string;
  values: (number | null)[];
  labels: number[];
  border: number[];
}

Deno.test({
  name: "surface routes: meshes, an atom's values per vertex and network borders, cached per file",
  ignore: !haveMeshes,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "brainorg-surfaces-" });
    try {
      await writeResultsFolder(join(dir, "run"), { atoms: 8 });
      const { handler } = await createHandler([join(dir, "run")]);
      const get = (path: string) => handler(new Request(`http://x${path}`));

      // The mesh is the registered file, byte for byte.
      const mesh = new Uint8Array(await (await get("/surfaces/lh.mz3")).arrayBuffer());
      assert.equal(
        sha256(mesh),
        registryEntry("meshes/BrainMesh_ICBM152.lh.mz3").sha256,
      );
      assert.equal((await get("/surfaces/xh.mz3")).status, 404);
      assert.equal((await get("/surfaces/lh.curv")).status, 404);

      const base = "/runs/run/surfaces/stories260K";
      const json = async (atom: number, hemi: string) => {
        const r = await get(`${base}/${atom}/${hemi}.json`);
        assert.equal(r.status, 200, await r.clone().text());
        return await r.json() as SurfaceJson;
      };
      const loads = fileCache.loads;
      const a0 = await json(0, "lh");
      assert.equal(a0.vertices, 40_962);
      assert.equal(a0.values.length, 40_962);
      assert.equal(a0.interpolation, "linear");
      // The fixture's brain (an ellipsoid) holds nearly the whole cortex.
      const have = a0.values.filter((v) => v !== null).length;
      assert.ok(have > 0.95 * 40_962, `${have} vertices with a value`);
      // Atom a is planted in network 1 + a % 7 (value 4 there, noise ±2 elsewhere):
      // its vertices there read high, the others near 0.
      const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
      // (Atom 0's network 1 is the fixture's occipital slab, behind most of the cortex.)
      for (const [atom, hemi] of [[2, "lh"], [4, "rh"]] as const) {
        const d = await json(atom, hemi);
        const net = 1 + (atom % 7);
        const inside = d.values.filter((v, i) => v !== null && d.labels[i] === net) as number[];
        const outside = d.values.filter((v, i) =>
          v !== null && d.labels[i] !== net && d.labels[i] > 0
        ) as number[];
        assert.ok(
          inside.length > 500 && outside.length > 5000,
          `${inside.length} ${outside.length}`,
        );
        assert.ok(
          mean(inside) > 3 && Math.abs(mean(outside)) < 0.5,
          `${mean(inside)} ${mean(outside)}`,
        );
      }
      // Borders: vertices whose neighbours carry another label; the MZ3 layer marks the same ones.
      assert.ok(a0.border.length > 1000 && a0.border.length < 20_000, `${a0.border.length}`);
      const layer = decodeMz3(
        new Uint8Array(await (await get(`${base}/0/lh.borders.mz3`)).arrayBuffer()),
      );
      const marked = layer.scalars![0].reduce((s, v) => s + v, 0);
      assert.equal(marked, a0.border.length);
      assert.equal(layer.scalars![0][a0.border[0]], 1);
      // The values layer is the JSON's values (NaN → 0), float32.
      const values = decodeMz3(
        new Uint8Array(await (await get(`${base}/0/lh.values.mz3`)).arrayBuffer()),
      );
      const k = a0.values.findIndex((v) => v !== null && Math.abs(v) > 1);
      assert.ok(Math.abs(values.scalars![0][k] - a0.values[k]!) < 1e-4 * Math.abs(a0.values[k]!));
      // Asked again: served from the cache (no new loads).
      const before = fileCache.loads;
      assert.ok(before > loads);
      await json(0, "lh");
      await get(`${base}/0/lh.borders.mz3`);
      assert.equal(fileCache.loads, before);

      // Bad requests.
      assert.equal((await get(`${base}/0/lh.txt`)).status, 404);
      assert.equal((await get(`${base}/x/lh.json`)).status, 404);
      assert.equal((await get("/runs/run/surfaces/nope/0/lh.json")).status, 404);
      assert.equal((await get("/runs/run/surfaces/..%2F..%2Fsecret/0/lh.json")).status, 404);
      const missing = await get(`${base}/99/lh.json`);
      assert.equal(missing.status, 422);
      assert.match(await missing.text(), /no volume 99/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
