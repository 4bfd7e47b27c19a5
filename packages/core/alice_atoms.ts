/**
 * Steps 1–4 on the Alice story for the built-in model: the stimulus on the
 * TR grid, and stories260K's atoms and its random-weights control's (see
 * `capture_atoms.ts`). Shared by the demo and the phantom generator, which
 * plants these atoms.
 *
 * @module
 */

import { resolveDataFile, type ResolveOptions } from "@brainorg/datasets";
import type { Backend } from "@brainorg/kernels";
import { buildWordDesign, readTranscript, type Transcript, type WordDesign } from "@brainorg/neuro";
import { ALICE_TEXTGRID, ALICE_TIMING } from "./alice.ts";
import {
  type CaptureAtomsOptions,
  type CapturedModel,
  captureModelAtoms,
} from "./capture_atoms.ts";

/** The Alice stimulus on the scanner's grid. */
export interface AliceStimulus {
  path: string;
  transcript: Transcript;
  design: WordDesign;
  /** Silence marks dropped from the TextGrid. */
  dropped: number;
}

/** Read the Alice TextGrid and build its words → volumes design (SPM HRF). */
export async function aliceStimulus(data: ResolveOptions = {}): Promise<AliceStimulus> {
  const textgrid = await resolveDataFile(ALICE_TEXTGRID, data);
  const transcript = await readTranscript(textgrid.path);
  const design = buildWordDesign(transcript, {
    tr: ALICE_TIMING.tr,
    runs: [{ volumes: ALICE_TIMING.volumes, discarded: ALICE_TIMING.discarded }],
  });
  return {
    path: textgrid.path,
    transcript,
    design,
    dropped: transcript.dropped.reduce((s, d) => s + d.count, 0),
  };
}

/**
 * Atoms of stories260K and of its random-weights control (seeded) on the
 * Alice story.
 */
export async function aliceModelAtoms(
  backend: Backend,
  stimulus: AliceStimulus,
  options: CaptureAtomsOptions = {},
): Promise<{ modelPath: string; modelSha256: string; models: CapturedModel[] }> {
  const modelFile = await resolveDataFile("models/stories260K.gguf", options.data ?? {});
  const models = await captureModelAtoms(backend, stimulus, [{
    name: "stories260K",
    gguf: modelFile.path,
    sha256: modelFile.entry.sha256,
  }], options);
  return { modelPath: modelFile.path, modelSha256: modelFile.entry.sha256, models };
}
