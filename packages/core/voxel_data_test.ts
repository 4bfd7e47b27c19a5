import assert from "node:assert/strict";
import { join } from "node:path";
import { InputError } from "@brainorg/common";
import { createCpuBackend, rng } from "@brainorg/kernels";
import { identityAffine, writeNifti } from "@brainorg/neuro";
import { loadUserVoxels } from "./voxels.ts";
import { parseAnalysisConfig, withStimulus } from "./analysis_config.ts";
import { dctBasis } from "./clean.ts";

const T = 60, N = 24, shape = [4, 3, 2];

async function study(dir: string, subjects: Float32Array[]) {
  await writeNifti(join(dir, "mask.nii"), {
    shape,
    affine: identityAffine(),
    data: new Float32Array(N).fill(1),
  });
  for (const [i, data] of subjects.entries()) {
    await writeNifti(join(dir, `s${i}.nii`), {
      shape: [...shape, T],
      affine: identityAffine(),
      data,
    });
  }
  return withStimulus(parseAnalysisConfig(
    JSON.stringify({
      stimulus: { transcript: "t.csv", tr: 2, runs: [{ volumes: T }] },
      models: [{ name: "m", gguf: "m.gguf" }],
      voxels: {
        mask: "mask.nii",
        subjects: subjects.map((_, i) => ({ id: `s${i}`, bold: `s${i}.nii` })),
        highPassSeconds: 100,
      },
    }),
    join(dir, "study.json"),
  ));
}

function noise(seed: number): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: N * T }, () => 50 + r());
}

Deno.test("voxels the cleaning cannot keep finite or varying are dropped for everyone, with why", async () => {
  const dir = await Deno.makeTempDir();
  const backend = await createCpuBackend();
  try {
    const a = noise(1), b = noise(2), c = noise(3);
    // Voxel 4 of subject b is finite, but near float32's limit: the high-pass overflows.
    for (let t = 0; t < T; t++) b[t * N + 4] = 3e38 * (t % 2 ? 1 : 0.99);
    // Voxel 7 of subject c is one of the filter's own slow cosines: nothing is left of it.
    // (Small, so that float32 rounding stays under cleanSeries's absolute SD floor of 1e-6.)
    const basis = dctBasis(T, 2, 100);
    for (let t = 0; t < T; t++) c[t * N + 7] = 0.01 * basis.data[t * basis.cols + 1];
    const config = await study(dir, [a, b, c]);
    const lines: string[] = [];
    const loaded = await loadUserVoxels(backend, config, {
      data: {},
      volumes: T,
      log: (l) => lines.push(l),
    });
    assert.deepEqual(
      loaded.dropped.map((d) => [d.index, d.problem, d.subjects]),
      [
        [4, "non-finite after high-pass filtering", ["s1"]],
        [7, "constant after high-pass filtering", ["s2"]],
      ],
    );
    assert.equal(loaded.mask.indices.length, N - 2);
    assert.equal(loaded.maskVoxels, N);
    assert.match(lines.join("\n"), /2 of 24 dropped for every subject/);
    for (const s of loaded.subjects) {
      assert.equal(s.data.cols, N - 2);
      assert.ok(s.data.data.every(Number.isFinite), `${s.id}: finite`);
      // z-scored columns: mean 0, population SD 1.
      for (let v = 0; v < s.data.cols; v++) {
        let m = 0, ss = 0;
        for (let t = 0; t < T; t++) m += s.data.data[t * s.data.cols + v] / T;
        for (let t = 0; t < T; t++) ss += (s.data.data[t * s.data.cols + v] - m) ** 2 / T;
        assert.ok(Math.abs(m) < 1e-4 && Math.abs(ss - 1) < 1e-3, `${s.id} voxel ${v}: ${m}, ${ss}`);
      }
    }
  } finally {
    backend.dispose();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("too few usable subjects, or no usable voxel, is an input error naming the analysis file", async () => {
  const dir = await Deno.makeTempDir();
  const backend = await createCpuBackend();
  try {
    const lost = noise(2);
    lost.fill(NaN, 10 * N, 11 * N);
    let config = await study(dir, [noise(1), lost]);
    await assert.rejects(
      () => loadUserVoxels(backend, config, { data: {}, volumes: T, log: () => {} }),
      (e: unknown) =>
        e instanceof InputError && e.field === "voxels.subjects" && /study\.json/.test(e.message) &&
        /1 usable; s1: volume 10 non-finite/.test(e.message),
    );
    // Each subject loses half the mask (allowed here), but not the same half.
    const left = noise(3), right = noise(4);
    for (let t = 0; t < T; t++) {
      for (let v = 0; v < N; v++) (v < 12 ? left : right)[t * N + v] = 1;
    }
    config = await study(dir, [left, right]);
    config.voxels!.maxBadVoxelShare = 0.6;
    await assert.rejects(
      () => loadUserVoxels(backend, config, { data: {}, volumes: T, log: () => {} }),
      /no voxel of the mask is usable in every subject \(field: voxels\.mask/,
    );
  } finally {
    backend.dispose();
    await Deno.remove(dir, { recursive: true });
  }
});
