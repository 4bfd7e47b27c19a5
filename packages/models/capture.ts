/**
 * Artificial-neuron responses per word of a story: every block's FFN
 * `down_proj` units (Sun et al. 2024), from a causal model reading the
 * story left to right, sub-word tokens aggregated per word.
 *
 * @module
 */

import type { LlamaModel } from "./gguf_model.ts";
import { createLlamaSession } from "./llama.ts";
import type { Tokenizer } from "./tokenizer.ts";
import { normalStatsOf, redrawRows, redrawTensor } from "./random_weights.ts";
import { InputError } from "@brainorg/common";

/** Options of {@linkcode captureWords}. */
export interface CaptureOptions {
  /**
   * Words of left context each word is read with, at least: the story is
   * read in windows of this many words, each after re-reading the previous
   * window. Default: 64.
   */
  context?: number;
  /** How a word's tokens become one row: mean (default), first or last token. */
  aggregate?: "mean" | "first" | "last";
  /** Called after each window with (words done, total). */
  onProgress?: (done: number, total: number) => void;
}

/** Word-by-AN responses. */
export interface WordActivations {
  /** (words × ANs), row-major; column `layer * dim + unit`. */
  data: Float32Array;
  /** Words (rows). */
  words: number;
  /** ANs: layers × dim. */
  units: number;
  /** Layer and unit of each column. */
  index: { layer: number; unit: number }[];
  /** Tokens of each word. */
  tokens: number[][];
}

/** The story read in windows: each window's first word, and the words it reads before them. */
export interface CaptureWindows {
  /** Tokens of each word (without BOS). */
  tokens: number[][];
  /** First word each window records. */
  starts: number[];
  /** Words of left context each window re-reads first. */
  context: number;
}

/**
 * Tokenize the words and cut the story into windows, checking that every
 * window fits the model's context.
 *
 * @param model the model whose context bounds a window
 * @param tokenizer the model's tokenizer
 * @param words the story's words in order
 * @param context words of left context per window
 * @returns each word's tokens and each window's first word
 * @throws {InputError} naming the model file and the words of a window
 *   that needs more tokens than the context holds
 */
export function captureWindows(
  model: Pick<LlamaModel, "config" | "source">,
  tokenizer: Tokenizer,
  words: string[],
  context: number,
): CaptureWindows {
  const tokens = words.map((w) => tokenizer.encode(w, { bos: false, word: true }));
  const starts: number[] = [];
  for (let start = 0; start < words.length; start += context) {
    const warm = Math.max(0, start - context), end = Math.min(words.length, start + context);
    const needed = 1 + tokens.slice(warm, end).reduce((s, t) => s + t.length, 0);
    if (needed > model.config.contextLength) {
      throw new InputError("the story's words need more tokens than the model's context", {
        file: model.source,
        field: `words ${warm + 1}–${end} ("${words[warm].slice(0, 20)}" …)`,
        expected: `at most ${model.config.contextLength} tokens (llama.context_length) for a ` +
          `window of ${end - warm} words`,
        found: `${needed} tokens (are some words very long, or in a script the tokenizer ` +
          `spells byte by byte?)`,
      });
    }
    starts.push(start);
  }
  return { tokens, starts, context };
}

/**
 * Record the windows `starts[from … to − 1]`: their words' rows of
 * (words × layers·dim) responses, written into `data` (word w's row at
 * (w − firstWord)·units).
 *
 * @param model the model
 * @param windows from {@linkcode captureWindows}
 * @param range the windows to record, and the word at row 0 of `data`. Default `firstWord`: 0.
 * @param aggregate how a word's tokens become one row
 * @param data the rows to write (zeros on entry for `"mean"`)
 * @param onWindow called after each window with the words it recorded
 */
export function runWindows(
  model: LlamaModel,
  windows: CaptureWindows,
  range: { from: number; to: number; firstWord?: number },
  aggregate: "mean" | "first" | "last",
  data: Float32Array,
  onWindow?: (words: number) => void,
): void {
  const { from, to } = range, first = range.firstWord ?? 0;
  const { tokens, starts, context } = windows;
  const units = model.config.layers * model.config.dim;
  for (let i = from; i < to; i++) {
    const start = starts[i], warm = Math.max(0, start - context);
    const end = Math.min(tokens.length, start + context);
    const session = createLlamaSession(model);
    session.step(model.vocab.bos);
    for (let w = warm; w < end; w++) {
      const row = data.subarray((w - first) * units, (w - first + 1) * units);
      tokens[w].forEach((t, k) => {
        const { ffnOut } = session.step(t);
        if (w < start) return;
        if (aggregate === "mean") {
          for (let u = 0; u < units; u++) row[u] += ffnOut[u] / tokens[w].length;
        } else if (
          (aggregate === "first" && k === 0) || (aggregate === "last" && k === tokens[w].length - 1)
        ) {
          row.set(ffnOut);
        }
      });
    }
    onWindow?.(end - start);
  }
}

/**
 * The activations of a finished capture, checked finite.
 *
 * @param model the model's config and source (for errors)
 * @param windows the capture's windows
 * @param data (words × layers·dim) responses
 * @returns them as {@linkcode WordActivations}
 * @throws {InputError} naming the word and unit of a value that is not finite
 */
export function finished(
  model: Pick<LlamaModel, "config" | "source">,
  windows: CaptureWindows,
  data: Float32Array,
): WordActivations {
  const { layers, dim } = model.config, units = layers * dim, words = windows.tokens.length;
  // Finite weights can still overflow in float32: such units must not reach the solvers.
  for (let i = 0; i < data.length; i++) {
    if (data[i] - data[i] !== 0) {
      throw new InputError("the model's units are not finite on the story", {
        file: model.source,
        field: `unit ${i % units} of word ${Math.floor(i / units) + 1}`,
        expected: "finite activations",
        found: String(data[i]),
      });
    }
  }
  const index = Array.from(
    { length: units },
    (_, c) => ({ layer: Math.floor(c / dim), unit: c % dim }),
  );
  return { data, words, units, index, tokens: windows.tokens };
}

/**
 * Run a story's words through the model and record each AN's response per word.
 *
 * Each word is tokenized with its leading space (SentencePiece's "▁",
 * byte-level BPE's "Ġ"), as it appears in running text; the first word of
 * each window follows BOS.
 *
 * @param model the model to read with
 * @param tokenizer its tokenizer (see {@linkcode createTokenizer})
 * @param words the transcript's words in order
 * @param options left context, aggregation, progress (see {@linkcode CaptureOptions}). Default: 64 words, mean.
 * @returns (words × layers·dim) responses and their (layer, unit) index
 * @throws {InputError} when a window needs more tokens than the model's
 *   context, or a unit is not finite on the story
 *
 * @example
 * ```ts
 * import { captureWords, createTokenizer, readGgufLlama } from "@brainorg/models";
 * const model = await readGgufLlama("stories260K.gguf");
 * const acts = captureWords(model, createTokenizer(model.vocab), ["Once", "upon", "a", "time"]);
 * console.log(acts.words, acts.units); // 4 words × (layers · dim) ANs
 * ```
 */
export function captureWords(
  model: LlamaModel,
  tokenizer: Tokenizer,
  words: string[],
  options: CaptureOptions = {},
): WordActivations {
  const windows = captureWindows(model, tokenizer, words, Math.max(1, options.context ?? 64));
  const data = new Float32Array(words.length * model.config.layers * model.config.dim);
  let done = 0;
  runWindows(
    model,
    windows,
    { from: 0, to: windows.starts.length },
    options.aggregate ?? "mean",
    data,
    (n) => options.onProgress?.(done += n, words.length),
  );
  return finished(model, windows, data);
}

/**
 * {@linkcode captureWords} with the windows shared out among worker
 * threads (each window is read on its own, so the result is the same, bit
 * for bit); in the calling thread when one thread (or one window) is all there is.
 *
 * @param model the model to read with
 * @param tokenizer its tokenizer
 * @param words the transcript's words in order
 * @param options as {@linkcode captureWords}'s, and `threads`: worker threads. Default: the number of cores.
 * @returns the same as {@linkcode captureWords}
 * @throws {InputError} as {@linkcode captureWords}
 * @throws {Error} when a worker fails
 *
 * @example
 * ```ts
 * import { captureWordsParallel, createTokenizer, readGgufLlama } from "@brainorg/models";
 * const model = await readGgufLlama("stories260K.gguf");
 * const words = (await Deno.readTextFile("story.txt")).split(/\s+/).filter(Boolean);
 * const acts = await captureWordsParallel(model, createTokenizer(model.vocab), words, { threads: 2 });
 * ```
 */
export async function captureWordsParallel(
  model: LlamaModel,
  tokenizer: Tokenizer,
  words: string[],
  options: CaptureOptions & { threads?: number } = {},
): Promise<WordActivations> {
  const windows = captureWindows(model, tokenizer, words, Math.max(1, options.context ?? 64));
  const units = model.config.layers * model.config.dim, aggregate = options.aggregate ?? "mean";
  const data = new Float32Array(words.length * units);
  const W = windows.starts.length;
  const threads = Math.min(W, Math.max(1, options.threads ?? navigator.hardwareConcurrency ?? 1));
  let done = 0;
  const progress = (n: number) => options.onProgress?.(done += n, words.length);
  if (threads < 2) {
    runWindows(model, windows, { from: 0, to: W }, aggregate, data, progress);
    return finished(model, windows, data);
  }
  const workers: Worker[] = [];
  try {
    await Promise.all(Array.from({ length: threads }, (_, h) => {
      const from = Math.round((h * W) / threads), to = Math.round(((h + 1) * W) / threads);
      const worker = new Worker(new URL("./capture_worker.ts", import.meta.url), {
        type: "module",
      });
      workers.push(worker);
      return new Promise<void>((resolve, reject) => {
        worker.onmessage = (e: MessageEvent<CaptureReply>) => {
          const m = e.data;
          if ("window" in m) progress(m.window);
          else if ("error" in m) reject(new Error(`capture worker: ${m.error}`));
          else {
            // The worker's rows are exactly its windows' words.
            const w0 = windows.starts[from] * units;
            data.set(m.rows, w0);
            resolve();
          }
        };
        worker.onerror = (e) => {
          e.preventDefault();
          reject(new Error(`capture worker failed: ${e.message}`));
        };
        worker.postMessage({ model, windows, from, to, aggregate } satisfies CaptureTask);
      });
    }));
  } finally {
    for (const w of workers) w.terminate();
  }
  return finished(model, windows, data);
}

/** What a capture worker is sent: the windows `from … to − 1` to record. */
export interface CaptureTask {
  /** The model (structured-cloned into the worker). */
  model: LlamaModel;
  /** Every window of the story. */
  windows: CaptureWindows;
  /** First window to record. */
  from: number;
  /** One past the last window to record. */
  to: number;
  /** How a word's tokens become one row. */
  aggregate: "mean" | "first" | "last";
}

/** A capture worker's messages: progress per window, then its rows, or an error. */
export type CaptureReply = { window: number } | { rows: Float32Array } | { error: string };

/**
 * Normal draws with the mean and standard deviation of `w` (population
 * SD): a weight tensor redrawn for a random-weights control.
 *
 * @param w the weights
 * @param uniform a seeded generator of uniform numbers in [0, 1)
 * @returns new weights, as many as `w`
 */
export function redrawNormal(w: Float32Array, uniform: () => number): Float32Array {
  let m = 0;
  for (const v of w) m += v / w.length;
  let s = 0;
  for (const v of w) s += (v - m) ** 2 / w.length;
  const sd = Math.sqrt(s), out = new Float32Array(w.length);
  for (let i = 0; i < out.length; i++) {
    const u = Math.max(uniform(), 1e-12), v = uniform();
    out[i] = m + sd * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
  return out;
}

/**
 * The same architecture with its weights drawn anew: a standard control in
 * brain–model studies. Each tensor keeps its own mean and standard
 * deviation; RMSNorm gains are kept as they are. Qwen2's q/k/v biases are
 * redrawn by the same rule as the weights: they are learned like them (the
 * key bias's large entries shape attention), and zeroing them would change
 * their moments, which the control keeps. Each tensor is drawn by its own
 * generator (see `random_weights.ts`), so `captureWordsStreamed` with
 * `randomSeed` draws the same weights block by block.
 *
 * @param model the trained model
 * @param seed seed of the draws
 * @returns a new model (the vocabulary and norms shared with `model`), its
 *   `source` saying it was redrawn and with which seed
 *
 * @example
 * ```ts
 * import { randomizeWeights, readGgufLlama } from "@brainorg/models";
 * const trained = await readGgufLlama("stories260K.gguf");
 * const control = randomizeWeights(trained, 0); // same architecture, weights redrawn
 * ```
 */
export function randomizeWeights(model: LlamaModel, seed: number): LlamaModel {
  const redraw = (name: string, w: Float32Array) => redrawTensor(w, seed, name);
  const dim = model.config.dim, rows = model.embedding.length / dim;
  const embedding = redrawRows(
    normalStatsOf(model.embedding),
    dim,
    Array.from({ length: rows }, (_, r) => r),
    seed,
  );
  const bias = (name: string, b: Float32Array | undefined) => b && redraw(name, b);
  return {
    ...model,
    embedding,
    output: model.output === model.embedding ? embedding : redraw("output.weight", model.output),
    layers: model.layers.map((l, i) => {
      const layer = {
        ...l,
        wq: redraw(`blk.${i}.attn_q.weight`, l.wq),
        wk: redraw(`blk.${i}.attn_k.weight`, l.wk),
        wv: redraw(`blk.${i}.attn_v.weight`, l.wv),
        wo: redraw(`blk.${i}.attn_output.weight`, l.wo),
        gate: redraw(`blk.${i}.ffn_gate.weight`, l.gate),
        up: redraw(`blk.${i}.ffn_up.weight`, l.up),
        down: redraw(`blk.${i}.ffn_down.weight`, l.down),
      };
      const bq = bias(`blk.${i}.attn_q.bias`, l.bq);
      const bk = bias(`blk.${i}.attn_k.bias`, l.bk);
      const bv = bias(`blk.${i}.attn_v.bias`, l.bv);
      return { ...layer, ...(bq ? { bq } : {}), ...(bk ? { bk } : {}), ...(bv ? { bv } : {}) };
    }),
    source: `${model.source} (weights redrawn, seed ${seed})`,
  };
}
