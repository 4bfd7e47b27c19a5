/**
 * The voxel stage by blocks in one process: series spilled to disk read
 * back equal the in-memory loader's (screening drops included), the split
 * follows the memory budget, and a run forced into several blocks (by
 * `--block-voxels`, and by a tiny `voxels.memoryGiB`) writes the results
 * folder of the whole-study run within float tolerance.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { createBackend } from "@brainorg/kernels";
import { readNifti, writeNifti } from "@brainorg/neuro";
import { loadVoxelSubjects, voxelBlocks, VoxelSpill } from "@brainorg/core";
import { SMALL_STUDY, startAnalyze, writeSmallStudy } from "./small_study.ts";
import { assertResultsWithin } from "./sharded_results.ts";

Deno.test("voxelBlocks splits only beyond the budget, in blocks the budget holds", () => {
  const study = { subjects: 20, volumes: 400, voxels: 228_483, atoms: 64 };
  // 20 × (8·400 + 32·64 + 64) = 106,240 bytes per voxel: 24.3 GB for the whole study.
  const choice = voxelBlocks(study, { memoryGiB: 8 })!;
  assert.equal(choice.blockVoxels, Math.floor(8 * 2 ** 30 / 106_240));
  assert.equal(choice.blocks, Math.ceil(228_483 / choice.blockVoxels));
  assert.equal(choice.wholeBytes, 106_240 * 228_483);
  assert.equal(voxelBlocks({ ...study, subjects: 3 }, { memoryGiB: 8 }), undefined);
  assert.equal(voxelBlocks(study, { memoryGiB: 8, blockVoxels: 300_000 }), undefined);
  assert.equal(voxelBlocks(study, { memoryGiB: 64, blockVoxels: 1000 })!.blocks, 229);
  assert.throws(() => voxelBlocks(study, { memoryGiB: 0 }), RangeError);
  assert.throws(() => voxelBlocks(study, { blockVoxels: 1.5 }), RangeError);
});

Deno.test("a spill's blocks leave out censored rows and dropped voxels, as the loader does", async () => {
  const parent = await Deno.makeTempDir({ prefix: "brainorg-spill-" });
  const spill = await VoxelSpill.create(parent);
  try {
    // (4 volumes × 5 voxels): value = 10 × row + column.
    const m = {
      rows: 4,
      cols: 5,
      data: Float32Array.from({ length: 20 }, (_, i) => 10 * Math.floor(i / 5) + (i % 5)),
    };
    const placeholder = await spill.putCleaned("sub-01", m);
    assert.deepEqual([placeholder.rows, placeholder.cols, placeholder.data.length], [4, 5, 0]);
    spill.finish({
      voxels: 5,
      keepRows: Uint8Array.of(1, 0, 1, 1),
      keepColumns: Uint8Array.of(1, 1, 0, 1, 1),
    });
    assert.equal(spill.voxels, 4);
    // Final voxels 1..3 are stored columns 1, 3, 4; rows 0, 2, 3.
    const b = await spill.readBlock(0, 1, 4);
    assert.deepEqual([b.rows, b.cols], [3, 3]);
    assert.deepEqual(Array.from(b.data), [1, 3, 4, 21, 23, 24, 31, 33, 34]);
    await assert.rejects(() => spill.readBlock(1, 0, 1), RangeError);
  } finally {
    await spill.dispose();
    await Deno.remove(parent, { recursive: true });
  }
});

Deno.test("spilled series read back by blocks equal the in-memory loader's", async () => {
  const dir = await Deno.makeTempDir({ prefix: "brainorg-blocks-" });
  const backend = await createBackend({ backend: "cpu" });
  try {
    await writeSmallStudy(dir);
    // A voxel non-finite in one subject, dropped by the screening for all.
    const img = await readNifti(join(dir, "sub-02.nii.gz"));
    const data = Float32Array.from(img.data);
    data[5 * 1000 + 17] = NaN;
    await writeNifti(join(dir, "sub-02.nii.gz"), { ...img, data });
    const source = {
      file: "study.json",
      mask: join(dir, "mask.nii.gz"),
      subjects: [1, 2, 3].map((s) => ({ id: `sub-0${s}`, bold: join(dir, `sub-0${s}.nii.gz`) })),
      discarded: 0,
      maxBadVoxelShare: 0.1,
      highPassSeconds: 128,
    };
    const options = { volumes: SMALL_STUDY.T, tr: 2, log: () => {} };
    const whole = await loadVoxelSubjects(backend, source, options);
    const spill = await VoxelSpill.create(join(dir, "spill"));
    const spilled = await loadVoxelSubjects(backend, source, { ...options, spill });
    assert.equal(whole.mask.indices.length, 999);
    assert.deepEqual(spilled.mask.indices, whole.mask.indices);
    assert.deepEqual(spilled.dropped, whole.dropped);
    assert.equal(spilled.spill, spill);
    assert.equal(spill.voxels, 999);
    for (const [i, s] of whole.subjects.entries()) {
      const placeholder = spilled.subjects[i].data;
      assert.deepEqual([placeholder.rows, placeholder.cols, placeholder.data.length], [
        s.data.rows,
        s.data.cols,
        0,
      ]);
      // Blocks of 400 voxels, concatenated: the whole series, bit for bit.
      const back = new Float32Array(s.data.data.length);
      for (let v0 = 0; v0 < 999; v0 += 400) {
        const b = await spill.readBlock(i, v0, Math.min(999, v0 + 400));
        for (let t = 0; t < b.rows; t++) {
          back.set(b.data.subarray(t * b.cols, (t + 1) * b.cols), t * 999 + v0);
        }
      }
      assert.deepEqual(back, s.data.data, `subject ${s.id}`);
    }
    await assert.rejects(() => spill.readBlock(0, 990, 1000), RangeError);
    // Raw series were handed back and removed; only the cleaned ones remain.
    const files = [];
    for await (const e of Deno.readDir(spill.dir)) files.push(e.name);
    assert.deepEqual(files.sort(), ["clean-0.f32", "clean-1.f32", "clean-2.f32"]);
    await spill.dispose();
    await assert.rejects(() => Deno.stat(spill.dir), Deno.errors.NotFound);
  } finally {
    backend.dispose();
    await Deno.remove(dir, { recursive: true });
  }
});

/**
 * The results folders of a whole-study run and of a blocked one compared,
 * less the blocked run's own setting, which its provenance rightly records.
 */
async function assertSameAsWhole(reference: string, blocked: string): Promise<void> {
  const file = join(blocked, "provenance.json");
  const provenance = JSON.parse(await Deno.readTextFile(file));
  const voxels = provenance.parameters.voxels;
  assert.ok("blockVoxels" in voxels || "memoryGiB" in voxels, "the provenance records the blocks");
  delete voxels.blockVoxels, delete voxels.memoryGiB;
  // An analysis file that says memoryGiB is another file: its own name, size and checksum.
  const ref = JSON.parse(await Deno.readTextFile(join(reference, "provenance.json")));
  const config = (p: { inputs: { role: string }[] }) =>
    p.inputs.findIndex((i) => i.role === "config");
  provenance.inputs[config(provenance)] = ref.inputs[config(ref)];
  await Deno.writeTextFile(file, JSON.stringify(provenance, null, 2));
  await assertResultsWithin(reference, blocked);
}

Deno.test({
  name: "the voxel stage by blocks writes the whole-study run's results folder",
  sanitizeResources: false,
  sanitizeOps: false,
}, async () => {
  const dir = await Deno.makeTempDir({ prefix: "brainorg-blocks-" });
  try {
    const config = await writeSmallStudy(dir);
    const run = (out: string, cache: string, args: string[] = [], file = config) =>
      startAnalyze(["--config", file, "--out", join(dir, out), "--cache-dir", join(dir, cache)]
        .concat(args));
    const reference = await run("reference", "cache-ref");
    assert.equal(reference.code, 0, reference.stderr.slice(-2000));
    assert.doesNotMatch(reference.stderr, /by blocks/);

    const forced = await run("forced", "cache-forced", ["--block-voxels", "300"]);
    assert.equal(forced.code, 0, forced.stderr.slice(-2000));
    assert.match(forced.stderr, /voxels: by blocks of 300 voxels/);
    assert.match(forced.stderr, /voxels: 4 blocks of ≤ 300 of 1000 voxels/);
    assert.match(forced.stderr, /voxels 900–1000 \(block 4 of 4\) done/);
    await assertSameAsWhole(join(dir, "reference"), join(dir, "forced"));
    // The spilled series are gone once the voxel stage is done.
    const left = [];
    for await (const e of Deno.readDir(join(dir, "cache-forced", "tmp"))) left.push(e.name);
    assert.deepEqual(left, []);
    // Again with the same cache: every block is read back (block_cache.ts), the folder the same.
    const warm = await run("warm", "cache-forced", ["--block-voxels", "300"]);
    assert.equal(warm.code, 0, warm.stderr.slice(-2000));
    assert.equal(warm.stderr.match(/\(block \d of 4\): read from the cache/g)?.length, 4);
    assert.doesNotMatch(warm.stderr, /\(block \d of 4\) done in/);
    await assertSameAsWhole(join(dir, "reference"), join(dir, "warm"));

    // A budget of 1 MiB for 3 subjects × 120 volumes, K = 8 (3,840 bytes a voxel): 273 a block.
    const study = JSON.parse(await Deno.readTextFile(config));
    study.voxels.memoryGiB = 2 ** -10;
    const small = join(dir, "small-budget.json");
    await Deno.writeTextFile(small, JSON.stringify(study));
    const budget = await run("budget", "cache-budget", [], small);
    assert.equal(budget.code, 0, budget.stderr.slice(-2000));
    assert.match(budget.stderr, /voxels: 4 blocks of ≤ 273 of 1000 voxels/);
    await assertSameAsWhole(join(dir, "reference"), join(dir, "budget"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
