/**
 * The BIDS phantom's file names and its small text files: the stories'
 * Gentle alignments (as Narratives ships them), sidecars, events,
 * descriptions and the README. The data (NIfTI, confounds) is written by
 * `phantom_bids.ts`.
 *
 * @module
 */

import { join } from "node:path";
import { BRAINORG_VERSION, writeJsonAtomic, writeTextFileAtomic } from "@brainorg/common";
import type { WordEvent } from "@brainorg/neuro";

/**
 * The `space-` label of the derivatives: Narratives' (and the BIDS
 * scanner's default) fMRIPrep space. The grid itself is the atlases' 4 mm
 * MNI152 grid (FSL's MNI152NLin6 brain mask), a few mm from 2009cAsym at
 * most; brainorg relates images by their affines, never by this label.
 */
export const PHANTOM_BIDS_SPACE = "MNI152NLin2009cAsym";
/** The grid's voxel size (mm) as fMRIPrep's `res-` entity. */
export const PHANTOM_BIDS_RES = 4;

/** `sub-01`, `sub-02`, … */
export function subjectId(s: number): string {
  return `sub-${String(s + 1).padStart(2, "0")}`;
}

/**
 * The files of one subject's run of one task, raw and derived, relative to
 * the dataset's root.
 */
export function runFiles(subject: string, task: string): {
  rawBold: string;
  events: string;
  preproc: string;
  preprocJson: string;
  mask: string;
  confounds: string;
  confoundsJson: string;
} {
  const raw = `${subject}/func/${subject}_task-${task}`;
  const der = `derivatives/fmriprep/${subject}/func/${subject}_task-${task}`;
  const space = `space-${PHANTOM_BIDS_SPACE}_res-${PHANTOM_BIDS_RES}`;
  return {
    rawBold: `${raw}_bold.nii.gz`,
    events: `${raw}_events.tsv`,
    preproc: `${der}_${space}_desc-preproc_bold.nii.gz`,
    preprocJson: `${der}_${space}_desc-preproc_bold.json`,
    mask: `${der}_${space}_desc-brain_mask.nii.gz`,
    confounds: `${der}_desc-confounds_timeseries.tsv`,
    confoundsJson: `${der}_desc-confounds_timeseries.json`,
  };
}

/** Where the truth lives: a derivative dataset of its own, beside fMRIPrep's. */
export const TRUTH_DIR = "derivatives/brainorg-phantom";

/** A number as Gentle and BIDS tables print it: at most 3 decimals. */
function fixed(x: number): string {
  return String(Math.round(x * 1000) / 1000);
}

/** Gentle's lower-cased, punctuation-free form of a word. */
function alignedForm(word: string): string {
  return word.toLowerCase().replace(/[^\p{L}\p{N}']/gu, "");
}

/**
 * Write a story's words as Gentle does, in `stimuli/gentle/<task>/`:
 * `transcript.txt` (the words separated by spaces) and `align.csv` (rows
 * `word,alignedWord,start,end`, no header) or `align.json` (`{transcript,
 * words: [{word, alignedWord, case, start, end, startOffset, endOffset}]}`).
 *
 * @returns the alignment's path
 */
export async function writeGentle(
  root: string,
  task: string,
  words: readonly WordEvent[],
  format: "csv" | "json",
): Promise<string> {
  const dir = join(root, "stimuli", "gentle", task);
  await Deno.mkdir(dir, { recursive: true });
  const transcript = words.map((w) => w.word).join(" ");
  await writeTextFileAtomic(join(dir, "transcript.txt"), transcript + "\n");
  const path = join(dir, `align.${format}`);
  if (format === "csv") {
    const cell = (s: string) => /[",\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
    const rows = words.map((w) =>
      [cell(w.word), cell(alignedForm(w.word)), fixed(w.onset), fixed(w.offset)].join(",")
    );
    await writeTextFileAtomic(path, rows.join("\n") + "\n");
  } else {
    let at = 0;
    const list = words.map((w) => {
      const start = at;
      at += w.word.length + 1;
      return {
        alignedWord: alignedForm(w.word),
        case: "success",
        end: Number(fixed(w.offset)),
        endOffset: start + w.word.length,
        start: Number(fixed(w.onset)),
        startOffset: start,
        word: w.word,
      };
    });
    await writeJsonAtomic(path, { transcript, words: list });
  }
  return path;
}

/** A TSV file from a header and rows. */
export async function writeTsv(
  path: string,
  header: readonly string[],
  rows: readonly (readonly (string | number)[])[],
): Promise<void> {
  const lines = [header.join("\t"), ...rows.map((r) => r.join("\t"))];
  await writeTextFileAtomic(path, lines.join("\n") + "\n");
}

/** One story's timing in the dataset. */
export interface StoryTiming {
  /** The BIDS task. */
  task: string;
  /** Scanner time (s) at which the audio starts. */
  stimulusOffset: number;
  /** The audio's length, s (the last word's end). */
  duration: number;
  /** Volumes acquired (all kept). */
  volumes: number;
}

/** `events.tsv` of one run: the story as one event. */
export function writeEvents(path: string, story: StoryTiming): Promise<void> {
  return writeTsv(path, ["onset", "duration", "trial_type", "stim_file"], [[
    fixed(story.stimulusOffset),
    fixed(story.duration),
    "story",
    `gentle/${story.task}/transcript.txt`,
  ]]);
}

/**
 * The dataset's descriptions, top-level sidecars, participants and README;
 * the derivative folders' descriptions.
 */
export async function writeDescriptions(
  root: string,
  options: { subjects: number; stories: StoryTiming[]; tr: number; seed: number },
): Promise<void> {
  const generatedBy = [{
    Name: "brainorg phantom",
    Version: BRAINORG_VERSION,
    Description: "deno task phantom --bids: a simulated dataset whose truth is known",
  }];
  await writeJsonAtomic(join(root, "dataset_description.json"), {
    Name: "mini-Narratives (brainorg phantom)",
    BIDSVersion: "1.8.0",
    DatasetType: "raw",
    License: "CC-BY-4.0",
    GeneratedBy: generatedBy,
    HowToAcknowledge: "Word timings: Brennan et al. 2016 (Alice, CC-BY 4.0) and " +
      "neuranna/le-petit-prince (MIT). The BOLD data are simulated.",
  });
  await writeTextFileAtomic(
    join(root, "README"),
    [
      "mini-Narratives (brainorg phantom)",
      "",
      "A simulated dataset laid out as the Narratives collection is (Nastase et al. 2021):",
      `${options.subjects} subjects each heard ${options.stories.length} stories, one scanner ` +
      `run per story (TR ${options.tr} s): ` +
      options.stories.map((s) =>
        `${s.task} (${s.volumes} volumes, audio from ${s.stimulusOffset} s)`
      )
        .join(", ") +
      ".",
      "",
      "- stimuli/gentle/<task>/: the words and their timings as Gentle alignments.",
      "- sub-*/func/*_bold.nii.gz: STAND-INS, 2x2x2 voxels with the right number of volumes and",
      "  TR; they hold no brain data. The data are the derivatives.",
      "- derivatives/fmriprep/: preprocessed BOLD, the brain mask and confounds with fMRIPrep's",
      `  names and columns. Labelled space-${PHANTOM_BIDS_SPACE}_res-${PHANTOM_BIDS_RES}, the grid is`,
      "  the 4 mm MNI152 grid of the atlases brainorg ships (FSL's MNI152NLin6 brain mask).",
      "- derivatives/brainorg-phantom/truth.json: what was planted (atom -> network links of",
      "  stories260K's atoms) and a speech-locked head-motion artefact that confound regression",
      "  must remove.",
      "",
      `Generated by brainorg ${BRAINORG_VERSION} (deno task phantom --bids), seed ${options.seed}.`,
      "",
    ].join("\n"),
  );
  await writeTsv(
    join(root, "participants.tsv"),
    ["participant_id"],
    Array.from({ length: options.subjects }, (_, s) => [subjectId(s)]),
  );
  for (const story of options.stories) {
    await writeJsonAtomic(join(root, `task-${story.task}_bold.json`), {
      TaskName: story.task,
      RepetitionTime: options.tr,
      // The stand-ins' two slices, acquired in order (the validator asks for it).
      SliceTiming: [0, options.tr / 2],
    });
  }
  await Deno.mkdir(join(root, "derivatives", "fmriprep"), { recursive: true });
  await writeJsonAtomic(join(root, "derivatives", "fmriprep", "dataset_description.json"), {
    Name: "fMRIPrep-style derivatives of mini-Narratives (brainorg phantom)",
    BIDSVersion: "1.8.0",
    DatasetType: "derivative",
    GeneratedBy: generatedBy,
    SourceDatasets: [{ URL: "../../" }],
  });
  await Deno.mkdir(join(root, TRUTH_DIR), { recursive: true });
  await writeJsonAtomic(join(root, TRUTH_DIR, "dataset_description.json"), {
    Name: "The truth of mini-Narratives (brainorg phantom)",
    BIDSVersion: "1.8.0",
    DatasetType: "derivative",
    GeneratedBy: generatedBy,
    SourceDatasets: [{ URL: "../../" }],
  });
}
