import assert from "node:assert/strict";
import { join } from "node:path";
import { main } from "../apps/cli/main.ts";
import { readNifti } from "@brainorg/neuro";

async function quietly<T>(fn: () => Promise<T>): Promise<{ value: T; out: string; err: string }> {
  const log = console.log, error = console.error;
  let out = "", err = "";
  console.log = (...a: unknown[]) => (out += a.join(" ") + "\n");
  console.error = (...a: unknown[]) => (err += a.join(" ") + "\n");
  try {
    return { value: await fn(), out, err };
  } finally {
    console.log = log;
    console.error = error;
  }
}

Deno.test("the demo writes a results folder whose files hold what the summary says", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const out = join(dir, "demo");
    const cache = join(dir, "cache");
    const code = await main([
      "analyze",
      "--out",
      out,
      "--quiet",
      "--offline",
      "--permutations",
      "20",
      "--voxel-permutations",
      "20",
      "--phantom-subjects",
      "5",
      "--cache-dir",
      cache,
    ]);
    assert.equal(code, 0);
    const summary = JSON.parse(await Deno.readTextFile(join(out, "summary.json")));
    assert.equal(summary.schema, "brainorg.results/1");
    assert.equal(summary.stimulus.words, 2127);
    assert.equal(summary.stimulus.volumes, 362);
    assert.equal(summary.subjects.length, 28);
    assert.deepEqual(
      summary.subjects.filter((s: { usable: boolean }) => !s.usable).map((s: { id: string }) =>
        s.id
      ),
      ["s33"],
    );
    assert.ok(summary.wordRateCheck.every((w: { r: number }) => w.r >= 0.95));

    const rate = (await Deno.readTextFile(join(out, "stimulus", "word_rate.csv"))).trim().split(
      "\n",
    );
    assert.equal(rate[0], "volume,time,word_rate");
    assert.equal(rate.length, 363);
    assert.match(rate[1], /^0,20,/); // first kept volume: 10 discarded × TR 2 s

    const words = (await Deno.readTextFile(join(out, "stimulus", "words.csv"))).trim().split("\n");
    assert.equal(words.length, 2128);
    assert.match(words[1], /^Alice,20\.05891632653599,/);

    const qc = await Deno.readTextFile(join(out, "qc", "subjects.csv"));
    assert.match(qc, /\ns33,false,"?LATL: constant/);

    // Baseline encoding: 27 usable subjects × 6 ROIs, r and p in range, group rows per ROI.
    const roi = (await Deno.readTextFile(join(out, "encoding", "baseline_roi.csv"))).trim().split(
      "\n",
    );
    assert.equal(roi[0], "subject,roi,r,p,q,alpha");
    assert.equal(roi.length, 1 + 27 * 6);
    for (const line of roi.slice(1)) {
      const [, , r, p, q] = line.split(",").map(Number);
      assert.ok(r > -1 && r < 1 && p > 0 && p <= 1 && q >= p - 1e-12, line);
    }
    assert.ok(!roi.some((l) => l.startsWith("s33,")));
    const group = summary.baselineEncoding.group;
    assert.deepEqual(group.map((g: { roi: string }) => g.roi), [
      "LATL",
      "RATL",
      "LPTL",
      "LIPL",
      "LPreM",
      "LIFG",
    ]);
    assert.ok(group.every((g: { subjects: number }) => g.subjects === 27));
    // Word rate and sound power predict the temporal ROIs above chance across subjects.
    assert.ok(group.find((g: { roi: string }) => g.roi === "LPTL").t > 3);

    // The model and its control: ANs → atoms → ROIs, with and without the baseline.
    assert.deepEqual(summary.models.map((m: { name: string }) => m.name), [
      "stories260K",
      "stories260K-random",
    ]);
    for (const m of summary.models) {
      assert.equal(m.ans, 320);
      assert.equal(m.atoms, 16);
      assert.ok(Math.abs(m.codeDensity - 0.2) < 0.08, `${m.name} density ${m.codeDensity}`);
      assert.equal(m.layerR2.length, 5);
      assert.ok(m.layerR2.every((r2: number) => r2 > 0 && r2 < 1));
      assert.equal(m.group.length, 12);
      const atoms = (await Deno.readTextFile(join(out, "models", m.name, "atoms.csv"))).trim()
        .split("\n");
      assert.equal(atoms.length, 363);
      assert.equal(atoms[0].split(",").length, 17);
      const sub = (await Deno.readTextFile(join(out, "models", m.name, "subgroups.csv"))).trim()
        .split("\n");
      assert.equal(sub.length, 1 + 16 * 5);
      const members = sub.slice(1).reduce(
        (n, l) => n + Number(l.split(",")[2]) + Number(l.split(",")[3]),
        0,
      );
      assert.ok(
        Math.abs(members / (16 * 320) - m.codeDensity) < 1e-6,
        "sub-groups count the non-zero codes",
      );
    }
    const modelRoi = (await Deno.readTextFile(join(out, "encoding", "models_roi.csv"))).trim()
      .split("\n");
    assert.equal(modelRoi.length, 1 + 2 * 2 * 27 * 6);

    // The voxel level: the phantom's planted links are found with stories260K's atoms.
    const voxel = summary.voxel;
    assert.equal(voxel.phantom.links.length, 8);
    assert.equal(voxel.phantom.subjects, 5);
    const planted = voxel.models[0];
    assert.equal(planted.name, "stories260K");
    assert.ok(planted.recovery.precision >= 0.9, JSON.stringify(planted.recovery));
    assert.ok(planted.recovery.recall >= 0.9, JSON.stringify(planted.recovery));
    assert.deepEqual(planted.recovery.undrivenLinked, []);
    assert.equal(planted.templates[0].name, "Yeo-7");
    assert.equal(planted.templates[0].metrics.networksEngaged, 7);
    const tMap = await readNifti(join(out, "voxels", "stories260K", "group_t.nii.gz"));
    assert.deepEqual(tMap.shape, [45, 54, 45, 16]);
    const labels = await readNifti(join(out, "voxels", "stories260K", "atom_labels.nii.gz"));
    const linkedAtoms = new Set(
      planted.templates[0].links.map((l: { atom: number }) => l.atom + 1),
    );
    assert.ok(labels.data.every((v) => v === 0 || linkedAtoms.has(v)));
    assert.ok(labels.data.some((v) => v > 0));
    const cells =
      (await Deno.readTextFile(join(out, "voxels", "stories260K", "networks_Yeo-7.csv")))
        .trim().split("\n");
    assert.equal(cells.length, 1 + 16 * 2 * 7);
    const z = await readNifti(join(out, "voxels", "stories260K", "subjects", "sub-01_z.nii.gz"));
    assert.equal(z.shape[3], 16);
    const recovery = await Deno.readTextFile(join(out, "voxels", "recovery.csv"));
    assert.match(recovery, /^model,truePositives,/);
    assert.equal(
      JSON.parse(await Deno.readTextFile(join(out, "phantom", "truth.json"))).links.length,
      8,
    );

    const report = await Deno.readTextFile(join(out, "report.html"));
    assert.match(report, /<h2>Encoding of the ROIs<\/h2>\s*<figure><svg/);
    assert.match(report, /stories260K-random: atoms \+ baseline/);
    assert.match(report, /Excluded: s33 \(LATL: constant/);
    assert.match(report, /<h2>Voxel level: a phantom with planted links<\/h2>/);
    assert.ok(!/https?:\/\//.test(report), "the report needs no network");

    const prov = JSON.parse(await Deno.readTextFile(join(out, "provenance.json")));
    assert.equal(prov.inputs.length, 2 + 28 * 3);

    // A second run reads both models' activations from the cache and gives the same results.
    const cached = [...Deno.readDirSync(join(dir, "cache", "activations"))];
    assert.equal(cached.length, 2);
    const again = join(dir, "again");
    assert.equal(
      await main([
        "analyze",
        "--out",
        again,
        "--quiet",
        "--offline",
        "--permutations",
        "0",
        "--no-phantom",
        "--cache-dir",
        join(dir, "cache"),
      ]),
      0,
    );
    const second = JSON.parse(await Deno.readTextFile(join(again, "summary.json")));
    assert.deepEqual(
      second.models.map((m: { layerR2: number[] }) => m.layerR2),
      summary.models.map((m: { layerR2: number[] }) => m.layerR2),
    );
    assert.equal(prov.seed, 0);
    assert.ok(prov.inputs.every((i: { sha256: string }) => /^[0-9a-f]{64}$/.test(i.sha256)));
    assert.equal(prov.parameters.discarded, 10);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("usage errors exit 2 with help; unknown commands too", async () => {
  let r = await quietly(() => main(["analyze", "--no-such-flag"]));
  assert.equal(r.value, 2);
  assert.match(r.err, /Unknown option '--no-such-flag'[\s\S]*Usage:/);
  r = await quietly(() => main(["analyze", "--permutations", "many"]));
  assert.equal(r.value, 2);
  assert.match(r.err, /--permutations must be a whole number/);
  r = await quietly(() => main(["analyze", "--backend", "tpu"]));
  assert.equal(r.value, 2);
  assert.match(r.err, /--backend must be auto, webgpu or cpu: current value is "tpu"/);
  r = await quietly(() => main(["frobnicate"]));
  assert.equal(r.value, 2);
  r = await quietly(() => main(["analyze", "--help"]));
  assert.equal(r.value, 0);
  assert.match(r.out, /deno task analyze/);
});

Deno.test("data verify finds and checks every registered file offline", async () => {
  const r = await quietly(() => main(["data", "verify", "atlases/"]));
  assert.equal(r.value, 0, r.out);
  assert.match(r.out, /8 of 8 files verified/);
});

Deno.test("each task runs with the permissions deno.json gives it (data without --allow-ffi)", async () => {
  const root = new URL("..", import.meta.url).pathname;
  for (
    const args of [["task", "data", "where", "atlases/Yeo-7.csv"], ["task", "analyze", "--help"]]
  ) {
    const r = await new Deno.Command(Deno.execPath(), {
      args,
      cwd: root,
      stdout: "piped",
      stderr: "piped",
    })
      .output();
    const err = new TextDecoder().decode(r.stderr);
    assert.equal(r.code, 0, `deno ${args.join(" ")}: ${err.slice(-600)}`);
  }
});
