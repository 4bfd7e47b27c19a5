/**
 * The built-in demo: the Alice story and the 28 Alice subjects' ROI data.
 *
 * Stimulus timing (TextGrid → TR-grid word-rate regressor, checked against
 * the authors' own regressor for every subject), data checks (unusable
 * subjects excluded with the reason), the baseline encoding model of the
 * Alice analysis (the authors' word-rate and sound-power regressors → each
 * ROI), stories260K and its random-weights control → atoms → ROIs, and the
 * voxel level on a phantom planted with the model's atoms on Yeo-7: maps,
 * group statistics, network links, organization metrics and recovery.
 *
 * @module
 */

import { join } from "node:path";
import {
  BRAINORG_VERSION,
  checkWritableDir,
  createProgress,
  createProvenance,
  writeDirAtomic,
  writeJsonAtomic,
  writeProvenance,
  writeTextFileAtomic,
} from "@brainorg/common";
import type { ResolveOptions } from "@brainorg/datasets";
import { type Backend, createBackend, type Matrix } from "@brainorg/kernels";
import { applyDesign, checkSeries, readRoiTable } from "@brainorg/neuro";
import { ALICE_ROIS, ALICE_TIMING, resolveAliceSubjects } from "./alice.ts";
import { aliceModelAtoms, aliceStimulus } from "./alice_atoms.ts";
import { runPhantomVoxels, type VoxelSummary } from "./demo_voxels.ts";
import { atomsCsv } from "./phantom_files.ts";
import { toCsv } from "./csv.ts";
import { benjaminiHochberg, fisherZ, pairedT, pearson, zscoreColumns } from "./stats.ts";
import {
  encodeTargets,
  groupScores,
  type RoiGroupScore,
  roiRows,
  type RoiScore,
} from "./roi_encoding.ts";
import { renderReport } from "./report.ts";
import { writeStimulusTables } from "./stimulus_files.ts";

/** Options of {@linkcode runDemo}. */
export interface DemoOptions {
  /** Results folder to write (replaced atomically). */
  outDir: string;
  /** Where reference data is looked for and whether it may be downloaded. */
  data?: ResolveOptions;
  /** No progress output. Default: false. */
  quiet?: boolean;
  /** Compute backend. Default: `"auto"`. */
  backend?: "auto" | "cpu" | "webgpu";
  /** Threads for the CPU backend's products, LASSO and refits. Default: every core. */
  threads?: number;
  /** Circular-shift permutations per subject for p-values. Default: 200. */
  permutations?: number;
  /** Seed of every random choice. Default: 0. */
  seed?: number;
  /** Atoms per model. Default: 16 (stories260K has 320 ANs). */
  atoms?: number;
  /** The voxel-level phantom part; false skips it. Default: true. */
  phantom?: boolean;
  /** Phantom subjects. Default: 6. */
  phantomSubjects?: number;
  /** Surrogates of the voxel-level null. Default: 100. */
  voxelPermutations?: number;
  /** The command line, for provenance. */
  command?: string[];
  /** Lines of the run's narrative (default: stderr unless quiet). */
  log?: (line: string) => void;
}

/** The pipeline's steps, in data-flow order, with what the demo does today. */
export const DEMO_STEPS = [
  { step: "stimulus", status: "done", what: "TextGrid → word events → HRF → TR grid" },
  { step: "data-checks", status: "done", what: "ROI tables: constant, non-finite, wrong length" },
  {
    step: "baseline-encoding",
    status: "done",
    what: "word rate + sound power → each ROI: ridge CV, held-out r, permutation p, FDR",
  },
  {
    step: "capture",
    status: "done",
    what:
      "stories260K and its random-weights control, FFN down_proj units per word (TypeScript forward pass; ONNX path: issue 6)",
  },
  {
    step: "time-series",
    status: "done",
    what: "AN responses → HRF → TR grid, z-scored, dead ANs dropped",
  },
  {
    step: "atoms",
    status: "done",
    what: "dictionary learning, α calibrated to a code density of 0.2",
  },
  {
    step: "atom-encoding",
    status: "done",
    what: "atoms (± baseline) → each ROI, held-out r, permutation p",
  },
  {
    step: "voxel-encoding",
    status: "done",
    what: "phantom (stories260K atoms planted on Yeo-7, 6 subjects, 4 mm): ridge CV per voxel, " +
      "held-out r, shift null, coefficient z, group t",
  },
  {
    step: "networks",
    status: "done",
    what:
      "group maps vs Yeo-7 and Giles-39 (Dice, per-cell null, FDR), organization metrics, recovery",
  },
] as const;

/** What the demo found, as written to `summary.json`. */
export interface DemoSummary {
  schema: "brainorg.results/1";
  status: "complete";
  brainorg: string;
  steps: typeof DEMO_STEPS;
  backend: Backend["info"];
  stimulus: { words: number; dropped: number; volumes: number; tr: number; discarded: number };
  wordRateCheck: { subject: string; r: number }[];
  subjects: { id: string; usable: boolean; reason: string }[];
  baselineEncoding: {
    regressors: string[];
    folds: number;
    permutations: number;
    seed: number;
    group: RoiGroupScore[];
  };
  models: ModelSummary[];
  /** The voxel level (absent when the phantom part was skipped). */
  voxel?: VoxelSummary;
}

/** One model's atoms and how well they encode the ROIs. */
export interface ModelSummary {
  name: string;
  source: string;
  ans: number;
  deadAns: number;
  atoms: number;
  alpha: number;
  codeDensity: number;
  layerR2: number[];
  /** Per variant ("atoms", "atoms+baseline") and ROI. */
  group: (RoiGroupScore & { variant: string; gainOverBaseline: number; tGain: number })[];
}

type ModelAtomsRows = { atom: number; layer: number; positive: number; negative: number }[];

/** Mean r gain of a model over the baseline in the same subjects, and its paired t (Fisher z). */
function gainOver(
  model: RoiScore[],
  baseline: RoiScore[],
): { gainOverBaseline: number; tGain: number } {
  const pairs = model.map((m) => [m, baseline.find((b) => b.subject === m.subject)!] as const);
  const { t } = pairedT(pairs.map(([m]) => [fisherZ(m.r)]), pairs.map(([, b]) => [fisherZ(b.r)]));
  return {
    gainOverBaseline: pairs.reduce((a, [m, b]) => a + m.r - b.r, 0) / pairs.length,
    tGain: t[0] ?? NaN,
  };
}

async function readColumn(path: string): Promise<number[]> {
  return (await Deno.readTextFile(path)).trim().split(/\s+/).map(Number);
}

/**
 * Run the demo and write its results folder.
 *
 * @returns the summary written to `outDir/summary.json`
 */
export async function runDemo(options: DemoOptions): Promise<DemoSummary> {
  const log = options.log ?? ((l: string) => options.quiet || console.error(l));
  const data = options.data ?? {};
  const permutations = options.permutations ?? 200, seed = options.seed ?? 0, folds = 5;
  // A folder that cannot be written fails now, not after the computation.
  await checkWritableDir(options.outDir, { what: "the results folder" });
  log("brainorg demo: the Alice story (Brennan et al. 2016), 28 subjects, 6 ROIs");

  const stimulus = await aliceStimulus(data);
  const { transcript, design, dropped } = stimulus;
  const rate = applyDesign(design, new Float32Array(transcript.words.length).fill(1));
  log(
    `stimulus: ${transcript.words.length} words (${dropped} silences dropped) → ` +
      `${design.volumes} volumes at TR ${ALICE_TIMING.tr} s (SPM HRF)`,
  );

  const backend = await createBackend({
    backend: options.backend ?? "auto",
    ...(options.threads ? { cpu: { threads: options.threads } } : {}),
  });
  log(`backend: ${backend.info.name} (${backend.info.implementation})`);
  const subjects = await resolveAliceSubjects("6mm", data);
  const progress = createProgress({
    label: "subjects",
    total: subjects.length,
    quiet: options.quiet,
  });
  const wordRateCheck: DemoSummary["wordRateCheck"] = [];
  const verdicts: DemoSummary["subjects"] = [];
  const scores: RoiScore[] = [];
  const usable: { id: string; baseline: Matrix; rois: Matrix }[] = [];
  const models: ModelSummary[] = [];
  const modelRows: (RoiScore & { model: string; variant: string })[] = [];
  const modelFiles: {
    name: string;
    atoms: Matrix;
    subgroups: ModelAtomsRows;
    layerR2: number[];
  }[] = [];
  let group: RoiGroupScore[] = [];
  let voxel: Awaited<ReturnType<typeof runPhantomVoxels>> | undefined;
  let modelPath = "";
  let captured: Record<string, unknown> = {};
  try {
    for (const s of subjects) {
      const theirRate = await readColumn(s.rate);
      wordRateCheck.push({ subject: s.id, r: pearson(rate, theirRate) });
      const table = await readRoiTable(s.timecourses, { columns: [...ALICE_ROIS] });
      const problems = checkSeries(table, { expectedRows: ALICE_TIMING.volumes });
      verdicts.push({
        id: s.id,
        usable: problems.length === 0,
        reason: problems.length === 0
          ? ""
          : problems.map((p) => `${p.column}: ${p.problem} (${p.detail})`).join("; "),
      });
      if (problems.length === 0) {
        // The baseline of Brennan et al.: their own word-rate and sound-power regressors.
        const sound = await readColumn(s.soundPower);
        const T = ALICE_TIMING.volumes;
        const x: Matrix = zscoreColumns({
          rows: T,
          cols: 2,
          data: Float32Array.from({ length: 2 * T }, (_, i) => (i % 2 ? sound : theirRate)[i >> 1]),
        });
        const y = zscoreColumns({
          rows: T,
          cols: ALICE_ROIS.length,
          data: Float32Array.from(table.data),
        });
        usable.push({ id: s.id, baseline: x, rois: y });
        const fit = await encodeTargets(backend, x, y, { folds, permutations, seed });
        scores.push(...roiRows(fit, ALICE_ROIS, s.id));
      }
      progress.tick();
    }
    progress.done();
    const q = benjaminiHochberg(scores.map((s) => s.p));
    scores.forEach((s, i) => (s.q = q[i]));
    group = groupScores(scores, ALICE_ROIS);

    // The model and its random-weights control: ANs per word → TR grid → atoms → ROIs.
    const K = options.atoms ?? 16;
    const learned = await aliceModelAtoms(backend, stimulus, {
      data,
      atoms: K,
      seed,
      log,
      quiet: options.quiet ?? false,
    });
    modelPath = learned.modelPath;
    captured = Object.fromEntries(learned.models.map((m) => [m.name, m.captured]));
    for (const { name, source, ans, deadAns, atoms } of learned.models) {
      const atomRegressors = zscoreColumns(atoms.atoms);
      const rows: (RoiScore & { model: string; variant: string })[] = [];
      const modelProgress = createProgress({
        label: `${name} encoding`,
        total: usable.length,
        quiet: options.quiet,
      });
      for (const u of usable) {
        const T = atomRegressors.rows;
        const both: Matrix = { rows: T, cols: K + 2, data: new Float32Array(T * (K + 2)) };
        for (let t = 0; t < T; t++) {
          both.data.set(atomRegressors.data.subarray(t * K, (t + 1) * K), t * (K + 2));
          both.data.set(u.baseline.data.subarray(t * 2, t * 2 + 2), t * (K + 2) + K);
        }
        const variants: [string, Matrix][] = [["atoms", atomRegressors], ["atoms+baseline", both]];
        for (const [variant, x] of variants) {
          const fit = await encodeTargets(backend, x, u.rois, { folds, permutations, seed });
          rows.push(
            ...roiRows(fit, ALICE_ROIS, u.id).map((r) => ({ ...r, model: name, variant })),
          );
        }
        modelProgress.tick();
      }
      modelProgress.done();
      const mq = benjaminiHochberg(rows.map((r) => r.p));
      rows.forEach((r, i) => (r.q = mq[i]));
      modelRows.push(...rows);
      const byVariant = ["atoms", "atoms+baseline"].flatMap((variant) =>
        groupScores(rows.filter((r) => r.variant === variant), ALICE_ROIS).map((g) => ({
          ...g,
          variant,
          ...gainOver(
            rows.filter((r) => r.variant === variant && r.roi === g.roi),
            scores.filter((s) => s.roi === g.roi),
          ),
        }))
      );
      for (const g of byVariant.filter((v) => v.variant === "atoms+baseline")) {
        log(
          `  ${g.roi.padEnd(5)} atoms+baseline mean r ${g.meanR.toFixed(3)} ` +
            `(${g.gainOverBaseline >= 0 ? "+" : ""}${
              g.gainOverBaseline.toFixed(3)
            } over baseline, ` +
            `paired t = ${g.tGain.toFixed(2)})`,
        );
      }
      models.push({
        name,
        source,
        ans,
        deadAns,
        atoms: K,
        alpha: atoms.alpha,
        codeDensity: atoms.density,
        layerR2: atoms.layerR2,
        group: byVariant,
      });
      modelFiles.push({
        name,
        atoms: atoms.atoms,
        subgroups: atoms.subgroups,
        layerR2: atoms.layerR2,
      });
    }
    if (options.phantom ?? true) {
      voxel = await runPhantomVoxels(backend, learned.models, {
        data,
        subjects: options.phantomSubjects ?? 6,
        r2: 0.1,
        permutations: options.voxelPermutations ?? 100,
        seed,
        tr: ALICE_TIMING.tr,
        log,
        onProgress: voxelProgress(options.quiet),
      });
    }
  } finally {
    backend.dispose();
  }

  const minR = Math.min(...wordRateCheck.map((w) => w.r));
  log(
    `word rate vs the authors' regressors: r ≥ ${
      minR.toFixed(3)
    } for all ${subjects.length} subjects`,
  );
  for (const v of verdicts.filter((v) => !v.usable)) log(`excluded ${v.id}: ${v.reason}`);
  log(`baseline encoding (word rate + sound power → ROI, held-out r, ${permutations} shifts):`);
  for (const g of group) {
    log(
      `  ${g.roi.padEnd(5)} mean r ${g.meanR.toFixed(3)}, t(${g.subjects - 1}) = ${
        g.t.toFixed(2)
      }, ` +
        `${g.significant}/${g.subjects} subjects q ≤ 0.05`,
    );
  }

  const summary: DemoSummary = {
    schema: "brainorg.results/1",
    status: "complete",
    brainorg: BRAINORG_VERSION,
    steps: DEMO_STEPS,
    backend: backend.info,
    stimulus: {
      words: transcript.words.length,
      dropped,
      volumes: design.volumes,
      tr: ALICE_TIMING.tr,
      discarded: ALICE_TIMING.discarded,
    },
    wordRateCheck,
    subjects: verdicts,
    models,
    baselineEncoding: {
      regressors: ["word rate (authors')", "sound power (authors')"],
      folds,
      permutations,
      seed,
      group,
    },
    ...(voxel ? { voxel: voxel.summary } : {}),
  };
  const provenance = await createProvenance({
    inputs: [
      { role: "transcript", path: stimulus.path },
      { role: "model", path: modelPath },
      ...subjects.flatMap((s) => [
        { role: `roi-timecourses:${s.id}`, path: s.timecourses },
        { role: `word-rate:${s.id}`, path: s.rate },
        { role: `sound-power:${s.id}`, path: s.soundPower },
      ]),
    ],
    parameters: {
      ...ALICE_TIMING,
      hrf: "spm",
      events: "impulse",
      radius: "6mm",
      folds,
      permutations,
      atoms: options.atoms ?? 16,
      targetDensity: 0.2,
      phantom: options.phantom ?? true,
      phantomSubjects: options.phantomSubjects ?? 6,
      voxelPermutations: options.voxelPermutations ?? 100,
      voxelP: 0.01,
      captured,
    },
    seed,
    backend: { ...backend.info },
    command: options.command,
  });
  await writeDirAtomic(options.outDir, async (dir) => {
    await writeJsonAtomic(join(dir, "summary.json"), summary);
    await writeStimulusTables(dir, transcript, design, rate);
    await writeTextFileAtomic(
      join(dir, "qc", "subjects.csv"),
      toCsv(["id", "usable", "reason"], verdicts),
    );
    await writeTextFileAtomic(
      join(dir, "qc", "word_rate_check.csv"),
      toCsv(["subject", "r"], wordRateCheck),
    );
    await writeTextFileAtomic(
      join(dir, "encoding", "baseline_roi.csv"),
      toCsv(["subject", "roi", "r", "p", "q", "alpha"], scores),
    );
    await writeTextFileAtomic(
      join(dir, "encoding", "baseline_group.csv"),
      toCsv(["roi", "subjects", "meanR", "t", "significant"], group),
    );
    await writeTextFileAtomic(
      join(dir, "encoding", "models_roi.csv"),
      toCsv(["model", "variant", "subject", "roi", "r", "p", "q", "alpha"], modelRows),
    );
    await writeTextFileAtomic(
      join(dir, "encoding", "models_group.csv"),
      toCsv(
        [
          "model",
          "variant",
          "roi",
          "subjects",
          "meanR",
          "t",
          "significant",
          "gainOverBaseline",
          "tGain",
        ],
        models.flatMap((m) => m.group.map((g) => ({ model: m.name, ...g }))),
      ),
    );
    for (const m of modelFiles) {
      await writeTextFileAtomic(join(dir, "models", m.name, "atoms.csv"), atomsCsv(m.atoms));
      await writeTextFileAtomic(
        join(dir, "models", m.name, "subgroups.csv"),
        toCsv(["atom", "layer", "positive", "negative"], m.subgroups),
      );
      await writeTextFileAtomic(
        join(dir, "models", m.name, "layer_r2.csv"),
        toCsv(["layer", "r2"], m.layerR2.map((r2, layer) => ({ layer, r2 }))),
      );
    }
    await voxel?.write(dir);
    await writeTextFileAtomic(
      join(dir, "report.html"),
      renderReport(summary, provenance.createdAt),
    );
    await writeProvenance(dir, provenance);
  }, { what: "the results folder" });
  log(`results: ${options.outDir}`);
  return summary;
}

/** Progress bars for the voxel steps, one per label. */
function voxelProgress(quiet?: boolean) {
  const bars = new Map<string, ReturnType<typeof createProgress>>();
  return (label: string, done: number, total: number) => {
    let bar = bars.get(label);
    if (!bar) bars.set(label, bar = createProgress({ label, total, quiet }));
    bar.tick();
    if (done === total) bar.done();
  };
}
