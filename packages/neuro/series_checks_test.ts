import assert from "node:assert/strict";
import { join } from "node:path";
import { rng } from "@brainorg/kernels";
import { havePython, runPython } from "../../test/python.ts";
import { formatRanges, isConstantRange, screenVoxelSeries } from "./series_checks.ts";
import { loadScreenedSubjects } from "./voxel_subjects.ts";
import { maskFromImage } from "./masker.ts";
import { writeNifti } from "./nifti_write.ts";
import { identityAffine } from "./affine.ts";

const HAVE_NUMPY = havePython(["numpy"], "voxel screening against numpy");

/** (T × V) noise with planted faults: NaN and Inf voxels, constant voxels, lost volumes. */
function faulty(seed: number, T: number, V: number) {
  const r = rng(seed), data = new Float32Array(T * V);
  for (let i = 0; i < data.length; i++) data[i] = 1000 + 10 * (r() - 0.5);
  const nan = [3, 17], inf = [40], constant = [5, 60], big = [70];
  for (const v of nan) data[(Math.floor(r() * T)) * V + v] = NaN;
  for (const v of inf) data[(T - 1) * V + v] = -Infinity;
  for (const v of constant) for (let t = 0; t < T; t++) data[t * V + v] = 1234.5;
  // A large level with float noise far below 1e-9 of it: constant by the shared rule.
  for (const v of big) for (let t = 0; t < T; t++) data[t * V + v] = 3e7;
  return { data, nan, inf, constant: [...constant, ...big] };
}

Deno.test({
  name: "voxel screening flags the same voxels as an independent numpy check",
  ignore: !HAVE_NUMPY,
}, async () => {
  const T = 40, V = 100;
  const { data } = faulty(3, T, V);
  const ours = screenVoxelSeries(data, T, { maxBadVoxelShare: 0.1 });
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeFile(join(dir, "y.f32"), new Uint8Array(data.buffer));
    const ref = await runPython<{ problem: number[]; lost: number[] }>(
      `
import json, sys, numpy as np
y = np.fromfile(sys.argv[1], dtype="<f4").reshape(${T}, ${V}).astype(np.float64)
bad = ~np.isfinite(y)
finite = np.where(bad, np.nan, y)
lo, hi = np.nanmin(finite, axis=0), np.nanmax(finite, axis=0)
level = np.maximum(1, np.maximum(np.abs(lo), np.abs(hi)))
problem = np.where(bad.any(axis=0), 1, np.where(hi - lo <= 1e-9 * level, 2, 0))
lost = np.nonzero(bad.sum(axis=1) > 0.5 * ${V})[0]
print(json.dumps({"problem": problem.tolist(), "lost": lost.tolist()}))
`,
      [join(dir, "y.f32")],
    );
    assert.deepEqual([...ours.problem], ref.problem);
    assert.deepEqual(ours.lostVolumes, ref.lost);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  assert.equal(ours.nonFinite, 3);
  assert.equal(ours.constant, 3);
  assert.ok(ours.usable, "6 of 100 bad voxels is under the 10% a subject may lose");
  assert.match(
    ours.reason,
    /6 of 100 voxels \(6\.0%\) unusable \(3 non-finite \(NaN\/Inf\) and 3 constant\): dropped for every subject/,
  );
});

Deno.test("the policy: a few bad voxels cost the voxels, a lost volume or many bad voxels the subject", () => {
  const T = 20, V = 50;
  const clean = () => {
    const r = rng(1);
    return Float32Array.from({ length: T * V }, () => r());
  };
  const fine = screenVoxelSeries(clean(), T);
  assert.deepEqual([fine.usable, fine.reason, fine.nonFinite, fine.constant], [true, "", 0, 0]);

  const lost = clean();
  lost.fill(NaN, 7 * V, 10 * V); // volumes 7–9 of the kept rows
  const l = screenVoxelSeries(lost, T, { firstVolume: 10 });
  assert.equal(l.usable, false);
  assert.deepEqual(l.lostVolumes, [17, 18, 19]);
  assert.match(l.reason, /^volumes 17–19 non-finite in more than 50% of the mask's voxels/);

  // Half the mask NaN in one volume is not yet lost; one voxel more is.
  const half = clean();
  half.fill(NaN, 3 * V, 3 * V + V / 2);
  assert.deepEqual(screenVoxelSeries(half, T, { maxBadVoxelShare: 1 }).lostVolumes, []);
  half[3 * V + V / 2] = NaN;
  assert.deepEqual(screenVoxelSeries(half, T, { maxBadVoxelShare: 1 }).lostVolumes, [3]);

  const many = clean();
  for (let v = 0; v < 6; v++) for (let t = 0; t < T; t++) many[t * V + v] = 0; // 12% constant
  const m = screenVoxelSeries(many, T);
  assert.equal(m.usable, false);
  assert.match(m.reason, /6 of the mask's 50 voxels \(12\.0%\) are unusable \(6 constant\)/);
  assert.equal(screenVoxelSeries(many, T, { maxBadVoxelShare: 0.2 }).usable, true);

  const dead = new Float32Array(T * V).fill(7);
  assert.match(screenVoxelSeries(dead, T).reason, /every one of the mask's 50 voxels is unusable/);
  assert.throws(() => screenVoxelSeries(new Float32Array(7), 2), RangeError);
});

Deno.test("the constant rule and volume ranges", () => {
  assert.ok(isConstantRange(5, 5));
  assert.ok(isConstantRange(1e6, 1e6 + 1e-4));
  assert.ok(!isConstantRange(1e6, 1e6 + 1e-2));
  assert.ok(!isConstantRange(0, 1e-8));
  assert.equal(formatRanges([1, 2, 3, 5, 7, 8]), "1–3, 5, 7–8");
  assert.equal(formatRanges([]), "");
});

Deno.test("subjects on a mask: wrong length and lost volumes exclude, bad voxels are dropped for everyone", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const shape = [4, 3, 2], N = 24, T = 12, drop = 2;
    const affine = identityAffine();
    const maskData = new Float32Array(N).fill(1);
    maskData[0] = 0;
    maskData[1] = NaN; // outside: not a verdict of "brain"
    const mask = maskFromImage({
      shape,
      affine,
      data: maskData,
      description: "",
      affineSource: "sform",
      version: 1,
      datatype: "float32",
    });
    assert.equal(mask.indices.length, 22);
    const series = (seed: number, volumes: number) => {
      const r = rng(seed);
      return Float32Array.from({ length: N * volumes }, () => r());
    };
    const subjects: { id: string; path: string }[] = [];
    const write = async (id: string, data: Float32Array, volumes: number) => {
      const path = join(dir, `${id}.nii`);
      await writeNifti(path, { shape: [...shape, volumes], affine, data });
      subjects.push({ id, path });
    };
    await write("a", series(1, T + drop), T + drop);
    const b = series(2, T + drop);
    b[(drop + 4) * N + 5] = NaN; // voxel 5: one NaN in a kept volume
    b[0 * N + 6] = NaN; // voxel 6: NaN only in a discarded volume, so fine
    await write("b", b, T + drop);
    const c = series(3, T + drop);
    for (let t = 0; t < T + drop; t++) c[t * N + 9] = 42; // voxel 9 constant
    await write("c", c, T + drop);
    const d = series(4, T + drop);
    d.fill(Infinity, (drop + 3) * N, (drop + 4) * N); // a lost volume
    await write("d", d, T + drop);
    await write("e", series(5, T), T); // too short
    const s = await loadScreenedSubjects(mask, subjects, { volumes: T, discarded: drop });
    assert.deepEqual(s.verdicts.map((v) => [v.id, v.usable]), [
      ["a", true],
      ["b", true],
      ["c", true],
      ["d", false],
      ["e", false],
    ]);
    assert.match(s.verdicts[3].reason, /^volume 5 non-finite/);
    assert.match(
      s.verdicts[4].reason,
      /12 volumes, but the stimulus needs 14 \(12 after dropping 2\)/,
    );
    assert.deepEqual(
      s.dropped.map((x) => [x.index, x.ijk, x.problem, x.subjects]),
      [[5, [1, 1, 0], "non-finite", ["b"]], [9, [1, 2, 0], "constant", ["c"]]],
    );
    assert.equal(s.mask.indices.length, 20);
    assert.ok(!s.mask.indices.includes(5) && !s.mask.indices.includes(9));
    assert.deepEqual(s.series.map((x) => x.id), ["a", "b", "c"]);
    // The kept columns are the right voxels' values, in order.
    const a = series(1, T + drop), got = s.series[0].data;
    assert.equal(got.length, T * 20);
    s.mask.indices.forEach((vox, j) => {
      for (const t of [0, T - 1]) assert.equal(got[t * 20 + j], a[(t + drop) * N + vox]);
    });
    assert.ok(s.series.every((x) => x.data.every(Number.isFinite)));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
