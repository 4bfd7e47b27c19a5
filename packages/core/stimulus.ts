/**
 * The first stage: the story as heard in the scanner. The transcript's
 * words on the scanner's TR grid (a words → volumes design), the word-rate
 * regressor it implies, and, where the analysis names reference regressors
 * (the Alice authors' own word rate), a check of the timing against them.
 *
 * @module
 */

import { InputError } from "@brainorg/common";
import {
  applyDesign,
  buildWordDesign,
  checkSeries,
  readRoiTable,
  readTranscript,
  type Transcript,
  type WordDesign,
} from "@brainorg/neuro";
import type { AnalysisConfig } from "./analysis_config.ts";
import { RESULT_FILES, type StimulusSummary } from "./results.ts";
import { pearson } from "./stats.ts";

/** The stimulus stage's output. */
export interface Stimulus {
  /** The transcript as read: its words with onsets, offsets and runs. */
  transcript: Transcript;
  /** The words → volumes design that places per-word values on the TR grid. */
  design: WordDesign;
  /** Words per volume, convolved: the word-rate regressor (volumes). */
  rate: Float32Array;
  /** The story of each run, where runs hold several stories (see `stories.ts`). */
  runStories?: string[];
  /** What `summary.json` records of this stage. */
  summary: StimulusSummary;
}

/**
 * Read a single-column regressor file (one value per volume, header
 * optional), checked: finite, varying, `volumes` long.
 *
 * @returns the values (volumes)
 * @throws {InputError} naming the file and what is wrong with it
 */
export async function readRegressor(file: string, volumes: number): Promise<Float32Array> {
  const table = await readRoiTable(file, { columns: ["value"] });
  const problems = checkSeries(table, { expectedRows: volumes });
  if (problems.length) {
    throw new InputError("unusable regressor", {
      file,
      field: "(the column)",
      expected: `${volumes} finite, varying values, one per volume`,
      found: problems.map((p) => `${p.problem} (${p.detail})`).join("; "),
    });
  }
  return Float32Array.from(table.data);
}

/**
 * Read the transcript, place its words on the TR grid, and check the word
 * rate against reference regressors where the analysis names them.
 *
 * @param config the analysis (paths resolved)
 * @param transcriptName how the results name the transcript (its `data:` path, or the file)
 * @throws {InputError} for a transcript whose runs do not match the timing,
 *   or an unreadable reference regressor
 */
export async function prepareStimulus(
  config: AnalysisConfig,
  transcriptName: string,
): Promise<Stimulus> {
  const st = config.stimulus;
  const transcript = await readTranscript(st.transcript, st.tier ? { tier: st.tier } : {});
  if (transcript.runCount !== st.runs.length) {
    throw new InputError("the transcript's runs do not match the timing", {
      file: config.file,
      field: "stimulus.runs",
      expected: `${transcript.runCount} entries (runs found in ${st.transcript})`,
      found: String(st.runs.length),
    });
  }
  const design = buildWordDesign(transcript, {
    tr: st.tr,
    runs: st.runs,
    hrf: st.hrf,
    method: st.method,
  });
  const rate = applyDesign(design, new Float32Array(transcript.words.length).fill(1));
  let check: StimulusSummary["check"];
  if (st.check) {
    const subjects = [];
    for (const s of st.check.subjects) {
      subjects.push({
        subject: s.id,
        r: pearson(rate, await readRegressor(s.regressor, design.volumes)),
      });
    }
    check = { name: st.check.name, subjects, minR: Math.min(...subjects.map((s) => s.r)) };
  }
  const named = st.runs.some((r) => r.story !== undefined);
  return {
    transcript,
    design,
    rate,
    ...(named ? { runStories: st.runs.map((r, i) => r.story ?? `run${i + 1}`) } : {}),
    summary: {
      transcript: transcriptName,
      words: transcript.words.length,
      dropped: transcript.dropped.reduce((s, d) => s + d.count, 0),
      volumes: design.volumes,
      tr: st.tr,
      discarded: st.runs.map((r) => r.discarded),
      ...(check ? { check } : {}),
    },
  };
}

/** The stimulus stage's tables: the words and the TR grid with the word rate. */
export function stimulusTables(
  s: Stimulus,
): { path: string; columns: readonly string[]; rows: object[] }[] {
  return [
    { ...RESULT_FILES.words, rows: s.transcript.words },
    {
      ...RESULT_FILES.wordRate,
      rows: Array.from(s.design.volumeTime, (time, volume) => ({
        volume,
        time,
        word_rate: s.rate[volume],
      })),
    },
    ...(s.summary.check ? [{ ...RESULT_FILES.stimulusCheck, rows: s.summary.check.subjects }] : []),
  ];
}
