/**
 * `deno task analyze --bids` end to end on a mini-Narratives (`deno task
 * phantom --bids`: two stories, four subjects, fMRIPrep-style derivatives
 * with confounds, planted links and a speech-locked head-motion artefact),
 * with a bad input of every kind added beside the good data.
 */

import assert from "node:assert/strict";
import { copyFile, mkdir, readdir, readFile, truncate, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import {
  parseAnalysisConfig,
  readPhantomBidsTruth,
  runAnalysis,
  writePhantomBids,
} from "@brainorg/core";
import type { ResultsSummary } from "@brainorg/core/results";
import { createCpuBackend } from "@brainorg/kernels";
const ROOT = new URL("..", import.meta.url).pathname;

const DERIV = "derivatives/fmriprep";

/** Copy sub-01's files (raw and derivatives) as another subject. */
async function cloneSubject(root: string, to: string): Promise<void> {
  for (const base of [join(root, "sub-01"), join(root, DERIV, "sub-01")]) {
    for (const f of await readdir(join(base, "func"))) {
      const target = join(dirname(base), to, "func", f.replaceAll("sub-01", to));
      await mkdir(dirname(target), { recursive: true });
      await copyFile(join(base, "func", f), target);
    }
  }
  await writeFile(
    join(root, "participants.tsv"),
    (await readFile(join(root, "participants.tsv"), "utf8")) + `${to}\n`,
  );
}

/** The bad inputs: each must be set aside with its reason, the rest analysed. */
async function addBadInputs(root: string): Promise<void> {
  // A subject without confounds for one story.
  await cloneSubject(root, "sub-05");
  await Deno.remove(
    join(root, DERIV, "sub-05/func/sub-05_task-alice_desc-confounds_timeseries.tsv"),
  );
  // A truncated image (a download cut short).
  await cloneSubject(root, "sub-06");
  const cut = join(
    root,
    DERIV,
    "sub-06/func/sub-06_task-lpp_space-MNI152NLin2009cAsym_res-4_desc-preproc_bold.nii.gz",
  );
  await truncate(cut, Math.floor((await Deno.stat(cut)).size / 2));
  // A run acquired with another TR.
  await cloneSubject(root, "sub-07");
  await writeFile(
    join(root, "sub-07/func/sub-07_task-lpp_bold.json"),
    JSON.stringify({ RepetitionTime: 1.5 }),
  );
  // A story without a transcript: sub-01's alice run filed as task "quiet".
  for (const base of [join(root, "sub-01/func"), join(root, DERIV, "sub-01/func")]) {
    for (const f of (await readdir(base)).filter((f) => f.includes("task-alice"))) {
      await copyFile(join(base, f), join(base, f.replace("task-alice", "task-quiet")));
    }
  }
  // A misnamed file: its subject entity disagrees with its folder.
  await copyFile(
    join(root, "sub-02/func/sub-02_task-alice_events.tsv"),
    join(root, "sub-02/func/sub-03_task-alice_events.tsv"),
  );
}

function readCsv(text: string): Record<string, string>[] {
  const [head, ...lines] = text.trimEnd().split("\n");
  const cols = head.split(",");
  return lines.map((l) => {
    const cells = l.match(/("([^"]|"")*"|[^,]*)(,|$)/g)!.map((c) =>
      c.replace(/,$/, "").replace(/^"|"$/g, "").replaceAll('""', '"')
    );
    return Object.fromEntries(cols.map((c, i) => [c, cells[i]]));
  });
}

Deno.test({
  name:
    "analyze --bids: a mini-Narratives' links recovered with confounds regressed, bad inputs set aside",
  sanitizeResources: false,
  sanitizeOps: false,
}, async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "brainorg-bids-" });
  const root = join(dir, "mini-narratives");
  try {
    const backend = await createCpuBackend();
    try {
      await writePhantomBids(root, backend, { subjects: 4, seed: 0 });
    } finally {
      backend.dispose();
    }
    await addBadInputs(root);
    const truth = await readPhantomBidsTruth(root);

    const expected: [RegExp, RegExp][] = [
      [/sub-05_task-alice/, /no desc-confounds_timeseries\.tsv/],
      [/sub-06_task-lpp/, /truncated/],
      [/sub-07_task-lpp/, /TR 1\.5 s/],
      [/sub-01_task-quiet/, /transcript/],
      [/sub-03_task-alice_events\.tsv/, /misnamed/],
    ];

    await t.step("--list gives every verdict before any compute", async () => {
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", "apps/cli/main.ts", "analyze", "--bids", root, "--list"],
        cwd: ROOT,
        stdout: "piped",
        stderr: "piped",
        env: { NO_COLOR: "1" },
      }).output();
      const text = new TextDecoder().decode(out.stdout);
      assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
      for (const [unit, reason] of expected) {
        const line = text.split("\n").find((l) => unit.test(l) && reason.test(l));
        assert.ok(line, `no line for ${unit} with ${reason} in:\n${text}`);
      }
      assert.match(text, /4 subjects: sub-01 sub-02 sub-03 sub-04\n/);
      assert.match(text, /sub-05.*lacks a usable run of task-alice/);
    });

    const analysis = (confounds: string) => ({
      bids: { root },
      models: [{ name: "stories260K", gguf: "data:models/stories260K.gguf", randomControl: false }],
      voxels: { confounds },
      networks: ["yeo7"],
      atoms: 16,
      targetDensity: 0.2,
      permutations: 100,
      seed: 0,
    });
    const run = async (confounds: string) => {
      const file = join(dir, `${confounds}.json`), outDir = join(dir, `results-${confounds}`);
      await writeFile(file, JSON.stringify(analysis(confounds)));
      const lines: string[] = [];
      const summary = await runAnalysis(parseAnalysisConfig(await readFile(file, "utf8"), file), {
        outDir,
        quiet: true,
        log: (l) => lines.push(l),
      });
      const links = readCsv(
        await readFile(join(outDir, "voxels/stories260K/networks_Yeo-7.csv"), "utf8"),
      )
        .filter((r) => r.linked === "true");
      return { summary, outDir, lines, links };
    };

    let simple: {
      summary: ResultsSummary;
      outDir: string;
      lines: string[];
      links: Record<string, string>[];
    };
    await t.step(
      "with confounds: the planted links, nothing from the artefact, the noise ceiling",
      async () => {
        simple = await run("simple");
        const v = simple.summary.voxel!;
        assert.equal(v.subjects, 4);
        const rec = v.models[0].recovery!;
        assert.ok(rec.precision >= 0.9 && rec.recall >= 0.9, JSON.stringify(rec));
        assert.ok(!simple.links.some((l) => l.networkName === truth.artefact.networkName));
        assert.ok(v.noiseCeiling && v.noiseCeiling.median > 0, JSON.stringify(v.noiseCeiling));
        assert.ok(Number.isFinite(v.models[0].medianFractionOfCeiling));
        assert.ok(v.qc?.confounds?.columns.includes("trans_z"));
        assert.equal(v.qc?.confounds?.preset, "simple");
        assert.equal(v.space?.data, "MNI152NLin2009cAsym");
        assert.ok(simple.lines.some((l) => /leave one story out \(alice, lpp\)/.test(l)));
        // Every verdict of --list is in the results' qc, and the analysis went on without them.
        const units = readCsv(await readFile(join(simple.outDir, "qc/bids_units.csv"), "utf8"));
        for (const [unit, reason] of expected) {
          assert.ok(
            units.some((u) => unit.test(u.unit) && u.usable === "false" && reason.test(u.reason)),
            `${unit} ${reason}`,
          );
        }
        for (const s of ["sub-05", "sub-06", "sub-07"]) {
          assert.ok(units.some((u) => u.unit === s && u.usable === "false"), s);
        }
        const provenance = JSON.parse(
          await readFile(join(simple.outDir, "provenance.json"), "utf8"),
        );
        assert.ok(JSON.stringify(provenance).includes("desc-confounds_timeseries.tsv"));
      },
    );

    await t.step("without confounds: the artefact makes a spurious link, as it must", async () => {
      const none = await run("none");
      const spurious = none.links.filter((l) => l.networkName === truth.artefact.networkName);
      assert.ok(spurious.length > 0, JSON.stringify(none.links));
      assert.ok(none.summary.voxel!.models[0].recovery!.precision < 0.9);
      assert.equal(none.summary.voxel!.qc?.confounds, undefined);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
