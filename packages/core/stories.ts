/**
 * Several stories heard by the same people, each in its own scanner run
 * (a BIDS task per story, as in Narratives): one stimulus whose runs are the
 * stories end to end. Each story's words are captured on their own (no
 * context flows from one story into the next), atoms are learned from all
 * stories' AN series together, and cross-validation leaves one story out.
 *
 * @module
 */

import { join } from "node:path";
import { writeTextFileAtomic } from "@brainorg/common";
import { readTranscript } from "@brainorg/neuro";
import type { AnalysisConfig } from "./analysis_config.ts";

/** One story as heard in one scanner run. */
export interface StoryRun {
  /** The story's name (the BIDS task). */
  story: string;
  /** Its transcript: TextGrid, CSV/TSV or Gentle alignment. */
  transcript: string;
  /** Repetition time, seconds. */
  tr: number;
  /** Volumes kept for analysis. */
  volumes: number;
  /** Scanner time (s) at which the audio starts (from `events.tsv`). */
  stimulusOffset: number;
}

/**
 * The analysis's stimulus section for stories heard one after another:
 * each story one run, its words in a combined transcript (`word,onset,
 * offset,run`, written into `dir` as `stories.csv`) with onsets on the
 * story's own audio timeline.
 *
 * @param stories in the order the rows of every subject's data follow
 * @param dir where the combined transcript is written (created if missing)
 * @returns the `stimulus` section: transcript, TR, one run per story with its `story`
 * @throws {InputError} for an unreadable transcript
 * @throws {RangeError} for no story, or stories with different TRs
 */
export async function storiesStimulus(
  stories: StoryRun[],
  dir: string,
): Promise<AnalysisConfig["stimulus"]> {
  if (stories.length === 0) throw new RangeError("no story");
  const tr = stories[0].tr;
  const other = stories.find((s) => s.tr !== tr);
  if (other) {
    throw new RangeError(`stories ${stories[0].story} and ${other.story} differ in TR`);
  }
  const lines = ["word,onset,offset,run"];
  for (const [run, s] of stories.entries()) {
    const t = await readTranscript(s.transcript);
    if (t.runCount !== 1) {
      throw new RangeError(`story ${s.story}: ${s.transcript} holds ${t.runCount} runs, not one`);
    }
    for (const w of t.words) lines.push(`${csvCell(w.word)},${w.onset},${w.offset},${run + 1}`);
  }
  const transcript = join(dir, "stories.csv");
  await Deno.mkdir(dir, { recursive: true });
  await writeTextFileAtomic(transcript, lines.join("\n") + "\n");
  return {
    transcript,
    tr,
    runs: stories.map((s) => ({
      volumes: s.volumes,
      discarded: 0,
      stimulusOffset: s.stimulusOffset,
      story: s.story,
    })),
    hrf: "spm",
    method: "hrf",
  };
}

function csvCell(s: string): string {
  return /[",\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/**
 * The stories of a stimulus and the rows (volumes, end to end) each spans:
 * runs with the same `story` name in a row form one story; runs without a
 * name belong to one unnamed story.
 *
 * @param runs the stimulus's runs, in order
 * @returns each story's name, runs (indices) and rows `[start, end)`
 */
export function storySpans(
  runs: readonly { volumes: number; story?: string }[],
): { story: string; runs: number[]; rows: [number, number] }[] {
  const out: { story: string; runs: number[]; rows: [number, number] }[] = [];
  let row = 0;
  for (const [i, r] of runs.entries()) {
    const name = r.story ?? "";
    const last = out.at(-1);
    if (last && last.story === name) {
      last.runs.push(i);
      last.rows[1] += r.volumes;
    } else out.push({ story: name, runs: [i], rows: [row, row + r.volumes] });
    row += r.volumes;
  }
  return out;
}
