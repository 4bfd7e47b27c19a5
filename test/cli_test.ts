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
      "--ablation",
      "--cache-dir",
      cache,
    ]);
    assert.equal(code, 0);
    const summary = JSON.parse(await Deno.readTextFile(join(out, "summary.json")));
    assert.equal(summary.schema, "brainorg.results/2");
    assert.equal(summary.stimulus.words, 2127);
    assert.equal(summary.stimulus.volumes, 362);
    assert.equal(summary.rois.subjects.length, 28);
    assert.deepEqual(
      summary.rois.subjects.filter((s: { usable: boolean }) => !s.usable).map((
        s: { id: string },
      ) => s.id),
      ["s33"],
    );
    assert.ok(summary.stimulus.check.subjects.every((w: { r: number }) => w.r >= 0.95));
    // The steps are what ran, in order, each with what it measured.
    assert.deepEqual(summary.steps.map((s: { step: string }) => s.step), [
      "stimulus",
      "stimulus-check",
      "roi-checks",
      "capture",
      "atoms",
      "baseline-encoding",
      "roi-encoding",
      "voxel-data",
      "voxel-encoding",
      "networks",
      "ablation",
    ]);
    assert.match(summary.steps[2].detail, /^27 of 28 subjects usable$/);

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
    const group = summary.rois.baseline.group;
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
      assert.equal(
        summary.rois.models.filter((g: { model: string }) => g.model === m.name).length,
        12,
      );
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
    assert.match(report, /<h2>Encoding of the ROIs<\/h2>\s*<p>[^<]*<\/p>\s*<figure><svg/);
    assert.match(report, /<title>stories260K-random: atoms\+baseline LATL: [0-9.]+<\/title>/);
    assert.match(report, /Excluded: s33 \(LATL: constant/);
    assert.match(report, /<h2>Voxel level: a phantom with planted links<\/h2>/);
    // NiiVue's inlined source names URLs in strings; what the page itself loads must not.
    const markup = report.replace(/<script\b[^>]*>[\s\S]*?<\/script>/g, "<script></script>");
    assert.ok(!/https?:\/\//.test(markup), "the report needs no network");
    assert.ok(!/<script[^>]+\bsrc=/.test(report), "every script is inlined");
    assert.match(report, /data-testid="report-viewer"/);

    const prov = JSON.parse(await Deno.readTextFile(join(out, "provenance.json")));
    // The demo's file, the transcript, the model; per subject its check regressor, ROI table
    // and two baseline regressors; the voxel level's low-level regressor.
    assert.equal(prov.inputs.length, 3 + 28 * 4 + 1);
    // Provenance records the settings as run: the flags given, every other one at its default,
    // and each equal to what the results say was used.
    const p = prov.parameters;
    assert.deepEqual(
      [p.permutations, p.voxelPermutations, p.phantomSubjects, p.atoms, p.seed, p.phantom],
      [20, 20, 5, 16, 0, true],
    );
    assert.equal(p.permutations, summary.rois.permutations);
    assert.equal(p.voxelPermutations, summary.voxel.permutations);
    assert.equal(p.voxelP, summary.voxel.voxelP);
    assert.equal(p.r2, summary.voxel.phantom.r2);
    assert.equal(p.targetDensity, 0.2);

    // The demo is its analysis file: the same file through --config, with the settings the
    // flags above gave, writes the same results.
    const { DEMO_FILE } = await import("@brainorg/core");
    const file = JSON.parse(await Deno.readTextFile(DEMO_FILE));
    file.rois.permutations = 20;
    file.voxels.permutations = 20;
    file.voxels.phantom.subjects = 5;
    await Deno.writeTextFile(join(dir, "alice.json"), JSON.stringify(file));
    const viaConfig = join(dir, "via-config");
    const second = await quietly(() =>
      main([
        "analyze",
        "--config",
        join(dir, "alice.json"),
        "--out",
        viaConfig,
        "--offline",
        "--cache-dir",
        cache,
      ])
    );
    assert.equal(second.value, 0, second.err);
    // Every expensive step came from the cache: its reads are observed, not inferred.
    for (
      const line of [
        "stories260K: activations read from the cache",
        "stories260K-random: activations read from the cache",
        "phantom: read from the cache",
        "stories260K: voxel results read from the cache",
        "stories260K-random: voxel results read from the cache",
      ]
    ) assert.ok(second.err.includes(line), `missing: ${line}`);
    const same = JSON.parse(await Deno.readTextFile(join(viaConfig, "summary.json")));
    assert.deepEqual(same, summary);
    for (
      const f of [
        "encoding/baseline_roi.csv",
        "encoding/models_group.csv",
        "voxels/stories260K/networks_Yeo-7.csv",
        "models/stories260K-random/atoms.csv",
        "models/stories260K/ablation.csv",
      ]
    ) {
      assert.equal(
        await Deno.readTextFile(join(viaConfig, f)),
        await Deno.readTextFile(join(out, f)),
        f,
      );
    }
    assert.equal(prov.seed, 0);
    assert.ok(prov.inputs.every((i: { sha256: string }) => /^[0-9a-f]{64}$/.test(i.sha256)));
    assert.match(prov.parameters.demo, /alice_demo\.json$/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("usage errors exit 2 with help; unknown commands too", async () => {
  let r = await quietly(() => main(["analyze", "--no-such-flag"]));
  assert.equal(r.value, 2);
  assert.match(r.err, /unknown option "--no-such-flag"\n[\s\S]*Usage:/);
  r = await quietly(() => main(["analyze", "--permutaions", "5"]));
  assert.equal(r.value, 2);
  assert.match(r.err, /unknown option "--permutaions" \(did you mean "--permutations"\?\)/);
  r = await quietly(() => main(["analyze", "--target-density", "0.3"]));
  assert.match(r.err, /"targetDensity" is a field of the analysis file given with --config/);
  r = await quietly(() => main(["phantom", "--subject", "4"]));
  assert.match(r.err, /unknown option "--subject" \(did you mean "--subjects"\?\)/);
  r = await quietly(() => main(["analyze", "--permutations", "many"]));
  assert.equal(r.value, 2);
  assert.match(
    r.err,
    /--permutations must be a whole number ≥ 0 and ≤ 100000: current value is "many"/,
  );
  r = await quietly(() => main(["analyze", "--threads", ""]));
  assert.match(r.err, /--threads must be a whole number ≥ 1: current value is ""/);
  r = await quietly(() => main(["analyze", "--backend", "tpu"]));
  assert.equal(r.value, 2);
  assert.match(r.err, /--backend must be auto, webgpu or cpu: current value is "tpu"/);
  r = await quietly(() => main(["phantom", "--atoms", "5"]));
  assert.match(r.err, /--atoms must be a whole number ≥ 7 and ≤ 4096: current value is "5"/);
  r = await quietly(() => main(["phantom", "--r2", "1"]));
  assert.match(r.err, /--r2 must be a number > 0 and < 1: current value is "1"/);
  r = await quietly(() => main(["frobnicate"]));
  assert.equal(r.value, 2);
  r = await quietly(() => main(["analyze", "--help"]));
  assert.equal(r.value, 0);
  assert.match(r.out, /deno task analyze/);
});

Deno.test("with --config, a flag sets the analysis file's field or is refused, naming flag and mode", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const missing = join(dir, "missing.json");
    // Demo only: refused, whatever the file says.
    for (
      const flag of [["--phantom-subjects", "4"], ["--voxel-permutations", "50"], ["--no-phantom"]]
    ) {
      const r = await quietly(() => main(["analyze", "--config", missing, ...flag]));
      assert.equal(r.value, 2, flag[0]);
      assert.match(
        r.err,
        new RegExp(`^error: ${flag[0]} cannot be used with --config: it applies to the demo only`),
      );
    }
    // --atoms 3 is fine for an analysis file (no phantom there): the run goes on to read the file.
    let r = await quietly(() => main(["analyze", "--atoms", "3", "--config", missing]));
    assert.equal(r.value, 3);
    assert.match(r.err, /file not found[\s\S]*missing\.json/);
    assert.doesNotMatch(r.err, /phantom/);
    // … and checked against the file's range for atoms, not the demo's.
    r = await quietly(() => main(["analyze", "--atoms", "5000", "--config", missing]));
    assert.equal(r.value, 2);
    assert.match(r.err, /--atoms must be a whole number ≥ 1 and ≤ 4096: current value is "5000"/);
    r = await quietly(() => main(["analyze", "--permutations", "1", "--config", missing]));
    assert.match(r.err, /--permutations must be a whole number ≥ 2 and ≤ 100000/);
    // The demo plants 7 atoms in its phantom.
    r = await quietly(() => main(["analyze", "--atoms", "3"]));
    assert.equal(r.value, 2);
    assert.match(
      r.err,
      /--atoms must be ≥ 7 for the phantom, which plants 7 atoms \(or add --no-phantom\): current value is "3"/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("--help lists every flag of the command with its default in each mode", async () => {
  const { OPTIONS, flagIn } = await import("@brainorg/core");
  const analyze = (await quietly(() => main(["analyze", "--help"]))).out;
  const phantom = (await quietly(() => main(["phantom", "--help"]))).out;
  for (const def of Object.values(OPTIONS)) {
    for (
      const [mode, help] of [["demo", analyze], ["config", analyze], ["phantom", phantom]] as const
    ) {
      const flag = flagIn(def, mode);
      if (flag) assert.match(help, new RegExp(`\\n  --${flag}\\b`), `${mode}: --${flag}`);
    }
  }
  assert.match(
    analyze,
    /--atoms K +atoms per model; stories260K has 320 ANs \(default: 16; with --config: sets\s+the file's "atoms", whose default is 64\)/,
  );
  assert.match(analyze, /Only for the demo \(refused with --config\):\n {2}--voxel-permutations N/);
  assert.match(phantom, /--subjects N +subjects of the phantom \(default: 6\)/);
  assert.doesNotMatch(phantom, /--phantom-subjects|--config/);
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
