/**
 * Word capture on onnxruntime-node: an ONNX model with its FFN units
 * exposed as outputs (see `onnx_rewrite.ts`) reads the story in windows,
 * as {@linkcode captureWords} does with the TypeScript forward pass, and
 * returns the same words × ANs matrix.
 *
 * @module
 */

import * as ort from "onnxruntime-node";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { InputError, writeFileAtomic } from "@brainorg/common";
import type { CaptureOptions, WordActivations } from "./capture.ts";
import type { RowSink } from "./activation_cache.ts";
import {
  decodeOnnx,
  type ExposedTensor,
  exposeTensors,
  findUnitTensors,
  type UnitKind,
} from "./onnx_rewrite.ts";

/** A loaded ONNX model whose units are outputs. */
export interface OnnxUnitModel {
  session: ort.InferenceSession;
  tensors: ExposedTensor[];
  /** Longest sequence the model takes (from the caller; e.g. 512 for BERT). */
  maxTokens: number;
  file: string;
}

/** Options of {@linkcode openOnnxUnitModel}. */
export interface OpenOnnxOptions {
  /** Which units. Default: `"ffn_out"`. */
  kind?: UnitKind;
  /** Name the tensors to expose yourself, one per layer in order, instead of finding them. */
  tensors?: string[];
  /** Longest sequence (tokens). Default: 2048. */
  maxTokens?: number;
  /**
   * Keep the rewritten graph here (`onnx/<sha256>.onnx`, keyed by the
   * original's SHA-256 and the tensors exposed) and reuse it. Default: none.
   */
  cacheDir?: string;
}

/**
 * Rewrite a model to expose its units and open it in onnxruntime-node.
 *
 * @param bytes the ONNX model
 * @param file its name, for errors
 */
export async function openOnnxUnitModel(
  bytes: Uint8Array,
  file: string,
  options: OpenOnnxOptions = {},
): Promise<OnnxUnitModel> {
  const kind = options.kind ?? "ffn_out";
  const tensors = options.tensors
    ? options.tensors.map((tensor, layer) => ({ layer, kind, tensor }))
    : findUnitTensors(decodeOnnx(bytes, file), kind, file);
  let rewritten: Uint8Array | undefined;
  const cached = options.cacheDir
    ? join(
      options.cacheDir,
      "onnx",
      createHash("sha256").update(bytes).update(JSON.stringify(tensors)).digest("hex") + ".onnx",
    )
    : undefined;
  if (cached) {
    try {
      rewritten = await Deno.readFile(cached);
    } catch { /* not yet */ }
  }
  if (!rewritten) {
    rewritten = exposeTensors(bytes, tensors, file);
    if (cached) await writeFileAtomic(cached, rewritten);
  }
  const session = await ort.InferenceSession.create(rewritten);
  return { session, tensors, maxTokens: options.maxTokens ?? 2048, file };
}

/** Feeds for a token sequence: input_ids, and the masks and positions the graph asks for. */
function feeds(model: OnnxUnitModel, ids: number[]): Record<string, ort.Tensor> {
  const n = ids.length, out: Record<string, ort.Tensor> = {};
  const long = (f: (i: number) => number) =>
    BigInt64Array.from({ length: n }, (_, i) => BigInt(f(i)));
  for (const name of model.session.inputNames) {
    if (name === "input_ids") out[name] = new ort.Tensor("int64", long((i) => ids[i]), [1, n]);
    else if (name === "attention_mask") out[name] = new ort.Tensor("int64", long(() => 1), [1, n]);
    else if (name === "position_ids") out[name] = new ort.Tensor("int64", long((i) => i), [1, n]);
    else if (name === "token_type_ids") out[name] = new ort.Tensor("int64", long(() => 0), [1, n]);
    else {
      throw new InputError("the model needs an input brainorg does not provide", {
        file: model.file,
        field: `graph input ${name}`,
        expected:
          "input_ids, attention_mask, position_ids, token_type_ids (a model exported without past key values)",
        found: name,
      });
    }
  }
  return out;
}

/** Every exposed tensor for a sequence: per layer, (n × units) row-major. */
export async function runUnits(model: OnnxUnitModel, ids: number[]): Promise<Float32Array[]> {
  const result = await model.session.run(feeds(model, ids), model.tensors.map((t) => t.tensor));
  return model.tensors.map((t) => result[t.tensor].data as Float32Array);
}

/**
 * Windows for a bidirectional encoder: `2·half` words starting every
 * `half` words, and for each word the window where it sits furthest from
 * both edges (the most context on its poorer side).
 *
 * @returns windows as [start, end) word ranges, and each word's window
 */
export function bidirectionalWindows(words: number, half: number): {
  windows: [number, number][];
  windowOf: Int32Array;
} {
  const windows: [number, number][] = [];
  for (let s = 0; s === 0 || s + half < words; s += half) {
    windows.push([s, Math.min(words, s + 2 * half)]);
  }
  const windowOf = new Int32Array(words);
  for (let w = 0; w < words; w++) {
    let best = -1, bestMargin = -1;
    windows.forEach(([s, e], k) => {
      if (w < s || w >= e) return;
      const margin = Math.min(w - s, e - 1 - w);
      if (margin > bestMargin) (best = k), (bestMargin = margin);
    });
    windowOf[w] = best;
  }
  return { windows, windowOf };
}

/** How a window's tokens are framed: special tokens before and after. */
export interface TokenFrame {
  prefix: number[];
  suffix: number[];
  /** Causal models read left to right; bidirectional ones (BERT) use overlapping windows. */
  causal: boolean;
}

/**
 * Run a story's words through an ONNX model and record each exposed unit
 * per word, sub-word tokens aggregated. A causal model reads windows of
 * `context` words, each after re-reading the previous window (every word
 * has at least `context` words of left context); a bidirectional encoder
 * reads windows of 2·`context` words overlapping by half and takes each
 * word from the window where it has the most context on both sides.
 *
 * @param tokenize a word's tokens, with its leading space as in running text
 */
export async function captureWordsFramed(
  model: OnnxUnitModel,
  tokenize: (word: string) => number[],
  frame: TokenFrame,
  words: string[],
  options: CaptureOptions & { sink?: RowSink } = {},
): Promise<WordActivations> {
  const context = Math.max(1, options.context ?? 64), aggregate = options.aggregate ?? "mean";
  const tokens = words.map(tokenize);
  const plan = frame.causal
    ? Array.from({ length: Math.ceil(words.length / context) }, (_, k) => {
      const start = k * context;
      return {
        from: Math.max(0, start - context),
        to: Math.min(words.length, start + context),
        keep: [start, Math.min(words.length, start + context)] as [number, number],
      };
    })
    : (() => {
      const { windows, windowOf } = bidirectionalWindows(words.length, context);
      return windows.map(([s, e], k) => {
        const mine = [...windowOf.keys()].filter((w) => windowOf[w] === k);
        return {
          from: s,
          to: e,
          keep: [mine[0] ?? s, (mine.at(-1) ?? s - 1) + 1] as [number, number],
        };
      });
    })();
  let data: Float32Array | undefined, dims: number[] = [];
  for (const { from, to, keep } of plan) {
    const ids = [...frame.prefix];
    const first: number[] = [];
    for (let w = from; w < to; w++) (first.push(ids.length), ids.push(...tokens[w]));
    ids.push(...frame.suffix);
    if (ids.length > model.maxTokens) {
      throw new RangeError(
        `a window of ${to - from} words needs ${ids.length} tokens, more than the model's ` +
          `${model.maxTokens}: use a smaller context`,
      );
    }
    const layers = await runUnits(model, ids);
    if (!dims.length) dims = layers.map((l) => l.length / ids.length);
    const units = dims.reduce((a, b) => a + b, 0);
    // With a sink, only this window's rows are held: they go to disk as they come.
    const base = options.sink ? keep[0] : 0;
    if (options.sink) data = new Float32Array((keep[1] - keep[0]) * units);
    else data ??= new Float32Array(words.length * units);
    for (let w = keep[0]; w < keep[1]; w++) {
      const row = data.subarray((w - base) * units, (w - base + 1) * units), n = tokens[w].length;
      const pick = aggregate === "first"
        ? [0]
        : aggregate === "last"
        ? [n - 1]
        : [...Array(n).keys()];
      let offset = 0;
      layers.forEach((l, li) => {
        const d = dims[li];
        for (const i of pick) {
          const t = first[w - from] + i;
          for (let u = 0; u < d; u++) row[offset + u] += l[t * d + u] / pick.length;
        }
        offset += d;
      });
    }
    if (options.sink) await options.sink(data, keep[1] - keep[0], units);
    options.onProgress?.(keep[1], words.length);
  }
  const index = dims.flatMap((d, layer) =>
    Array.from({ length: d }, (_, unit) => ({ layer, unit }))
  );
  return {
    data: options.sink ? new Float32Array() : data ?? new Float32Array(),
    words: words.length,
    units: index.length,
    index,
    tokens,
  };
}
