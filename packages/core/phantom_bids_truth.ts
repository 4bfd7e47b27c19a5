/**
 * What a BIDS phantom (`deno task phantom --bids`) planted, as written to
 * `derivatives/brainorg-phantom/truth.json`, and its reader: apart from the
 * generator, so that an analysis can score a phantom dataset's links
 * without loading the generator.
 *
 * @module
 */

import { join } from "node:path";
import { InputError } from "@brainorg/common";
import { TRUTH_DIR } from "./_phantom_bids_layout.ts";
import type { PhantomTruth } from "./phantom.ts";

/** One story as shipped in the dataset. */
export interface PhantomBidsStory {
  /** The BIDS task. */
  task: string;
  /** Scanner time (s) at which the audio starts (the event's onset). */
  stimulusOffset: number;
  /** The audio's length, s (the last word's end). */
  duration: number;
  /** Volumes acquired, all kept. */
  volumes: number;
  /** The reference transcript it was made from (`data:` path). */
  source: string;
  /** Its alignment in the dataset, relative to the root. */
  transcript: string;
  /** Words aligned. */
  words: number;
  /** Its rows in the atoms (and in a subject's stories end to end): `[start, end)`. */
  rows: [number, number];
}

/** The speech-locked head-motion artefact. */
export interface PhantomBidsArtefact {
  /** Index into the truth's networks of the network it drives (no atom drives it). */
  network: number;
  /** That network's name. */
  networkName: string;
  /** The confounds columns that carry it: the BOLD artefact is a combination of them. */
  confoundColumns: string[];
  /** Correlation of the artefact series with the word rate, over subjects and runs (mean). */
  correlationWithWordRate: number;
  /** The same per subject and story (subjects × stories). */
  correlationBySubject: number[][];
  /** Median share of the artefact in the network's voxels' variance (the target). */
  r2: number;
  /** The atom most correlated with the word rate (driven by no link): the spurious link's atom. */
  rateAtom: number;
  /** How it was made, in words. */
  description: string;
}

/** What was planted, as written to `derivatives/brainorg-phantom/truth.json`. */
export type PhantomBidsTruth = Omit<PhantomTruth, "schema"> & {
  /** The version of this record's shape. */
  schema: "brainorg.phantom-bids/1";
  /** Template space, voxel size (mm) and the networks' atlas. */
  space: { name: string; resolution: number; templates: string };
  /** Repetition time, s. */
  tr: number;
  /** The model and dictionary learning's settings (the pipeline's). */
  model: { name: string; atoms: number; targetDensity: number; seed: number };
  /** The stories, in the order their rows follow. */
  stories: PhantomBidsStory[];
  /** Each atom's correlation with the word rate over all rows (K). */
  atomRateCorrelation: number[];
  /** The speech-locked motion artefact. */
  artefact: PhantomBidsArtefact;
};

/** The schema tag of {@linkcode PhantomBidsTruth}. */
export const PHANTOM_BIDS_SCHEMA = "brainorg.phantom-bids/1";

/** The truth file's path in a phantom dataset. */
export function phantomBidsTruthPath(dir: string): string {
  return join(dir, TRUTH_DIR, "truth.json");
}

/**
 * Read a phantom dataset's truth.
 *
 * @throws {InputError} when the file is missing or not a phantom's truth
 */
export async function readPhantomBidsTruth(dir: string): Promise<PhantomBidsTruth> {
  const file = phantomBidsTruthPath(dir);
  let truth: unknown;
  try {
    truth = JSON.parse(await Deno.readTextFile(file));
  } catch (err) {
    throw new InputError("unreadable phantom truth", {
      file,
      field: "(the whole file)",
      expected: "JSON written by deno task phantom --bids",
      found: (err as Error).message,
      cause: err,
    });
  }
  const schema = (truth as { schema?: unknown })?.schema;
  if (schema !== PHANTOM_BIDS_SCHEMA) {
    throw new InputError("not a BIDS phantom's truth", {
      file,
      field: "schema",
      expected: JSON.stringify(PHANTOM_BIDS_SCHEMA),
      found: JSON.stringify(schema),
    });
  }
  return truth as PhantomBidsTruth;
}
