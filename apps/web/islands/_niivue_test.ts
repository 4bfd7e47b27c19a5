import assert from "node:assert/strict";
import type { NVImage } from "@niivue/niivue";
import { YEO7_NAMES } from "@brainorg/core/results";
import { havePython, runPython } from "../../../test/python.ts";
import { labelColormap, robustPeak, valueAtMM } from "./_niivue.ts";

/** The parts of an NVImage the helpers read: stored values, scaling, grid, mm → voxel. */
function image(img: ArrayLike<number>, opts: { slope?: number; inter?: number; dims?: number[] }) {
  const dims = opts.dims ?? [3, img.length, 1, 1];
  return {
    img,
    frame4D: 0,
    hdr: { scl_slope: opts.slope ?? 1, scl_inter: opts.inter ?? 0, dims },
    // 2 mm voxels, voxel (0,0,0) at (-10, 0, 0) mm.
    mm2vox: (mm: number[]) => [Math.round((mm[0] + 10) / 2), Math.round(mm[1] / 2), mm[2]],
    getValue: (x: number, y: number, z: number) => img[x + dims[1] * (y + dims[2] * z)],
  } as unknown as NVImage;
}

Deno.test({
  name: "viewer: the robust peak is numpy's 99.5th percentile (method 'lower') of |scaled value|",
  ignore: !havePython(["numpy"], "robust peak reference"),
  async fn() {
    // Signed, with zeros, NaN and one huge voxel (a near-zero SD across subjects).
    let s = 12345;
    const rand = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const raw = Float32Array.from(
      { length: 5000 },
      (_, i) => i % 7 === 0 ? 0 : i === 10 ? 1e6 : i === 11 ? NaN : (rand() - 0.5) * 20,
    );
    const ours = robustPeak(image(raw, { slope: 0.5, inter: 0 }));
    const ref = await runPython<number>(
      `import json,sys,numpy as np
x=np.array(json.loads(sys.argv[1]),dtype=np.float64)*0.5
a=np.abs(x[np.isfinite(x)]); a=a[a>0]
print(json.dumps(float(np.percentile(a,99.5,method='lower'))))`,
      [JSON.stringify(Array.from(raw, (v) => (Number.isNaN(v) ? null : v)))],
    );
    assert.ok(Math.abs(ours - ref) <= 1e-6 * Math.abs(ref), `ours ${ours}, numpy ${ref}`);
    assert.ok(ours < 20, "one huge voxel set the scale");
  },
});

Deno.test("viewer: the robust peak by selection is the sorted magnitudes' element", () => {
  // Sizes, ties, runs (sorted, reversed, constant) where a selection's pivots go wrong.
  let s = 99;
  const rand = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const cases = [
    Float32Array.from({ length: 1 }, () => 3),
    Float32Array.from({ length: 2 }, (_, i) => 2 - i),
    Float32Array.from({ length: 1000 }, (_, i) => i),
    Float32Array.from({ length: 1000 }, (_, i) => -i),
    Float32Array.from({ length: 999 }, () => 7),
    Float32Array.from({ length: 20_000 }, () => Math.round(rand() * 10) - 5),
    Float32Array.from({ length: 50_001 }, () => (rand() - 0.5) * 100),
  ];
  for (const raw of cases) {
    const mags = Float32Array.from(raw, Math.abs).filter((a) => a > 0).sort();
    const want = mags.length ? mags[Math.floor((mags.length - 1) * 0.995)] : 1;
    assert.equal(robustPeak(image(raw, {})), want, `n = ${raw.length}`);
  }
});

Deno.test("viewer: an empty map's peak is 1; scaling is applied", () => {
  assert.equal(robustPeak(image(new Float32Array(10), {})), 1);
  // Stored 0…199, scaled 2v + 1 → 1…399; the 199th of 200 sorted magnitudes (index 198).
  const ramp = Float32Array.from({ length: 200 }, (_, i) => i);
  assert.equal(robustPeak(image(ramp, { slope: 2, inter: 1 })), 397);
});

Deno.test("viewer: values outside the grid are NaN, inside are the voxel's", () => {
  const vol = image(Float32Array.of(5, 6, 7), { dims: [3, 3, 1, 1] });
  assert.equal(valueAtMM(vol, [-10, 0, 0]), 5);
  assert.equal(valueAtMM(vol, [-6, 0, 0]), 7);
  assert.ok(Number.isNaN(valueAtMM(vol, [-4, 0, 0])));
  assert.ok(Number.isNaN(valueAtMM(vol, [-12, 0, 0])));
  assert.ok(Number.isNaN(valueAtMM(vol, [-10, 0, 1])));
});

Deno.test("viewer: the label table has Yeo-7's colours and names, transparent inside", () => {
  const names = Object.fromEntries(YEO7_NAMES.map((n, i) => [String(i + 1), n]));
  const cm = labelColormap({ ...names, "9": "Extra" });
  assert.deepEqual(cm.I, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.deepEqual(cm.labels, ["", ...YEO7_NAMES, "label 8", "Extra"]);
  // Yeo2011_7Networks_ColorLUT: Visual (120, 18, 134), Default (205, 62, 78).
  assert.deepEqual([cm.R[1], cm.G[1], cm.B[1]], [120, 18, 134]);
  assert.deepEqual([cm.R[7], cm.G[7], cm.B[7]], [205, 62, 78]);
  assert.ok(cm.A.every((a) => a === 0));
});
