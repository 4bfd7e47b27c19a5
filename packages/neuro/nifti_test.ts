import assert from "node:assert/strict";
import { join } from "node:path";
import { gzipSync } from "fflate";
import { InputError } from "@brainorg/common";
import { havePython, runPython } from "../../test/python.ts";
import { dataPath } from "../../test/data.ts";
import { decodeNifti, readNifti } from "./nifti_read.ts";
import { encodeNifti1, writeNifti } from "./nifti_write.ts";
import { affineDistance } from "./affine.ts";

const HAVE_NIBABEL = havePython(["numpy", "nibabel"], "NIfTI parity with nibabel");

// nibabel writes one file per case: every datatype, scaling, NIfTI-1 and -2,
// qform-only and sform-only, 3-D and 4-D, big- and little-endian.
const MAKE_FIXTURES = `
import json, sys, numpy as np, nibabel as nib
out = sys.argv[1]
rng = np.random.default_rng(0)
cases = []
def aff(theta=0.3):
    c, s = np.cos(theta), np.sin(theta)
    A = np.array([[-2*c, -2*s, 0, 90], [2*s, -2*c, 0, -126], [0, 0, 2.5, -72], [0, 0, 0, 1.0]])
    return A
for i, (dt, ver, shape, xform, scl, endian) in enumerate([
    ("uint8", 1, (5, 4, 3), "both", None, "<"),
    ("int8", 1, (5, 4, 3), "sform", None, "<"),
    ("int16", 1, (5, 4, 3, 2), "qform", (0.5, 10.0), "<"),
    ("uint16", 1, (3, 3, 3), "both", None, ">"),
    ("int32", 2, (4, 3, 2), "both", None, "<"),
    ("uint32", 1, (4, 3, 2), "sform", None, "<"),
    ("int64", 1, (4, 3, 2), "both", None, "<"),
    ("float32", 2, (6, 5, 4, 3), "qform", None, "<"),
    ("float64", 1, (4, 4, 4), "both", (2.0, -1.0), ">"),
    ("float32", 1, (4, 4, 4), "none", None, "<"),
]):
    if dt.startswith("float"):
        data = rng.normal(size=shape).astype(dt)
    else:
        info = np.iinfo(dt)
        data = rng.integers(max(info.min, -1000), min(info.max, 1000), size=shape).astype(dt)
    A = aff(0.1 * i)
    klass = nib.Nifti1Image if ver == 1 else nib.Nifti2Image
    hdr = klass.header_class()
    hdr.set_data_dtype(dt)
    if endian == ">":
        hdr = hdr.as_byteswapped(">")
    img = klass(data, None, hdr)
    if xform in ("both", "sform"):
        img.set_sform(A, code=4)
    if xform in ("both", "qform"):
        img.set_qform(A, code=1)
    if xform == "sform":
        img.set_qform(None, code=0)
    if xform == "qform":
        img.set_sform(None, code=0)
    if xform == "none":
        img.set_qform(None, code=0); img.set_sform(None, code=0)
        img.header.set_zooms((2.0, 3.0, 4.0))
    if len(shape) == 4:
        img.header.set_xyzt_units("mm", "msec")
        z = list(img.header.get_zooms()); z[3] = 1500.0; img.header.set_zooms(z)
    if scl:
        img.header.set_slope_inter(*scl)
    name = f"case{i}_{dt}_v{ver}.nii" + (".gz" if i % 2 == 0 else "")
    nib.save(img, f"{out}/{name}")
    back = nib.load(f"{out}/{name}")
    vals = np.asarray(back.get_fdata(), dtype=np.float64)
    cases.append({
        "file": name, "shape": list(back.shape), "affine": back.affine.flatten().tolist(),
        "data": vals.flatten(order="F").tolist(),
        "tr": float(back.header.get_zooms()[3]) / 1000 if len(shape) == 4 else None,
    })
print(json.dumps(cases))
`;

Deno.test({
  name: "reads every datatype, NIfTI-1 and -2, qform/sform/none, scaling, as nibabel does",
  ignore: !HAVE_NIBABEL,
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      const cases = await runPython<
        { file: string; shape: number[]; affine: number[]; data: number[]; tr: number | null }[]
      >(MAKE_FIXTURES, [dir], ["nibabel"]);
      assert.equal(cases.length, 10);
      for (const c of cases) {
        const img = await readNifti(join(dir, c.file));
        assert.deepEqual(img.shape, c.shape, c.file);
        assert.ok(affineDistance(img.affine, Float64Array.from(c.affine)) < 1e-4, c.file);
        assert.equal(img.data.length, c.data.length);
        for (let i = 0; i < c.data.length; i++) {
          const tol = 1e-5 * Math.max(1, Math.abs(c.data[i]));
          if (Math.abs(img.data[i] - c.data[i]) > tol) {
            assert.fail(`${c.file}[${i}]: ${img.data[i]} vs nibabel ${c.data[i]}`);
          }
        }
        if (c.tr !== null) assert.ok(Math.abs(img.tr! - c.tr) < 1e-9, `${c.file} tr`);
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

const READ_BACK = `
import json, sys, numpy as np, nibabel as nib
img = nib.load(sys.argv[1])
h = img.header
print(json.dumps({
  "shape": list(img.shape), "affine": img.affine.flatten().tolist(),
  "qform": h.get_qform().flatten().tolist(), "qcode": int(h["qform_code"]), "scode": int(h["sform_code"]),
  "dtype": str(img.get_data_dtype()), "descrip": h["descrip"].tobytes().rstrip(b"\\0").decode(),
  "units": list(h.get_xyzt_units()), "zooms": [float(z) for z in h.get_zooms()],
  "data": np.asarray(img.dataobj).flatten(order="F").astype(float).tolist(),
  "intent": int(h["intent_code"]),
}))
`;

Deno.test({
  name: "files we write are read by nibabel with the same data, affine, units and description",
  ignore: !HAVE_NIBABEL,
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      // An oblique, flipped affine exercises the qform conversion.
      const th = 0.4, c = Math.cos(th), s = Math.sin(th);
      const affine = Float64Array.from([
        -3 * c,
        -3 * s,
        0,
        91,
        3 * s,
        -3 * c,
        0,
        -120.5,
        0,
        0,
        3.5,
        -70,
        0,
        0,
        0,
        1,
      ]);
      const shape = [4, 3, 2, 5];
      const data = Float32Array.from({ length: 120 }, (_, i) => Math.sin(i) * 100);
      await writeNifti(join(dir, "map.nii.gz"), { shape, affine, data, tr: 2 }, {
        description: "brainorg test map",
      });
      const back = await runPython<Record<string, unknown>>(READ_BACK, [join(dir, "map.nii.gz")], [
        "nibabel",
      ]);
      assert.deepEqual(back.shape, shape);
      assert.ok(affineDistance(Float64Array.from(back.affine as number[]), affine) < 1e-5);
      assert.ok(affineDistance(Float64Array.from(back.qform as number[]), affine) < 1e-4);
      assert.equal(back.qcode, 4);
      assert.equal(back.scode, 4);
      assert.equal(back.dtype, "float32");
      assert.equal(back.descrip, "brainorg test map");
      assert.deepEqual(back.units, ["mm", "sec"]);
      assert.deepEqual(back.zooms, [3, 3, 3.5, 2]);
      assert.deepEqual(back.data, [...data]);

      const labels = {
        shape: [3, 2, 2],
        affine,
        data: Float32Array.from([0, 1, 2, 7, 7, 3, 0, 0, 1, 2, 5, 4]),
      };
      await writeNifti(join(dir, "labels.nii.gz"), labels, {
        datatype: "int16",
        intent: { code: 1002, name: "label" },
      });
      const lb = await runPython<Record<string, unknown>>(READ_BACK, [join(dir, "labels.nii.gz")], [
        "nibabel",
      ]);
      assert.equal(lb.dtype, "int16");
      assert.equal(lb.intent, 1002);
      assert.deepEqual(lb.data, [...labels.data]);

      // int16 with a scale factor: nibabel applies scl_slope and gets the values to 1/32767.
      const wide = {
        shape: [3, 2, 2],
        affine,
        data: Float32Array.from({ length: 12 }, (_, i) => 100 + Math.sin(i) * 7.3),
      };
      await writeNifti(join(dir, "scaled.nii"), wide, { datatype: "int16", scale: true });
      const sc = await runPython<Record<string, number[]>>(READ_BACK, [join(dir, "scaled.nii")], [
        "nibabel",
      ]);
      const peak = Math.max(...wide.data.map(Math.abs));
      sc.data.forEach((v, i) =>
        assert.ok(Math.abs(v - wide.data[i]) <= peak / 32767, `${v} vs ${wide.data[i]}`)
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("round trip through our own writer and reader keeps data and affine", () => {
  const affine = Float64Array.from([-2, 0, 0, 90, 0, 2, 0, -126, 0, 0, 2, -72, 0, 0, 0, 1]);
  const data = Float32Array.from({ length: 24 }, (_, i) => i - 5.5);
  for (const gzip of [true, false]) {
    const img = decodeNifti(encodeNifti1({ shape: [2, 3, 4], affine, data }, { gzip }), "x.nii");
    assert.deepEqual([...img.data], [...data]);
    assert.deepEqual([...img.affine], [...affine]);
    assert.equal(img.affineSource, "sform");
  }
  assert.throws(
    () =>
      encodeNifti1({ shape: [2, 2, 1], affine, data: Float32Array.from([0, 1, 300, 2]) }, {
        datatype: "uint8",
      }),
    /value 300 at index 2 does not fit uint8/,
  );
});

Deno.test("real atlases: shapes, grids and label counts", async () => {
  const yeo4 = await readNifti(await dataPath("atlases/Yeo-7_space-MNI152NLin6_res-4x4x4.nii.gz"));
  assert.deepEqual(yeo4.shape, [45, 54, 45]);
  assert.deepEqual([...yeo4.affine], [-4, 0, 0, 88, 0, 4, 0, -124, 0, 0, 4, -70, 0, 0, 0, 1]);
  assert.deepEqual(new Set(yeo4.data), new Set([0, 1, 2, 3, 4, 5, 6, 7]));
  const mask2 = await readNifti(
    await dataPath("atlases/MNI152NLin6_res-2x2x2_T1w_descr-brainmask.nii.gz"),
  );
  assert.equal(mask2.datatype, "uint8");
  assert.equal(mask2.data.reduce((s, v) => s + (v ? 1 : 0), 0), 228483);
  const giles = await readNifti(
    await dataPath("atlases/atlas-Giles_nparc-39_space-MNI_res-8x8x8.nii.gz"),
  );
  assert.deepEqual(giles.shape, [23, 27, 23, 39]);
});

Deno.test("bad files: each error names the file, the field and what was expected", async () => {
  const affine = Float64Array.from([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]);
  const good = encodeNifti1({ shape: [4, 4, 4], affine, data: new Float32Array(64) }, {
    gzip: false,
  });
  const gz = gzipSync(good);

  const truncated = gz.slice(0, gz.length - 40);
  assert.throws(() => decodeNifti(truncated, "cut.nii.gz"), (e: unknown) => {
    assert.ok(e instanceof InputError);
    assert.equal(e.file, "cut.nii.gz");
    assert.match(e.message, /gzip|dimensions disagree/);
    return true;
  });

  const corrupt = gz.slice();
  corrupt[20] ^= 0xff;
  corrupt[21] ^= 0xff;
  assert.throws(() => decodeNifti(corrupt, "bad.nii.gz"), InputError);

  const badMagic = good.slice();
  badMagic.set([0x78, 0x78, 0x78, 0], 344);
  assert.throws(
    () => decodeNifti(badMagic, "m.nii"),
    /not a NIfTI file \(field: magic; expected: .*n\+1.*; found: "xxx\\\\0"; file: m\.nii\)/,
  );

  const short = good.slice(0, 352 + 100);
  assert.throws(
    () => decodeNifti(short, "short.nii"),
    /header dimensions disagree with the data size \(field: dim; expected: 608 bytes for 4×4×4 float32 voxels at offset 352; found: 452 bytes; file: short\.nii\)/,
  );

  await assert.rejects(readNifti("/nonexistent/x.nii.gz"), /file not found.*x\.nii\.gz/);
});
