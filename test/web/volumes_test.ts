import assert from "node:assert/strict";
import { join } from "node:path";
import { decodeNifti } from "@brainorg/neuro";
import { voxelFiles } from "@brainorg/core/results";
import { createHandler } from "../../apps/web/server.ts";
import { writeResultsFolder } from "./fixture.ts";

Deno.test({
  name: "dashboard: one volume of a 4-D map is served as a 3-D NIfTI with that volume's values",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "brainorg-web-volumes-" });
    try {
      const run = join(dir, "run"), K = 5, grid: [number, number, number] = [10, 12, 9];
      const { models } = await writeResultsFolder(run, {
        atoms: K,
        volumes: 40,
        words: 100,
        grid,
        subjects: 1,
      });
      const path = voxelFiles(models[0]).groupT;
      const whole = decodeNifti(await Deno.readFile(join(run, path)), path);
      assert.deepEqual(whole.shape, [...grid, K]);
      const { handler } = await createHandler([run]);
      const get = (url: string) => handler(new Request(`http://127.0.0.1${url}`));
      const n = grid[0] * grid[1] * grid[2];
      for (const k of [0, 3, K - 1]) {
        const res = await get(`/runs/run/files/${path}?volume=${k}`);
        assert.equal(res.status, 200);
        const one = decodeNifti(new Uint8Array(await res.arrayBuffer()), `volume ${k}`);
        assert.deepEqual(one.shape, grid);
        assert.deepEqual(one.affine, whole.affine);
        assert.deepEqual(one.data, whole.data.subarray(k * n, (k + 1) * n));
      }
      // The atom page hands its viewer the atom's volume.
      const atom = await (await get(`/runs/run/atoms/${models[0]}/3`)).text();
      assert.ok(atom.includes(`group_t.nii.gz?volume=3`), "the atom page's map is one volume");

      // No such volume, not a number, a map cut short: a 422 that says so.
      const none = await get(`/runs/run/files/${path}?volume=${K}`);
      assert.equal(none.status, 422);
      assert.match(await none.text(), /has no volume 5 \(it has 5\)/);
      assert.equal((await get(`/runs/run/files/${path}?volume=x`)).status, 422);
      const bytes = await Deno.readFile(join(run, path));
      await Deno.writeFile(join(run, path), bytes.slice(0, bytes.length >> 1));
      const cut = await get(`/runs/run/files/${path}?volume=${K - 1}`);
      assert.equal(cut.status, 422);
      assert.match(await cut.text(), /truncated|corrupt/);
      assert.equal((await get(`/runs/run/files/voxels/none.nii.gz?volume=0`)).status, 404);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
