/**
 * Models in the Hugging Face layout that transformers.js uses
 * (`config.json`, `tokenizer.json`, `onnx/model.onnx`): a converter from
 * GGUF Llama models, and a loader that opens any such folder for word
 * capture (tokenizer through `@huggingface/tokenizers`, the graph through
 * onnxruntime-node with its FFN units exposed).
 *
 * @module
 */

import { join } from "node:path";
import { InputError, writeDirAtomic, writeFileAtomic, writeJsonAtomic } from "@brainorg/common";
import { Tokenizer as HfTokenizer } from "@huggingface/tokenizers";
import type { LlamaModel } from "./gguf_model.ts";
import { exportLlamaOnnx } from "./onnx_export.ts";
import { createHash } from "node:crypto";
import {
  checkOnnxGraph,
  type OnnxUnitModel,
  type OpenOnnxOptions,
  openOnnxUnitModel,
  type TokenFrame,
} from "./onnx_capture.ts";
import { randomizeOnnxWeights } from "./onnx_rewrite.ts";

/**
 * BPE merges of a SentencePiece vocabulary, as Hugging Face's
 * `SentencePieceExtractor` derives them: every split of a piece into two
 * pieces of the vocabulary, ordered by the piece's score (then by the
 * parts' ids).
 */
function sentencePieceMerges(pieces: string[], scores: Float32Array): [string, string][] {
  const id = new Map(pieces.map((p, i) => [p, i]));
  const merges: { l: string; r: string; score: number; li: number; ri: number }[] = [];
  pieces.forEach((piece, i) => {
    const chars = [...piece];
    const local = [];
    for (let k = 1; k < chars.length; k++) {
      const l = chars.slice(0, k).join(""), r = chars.slice(k).join("");
      if (id.has(l) && id.has(r)) {
        local.push({ l, r, score: scores[i], li: id.get(l)!, ri: id.get(r)! });
      }
    }
    local.sort((a, b) => a.li - b.li || a.ri - b.ri);
    merges.push(...local);
  });
  // A stable sort: ties keep the vocabulary order.
  return merges.map((m, k) => ({ ...m, k })).sort((a, b) => b.score - a.score || a.k - b.k)
    .map((m) => [m.l, m.r]);
}

/**
 * `tokenizer.json` (Hugging Face tokenizers format) of a SentencePiece-BPE
 * vocabulary with byte fallback.
 *
 * @param model the model whose `vocab` is written
 * @returns the JSON object
 */
export function llamaTokenizerJson(model: LlamaModel): Record<string, unknown> {
  const { pieces, scores, bos, eos, unk } = model.vocab;
  const special = [unk, bos, eos].map((id) => ({
    id,
    content: pieces[id],
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  }));
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: special,
    normalizer: {
      type: "Sequence",
      normalizers: [
        { type: "Prepend", prepend: "▁" },
        { type: "Replace", pattern: { String: " " }, content: "▁" },
      ],
    },
    pre_tokenizer: null,
    post_processor: {
      type: "TemplateProcessing",
      single: [{ SpecialToken: { id: pieces[bos], type_id: 0 } }, {
        Sequence: { id: "A", type_id: 0 },
      }],
      pair: [
        { SpecialToken: { id: pieces[bos], type_id: 0 } },
        { Sequence: { id: "A", type_id: 0 } },
        { SpecialToken: { id: pieces[bos], type_id: 1 } },
        { Sequence: { id: "B", type_id: 1 } },
      ],
      special_tokens: { [pieces[bos]]: { id: pieces[bos], ids: [bos], tokens: [pieces[bos]] } },
    },
    decoder: {
      type: "Sequence",
      decoders: [
        { type: "Replace", pattern: { String: "▁" }, content: " " },
        { type: "ByteFallback" },
        { type: "Fuse" },
        { type: "Strip", content: " ", start: 1, stop: 0 },
      ],
    },
    model: {
      type: "BPE",
      dropout: null,
      unk_token: pieces[unk],
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: true,
      byte_fallback: true,
      ignore_merges: false,
      vocab: Object.fromEntries(pieces.map((p, i) => [p, i])),
      merges: sentencePieceMerges(pieces, scores),
    },
  };
}

/**
 * `config.json` of a Llama model, as transformers names the fields.
 *
 * @param model the model whose `config` is written
 * @returns the JSON object
 */
export function llamaConfigJson(model: LlamaModel): Record<string, unknown> {
  const c = model.config;
  return {
    architectures: ["LlamaForCausalLM"],
    model_type: "llama",
    hidden_size: c.dim,
    intermediate_size: c.hiddenDim,
    num_hidden_layers: c.layers,
    num_attention_heads: c.heads,
    num_key_value_heads: c.kvHeads,
    vocab_size: c.vocabSize,
    max_position_embeddings: c.contextLength,
    rms_norm_eps: c.normEps,
    rope_theta: c.ropeTheta,
    hidden_act: "silu",
    tie_word_embeddings: model.output === model.embedding,
    bos_token_id: model.vocab.bos,
    eos_token_id: model.vocab.eos,
    torch_dtype: "float32",
    use_cache: false,
    transformers_version: "4.46.0",
  };
}

/**
 * Write a GGUF Llama model in the Hugging Face layout: `config.json`,
 * `tokenizer.json`, `tokenizer_config.json`, `onnx/model.onnx` (the graph
 * has no key/value cache: inputs `input_ids`, output `logits`).
 * Written atomically: an earlier folder of that name is replaced whole or
 * left as it was.
 *
 * @param dir the model folder to create or replace
 * @param model a loaded model (e.g. from {@linkcode readGgufLlama})
 * @throws {OutputError} when the folder cannot be written
 *
 * @example
 * ```ts
 * import { openHfModel, readGgufLlama, writeHfLlama } from "@brainorg/models";
 * await writeHfLlama("/tmp/stories260K-hf", await readGgufLlama("stories260K.gguf"));
 * const hf = await openHfModel("/tmp/stories260K-hf");
 * console.log(hf.layers, hf.frame); // 5, { prefix: [1], suffix: [], causal: true }
 * ```
 */
export async function writeHfLlama(dir: string, model: LlamaModel): Promise<void> {
  await writeDirAtomic(dir, async (tmp) => {
    await writeJsonAtomic(join(tmp, "config.json"), llamaConfigJson(model));
    await writeJsonAtomic(join(tmp, "tokenizer.json"), llamaTokenizerJson(model));
    await writeJsonAtomic(join(tmp, "tokenizer_config.json"), {
      tokenizer_class: "LlamaTokenizer",
      bos_token: model.vocab.pieces[model.vocab.bos],
      eos_token: model.vocab.pieces[model.vocab.eos],
      unk_token: model.vocab.pieces[model.vocab.unk],
      add_bos_token: true,
      add_eos_token: false,
      model_max_length: model.config.contextLength,
      legacy: true,
    });
    await writeFileAtomic(join(tmp, "onnx", "model.onnx"), exportLlamaOnnx(model));
  });
}

/** A model folder in the Hugging Face layout, opened for capture. */
export interface HfModel {
  /** The model folder. */
  dir: string;
  /** `config.json`, as read. */
  config: Record<string, unknown>;
  /** Layers and units per layer, from the config. */
  layers: number;
  /** Tokens of a word as it appears in running text (with its leading space), no special tokens. */
  tokenizeWord(word: string): number[];
  /** Token ids of a text with the model's special tokens. */
  encode(text: string): number[];
  /** Special tokens around a window, and whether the model is causal (BERT, RoBERTa are not). */
  frame: TokenFrame;
  /** SHA-256 of the graph and tokenizer (plus the seed of a random control): a cache key. */
  sha256: string;
  /** The graph with its units exposed, open in onnxruntime-node. */
  onnx: OnnxUnitModel;
}

/** A JSON object from a model folder; undefined when `optional` and absent. */
async function readJson(path: string, optional: true): Promise<Record<string, unknown> | undefined>;
async function readJson(path: string): Promise<Record<string, unknown>>;
async function readJson(
  path: string,
  optional = false,
): Promise<Record<string, unknown> | undefined> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (err) {
    if (optional && err instanceof Deno.errors.NotFound) return undefined;
    throw new InputError("a model file is missing", {
      file: path,
      field: "(file)",
      expected: "config.json, tokenizer.json and onnx/model.onnx in the model folder",
      found: (err as Error).message,
    });
  }
  let value: unknown;
  try {
    value = JSON.parse(text.replace(/^\uFEFF/, ""));
  } catch (err) {
    throw new InputError("not valid JSON", {
      file: path,
      field: "(the whole file)",
      expected: "JSON",
      found: (err as Error).message,
    });
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new InputError("a model file does not hold a JSON object", {
      file: path,
      field: "(root)",
      expected: "an object",
      found: value === null ? "null" : Array.isArray(value) ? "an array" : typeof value,
    });
  }
  return value as Record<string, unknown>;
}

/**
 * Open a model folder: `config.json`, `tokenizer.json` (+ optional
 * `tokenizer_config.json`), `onnx/model.onnx`.
 *
 * @param dir the model folder (see {@linkcode resolveHfModel} for Hub names)
 * @param options as {@linkcode openOnnxUnitModel}'s, and `randomSeed`: open
 *   the random-weights control drawn with this seed instead. Default: the model itself.
 * @returns the model's tokenizer, token frame, cache key and graph
 * @throws {InputError} naming the file and field for a missing or malformed
 *   file, a tokenizer that cannot be built, an unusable context length or a
 *   graph onnxruntime cannot load
 *
 * @example
 * ```ts
 * import { captureWordsFramed, openHfModel } from "@brainorg/models";
 * const hf = await openHfModel("models/bert-base-uncased"); // context from config.json
 * const acts = await captureWordsFramed(hf.onnx, hf.tokenizeWord, hf.frame, ["Alice", "was", "tired"]);
 * ```
 */
export async function openHfModel(
  dir: string,
  options: OpenOnnxOptions & { randomSeed?: number } = {},
): Promise<HfModel> {
  const configPath = join(dir, "config.json"), tokenizerPath = join(dir, "tokenizer.json");
  const config = await readJson(configPath);
  const tokenizerJson = await readJson(tokenizerPath);
  // Optional, but when present it must be readable: it names the special tokens.
  const tokenizerConfig = await readJson(join(dir, "tokenizer_config.json"), true) ?? {};
  const tokenizerFailed = (err: unknown): never => {
    throw new InputError("the tokenizer cannot be built or run", {
      file: tokenizerPath,
      field: "model",
      expected: "a tokenizer in the Hugging Face tokenizers format",
      found: String((err as Error)?.message ?? err),
      cause: err,
    });
  };
  let tokenizer: HfTokenizer;
  try {
    tokenizer = new HfTokenizer(tokenizerJson, tokenizerConfig);
  } catch (err) {
    tokenizer = tokenizerFailed(err);
  }
  let bytes: Uint8Array;
  const onnxPath = join(dir, "onnx", "model.onnx");
  try {
    bytes = await Deno.readFile(onnxPath);
  } catch (err) {
    throw new InputError("a model file is missing", {
      file: onnxPath,
      field: "(file)",
      expected: "the ONNX graph (as published for transformers.js)",
      found: (err as Error).message,
    });
  }
  const type = String(config.model_type ?? "");
  const causal = !["bert", "roberta", "distilbert", "electra", "deberta"].includes(type);
  const positions = config.max_position_embeddings ?? config.n_positions ?? 512;
  if (
    !(Number.isInteger(positions) && (positions as number) >= 2 && (positions as number) <= 1 << 20)
  ) {
    throw new InputError("the model's context length is unusable", {
      file: configPath,
      field: config.max_position_embeddings !== undefined
        ? "max_position_embeddings"
        : "n_positions",
      expected: "a whole number from 2 to 1048576",
      found: JSON.stringify(positions),
    });
  }
  const maxTokens = positions as number;
  const sha256 = createHash("sha256").update(bytes).update(JSON.stringify(tokenizerJson)).digest(
    "hex",
  );
  if (options.randomSeed !== undefined) {
    checkOnnxGraph(bytes, onnxPath); // the redraw reads the graph before anything else would
    bytes = randomizeOnnxWeights(bytes, options.randomSeed, onnxPath);
  }
  const onnx = await openOnnxUnitModel(bytes, onnxPath, { maxTokens, ...options });
  const tokenizeWord = (word: string) => {
    try {
      return tokenizer.encode(word, { add_special_tokens: false }).ids;
    } catch (err) {
      return tokenizerFailed(err);
    }
  };
  // The special tokens around a text: those around a probe word's own tokens.
  let probe: number[] = [];
  try {
    probe = tokenizer.encode("the").ids;
  } catch (err) {
    tokenizerFailed(err);
  }
  const core = tokenizeWord("the");
  const at = probe.findIndex((_, i) => core.every((t, k) => probe[i + k] === t));
  return {
    dir,
    config,
    layers: onnx.tensors.length,
    tokenizeWord,
    encode: (text) => {
      try {
        return tokenizer.encode(text).ids;
      } catch (err) {
        return tokenizerFailed(err);
      }
    },
    frame: {
      prefix: at >= 0 ? probe.slice(0, at) : [],
      suffix: at >= 0 ? probe.slice(at + core.length) : [],
      causal,
    },
    sha256: options.randomSeed === undefined ? sha256 : `${sha256}:random:${options.randomSeed}`,
    onnx,
  };
}
