import assert from "node:assert/strict";
import { InputError } from "@brainorg/common";
import { dataPath } from "../../test/data.ts";
import { readNifti } from "./nifti_read.ts";
import { applyMask, maskFromImage, unmask } from "./masker.ts";
import { resampleToGrid } from "./resample.ts";
import { continuousNetworks, labelNetworks, parseLabelNames } from "./atlas.ts";
import { applyAffine, identityAffine } from "./affine.ts";
import { gridOf, type NiftiImage } from "./nifti_image.ts";

function image(shape: number[], affine: Float64Array, f: (i: number) => number): NiftiImage {
  const n = shape.reduce((a, b) => a * b, 1);
  return {
    shape,
    affine,
    data: Float32Array.from({ length: n }, (_, i) => f(i)),
    description: "",
    affineSource: "sform",
    version: 1,
    datatype: "float32",
  };
}

Deno.test("applyMask gives (T, V) and unmask puts values back", () => {
  const aff = identityAffine();
  const maskImg = image([3, 2, 2], aff, (i) => (i % 3 === 1 ? 1 : 0));
  const mask = maskFromImage(maskImg, "m.nii.gz");
  assert.deepEqual([...mask.indices], [1, 4, 7, 10]);
  const bold = image([3, 2, 2, 2], aff, (i) => i);
  const y = applyMask(bold, mask, "bold.nii.gz");
  assert.deepEqual([...y], [1, 4, 7, 10, 13, 16, 19, 22]);
  const back = unmask(y, mask);
  assert.deepEqual(back.shape, [3, 2, 2, 2]);
  assert.equal(back.data[13], 13);
  assert.equal(back.data[12], 0);
  assert.throws(() => unmask(new Float32Array(5), mask), /multiple of the mask's 4 voxels/);
});

Deno.test("a mask off the image grid is rejected with both grids named", () => {
  const mask = maskFromImage(image([3, 2, 2], identityAffine(), () => 1), "mask.nii.gz");
  assert.throws(
    () => applyMask(image([4, 2, 2, 1], identityAffine(), () => 0), mask, "bold.nii.gz"),
    (e: unknown) =>
      e instanceof InputError &&
      /mask does not match the image grid \(mask: mask\.nii\.gz\) \(field: dim; expected: 3×2×2; found: 4×2×2; file: bold\.nii\.gz\)/
        .test(e.message),
  );
  const shifted = identityAffine();
  shifted[3] = 2;
  assert.throws(
    () => applyMask(image([3, 2, 2], shifted, () => 0), mask, "b.nii"),
    /field: affine/,
  );
});

Deno.test("trilinear resampling reproduces a linear function of world position exactly", () => {
  const src = Float64Array.from([2, 0, 0, -10, 0, 2, 0, -8, 0, 0, 2, -6, 0, 0, 0, 1]);
  const f = (x: number, y: number, z: number) => 0.5 * x - 0.25 * y + 2 * z + 3;
  const img = image([12, 10, 8], src, (i) => {
    const [x, y, z] = applyAffine(src, i % 12, Math.floor(i / 12) % 10, Math.floor(i / 120));
    return f(x, y, z);
  });
  const tgt = Float64Array.from([3, 0.2, 0, -7.5, 0, 2.5, 0.1, -5, 0, 0, 3, -4, 0, 0, 0, 1]);
  const out = resampleToGrid(img, { shape: [5, 4, 3], affine: tgt }, {
    interpolation: "linear",
    fill: NaN,
  });
  let checked = 0;
  for (let k = 0; k < 3; k++) {
    for (let j = 0; j < 4; j++) {
      for (let i = 0; i < 5; i++) {
        const v = out.data[i + 5 * (j + 4 * k)];
        if (Number.isNaN(v)) continue;
        const [x, y, z] = applyAffine(tgt, i, j, k);
        assert.ok(Math.abs(v - f(x, y, z)) < 1e-4, `(${i},${j},${k}): ${v} vs ${f(x, y, z)}`);
        checked++;
      }
    }
  }
  assert.ok(checked >= 30);
});

Deno.test("Yeo-7 at 2 mm brought onto the 4 mm grid agrees with the published 4 mm atlas", async () => {
  const yeo2 = await readNifti(await dataPath("atlases/Yeo-7_space-MNI152NLin6_res-2x2x2.nii.gz"));
  const yeo4 = await readNifti(await dataPath("atlases/Yeo-7_space-MNI152NLin6_res-4x4x4.nii.gz"));
  const out = resampleToGrid(yeo2, gridOf(yeo4));
  let both = 0, same = 0;
  for (let i = 0; i < out.data.length; i++) {
    if (out.data[i] !== 0 || yeo4.data[i] !== 0) {
      both++;
      if (out.data[i] === yeo4.data[i]) same++;
    }
  }
  assert.ok(same / both > 0.8, `agreement ${(same / both).toFixed(3)}`);
});

Deno.test("grids in different spaces are refused", () => {
  const img = image([4, 4, 4], identityAffine(), () => 1);
  const far = identityAffine();
  far[3] = 500;
  assert.throws(
    () => resampleToGrid(img, { shape: [4, 4, 4], affine: far }, { sourceName: "atlas.nii.gz" }),
    /do not cover the same space .*found: 0\.0%; file: atlas\.nii\.gz/,
  );
});

Deno.test("Yeo-7 networks and Giles maps on the real 4 mm brain mask", async () => {
  const mask = maskFromImage(
    await readNifti(await dataPath("atlases/MNI152NLin6_res-4x4x4_T1w_descr-brainmask.nii.gz")),
    "brainmask",
  );
  const names = parseLabelNames(
    await Deno.readTextFile(await dataPath("atlases/Yeo-7.csv")),
    "Yeo-7.csv",
  );
  assert.equal(names.get(7), "7_Default_Network_Area");
  const yeo = await readNifti(await dataPath("atlases/Yeo-7_space-MNI152NLin6_res-2x2x2.nii.gz"));
  const nets = labelNetworks(yeo, mask, names, "Yeo-7");
  assert.deepEqual(nets.map((n) => n.index), [1, 2, 3, 4, 5, 6, 7]);
  for (const n of nets) {
    const size = n.values.reduce((s, v) => s + v, 0);
    assert.ok(size > 200, `${n.name}: ${size} voxels`);
  }
  const giles = await readNifti(
    await dataPath("atlases/atlas-Giles_nparc-39_space-MNI_res-8x8x8.nii.gz"),
  );
  const maps = continuousNetworks(giles, mask, [], "Giles");
  assert.equal(maps.length, 39);
  assert.ok(maps.every((m) => m.values.some((v) => v > 0)));
  assert.throws(() => labelNetworks(giles, mask), /a label atlas must be 3-D/);
});
