import assert from "node:assert/strict";
import { join } from "node:path";
import { InputError } from "@brainorg/common";
import { identityAffine } from "./affine.ts";
import { applyMask, maskFromImage } from "./masker.ts";
import { readMaskedSeries } from "./nifti_masked.ts";
import { readNifti } from "./nifti_read.ts";
import { encodeNifti1 } from "./nifti_write.ts";

/** A 4-D image of pseudo-random values (integers where int16 is wanted) and a mask of ~1/3 of it. */
function fixture(shape: [number, number, number, number], integers: boolean) {
  const n = shape.reduce((a, b) => a * b, 1);
  let a = 12345;
  const data = Float32Array.from({ length: n }, () => {
    a = (a * 1664525 + 1013904223) >>> 0;
    const u = a / 2 ** 32;
    return integers ? Math.floor(u * 2000) - 1000 : u * 100 - 50;
  });
  const vox = shape[0] * shape[1] * shape[2];
  const maskImg = {
    shape: shape.slice(0, 3),
    affine: identityAffine(),
    data: Float32Array.from({ length: vox }, (_, i) => (i % 3 === 1 ? 1 : 0)),
    description: "",
    affineSource: "sform" as const,
    version: 1 as const,
    datatype: "uint8" as const,
  };
  return { img: { shape, affine: identityAffine(), data }, mask: maskFromImage(maskImg, "m") };
}

Deno.test("readMaskedSeries equals applyMask(readNifti) for .nii float32 and .nii.gz int16, scaled", async () => {
  const dir = await Deno.makeTempDir();
  try {
    // Large enough for the inflated stream to arrive in many chunks, volumes split across them.
    const cases = [
      { name: "f.nii", shape: [7, 5, 3, 6] as [number, number, number, number], int: false },
      { name: "i.nii.gz", shape: [61, 47, 33, 9] as [number, number, number, number], int: true },
      { name: "s.nii", shape: [9, 8, 7, 4] as [number, number, number, number], int: true },
    ];
    for (const c of cases) {
      const { img, mask } = fixture(c.shape, c.int);
      const bytes = encodeNifti1(img, {
        datatype: c.int ? "int16" : "float32",
        gzip: c.name.endsWith(".gz"),
      });
      if (c.name === "s.nii") {
        // scl_slope 0.5, scl_inter 3: both readers must apply them.
        const view = new DataView(bytes.buffer, bytes.byteOffset);
        view.setFloat32(112, 0.5, true);
        view.setFloat32(116, 3, true);
      }
      const path = join(dir, c.name);
      await Deno.writeFile(path, bytes);
      const whole = await readNifti(path);
      const expected = applyMask(whole, mask, path);
      const got = await readMaskedSeries(path, mask);
      assert.equal(got.volumes, c.shape[3], c.name);
      assert.equal(got.data.length, c.shape[3] * mask.indices.length, c.name);
      assert.deepEqual(got.data, expected, c.name);
      assert.deepEqual(got.first.shape.slice(0, 3), whole.shape.slice(0, 3));
      // Odd values × 0.5 + 3 are not integers: the scaling was applied.
      if (c.name === "s.nii") assert.ok(expected.some((v) => !Number.isInteger(v)), "scaled");
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("readMaskedSeries refuses a truncated file, a missing one and a mask off the grid", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const { img, mask } = fixture([6, 5, 4, 5], false);
    const bytes = encodeNifti1(img, { gzip: false });
    const cut = join(dir, "cut.nii");
    await Deno.writeFile(cut, bytes.subarray(0, bytes.byteLength - 100));
    await assert.rejects(
      () => readMaskedSeries(cut, mask),
      (e) => e instanceof InputError && /cut\.nii/.test(e.message) && /dim/.test(e.message),
    );
    await assert.rejects(
      () => readMaskedSeries(join(dir, "absent.nii"), mask),
      (e) => e instanceof InputError && /not found/.test(e.message),
    );
    const other = fixture([5, 5, 4, 5], false);
    const path = join(dir, "other.nii");
    await Deno.writeFile(path, encodeNifti1(other.img, { gzip: false }));
    await assert.rejects(() => readMaskedSeries(path, mask), /grid/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
