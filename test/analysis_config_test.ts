import assert from "node:assert/strict";
import { join } from "node:path";
import { InputError } from "@brainorg/common";
import {
  demoModelAtoms,
  demoStimulus,
  overrideAnalysisConfig,
  parseAnalysisConfig,
  phantomFiles,
  writePhantom,
} from "@brainorg/core";
import { resolveDataFile } from "@brainorg/datasets";
import { createCpuBackend } from "@brainorg/kernels";
import { readNifti } from "@brainorg/neuro";
import { main } from "../apps/cli/main.ts";
import { writeSmallStudy } from "./small_study.ts";

Deno.test("analysis files: each error names the file and the field", () => {
  const base = {
    stimulus: { transcript: "s.TextGrid", tr: 2, runs: [{ volumes: 100 }] },
    models: [{ name: "m", gguf: "m.gguf" }],
    voxels: {
      mask: "mask.nii.gz",
      subjects: [{ id: "a", bold: "a.nii" }, { id: "b", bold: "b.nii" }],
    },
  };
  const ok = parseAnalysisConfig(JSON.stringify(base), "/data/study/analysis.json");
  assert.equal(ok.stimulus?.transcript, "/data/study/s.TextGrid");
  assert.equal(ok.permutations, 100);
  assert.deepEqual(ok.networks, ["yeo7"]);
  const bad = (patch: unknown, field: RegExp) =>
    assert.throws(
      () => parseAnalysisConfig(JSON.stringify({ ...base, ...patch as object }), "a.json"),
      (e: unknown) => e instanceof InputError && /a\.json/.test(e.message) && field.test(e.message),
    );
  bad({ stimulus: { ...base.stimulus, tr: -2 } }, /stimulus\.tr[\s\S]*a number ≥ 0\.01/);
  bad({ models: [] }, /models[\s\S]*a non-empty list/);
  bad(
    { voxels: { ...base.voxels, subjects: [{ id: "a", bold: "a.nii" }] } },
    /at least 2 subjects/,
  );
  bad({ networks: ["aal"] }, /networks\[0\][\s\S]*"yeo7", "yeo17" or "giles"/);
  bad(
    { voxels: { ...base.voxels, subjects: [{ id: "a", bold: "x" }, { id: "a", bold: "y" }] } },
    /subjects\[1\]\.id[\s\S]*used once/,
  );
  assert.throws(
    () => parseAnalysisConfig("{ nope", "a.json"),
    /expected: JSON[\s\S]*file: a\.json/,
  );
  // A misspelt or misplaced field: refused, with the name it was probably meant to be.
  bad({ permutaions: 5000 }, /unknown field "permutaions" \(did you mean "permutations"\?\)/);
  bad({ voxelP: 0.05 }, /field: voxelP;[\s\S]*did you mean "voxelP" in "voxels"\?/);
  bad(
    { models: [{ name: "m", gguf: "m.gguf", randomcontrol: false }] },
    /field: models\[0\]\.randomcontrol;[\s\S]*did you mean "randomControl"\?/,
  );
});

Deno.test("analysis files: overrides from the command line get the field's own checks", () => {
  const config = parseAnalysisConfig(
    JSON.stringify({
      stimulus: { transcript: "s.TextGrid", tr: 2, runs: [{ volumes: 100 }] },
      models: [{ name: "m", gguf: "m.gguf" }],
      rois: { subjects: [{ id: "a", table: "a.txt" }] },
      seed: 4,
    }),
    "/data/study/analysis.json",
  );
  const set = overrideAnalysisConfig(config, { atoms: 7, seed: 3, permutations: 5 });
  assert.deepEqual([set.atoms, set.seed, set.permutations], [7, 3, 5]);
  assert.deepEqual([config.atoms, config.seed], [64, 4], "the original is unchanged");
  assert.equal(set.file, config.file);
  assert.throws(
    () => overrideAnalysisConfig(config, { atoms: 0 }),
    (e: unknown) =>
      e instanceof InputError && e.field === "atoms" &&
      e.expected === "a whole number ≥ 1 and ≤ 4096" && e.file === "the command line",
  );
  assert.throws(
    () => overrideAnalysisConfig(config, { nope: 1 }),
    /the schema has no field "nope"/,
  );
});

Deno.test({
  name: "analyze --config runs the method on a user's NIfTI data and finds the planted links",
  sanitizeResources: false,
  sanitizeOps: false,
}, async () => {
  const dir = await Deno.makeTempDir({ prefix: "brainorg-config-" });
  const cache = join(dir, "cache");
  const backend = await createCpuBackend();
  try {
    const data = { cacheDir: cache, download: false };
    const [planted] = await demoModelAtoms(backend, { atoms: 16, seed: 0 }, { data });
    const learned = {
      models: [planted],
      modelPath: (await resolveDataFile("models/stories260K.gguf")).path,
    };
    const folder = join(dir, "phantom");
    const truth = await writePhantom(folder, backend, learned.models[0].atoms.atoms, {
      resolution: 4,
      networks: "yeo7",
    }, { subjects: 4, r2: 0.1, seed: 5, data });
    const files = phantomFiles(folder, 4);
    const config = {
      stimulus: {
        // A reference file named by its registry path: resolved (and checked) at run time.
        transcript: "data:alice/alice_stim_shared/DownTheRabbitHoleFinal_exp120_pad_1.TextGrid",
        tr: 2,
        runs: [{ volumes: 362, discarded: 10 }],
      },
      models: [{ name: "tiny", gguf: learned.modelPath, randomControl: false }],
      voxels: {
        mask: "phantom/mask.nii.gz",
        subjects: files.subjects.map((s) => ({ id: s.id, bold: s.path })),
      },
      networks: ["yeo7"],
      atoms: 16,
      permutations: 19,
    };
    await Deno.writeTextFile(join(dir, "study.json"), JSON.stringify(config));
    const out = join(dir, "out");
    assert.equal(
      await main([
        "analyze",
        "--config",
        join(dir, "study.json"),
        "--out",
        out,
        "--quiet",
        "--cache-dir",
        cache,
        "--offline",
      ]),
      0,
    );
    const summary = JSON.parse(await Deno.readTextFile(join(out, "summary.json")));
    assert.equal(summary.schema, "brainorg.results/2");
    assert.equal(summary.voxel.dataset, "user");
    assert.deepEqual(summary.models.map((m: { name: string }) => m.name), ["tiny"]);
    const links = summary.voxel.models[0].templates[0].links as {
      atom: number;
      network: number;
      sign: number;
    }[];
    const key = (l: { atom: number; network: number; sign: number }) =>
      `${l.atom}/${l.network}/${l.sign}`;
    const found = new Set(links.map(key));
    const recovered = truth.links.filter((l) => found.has(key(l))).length;
    assert.ok(recovered >= 7, `recovered ${recovered} of ${truth.links.length}: ${[...found]}`);
    assert.ok(links.length <= truth.links.length + 1, `${links.length} links`);
    assert.match(
      await Deno.readTextFile(join(out, "report.html")),
      /<h2>Voxel level<\/h2>[\s\S]*tiny/,
    );
    const t = await readNifti(join(out, "voxels", "tiny", "group_t.nii.gz"));
    assert.deepEqual(t.shape, [45, 54, 45, 16]);
    const prov = JSON.parse(await Deno.readTextFile(join(out, "provenance.json")));
    assert.equal(prov.inputs.length, 1 + 1 + 1 + 1 + 4);

    // Timing that does not fit the story is an input error (exit 3), and nothing is written.
    const short = {
      ...config,
      stimulus: { ...config.stimulus, runs: [{ volumes: 300, discarded: 10 }] },
    };
    await Deno.writeTextFile(join(dir, "short.json"), JSON.stringify(short));
    assert.equal(
      await main([
        "analyze",
        "--config",
        join(dir, "short.json"),
        "--out",
        join(dir, "nope"),
        "--quiet",
        "--cache-dir",
        cache,
        "--offline",
      ]),
      3,
    );
    await assert.rejects(() => Deno.stat(join(dir, "nope")));
  } finally {
    backend.dispose();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a model as GGUF (TypeScript forward) and as a converted Hugging Face folder (onnxruntime) gives the same atoms", async () => {
  const dir = await Deno.makeTempDir({ prefix: "brainorg-hf-" });
  const backend = await createCpuBackend();
  try {
    const data = { cacheDir: join(dir, "cache"), download: false };
    const gguf = (await resolveDataFile("models/stories260K.gguf")).path;
    const { captureModelAtoms } = await import("@brainorg/core");
    const { readGgufLlama, writeHfLlama } = await import("@brainorg/models");
    await writeHfLlama(join(dir, "hf"), await readGgufLlama(gguf));
    const { stimulus } = await demoStimulus(data);
    const [ts] = await captureModelAtoms(backend, stimulus, [{
      name: "a",
      gguf,
      randomControl: false,
    }], { data });
    const [ox] = await captureModelAtoms(backend, stimulus, [{
      name: "b",
      hf: join(dir, "hf"),
      randomControl: false,
    }], { data });
    assert.equal(ox.ans, ts.ans);
    const T = ts.atoms.atoms.rows, K = ts.atoms.atoms.cols;
    for (let k = 0; k < K; k++) {
      let dot = 0, na = 0, nb = 0;
      for (let t = 0; t < T; t++) {
        const a = ts.atoms.atoms.data[t * K + k], b = ox.atoms.atoms.data[t * K + k];
        (dot += a * b), (na += a * a), (nb += b * b);
      }
      assert.ok(dot / Math.sqrt(na * nb) > 0.999, `atom ${k}: r = ${dot / Math.sqrt(na * nb)}`);
    }
    // Two cache entries: the engines are keyed apart.
    assert.equal([...Deno.readDirSync(join(dir, "cache", "activations"))].length, 2);
    const bad = () =>
      parseAnalysisConfig(
        JSON.stringify({
          stimulus: { transcript: "s", tr: 2, runs: [{ volumes: 9 }] },
          models: [{ name: "m", gguf: "a.gguf", hf: "dir" }],
          voxels: { mask: "m", subjects: [{ id: "a", bold: "a" }, { id: "b", bold: "b" }] },
        }),
        "c.json",
      );
    assert.throws(bad, /models\[0\][\s\S]*"gguf"[\s\S]*or "hf"/);
  } finally {
    backend.dispose();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("analyze --config with ROI tables: each subject's ROIs from the atoms, bad subjects excluded with the reason", async () => {
  const dir = await Deno.makeTempDir({ prefix: "brainorg-roi-" });
  try {
    const table = async (id: string) =>
      (await resolveDataFile(`alice/alice_data_shared/6mm/${id}-timecourses.txt`)).path;
    const config = {
      stimulus: {
        transcript: "data:alice/alice_stim_shared/DownTheRabbitHoleFinal_exp120_pad_1.TextGrid",
        tr: 2,
        runs: [{ volumes: 362, discarded: 10 }],
      },
      models: [{
        name: "tiny",
        gguf: (await resolveDataFile("models/stories260K.gguf")).path,
        randomControl: false,
      }],
      rois: {
        subjects: await Promise.all(
          ["s18", "s22", "s33"].map(async (id) => ({ id, table: await table(id) })),
        ),
        columns: ["LATL", "RATL", "LPTL", "LIPL", "LPreM", "LIFG"],
      },
      atoms: 16,
      permutations: 5,
    };
    await Deno.writeTextFile(join(dir, "rois.json"), JSON.stringify(config));
    const out = join(dir, "out");
    assert.equal(
      await main([
        "analyze",
        "--config",
        join(dir, "rois.json"),
        "--out",
        out,
        "--quiet",
        "--cache-dir",
        join(dir, "cache"),
        "--offline",
      ]),
      0,
    );
    const summary = JSON.parse(await Deno.readTextFile(join(out, "summary.json")));
    assert.equal(summary.voxel, undefined);
    const roi = summary.rois;
    assert.deepEqual(roi.subjects.map((s: { id: string; usable: boolean }) => [s.id, s.usable]), [
      ["s18", true],
      ["s22", true],
      ["s33", false],
    ]);
    assert.match(roi.subjects[2].reason, /constant/);
    const report = await Deno.readTextFile(join(out, "report.html"));
    assert.match(report, /<h2>Encoding of the ROIs<\/h2>/);
    assert.match(report, /Excluded: s33 \(/);
    assert.equal(roi.models.length, 6);
    assert.ok(
      roi.models.every((g: { subjects: number; variant: string }) =>
        g.subjects === 2 && g.variant === "atoms"
      ),
    );
    assert.equal(roi.baseline, undefined);
    const rows = (await Deno.readTextFile(join(out, "encoding", "models_roi.csv"))).trim().split(
      "\n",
    );
    assert.equal(rows.length, 1 + 2 * 6);
    for (const line of rows.slice(1)) {
      const [, , , , r, p] = line.split(",").map(Number);
      assert.ok(r > -1 && r < 1 && p > 0 && p <= 1, line);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name:
    "analyze --config: --atoms, --seed and --permutations set the file's fields; provenance records every value used",
  sanitizeResources: false,
  sanitizeOps: false,
}, async () => {
  const dir = await Deno.makeTempDir({ prefix: "brainorg-override-" });
  try {
    const study = await writeSmallStudy(dir);
    const out = join(dir, "out");
    const overrides = ["--atoms", "7", "--seed", "3", "--permutations", "5"];
    const code = await main([
      "analyze",
      "--config",
      study,
      "--out",
      out,
      "--quiet",
      "--offline",
      "--backend",
      "cpu",
      "--cache-dir",
      join(dir, "cache"),
      ...overrides,
    ]);
    assert.equal(code, 0);
    const summary = JSON.parse(await Deno.readTextFile(join(out, "summary.json")));
    // The file says atoms 8 and permutations 9: the flags won, and the run used their values.
    assert.deepEqual(summary.models.map((m: { atoms: number }) => m.atoms), [7, 7]);
    assert.equal(summary.voxel.permutations, 5);
    const atoms = (await Deno.readTextFile(join(out, "models", "m", "atoms.csv"))).split("\n")[0];
    assert.equal(atoms.split(",").length, 1 + 7);
    const prov = JSON.parse(await Deno.readTextFile(join(out, "provenance.json")));
    const p = prov.parameters;
    assert.deepEqual([p.atoms, p.seed, p.permutations, prov.seed], [7, 3, 5, 3]);
    // Defaults the file left out are recorded as the values used.
    assert.equal(p.targetDensity, 0.2);
    assert.equal(p.nullMethod, "shift");
    assert.deepEqual(
      [p.voxels.voxelP, p.voxels.highPassSeconds, p.voxels.maps, p.voxels.maxBadVoxelShare],
      [0.01, 128, "ridge", 0.1],
    );
    assert.equal(p.voxels.voxelP, summary.voxel.voxelP);
    assert.deepEqual(p.stimulus.runs, [{ volumes: 120, discarded: 0, stimulusOffset: 0 }]);
    assert.deepEqual(prov.command.slice(-overrides.length), overrides);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
