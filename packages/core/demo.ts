/**
 * The built-in demo: the Alice story and the 28 Alice subjects' ROI data.
 *
 * Implemented so far: stimulus timing (TextGrid → TR-grid word-rate
 * regressor, checked against the authors' own regressor for every subject)
 * and data checks (unusable subjects excluded with the reason). Capture,
 * dictionary learning, encoding and network matching are listed as pending
 * in the summary until they exist.
 *
 * @module
 */

import { join } from "node:path";
import {
  BRAINORG_VERSION,
  createProgress,
  createProvenance,
  writeDirAtomic,
  writeJsonAtomic,
  writeProvenance,
  writeTextFileAtomic,
} from "@brainorg/common";
import { resolveDataFile, type ResolveOptions } from "@brainorg/datasets";
import {
  applyDesign,
  buildWordDesign,
  checkSeries,
  readRoiTable,
  readTranscript,
} from "@brainorg/neuro";
import { ALICE_ROIS, ALICE_TEXTGRID, ALICE_TIMING, resolveAliceSubjects } from "./alice.ts";
import { toCsv } from "./csv.ts";
import { pearson } from "./stats.ts";

/** Options of {@linkcode runDemo}. */
export interface DemoOptions {
  /** Results folder to write (replaced atomically). */
  outDir: string;
  /** Where reference data is looked for and whether it may be downloaded. */
  data?: ResolveOptions;
  /** No progress output. Default: false. */
  quiet?: boolean;
  /** The command line, for provenance. */
  command?: string[];
  /** Lines of the run's narrative (default: stderr unless quiet). */
  log?: (line: string) => void;
}

/** The pipeline's steps, in data-flow order, with what the demo does today. */
export const DEMO_STEPS = [
  { step: "stimulus", status: "done", what: "TextGrid → word events → HRF → TR grid" },
  { step: "data-checks", status: "done", what: "ROI tables: constant, non-finite, wrong length" },
  { step: "capture", status: "pending", what: "FFN units of stories260K per word (issue 6)" },
  { step: "time-series", status: "pending", what: "AN responses → HRF → TR grid (issue 7)" },
  { step: "atoms", status: "pending", what: "dictionary learning, K = 64 (issues 4, 7)" },
  {
    step: "encoding",
    status: "pending",
    what: "ridge/LASSO CV + permutation null (issues 3, 4, 7)",
  },
  { step: "networks", status: "pending", what: "maps vs Yeo-7/17 and Giles (issue 7)" },
] as const;

/** What the demo found, as written to `summary.json`. */
export interface DemoSummary {
  schema: "brainorg.results/0";
  status: "partial";
  brainorg: string;
  steps: typeof DEMO_STEPS;
  stimulus: { words: number; dropped: number; volumes: number; tr: number; discarded: number };
  wordRateCheck: { subject: string; r: number }[];
  subjects: { id: string; usable: boolean; reason: string }[];
}

/**
 * Run the demo and write its results folder.
 *
 * @returns the summary written to `outDir/summary.json`
 */
export async function runDemo(options: DemoOptions): Promise<DemoSummary> {
  const log = options.log ?? ((l: string) => options.quiet || console.error(l));
  const data = options.data ?? {};
  log("brainorg demo: the Alice story (Brennan et al. 2016), 28 subjects, 6 ROIs");

  const textgrid = await resolveDataFile(ALICE_TEXTGRID, data);
  const transcript = await readTranscript(textgrid.path);
  const dropped = transcript.dropped.reduce((s, d) => s + d.count, 0);
  const design = buildWordDesign(transcript, {
    tr: ALICE_TIMING.tr,
    runs: [{ volumes: ALICE_TIMING.volumes, discarded: ALICE_TIMING.discarded }],
  });
  const rate = applyDesign(design, new Float32Array(transcript.words.length).fill(1));
  log(
    `stimulus: ${transcript.words.length} words (${dropped} silences dropped) → ` +
      `${design.volumes} volumes at TR ${ALICE_TIMING.tr} s (SPM HRF)`,
  );

  const subjects = await resolveAliceSubjects("6mm", data);
  const progress = createProgress({
    label: "subjects",
    total: subjects.length,
    quiet: options.quiet,
  });
  const wordRateCheck: DemoSummary["wordRateCheck"] = [];
  const verdicts: DemoSummary["subjects"] = [];
  for (const s of subjects) {
    const theirs = (await Deno.readTextFile(s.rate)).trim().split(/\s+/).map(Number);
    wordRateCheck.push({ subject: s.id, r: pearson(rate, theirs) });
    const table = await readRoiTable(s.timecourses, { columns: [...ALICE_ROIS] });
    const problems = checkSeries(table, { expectedRows: ALICE_TIMING.volumes });
    verdicts.push({
      id: s.id,
      usable: problems.length === 0,
      reason: problems.length === 0
        ? ""
        : problems.map((p) => `${p.column}: ${p.problem} (${p.detail})`).join("; "),
    });
    progress.tick();
  }
  progress.done();
  const minR = Math.min(...wordRateCheck.map((w) => w.r));
  log(
    `word rate vs the authors' regressors: r ≥ ${
      minR.toFixed(3)
    } for all ${subjects.length} subjects`,
  );
  for (const v of verdicts.filter((v) => !v.usable)) log(`excluded ${v.id}: ${v.reason}`);
  for (const s of DEMO_STEPS.filter((s) => s.status === "pending")) {
    log(`pending: ${s.step} — ${s.what}`);
  }

  const summary: DemoSummary = {
    schema: "brainorg.results/0",
    status: "partial",
    brainorg: BRAINORG_VERSION,
    steps: DEMO_STEPS,
    stimulus: {
      words: transcript.words.length,
      dropped,
      volumes: design.volumes,
      tr: ALICE_TIMING.tr,
      discarded: ALICE_TIMING.discarded,
    },
    wordRateCheck,
    subjects: verdicts,
  };
  const provenance = await createProvenance({
    inputs: [
      { role: "transcript", path: textgrid.path },
      ...subjects.map((s) => ({ role: `roi-timecourses:${s.id}`, path: s.timecourses })),
    ],
    parameters: { ...ALICE_TIMING, hrf: "spm", events: "impulse", radius: "6mm" },
    command: options.command,
  });
  await writeDirAtomic(options.outDir, async (dir) => {
    await writeJsonAtomic(join(dir, "summary.json"), summary);
    await writeTextFileAtomic(
      join(dir, "stimulus", "words.csv"),
      toCsv(["word", "onset", "offset", "run"], transcript.words),
    );
    await writeTextFileAtomic(
      join(dir, "stimulus", "word_rate.csv"),
      toCsv(
        ["volume", "time", "word_rate"],
        Array.from(rate, (v, i) => ({ volume: i, time: design.volumeTime[i], word_rate: v })),
      ),
    );
    await writeTextFileAtomic(
      join(dir, "qc", "subjects.csv"),
      toCsv(["id", "usable", "reason"], verdicts),
    );
    await writeTextFileAtomic(
      join(dir, "qc", "word_rate_check.csv"),
      toCsv(["subject", "r"], wordRateCheck),
    );
    await writeProvenance(dir, provenance);
  });
  log(`results: ${options.outDir}`);
  return summary;
}
