/**
 * Steps 2–4 for any model: capture (cached; GGUF through the TypeScript
 * forward pass or onnxruntime, Hugging Face layout folders through
 * onnxruntime), AN time series on the TR grid, dictionary learning; each
 * model with its random-weights control.
 *
 * @module
 */

import { join } from "node:path";
import { cacheDirFor, readEnv, type ResolveOptions } from "@brainorg/datasets";
import type { Backend } from "@brainorg/kernels";
import {
  checkCacheEntry,
  createProgress,
  InputError,
  sha256File,
  writeCacheEntry,
} from "@brainorg/common";
import {
  cachedCapture,
  cachedCaptureStream,
  captureGgufWords,
  captureWordsFramed,
  openHfModel,
  RANDOM_WEIGHTS_RULE,
  readGgufLlama,
  readGgufLlamaHeader,
  resolveHfModel,
  type RowSink,
  type UnitKind,
  type WordActivations,
  writeHfLlama,
} from "@brainorg/models";
import type { Transcript, WordDesign } from "@brainorg/neuro";
import { anTimeSeries, learnModelAtoms, type ModelAtoms } from "./model_atoms.ts";
import { type AtomStability, atomStability } from "./stability.ts";
import { atomsKey, cachedLearnedAtoms } from "./atoms_cache.ts";

/** One model's atoms on a story. */
export interface CapturedModel {
  /** The model's name as in the analysis; controls end in `-random`. */
  name: string;
  /** Where the model came from, in words (file, folder, engine, redrawn weights' seed). */
  source: string;
  /** Transformer blocks, one recorded tensor each. */
  layers: number;
  /** ANs recorded, over all layers. */
  ans: number;
  /** ANs dropped because their time series on the TR grid is constant. */
  deadAns: number;
  /** The atoms learned from the kept ANs. */
  atoms: ModelAtoms;
  /** Per atom, its sub-group's AN count per layer (K × layers). */
  layerCounts: number[][];
  /** What was captured, for provenance: the cache key (model hash), tensors, settings. */
  captured: { key: string; tensors: string; context: number; aggregate: string };
  /** Each atom's stability, where `CaptureAtomsOptions.stability` asked for it. */
  stability?: AtomStability;
}

/** Options of {@linkcode captureModelAtoms}. */
export interface CaptureAtomsOptions {
  /** Where cached activations and downloaded models live, and whether downloads are allowed. */
  data?: ResolveOptions;
  /** Atoms per model. Default: 16. */
  atoms?: number;
  /** Share of non-zero codes the sparsity is calibrated to. Default: 0.2. */
  targetDensity?: number;
  /** The sparsity penalty itself (scikit-learn's scaling), instead of calibrating it. */
  alpha?: number;
  /** Seed of dictionary learning and of the random-weights controls (`seed + 1`). Default: 0. */
  seed?: number;
  /** Lines of the run's narrative (e.g. activations read from the cache). Default: none. */
  log?: (line: string) => void;
  /** No progress bars. Default: true. */
  quiet?: boolean;
  /**
   * Also each atom's stability (`atomStability`): fits with `seeds` other
   * seeds, and on the halves (each story of `spans`, volumes per story).
   * Default: none.
   */
  stability?: { seeds: number; halves: boolean; spans?: number[] };
}

/**
 * A model to capture: a GGUF Llama file (run by the TypeScript forward
 * pass, or converted to the Hugging Face layout and run by onnxruntime with
 * `engine: "onnx"`), or a folder in the Hugging Face layout.
 */
export interface ModelSpec {
  /** The model's name in the results (its control gets `-random` appended). */
  name: string;
  /** A GGUF Llama file. */
  gguf?: string;
  /** A folder, or `hf:owner/name[@revision]` fetched from the Hub into the cache once. */
  hf?: string;
  /** For `gguf`: the TypeScript forward pass (default) or onnxruntime. */
  engine?: "typescript" | "onnx";
  /** The GGUF file's SHA-256 (the activation cache key); computed when absent. */
  sha256?: string;
  /** Which units of an ONNX model. Default: the FFN second linear layer. */
  units?: UnitKind;
  /** Tensors to record, one per layer, for graphs whose names no known pattern matches. */
  tensors?: string[];
  /** Also analyse the same architecture with random weights (seeded). Default: true. */
  randomControl?: boolean;
  /**
   * For `gguf` with the TypeScript forward pass: read the weights block by
   * block from the file (`true`), whole into memory (`false`), or streamed
   * when in memory they would take more than half the machine's memory
   * (`"auto"`, see `captureGgufWords`). The activations are the same either way. Default: `"auto"`.
   */
  streamed?: "auto" | boolean;
  /** Bytes the in-memory path may take (see `captureGgufWords`). Default: half the machine's memory. */
  memoryBudget?: number;
}

/** One model (or control) ready to capture. */
interface Capturable {
  name: string;
  source: string;
  key: string;
  /** Which tensors: `ffn_down_proj` or the graph tensors exposed. */
  tensors: string;
  layers: number;
  capture: (
    words: string[],
    onProgress: (done: number, total: number) => void,
    log?: (line: string) => void,
  ) => Promise<WordActivations>;
  /** Rows streamed to disk as windows finish (large models); returns the words' tokens. */
  stream?: (
    words: string[],
    sink: RowSink,
    onProgress: (done: number, total: number) => void,
  ) => Promise<{ tokens: number[][] }>;
}

const CONTEXT = 64;

/**
 * A model's random-weights control: its name in the results and the seed its
 * weights are redrawn with (the analysis's seed + 1). Every stage that
 * rebuilds the control (capture, ablation) draws it by this one rule.
 */
export function randomControl(name: string, seed: number): { name: string; seed: number } {
  return { name: `${name}-random`, seed: seed + 1 };
}

/** The models of a spec (and its control) as things to capture. */
async function capturables(
  spec: ModelSpec,
  seed: number,
  data: ResolveOptions,
  threads?: number,
): Promise<Capturable[]> {
  const options = { context: CONTEXT, aggregate: "mean" as const };
  const control = spec.randomControl ?? true;
  if (spec.gguf && (spec.engine ?? "typescript") === "typescript") {
    const path = spec.gguf, header = await readGgufLlamaHeader(path);
    const sha = spec.sha256 ?? await sha256File(path);
    // The trained model's key is the in-memory path's as before: streamed
    // activations equal them within float32 rounding (1e-5), so either path
    // may reuse the other's. The control's key names its draw rule: the
    // per-tensor draws (the same weights in both paths) replaced one
    // sequence over the whole model, whose cached activations must not be reused.
    const variants: [string, number | undefined, string][] = [[spec.name, undefined, sha]];
    if (control) {
      const c = randomControl(spec.name, seed);
      variants.push([c.name, c.seed, `${sha}:random:${RANDOM_WEIGHTS_RULE}:${c.seed}`]);
    }
    return variants.map(([name, randomSeed, key]) => ({
      name,
      source: randomSeed === undefined
        ? header.source
        : `${header.source} (weights redrawn, seed ${randomSeed})`,
      key: `${key}:ffn_down_proj`,
      tensors: "ffn_down_proj (TypeScript forward pass)",
      layers: header.config.layers,
      capture: async (words, onProgress, log) => {
        const got = await captureGgufWords(path, words, {
          ...options,
          onProgress,
          streamed: spec.streamed ?? "auto",
          ...(spec.memoryBudget !== undefined ? { memoryBudget: spec.memoryBudget } : {}),
          ...(randomSeed !== undefined ? { randomSeed } : {}),
          ...(threads ? { threads } : {}),
        });
        log?.(
          `${name}: ${got.streamed ? "weights streamed block by block" : "weights in memory"}` +
            ` (${got.reason})`,
        );
        return got.activations;
      },
    }));
  }
  let dir = spec.hf && (await resolveHfModel(spec.hf, {
    cacheDir: cacheDirFor(data),
    download: data.download ?? readEnv("BRAINORG_OFFLINE") !== "1",
  })).dir;
  if (spec.gguf) {
    // Converted once per file, kept as a cache entry. Sizes only: opening
    // the model hashes the graph anyway, and a changed graph is another key.
    const sha = spec.sha256 ?? await sha256File(spec.gguf);
    dir = join(cacheDirFor(data), "models", sha.slice(0, 32));
    const found = await checkCacheEntry(dir, { hashes: false });
    if (found.state !== "whole") {
      const model = await readGgufLlama(spec.gguf);
      await writeCacheEntry(dir, (tmp) => writeHfLlama(tmp, model), {
        replace: found.state === "damaged",
      });
    }
  }
  if (!dir) {
    throw new InputError("a model needs a file", {
      field: `model ${spec.name}`,
      expected: "gguf or hf",
      found: "neither",
    });
  }
  const open = {
    ...(spec.units ? { kind: spec.units } : {}),
    ...(spec.tensors ? { tensors: spec.tensors } : {}),
  };
  const seeds: (number | undefined)[] = control
    ? [undefined, randomControl(spec.name, seed).seed]
    : [undefined];
  const out: Capturable[] = [];
  for (const randomSeed of seeds) {
    const hf = await openHfModel(dir, {
      ...open,
      ...(randomSeed !== undefined ? { randomSeed } : {}),
    });
    out.push({
      name: randomSeed === undefined ? spec.name : randomControl(spec.name, seed).name,
      source: `${dir} (onnxruntime${
        randomSeed === undefined ? "" : `, weights redrawn, seed ${randomSeed}`
      })`,
      key: `${hf.sha256}:${spec.units ?? "ffn_out"}:${(spec.tensors ?? []).join(",")}`,
      tensors: hf.onnx.tensors.map((t) => t.tensor).join(" "),
      layers: hf.layers,
      capture: (words, onProgress) =>
        captureWordsFramed(hf.onnx, hf.tokenizeWord, hf.frame, words, { ...options, onProgress }),
      stream: (words, sink, onProgress) =>
        captureWordsFramed(hf.onnx, hf.tokenizeWord, hf.frame, words, {
          ...options,
          onProgress,
          sink,
        }),
    });
  }
  return out;
}

/**
 * The words of each story, in order: the stimulus's runs grouped by their
 * `story` (all runs one story where none is named).
 */
function storyWords(stimulus: { transcript: Transcript; runStories?: string[] }): string[][] {
  const of = stimulus.runStories;
  const out = new Map<string, string[]>();
  for (const w of stimulus.transcript.words) {
    const story = of?.[w.run] ?? "";
    if (!out.has(story)) out.set(story, []);
    out.get(story)!.push(w.word);
  }
  return [...out.values()];
}

/** Captures of consecutive word ranges as one (words × ANs). */
function concatActivations(parts: WordActivations[]): WordActivations {
  if (parts.length === 1) return parts[0];
  const units = parts[0].units, words = parts.reduce((n, p) => n + p.words, 0);
  const data = new Float32Array(words * units);
  let at = 0;
  for (const p of parts) {
    data.set(p.data, at);
    at += p.data.length;
  }
  return { data, words, units, index: parts[0].index, tokens: parts.flatMap((p) => p.tokens) };
}

/**
 * Atoms of models (and their random-weights controls) on a story: capture
 * (cached), AN time series on the TR grid, dictionary learning.
 */
export async function captureModelAtoms(
  backend: Backend,
  stimulus: { transcript: Transcript; design: WordDesign; runStories?: string[] },
  specs: ModelSpec[],
  options: CaptureAtomsOptions = {},
): Promise<CapturedModel[]> {
  const data = options.data ?? {}, seed = options.seed ?? 0, K = options.atoms ?? 16;
  const log = options.log ?? (() => {});
  const words = stimulus.transcript.words.map((w) => w.word);
  const stories = storyWords(stimulus);
  const models: CapturedModel[] = [];
  for (const spec of specs) {
    const threads = backend.info.details.threads;
    const captureThreads = typeof threads === "number" ? threads : undefined;
    for (const c of await capturables(spec, seed, data, captureThreads)) {
      const bar = createProgress({
        label: `${c.name} capture`,
        total: words.length,
        quiet: options.quiet ?? true,
      });
      let last = 0, before = 0;
      const onProgress = (done: number) => {
        bar.tick(before + done - last);
        last = before + done;
      };
      const dir = join(cacheDirFor(data), "activations");
      const stream = c.stream;
      // Each story is read on its own, as a listener heard it: no context
      // flows from one story into the next. One story keeps its cache key.
      const parts: WordActivations[] = [];
      let cached = true;
      for (const part of stories) {
        const key = {
          model: c.key,
          words: part,
          options: { context: CONTEXT, aggregate: "mean" },
        };
        const got = stream
          ? await cachedCaptureStream(dir, key, c.layers, (sink) => stream(part, sink, onProgress))
          : await cachedCapture(dir, key, c.layers, () => c.capture(part, onProgress, log));
        before += part.length;
        last = before;
        parts.push(got.activations);
        cached &&= got.cached;
      }
      if (!cached) bar.done();
      const acts = concatActivations(parts);
      if (cached) log(`${c.name}: activations read from the cache`);
      const name = c.name, layers = c.layers;
      const ts = anTimeSeries(acts.data, acts.units, stimulus.design);
      const learn = {
        atoms: K,
        ...(options.alpha !== undefined
          ? { alpha: options.alpha }
          : { targetDensity: options.targetDensity ?? 0.2 }),
        passes: 20,
        seed,
      };
      const layerOf = (an: number) => acts.index[an].layer;
      const stabilityOptions = options.stability && {
        seeds: options.stability.seeds,
        halves: options.stability.halves,
        ...(options.stability.spans ? { spans: options.stability.spans } : {}),
      };
      const began = performance.now();
      const learned = await cachedLearnedAtoms(
        cacheDirFor(data),
        atomsKey(ts, layerOf, { learn, layers, stability: stabilityOptions ?? null }),
        async () => {
          const atoms = await learnModelAtoms(backend, ts, layerOf, layers, learn);
          const stability = stabilityOptions &&
            await atomStability(backend, ts.series, {
              reference: atoms.atoms,
              learn,
              ...stabilityOptions,
            });
          return { atoms, ...(stability ? { stability } : {}) };
        },
        { warn: log },
      );
      const { atoms, stability } = learned;
      const seconds = ((performance.now() - began) / 1000).toFixed(1);
      log(
        `${name}: ${acts.units} ANs (${ts.dead} dead), ${K} atoms, code density ` +
          `${atoms.density.toFixed(2)}, reconstruction R² by layer ` +
          atoms.layerR2.map((r) => r.toFixed(2)).join(" ") +
          (learned.cached ? " (atoms read from the cache)" : ` (learned in ${seconds} s)`),
      );
      if (stability) {
        log(
          `${name}: atom stability (median |r| of matches over ${stability.fits.length} fits) ` +
            `median ${stability.median.toFixed(2)}, range ` +
            `${Math.min(...stability.atoms.map((a) => a.stability)).toFixed(2)}–` +
            `${Math.max(...stability.atoms.map((a) => a.stability)).toFixed(2)}`,
        );
      }
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
        source: c.source,
        layers,
        ans: acts.units,
        deadAns: ts.dead,
        atoms,
        layerCounts,
        captured: { key: c.key, tensors: c.tensors, context: CONTEXT, aggregate: "mean" },
        ...(stability ? { stability } : {}),
      });
    }
  }
  return models;
}
