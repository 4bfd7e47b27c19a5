import assert from "node:assert/strict";
import { havePython, runPython } from "../../test/python.ts";
import { smoothVolumes, voxelSizes } from "./smooth.ts";

Deno.test({
  name: "smoothVolumes matches scipy.ndimage.gaussian_filter (zero padding)",
  ignore: !havePython(["scipy"], "Gaussian smoothing reference"),
}, async () => {
  const shape = [7, 9, 5] as const, n = 7 * 9 * 5;
  const data = Float32Array.from(
    { length: 2 * n },
    (_, i) => Math.sin(i * 1.7) + (i % 11 === 0 ? 5 : 0),
  );
  const sigmas = [1, 1.5, 0.8];
  const fwhm = sigmas.map((s) => s * Math.sqrt(8 * Math.log(2))) as [number, number, number];
  const ref = await runPython<number[]>(
    `import json,sys,numpy as np\nfrom scipy.ndimage import gaussian_filter\n` +
      `d=np.array(json.loads(sys.argv[1])).reshape(2,5,9,7)\n` +
      `o=[gaussian_filter(v,sigma=[0.8,1.5,1.0],mode='constant',truncate=3.0) for v in d]\n` +
      `print(json.dumps(np.array(o).ravel().tolist()))`,
    [JSON.stringify(Array.from(data))],
    ["scipy"],
  );
  const mine = data.slice();
  smoothVolumes(mine, shape, fwhm, 2);
  let worst = 0;
  ref.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - mine[i]))));
  assert.ok(worst < 1e-5, `max difference ${worst}`);
  assert.throws(() => smoothVolumes(new Float32Array(3), shape, fwhm), /3 values for 1 volumes/);
});

Deno.test("voxelSizes reads the affine's column lengths", () => {
  assert.deepEqual(
    voxelSizes(Float64Array.of(-4, 0, 0, 90, 0, 4, 0, -126, 0, 0, 2, -72, 0, 0, 0, 1)),
    [4, 4, 2],
  );
});
