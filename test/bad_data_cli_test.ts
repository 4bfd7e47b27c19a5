/**
 * The command line on the worst inputs, run as a subprocess exactly as a
 * user runs it: bad data end in exit 0 with the subject excluded (and the
 * reason in qc/), or exit 3 naming the file and the field; never exit 1.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { gzipSync } from "fflate";
import { rng } from "@brainorg/kernels";
import { encodeNifti1, readNifti, writeNifti } from "@brainorg/neuro";
import { dataPath } from "./data.ts";
import { SMALL_STUDY, startAnalyze, writeStoryAndMask } from "./small_study.ts";

const { T, N } = SMALL_STUDY;

/** `deno task analyze` in a subprocess; returns the exit code and stderr. */
async function analyze(config: string, out: string, cache: string, quiet = true) {
  const args = ["--config", config, "--out", out, "--cache-dir", cache];
  const r = await startAnalyze(quiet ? [...args, "--quiet"] : args);
  return { code: r.code, err: r.stderr };
}

/**
 * A small study in MNI space: a 10³ grid of the 4 mm template, 120 volumes,
 * a 200-word story, stories260K. Subject 2 has three NaN voxels, subject 3
 * lost volumes 100–104 (all NaN), subject 4 one constant voxel.
 */
async function writeStudy(dir: string) {
  const { affine: a, V } = await writeStoryAndMask(dir);
  const next = rng(7);
  for (let s = 1; s <= 4; s++) {
    const d = Float32Array.from({ length: V * T }, (_, i) => 100 + next() + Math.sin(i / 997 + s));
    if (s === 2) { for (const v of [11, 512, 987]) d[(3 + v % 50) * V + v] = NaN; }
    if (s === 3) d.fill(NaN, 100 * V, 105 * V);
    if (s === 4) { for (let t = 0; t < T; t++) d[t * V + 300] = 50; }
    await writeNifti(join(dir, `sub-0${s}.nii.gz`), {
      shape: [N, N, N, T],
      affine: a,
      data: d,
      tr: 2,
    });
  }
  const table = (constant: boolean) =>
    ["L R", ...Array.from({ length: T }, () => constant ? "1 1" : `${next()} ${next()}`)].join(
      "\n",
    );
  await Deno.writeTextFile(join(dir, "roi-01.txt"), table(false));
  await Deno.writeTextFile(join(dir, "roi-02.txt"), table(true));
  await Deno.writeTextFile(join(dir, "roi-03.txt"), table(false).replace("L R", "R L"));
  const config = {
    stimulus: { transcript: "story.csv", tr: 2, runs: [{ volumes: T }] },
    models: [{ name: "m", gguf: await dataPath("models/stories260K.gguf"), randomControl: false }],
    voxels: {
      mask: "mask.nii.gz",
      subjects: [1, 2, 3, 4].map((i) => ({ id: `sub-0${i}`, bold: `sub-0${i}.nii.gz` })),
    },
    rois: {
      subjects: [
        { id: "r1", table: "roi-01.txt" },
        { id: "r2", table: "roi-02.txt" },
        { id: "r3", table: "roi-03.txt" },
      ],
    },
    atoms: 8,
    permutations: 5,
  };
  const write = async (name: string, patch: (c: typeof config) => unknown = (c) => c) => {
    await Deno.writeTextFile(join(dir, name), JSON.stringify(patch(structuredClone(config))));
    return join(dir, name);
  };
  return { config, write, affine: a };
}

Deno.test({
  name:
    "the CLI on bad data: subjects excluded with the reason (exit 0), bad files refused (exit 3), never exit 1",
  sanitizeResources: false,
  sanitizeOps: false,
}, async () => {
  const dir = await Deno.makeTempDir({ prefix: "brainorg-bad-data-" });
  try {
    const study = await writeStudy(dir), cache = join(dir, "cache");

    // 1. The issue's case: lost volumes exclude sub-03; NaN and constant voxels are dropped.
    const out = join(dir, "out");
    const first = await analyze(await study.write("study.json"), out, cache, false);
    assert.equal(first.code, 0, first.err.slice(-2000));
    assert.match(
      first.err,
      /excluded sub-03: volumes 100–104 non-finite in more than 50% of the mask's voxels/,
    );
    assert.match(first.err, /excluded r2: L: constant/);
    const qc = (await Deno.readTextFile(join(out, "qc", "voxel_subjects.csv"))).trim().split("\n");
    assert.deepEqual(qc.map((l) => l.split(",").slice(0, 2).join(",")), [
      "id,usable",
      "sub-01,true",
      "sub-02,true",
      "sub-03,false",
      "sub-04,true",
    ]);
    assert.match(qc[2], /3 of 1000 voxels \(0\.3%\) unusable \(3 non-finite/);
    assert.match(qc[3], /,100–104$/);
    const dropped = (await Deno.readTextFile(join(out, "qc", "voxels_dropped.csv"))).trim().split(
      "\n",
    );
    assert.deepEqual(dropped.slice(1).map((l) => l.split(",").slice(3).join(",")), [
      "non-finite,sub-02",
      "constant,sub-04",
      "non-finite,sub-02",
      "non-finite,sub-02",
    ]);
    const summary = JSON.parse(await Deno.readTextFile(join(out, "summary.json")));
    assert.equal(summary.voxel.subjects, 3);
    assert.equal(summary.voxel.voxels, 996);
    assert.deepEqual(summary.voxel.qc.subjects.map((s: { usable: boolean }) => s.usable), [
      true,
      true,
      false,
      true,
    ]);
    assert.deepEqual(
      summary.rois.subjects.map((s: { usable: boolean }) => s.usable),
      [true, false, false],
    );
    assert.match(summary.rois.subjects[2].reason, /regions R L differ from the first/);
    const r = await readNifti(join(out, "voxels", "m", "subjects", "sub-01_r.nii.gz"));
    assert.ok(r.data.every(Number.isFinite), "maps hold no NaN where voxels were dropped");
    assert.equal(r.data[11], 0, "a dropped voxel is outside the maps");

    // 2. Damaged caches: recomputed with a warning, the same results.
    const [entry] = [...Deno.readDirSync(join(cache, "activations"))];
    await Deno.writeFile(
      join(cache, "activations", entry.name, "layer_02.f32"),
      new Uint8Array(10),
    );
    const [vox] = [...Deno.readDirSync(join(cache, "voxels"))];
    await Deno.writeTextFile(join(cache, "voxels", vox.name, "result.json"), "{ damaged");
    const again = await analyze(join(dir, "study.json"), join(dir, "again"), cache);
    assert.equal(again.code, 0, again.err.slice(-2000));
    assert.match(
      again.err,
      /warning: the cached activations in .* are not usable \(layer_02\.f32 has 10 bytes/,
    );
    assert.match(again.err, /warning: the cached voxel results in .* are not usable/);
    const second = JSON.parse(await Deno.readTextFile(join(dir, "again", "summary.json")));
    assert.deepEqual(second.models, summary.models);

    // 3. Files that cannot be used: exit 3, naming the file and the field.
    const gz = await Deno.readFile(join(dir, "sub-02.nii.gz"));
    await Deno.writeFile(join(dir, "cut.nii.gz"), gz.slice(0, gz.length >> 1));
    const header = encodeNifti1({
      shape: [N, N, N],
      affine: study.affine,
      data: new Float32Array(N ** 3),
    }, {
      gzip: false,
    });
    new DataView(header.buffer).setInt16(48, 32767, true); // dim[4]
    new DataView(header.buffer).setInt16(40, 4, true); // dim[0]
    for (const i of [1, 2, 3]) new DataView(header.buffer).setInt16(40 + 2 * i, 32767, true);
    await Deno.writeFile(join(dir, "huge.nii.gz"), gzipSync(header));
    const gguf = await Deno.readFile(await dataPath("models/stories260K.gguf"));
    await Deno.writeFile(join(dir, "cut.gguf"), gguf.slice(0, 600_000));
    await Deno.writeFile(
      join(dir, "latin1.csv"),
      new Uint8Array([
        ...new TextEncoder().encode("word,onset\ncaf"),
        0xe9,
        ...new TextEncoder().encode(",5\n"),
      ]),
    );
    const bold = (name: string) => (c: typeof study.config) => {
      c.voxels.subjects[1].bold = name;
      return c;
    };
    const refused: [string, string, RegExp][] = [
      [
        "truncated gzip",
        await study.write("a.json", bold("cut.nii.gz")),
        /gzip stream is corrupt or truncated \(field: gzip;[\s\S]*cut\.nii\.gz/,
      ],
      [
        "huge dimensions",
        await study.write("b.json", bold("huge.nii.gz")),
        /too large to read \(field: dim;[\s\S]*huge\.nii\.gz/,
      ],
      [
        "a wrong type in the analysis file",
        await study.write("c.json", (c) => ({ ...c, atoms: "many" })),
        /field: atoms; expected: a whole number ≥ 1 and ≤ 4096; found: "many"; file: .*c\.json/,
      ],
      [
        "an unknown field",
        await study.write("d.json", (c) => ({ ...c, permutatons: 10 })),
        /field: permutatons;[\s\S]*an unknown field/,
      ],
      [
        "a truncated GGUF",
        await study.write("e.json", (c) => ((c.models[0].gguf = "cut.gguf"), c)),
        /cut\.gguf/,
      ],
      [
        "a transcript in Latin-1",
        await study.write("f.json", (c) => ((c.stimulus.transcript = "latin1.csv"), c)),
        /not valid UTF-8 \(field: byte 14 \(line 2\)[\s\S]*latin1\.csv/,
      ],
      [
        "one usable subject",
        await study.write(
          "g.json",
          (c) => ((c.voxels.subjects = c.voxels.subjects.slice(1, 3)), c),
        ),
        /fewer than 2 usable subjects remain[\s\S]*field: voxels\.subjects[\s\S]*1 usable; sub-03: volumes 100–104/,
      ],
    ];
    for (const [label, config, message] of refused) {
      const r = await analyze(config, join(dir, "nope"), cache);
      assert.equal(r.code, 3, `${label}: exit ${r.code}: ${r.err.slice(-1500)}`);
      assert.match(r.err, message, label);
      assert.doesNotMatch(r.err, /^\s+at /m, `${label}: no stack trace`);
      await assert.rejects(() => Deno.stat(join(dir, "nope")), `${label}: nothing written`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
