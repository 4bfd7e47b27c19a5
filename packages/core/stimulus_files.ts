/**
 * The stimulus tables of a results folder: the words with their timing,
 * and the TR grid (with the word rate where it is known).
 *
 * @module
 */

import { join } from "node:path";
import { writeTextFileAtomic } from "@brainorg/common";
import type { Transcript, WordDesign } from "@brainorg/neuro";
import { toCsv } from "./csv.ts";

/** Write `stimulus/words.csv` and `stimulus/word_rate.csv` under `dir`. */
export async function writeStimulusTables(
  dir: string,
  transcript: Transcript,
  design: WordDesign,
  wordRate?: ArrayLike<number>,
): Promise<void> {
  await writeTextFileAtomic(
    join(dir, "stimulus", "words.csv"),
    toCsv(["word", "onset", "offset", "run"], transcript.words),
  );
  const rows = Array.from(design.volumeTime, (time, volume) => ({
    volume,
    time,
    word_rate: wordRate ? wordRate[volume] : NaN,
  }));
  await writeTextFileAtomic(
    join(dir, "stimulus", "word_rate.csv"),
    toCsv(wordRate ? ["volume", "time", "word_rate"] : ["volume", "time"], rows),
  );
}
