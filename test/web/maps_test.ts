import assert from "node:assert/strict";
import { join } from "node:path";
import { encodeNifti1 } from "@brainorg/neuro";
import { checkMap, FULL_CHECK_BYTES } from "../../apps/web/maps.ts";
import { loadRun } from "../../apps/web/runs.ts";

Deno.test("checkMap: a map too large to decode per check is checked by header and size", async () => {
  const dir = await Deno.makeTempDir({ prefix: "brainorg-web-maps-" });
  try {
    const shape = [64, 64, 64, 17]; // 17.8 MB of float32, above FULL_CHECK_BYTES
    const bytes = encodeNifti1(
      {
        shape,
        affine: Float64Array.of(2, 0, 0, -64, 0, 2, 0, -64, 0, 0, 2, -64, 0, 0, 0, 1),
        data: new Float32Array(64 ** 3 * 17).fill(1),
      },
      { gzip: false },
    );
    assert.ok(bytes.length > FULL_CHECK_BYTES);
    await Deno.mkdir(join(dir, "voxels"));
    await Deno.writeFile(join(dir, "voxels", "big.nii"), bytes);
    await Deno.writeFile(join(dir, "voxels", "cut.nii"), bytes.slice(0, FULL_CHECK_BYTES + 1000));
    const run = await loadRun(dir, "maps");
    const t0 = performance.now();
    const big = await checkMap(run, "voxels/big.nii");
    assert.deepEqual(big, { ok: true, path: "voxels/big.nii", shape, volumes: 17 });
    assert.ok(performance.now() - t0 < 5000);
    const cut = await checkMap(run, "voxels/cut.nii");
    assert.equal(cut.ok, false);
    if (!cut.ok) {
      assert.equal(cut.problem.field, 'field "dim"');
      assert.match(cut.problem.message ?? "", /truncated/);
    }
    const none = await checkMap(run, "voxels/none.nii");
    assert.ok(!none.ok && /is missing/.test(none.problem.message ?? ""));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
