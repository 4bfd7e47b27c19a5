/**
 * Steps 1–4 on the Alice story for the built-in model: the stimulus on the
 * TR grid, stories260K and its random-weights control captured word by word
 * (cached), AN time series and their atoms. Shared by the demo and the
 * phantom generator, which plants these atoms.
 *
 * @module
 */

import { join } from "node:path";
import { cacheDirFor, resolveDataFile, type ResolveOptions } from "@brainorg/datasets";
import type { Backend } from "@brainorg/kernels";
import { sha256File } from "@brainorg/common";
import {
  cachedCapture,
  captureWords,
  createTokenizer,
  type LlamaModel,
  randomizeWeights,
  readGgufLlama,
} from "@brainorg/models";
import { buildWordDesign, readTranscript, type Transcript, type WordDesign } from "@brainorg/neuro";
import { ALICE_TEXTGRID, ALICE_TIMING } from "./alice.ts";
import { anTimeSeries, learnModelAtoms, type ModelAtoms } from "./model_atoms.ts";

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

/** One model's atoms on the Alice story. */
export interface AliceModelAtoms {
  name: string;
  source: string;
  layers: number;
  ans: number;
  deadAns: number;
  atoms: ModelAtoms;
  /** Per atom, its sub-group's AN count per layer (K × layers). */
  layerCounts: number[][];
}

/** Options of {@linkcode aliceModelAtoms}. */
export interface AliceAtomsOptions {
  data?: ResolveOptions;
  /** Atoms per model. Default: 16. */
  atoms?: number;
  /** Share of non-zero codes the sparsity is calibrated to. Default: 0.2. */
  targetDensity?: number;
  seed?: number;
  log?: (line: string) => void;
}

/** A GGUF model to capture, and whether to add its random-weights control. */
export interface GgufModelSpec {
  name: string;
  path: string;
  /** The file's SHA-256 (the activation cache key); computed when absent. */
  sha256?: string;
  /** Also analyse the same architecture with random weights (seeded). Default: true. */
  randomControl?: boolean;
}

/**
 * Atoms of GGUF models (and their random-weights controls) on a story:
 * capture (cached), AN time series on the TR grid, dictionary learning.
 */
export async function ggufModelAtoms(
  backend: Backend,
  stimulus: { transcript: Transcript; design: WordDesign },
  specs: GgufModelSpec[],
  options: AliceAtomsOptions = {},
): Promise<AliceModelAtoms[]> {
  const data = options.data ?? {}, seed = options.seed ?? 0, K = options.atoms ?? 16;
  const log = options.log ?? (() => {});
  const words = stimulus.transcript.words.map((w) => w.word);
  const captureOptions = { context: 64, aggregate: "mean" as const, units: "ffn_down_proj" };
  const models: AliceModelAtoms[] = [];
  for (const spec of specs) {
    const trained = await readGgufLlama(spec.path);
    const tokenizer = createTokenizer(trained.vocab);
    const sha = spec.sha256 ?? await sha256File(spec.path);
    const pairs: [string, LlamaModel, string][] = [[spec.name, trained, sha]];
    if (spec.randomControl ?? true) {
      pairs.push([
        `${spec.name}-random`,
        randomizeWeights(trained, seed + 1),
        `${sha}:random:${seed + 1}`,
      ]);
    }
    for (const [name, model, modelKey] of pairs) {
      const { activations: acts, cached } = await cachedCapture(
        join(cacheDirFor(data), "activations"),
        { model: modelKey, words, options: captureOptions },
        model.config.layers,
        () => captureWords(model, tokenizer, words, captureOptions),
      );
      if (cached) log(`${name}: activations read from the cache`);
      const ts = anTimeSeries(acts.data, acts.units, stimulus.design);
      const layers = model.config.layers;
      const atoms = await learnModelAtoms(backend, ts, (an) => acts.index[an].layer, layers, {
        atoms: K,
        targetDensity: options.targetDensity ?? 0.2,
        passes: 20,
        seed,
      });
      log(
        `${name}: ${acts.units} ANs (${ts.dead} dead), ${K} atoms, code density ` +
          `${atoms.density.toFixed(2)}, reconstruction R² by layer ` +
          atoms.layerR2.map((r) => r.toFixed(2)).join(" "),
      );
      const layerCounts = Array.from(
        { length: K },
        (_, k) =>
          Array.from({ length: layers }, (_, l) => {
            const g = atoms.subgroups[k * layers + l];
            return g.positive + g.negative;
          }),
      );
      models.push({
        name,
        source: model.source,
        layers,
        ans: acts.units,
        deadAns: ts.dead,
        atoms,
        layerCounts,
      });
    }
  }
  return models;
}

/**
 * Atoms of stories260K and of its random-weights control (seeded) on the
 * Alice story.
 */
export async function aliceModelAtoms(
  backend: Backend,
  stimulus: AliceStimulus,
  options: AliceAtomsOptions = {},
): Promise<{ modelPath: string; modelSha256: string; models: AliceModelAtoms[] }> {
  const modelFile = await resolveDataFile("models/stories260K.gguf", options.data ?? {});
  const models = await ggufModelAtoms(backend, stimulus, [{
    name: "stories260K",
    path: modelFile.path,
    sha256: modelFile.entry.sha256,
  }], options);
  return { modelPath: modelFile.path, modelSha256: modelFile.entry.sha256, models };
}
