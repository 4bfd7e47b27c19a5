/**
 * Word capture on onnxruntime-node: an ONNX model with its FFN units
 * exposed as outputs (see `onnx_rewrite.ts`; float16, quantized,
 * external-data and fused-attention graphs as published, key/value-cache
 * inputs fed empty) reads the story in windows,
 * as {@linkcode captureWords} does with the TypeScript forward pass, and
 * returns the same words × ANs matrix.
 *
 * @module
 */

import * as ort from "onnxruntime-node";
import { checkExternalData, createOnnxSession, externalTensors } from "./onnx_external.ts";
import { emptyCacheTensor, type GraphInput, graphInputs } from "./onnx_inputs.ts";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { InputError, writeFileAtomic } from "@brainorg/common";
import type { CaptureOptions, WordActivations } from "./capture.ts";
import type { RowSink } from "./activation_cache.ts";
import {
  decodeOnnx,
  exposedOutput,
  type ExposedTensor,
  exposeTensors,
  findUnitTensors,
  type UnitKind,
} from "./onnx_rewrite.ts";

/**
 * What brainorg uses of an onnxruntime-node `InferenceSession` (which is
 * one): the graph's input names, and a run that returns outputs by name.
 * Declared here so that this package's types do not depend on
 * onnxruntime's.
 */
export interface OnnxSession {
  /** The graph's input names, e.g. `["input_ids", "attention_mask"]`. */
  readonly inputNames: readonly string[];
  /**
   * Run the graph and return every output.
   *
   * @param feeds an onnxruntime `Tensor` per input name
   * @returns the outputs by name: `data` (a Float32Array for float32 outputs) and `dims`
   */
  run(feeds: Record<string, unknown>): Promise<OnnxOutputs>;
  /**
   * Run the graph and return the outputs named.
   *
   * @param feeds an onnxruntime `Tensor` per input name
   * @param fetches the outputs wanted
   * @returns those outputs by name: `data` (a Float32Array for float32 outputs) and `dims`
   */
  run(feeds: Record<string, unknown>, fetches: readonly string[]): Promise<OnnxOutputs>;
}

/** Outputs of an {@linkcode OnnxSession} run, by name. */
export type OnnxOutputs = Record<
  string,
  { readonly data: unknown; readonly dims: readonly number[] }
>;

/** A loaded ONNX model whose units are outputs. */
export interface OnnxUnitModel {
  /** The onnxruntime-node session of the rewritten graph. */
  session: OnnxSession;
  /** The exposed tensors, one per layer in order. */
  tensors: ExposedTensor[];
  /** Longest sequence the model takes (from the caller; e.g. 512 for BERT). */
  maxTokens: number;
  /** The model's file name, for errors. */
  file: string;
  /**
   * The graph's declared inputs, for feeds beyond the token ids (empty
   * key/value caches take their shapes from here). Default: none declared.
   */
  inputs?: GraphInput[];
}

// Part of the cache key: a rewrite from an earlier release exposes other outputs.
const REWRITE_VERSION = "cast-outputs-v2";

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
  /** Told when a cached rewritten graph is damaged (it is then rewritten). Default: `console.warn`. */
  warn?: (line: string) => void;
}

/**
 * Check that bytes hold an ONNX model with a graph, before anything reads
 * its nodes (protobuf decodes almost any bytes, an empty file included, into
 * a model without a graph).
 *
 * @param bytes the file's content
 * @param file its name, for errors
 * @returns the decoded model
 * @throws {InputError} naming the file when it is not a model with a graph
 */
// deno-lint-ignore no-explicit-any
export function checkOnnxGraph(bytes: Uint8Array, file: string): any {
  // deno-lint-ignore no-explicit-any
  let model: any;
  try {
    model = decodeOnnx(bytes, file);
  } catch (err) {
    throw new InputError("not an ONNX model", {
      file,
      field: "ModelProto",
      expected: "a serialized onnx.ModelProto",
      found: String((err as Error).message ?? err).slice(0, 200),
      cause: err,
    });
  }
  const nodes = model?.graph?.node;
  if (!Array.isArray(nodes) || nodes.length === 0 || !Array.isArray(model.graph.output)) {
    throw new InputError("not an ONNX model: it holds no graph", {
      file,
      field: "graph",
      expected: "a graph with nodes and outputs",
      found: `${bytes.byteLength} bytes, ${Array.isArray(nodes) ? nodes.length : "no"} nodes`,
    });
  }
  return model;
}

/**
 * Rewrite a model to expose its units and open it in onnxruntime-node.
 * A graph whose weights live in external data files (`model.onnx_data`)
 * is rewritten alone: the data stays in its files, and the rewritten
 * graph is written beside them while onnxruntime loads it, then removed
 * (see `onnx_external.ts`).
 *
 * @param bytes the ONNX model (the graph file's bytes; external data is not read here)
 * @param file its path (external data files are found in its folder), or
 *   a name for errors when the graph is self-contained
 * @param options which units, or the tensors by name; longest sequence; a
 *   cache for the rewritten graph (see {@linkcode OpenOnnxOptions}). Default: FFN outputs, 2048 tokens, no cache.
 * @returns the session, the tensors exposed (one per layer) and the graph's inputs
 * @throws {InputError} when the bytes are not an ONNX model with a graph, no
 *   known FFN layer (or no named tensor) is found, an external data file is
 *   missing or short, or the graph's folder is not writable for an external-data graph
 *
 * @example
 * ```ts
 * import { openOnnxUnitModel, runUnits } from "@brainorg/models";
 * const model = await openOnnxUnitModel(await Deno.readFile("model.onnx"), "model.onnx");
 * const perLayer = await runUnits(model, [1, 403, 407, 261, 378]); // (5 tokens × units) per layer
 * ```
 */
export async function openOnnxUnitModel(
  bytes: Uint8Array,
  file: string,
  options: OpenOnnxOptions = {},
): Promise<OnnxUnitModel> {
  const kind = options.kind ?? "ffn_out";
  const proto = checkOnnxGraph(bytes, file);
  const tensors = options.tensors
    ? options.tensors.map((tensor, layer) => ({ layer, kind, tensor }))
    : findUnitTensors(proto, kind, file);
  // Checked before onnxruntime reads them: its own message for a missing file is obscure.
  const external = externalTensors(proto).length > 0;
  if (external) await checkExternalData(externalTensors(proto), file);
  const inputs = graphInputs(proto);
  let rewritten: Uint8Array | undefined;
  const cached = options.cacheDir
    ? join(
      options.cacheDir,
      "onnx",
      createHash("sha256").update(bytes).update(REWRITE_VERSION).update(JSON.stringify(tensors))
        .digest("hex") + ".onnx",
    )
    : undefined;
  if (cached) {
    try {
      rewritten = await Deno.readFile(cached);
    } catch { /* not yet */ }
  }
  let session: OnnxSession | undefined;
  if (rewritten) {
    try {
      session = await createOnnxSession(rewritten, file, external);
    } catch (err) {
      // A damaged cache entry is a miss: rewrite the graph from the original.
      (options.warn ?? console.warn)(
        `warning: the cached graph ${cached} is not usable (${(err as Error).message}); ` +
          `rewriting it`,
      );
    }
  }
  if (!session) {
    rewritten = exposeTensors(bytes, tensors, file);
    session = await createOnnxSession(rewritten, file, external);
    if (cached) await writeFileAtomic(cached, rewritten);
  }
  return { session, tensors, maxTokens: options.maxTokens ?? 2048, file, inputs };
}

/**
 * Feeds for a token sequence: input_ids, and the masks and positions the
 * graph asks for; key/value caches empty (a first step reads no past), and
 * a merged decoder's cache branch off.
 */
function feeds(model: OnnxUnitModel, ids: number[]): Record<string, ort.Tensor> {
  const n = ids.length, out: Record<string, ort.Tensor> = {};
  const long = (f: (i: number) => number) =>
    BigInt64Array.from({ length: n }, (_, i) => BigInt(f(i)));
  for (const name of model.session.inputNames) {
    if (name === "input_ids") out[name] = new ort.Tensor("int64", long((i) => ids[i]), [1, n]);
    else if (name === "attention_mask") out[name] = new ort.Tensor("int64", long(() => 1), [1, n]);
    else if (name === "position_ids") out[name] = new ort.Tensor("int64", long((i) => i), [1, n]);
    else if (name === "token_type_ids") out[name] = new ort.Tensor("int64", long(() => 0), [1, n]);
    else if (name === "use_cache_branch") out[name] = new ort.Tensor("bool", [false], [1]);
    else if (/^past/.test(name)) out[name] = emptyCacheTensor(model.inputs ?? [], name, model.file);
    else {
      throw new InputError("the model needs an input brainorg does not provide", {
        file: model.file,
        field: `graph input ${name}`,
        expected: "input_ids, attention_mask, position_ids, token_type_ids, past_key_values.*, " +
          "use_cache_branch",
        found: name,
      });
    }
  }
  return out;
}

/**
 * Every exposed tensor for a sequence: per layer, (n × units) row-major.
 *
 * @param model from {@linkcode openOnnxUnitModel}
 * @param ids the sequence's n token ids (special tokens included, as the model expects them)
 * @returns one Float32Array per exposed tensor, in layer order, (n × units) each
 * @throws {InputError} naming the graph and tensor when the graph fails on
 *   the tokens, or an exposed tensor is not float32, not n rows, or not finite
 *
 * @example
 * ```ts
 * import { openOnnxUnitModel, runUnits } from "@brainorg/models";
 * const model = await openOnnxUnitModel(await Deno.readFile("stories260K.onnx"), "stories260K.onnx");
 * const perLayer = await runUnits(model, [1, 403, 407, 261, 378]);
 * console.log(perLayer.length, perLayer[0].length / 5); // layers, units per layer
 * ```
 */
export async function runUnits(model: OnnxUnitModel, ids: number[]): Promise<Float32Array[]> {
  const input = feeds(model, ids);
  let result: OnnxOutputs;
  try {
    result = await model.session.run(input, model.tensors.map((t) => exposedOutput(t.tensor)));
  } catch (err) {
    throw new InputError("the model's graph fails on the story's tokens", {
      file: model.file,
      field: "graph",
      expected: `a run on ${ids.length} token ids (largest ${Math.max(...ids)})`,
      found: String((err as Error).message ?? err).slice(0, 300),
      cause: err,
    });
  }
  return model.tensors.map((t) => {
    const data = result[exposedOutput(t.tensor)]?.data;
    if (!(data instanceof Float32Array) || data.length === 0 || data.length % ids.length !== 0) {
      throw new InputError("an exposed tensor is not a float32 row per token", {
        file: model.file,
        field: `tensor ${t.tensor} (layer ${t.layer})`,
        expected: `float32 values, a multiple of ${ids.length} tokens`,
        found: data instanceof Float32Array ? `${data.length} values` : typeof data,
      });
    }
    for (let i = 0; i < data.length; i++) {
      if (data[i] - data[i] !== 0) {
        throw new InputError("the model's units are not finite on the story", {
          file: model.file,
          field: `tensor ${t.tensor} (layer ${t.layer})`,
          expected: "finite values (weights without NaN/Inf, activations that do not overflow)",
          found: `${data[i]} at token ${Math.floor(i / (data.length / ids.length))}`,
        });
      }
    }
    return data;
  });
}

/**
 * Windows for a bidirectional encoder: `2·half` words starting every
 * `half` words, and for each word the window where it sits furthest from
 * both edges (the most context on its poorer side).
 *
 * @param words words in the story
 * @param half half a window, in words
 * @returns windows as [start, end) word ranges, and each word's window
 *
 * @example
 * ```ts
 * import { bidirectionalWindows } from "@brainorg/models";
 * const { windows, windowOf } = bidirectionalWindows(10, 4);
 * // windows [[0, 8], [4, 10]]; words 0–5 read in the first, 6–9 in the second
 * ```
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
  /** Token ids before each window's words, e.g. `[bos]` or BERT's `[CLS]`. */
  prefix: number[];
  /** Token ids after them, e.g. BERT's `[SEP]`; often none. */
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
 * @param model from {@linkcode openOnnxUnitModel}
 * @param tokenize a word's tokens, with its leading space as in running text
 * @param frame special tokens around each window, and whether the model is causal
 * @param words the story's words in order
 * @param options as {@linkcode captureWords}'s, and `sink`: rows go there
 *   (see {@linkcode cachedCaptureStream}) instead of into the result. Default: 64 words, mean.
 * @returns (words × units) responses and their (layer, unit) index; `data` is
 *   empty when a sink took the rows
 * @throws {InputError} when a window needs more tokens than the model takes,
 *   or the graph fails on the tokens
 *
 * @example
 * ```ts
 * import { captureWordsFramed, createTokenizer, openOnnxUnitModel, readGgufLlama } from "@brainorg/models";
 * const llama = await readGgufLlama("stories260K.gguf");
 * const tok = createTokenizer(llama.vocab);
 * const onnx = await openOnnxUnitModel(await Deno.readFile("stories260K.onnx"), "stories260K.onnx");
 * const acts = await captureWordsFramed(
 *   onnx,
 *   (w) => tok.encode(w, { bos: false }),
 *   { prefix: [llama.vocab.bos], suffix: [], causal: true },
 *   ["Once", "upon", "a", "time"],
 * );
 * ```
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
      throw new InputError("the story's words need more tokens than the model's context", {
        file: model.file,
        field: `words ${from + 1}–${to} ("${words[from].slice(0, 20)}" …)`,
        expected: `at most ${model.maxTokens} tokens for a window of ${to - from} words`,
        found: `${ids.length} tokens (are some words very long, or in a script the ` +
          `tokenizer spells byte by byte?)`,
      });
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
