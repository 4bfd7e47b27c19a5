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
import { rng } from "@brainorg/kernels";

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
  words: number;
  /** ANs: layers × dim. */
  units: number;
  /** Layer and unit of each column. */
  index: { layer: number; unit: number }[];
  /** Tokens of each word. */
  tokens: number[][];
}

/**
 * Run a story's words through the model and record each AN's response per word.
 *
 * Each word is tokenized with its leading space (SentencePiece's "▁"), as
 * it appears in running text; the first word of each window follows BOS.
 *
 * @param words the transcript's words in order
 * @returns (words × layers·dim) responses and their (layer, unit) index
 */
export function captureWords(
  model: LlamaModel,
  tokenizer: Tokenizer,
  words: string[],
  options: CaptureOptions = {},
): WordActivations {
  const { layers, dim } = model.config;
  const context = Math.max(1, options.context ?? 64);
  const aggregate = options.aggregate ?? "mean";
  const units = layers * dim;
  const data = new Float32Array(words.length * units);
  const tokens = words.map((w) => tokenizer.encode(w, { bos: false }));
  for (let start = 0; start < words.length; start += context) {
    const warm = Math.max(0, start - context), end = Math.min(words.length, start + context);
    const needed = 1 + tokens.slice(warm, end).reduce((s, t) => s + t.length, 0);
    if (needed > model.config.contextLength) {
      throw new RangeError(
        `a window of ${2 * context} words needs ${needed} tokens, more than the model's ` +
          `${model.config.contextLength}: use a smaller context`,
      );
    }
    const session = createLlamaSession(model);
    session.step(model.vocab.bos);
    for (let w = warm; w < end; w++) {
      const row = data.subarray(w * units, (w + 1) * units);
      tokens[w].forEach((t, i) => {
        const { ffnOut } = session.step(t);
        if (w < start) return;
        if (aggregate === "mean") {
          for (let u = 0; u < units; u++) row[u] += ffnOut[u] / tokens[w].length;
        } else if (
          (aggregate === "first" && i === 0) || (aggregate === "last" && i === tokens[w].length - 1)
        ) {
          row.set(ffnOut);
        }
      });
    }
    options.onProgress?.(end, words.length);
  }
  const index = Array.from(
    { length: units },
    (_, c) => ({ layer: Math.floor(c / dim), unit: c % dim }),
  );
  return { data, words: words.length, units, index, tokens };
}

/**
 * Normal draws with the mean and standard deviation of `w` (population
 * SD): a weight tensor redrawn for a random-weights control.
 *
 * @param uniform a seeded generator of uniform numbers in [0, 1)
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
 * deviation; RMSNorm gains are kept as they are.
 *
 * @param seed seed of the draws
 */
export function randomizeWeights(model: LlamaModel, seed: number): LlamaModel {
  const uniform = rng(seed);
  const redraw = (w: Float32Array) => redrawNormal(w, uniform);
  const embedding = redraw(model.embedding);
  return {
    ...model,
    embedding,
    output: model.output === model.embedding ? embedding : redraw(model.output),
    layers: model.layers.map((l) => ({
      ...l,
      wq: redraw(l.wq),
      wk: redraw(l.wk),
      wv: redraw(l.wv),
      wo: redraw(l.wo),
      gate: redraw(l.gate),
      up: redraw(l.up),
      down: redraw(l.down),
    })),
    source: `${model.source} (weights redrawn, seed ${seed})`,
  };
}
