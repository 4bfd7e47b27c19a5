/**
 * Llama-architecture models in GGUF files (llama.cpp's format; `llama`,
 * `mistral`, `qwen2`: see `gguf_arch.ts`), read with `@huggingface/gguf`:
 * hyper-parameters, the vocabulary (SentencePiece or byte-level BPE) and
 * the weights, float32 or dequantized to float32 on load (F16, BF16, Q8_0,
 * Q4_0, Q4_K, Q5_K, Q6_K: see `gguf_quants.ts`).
 *
 * @module
 */

import { gguf } from "@huggingface/gguf";
import { InputError } from "@brainorg/common";
import type { Vocabulary } from "./tokenizer.ts";
import {
  dequantizeTensor,
  GGML_TYPES,
  ggmlTensorBytes,
  ggmlType,
  ggmlTypeName,
} from "./gguf_quants.ts";
import { ggufArchitecture, ggufBpeFields } from "./gguf_arch.ts";

/** Hyper-parameters of a Llama model. */
export interface LlamaConfig {
  /** Width of the residual stream (embedding length). */
  dim: number;
  /** Width of the FFN's hidden layer. */
  hiddenDim: number;
  /** Transformer blocks. */
  layers: number;
  /** Attention heads (each `dim / heads` wide). */
  heads: number;
  /** Key/value heads (grouped-query attention; `heads` without grouping). */
  kvHeads: number;
  /** Tokens in the vocabulary. */
  vocabSize: number;
  /** Longest sequence the model was trained on, in tokens. */
  contextLength: number;
  /** ε of the RMS norms. */
  normEps: number;
  /** Base of the rotary position embedding's frequencies. */
  ropeTheta: number;
  /** GGUF `general.architecture` when not "llama" ("mistral", "qwen2"): its keys' prefix. */
  architecture?: string;
  /**
   * "neox" (Qwen2): RoPE rotates the two halves of each head (i, i +
   * headDim/2) rather than adjacent pairs (the default, "norm").
   */
  ropeType?: "norm" | "neox";
}

/** One transformer block's weights; matrices row-major (out × in). */
export interface LlamaLayer {
  /** RMS-norm weights before attention, (dim). */
  attnNorm: Float32Array;
  /** Query projection, (dim × dim). */
  wq: Float32Array;
  /** Key projection, (kvHeads · dim / heads × dim). */
  wk: Float32Array;
  /** Value projection, (kvHeads · dim / heads × dim). */
  wv: Float32Array;
  /** Attention output projection, (dim × dim). */
  wo: Float32Array;
  /** RMS-norm weights before the FFN, (dim). */
  ffnNorm: Float32Array;
  /** SwiGLU gate (w1), (hiddenDim × dim). */
  gate: Float32Array;
  /** SwiGLU up (w3), (hiddenDim × dim). */
  up: Float32Array;
  /** The FFN's second linear layer (w2, `down_proj`), (dim × hiddenDim): its outputs are the ANs. */
  down: Float32Array;
  /** Query bias (dim), where the file has one (Qwen2's `blk.N.attn_q.bias`). */
  bq?: Float32Array;
  /** Key bias (kvHeads · dim / heads), where the file has one. */
  bk?: Float32Array;
  /** Value bias (kvHeads · dim / heads), where the file has one. */
  bv?: Float32Array;
}

/** A loaded model. */
export interface LlamaModel {
  /** Hyper-parameters. */
  config: LlamaConfig;
  /** Token embeddings, (vocabSize × dim). */
  embedding: Float32Array;
  /** The transformer blocks, in order. */
  layers: LlamaLayer[];
  /** RMS-norm weights after the last block, (dim). */
  finalNorm: Float32Array;
  /** Output projection, (vocabSize × dim); the embedding when tied. */
  output: Float32Array;
  /** The vocabulary, SentencePiece or byte-level BPE (for {@linkcode createTokenizer}). */
  vocab: Vocabulary;
  /**
   * The file read; for a file with tensors other than float32, followed by
   * their types, e.g. `m.gguf (tensor types: Q4_K 35, F32 11)`. Results
   * record it as the model's source.
   */
  source: string;
  /**
   * How many of the file's tensors have each GGML type, e.g.
   * `{ Q4_K: 35, F32: 11 }` (weights are dequantized to float32 on load).
   */
  tensorTypes: Record<string, number>;
}

/**
 * Read a Llama model from a GGUF file. Tensors may be F32 (read as they
 * are) or F16, BF16, Q8_0, Q4_0, Q4_K, Q5_K, Q6_K (dequantized to float32
 * block by block as ggml defines them); {@linkcode LlamaModel.tensorTypes}
 * counts them.
 *
 * Every value is checked before it is used: the header (by
 * `@huggingface/gguf`: magic, version, counts), the hyper-parameters (whole
 * numbers in range that fit together: heads divide the width, key/value
 * heads divide the heads), the vocabulary (strings, scores, special ids
 * inside it), and each tensor (present, of a type read here, of the size the
 * hyper-parameters imply, rows of whole blocks, inside the file, every
 * weight finite).
 *
 * @param path a `.gguf` file of a Llama-architecture model (general.architecture llama, mistral or qwen2)
 * @returns the model: hyper-parameters, weights, vocabulary
 * @throws {InputError} naming the file and the field (metadata key or
 *   tensor) for anything unusable
 *
 * @example
 * ```ts
 * import { readGgufLlama } from "@brainorg/models";
 * const model = await readGgufLlama("stories260K.gguf");
 * console.log(model.config);
 * ```
 */
export async function readGgufLlama(path: string): Promise<LlamaModel> {
  const header = await readGgufLlamaHeader(path);
  const { config } = header, dim = config.dim;
  const bytes = await Deno.readFile(path);
  const tensor = (name: string, length: number): Float32Array => {
    const { info, start } = locateGgufTensor(header, name, length, bytes.byteLength);
    const where = { file: path, tensor: name };
    return checkFiniteTensor(
      header,
      info,
      dequantizeTensor(info.dtype, info.shape, bytes, start, where),
    );
  };
  const kvDim = (dim / config.heads) * config.kvHeads, H = config.hiddenDim;
  // Read where present only: a layer without them has no such fields at all.
  const biases = (l: number) => {
    const has = (n: string) => header.tensorInfos.some((t) => t.name === `blk.${l}.${n}.bias`);
    return {
      ...(has("attn_q") ? { bq: tensor(`blk.${l}.attn_q.bias`, dim) } : {}),
      ...(has("attn_k") ? { bk: tensor(`blk.${l}.attn_k.bias`, kvDim) } : {}),
      ...(has("attn_v") ? { bv: tensor(`blk.${l}.attn_v.bias`, kvDim) } : {}),
    };
  };
  const embedding = tensor("token_embd.weight", config.vocabSize * dim);
  const layers = Array.from({ length: config.layers }, (_, l) => ({
    attnNorm: tensor(`blk.${l}.attn_norm.weight`, dim),
    wq: tensor(`blk.${l}.attn_q.weight`, dim * dim),
    wk: tensor(`blk.${l}.attn_k.weight`, kvDim * dim),
    wv: tensor(`blk.${l}.attn_v.weight`, kvDim * dim),
    wo: tensor(`blk.${l}.attn_output.weight`, dim * dim),
    ffnNorm: tensor(`blk.${l}.ffn_norm.weight`, dim),
    gate: tensor(`blk.${l}.ffn_gate.weight`, H * dim),
    up: tensor(`blk.${l}.ffn_up.weight`, H * dim),
    down: tensor(`blk.${l}.ffn_down.weight`, dim * H),
    ...biases(l),
  }));
  const hasOutput = header.tensorInfos.some((t) => t.name === "output.weight");
  return {
    config,
    embedding,
    layers,
    finalNorm: tensor("output_norm.weight", dim),
    output: hasOutput ? tensor("output.weight", config.vocabSize * dim) : embedding,
    vocab: header.vocab,
    source: header.source,
    tensorTypes: header.tensorTypes,
  };
}

/** One tensor's entry in a GGUF file's table. */
export interface GgufTensorInfo {
  /** Its name, e.g. `blk.0.ffn_down.weight`. */
  name: string;
  /** Its dimensions in GGUF order (`ne0`, the row length, first). */
  shape: number[];
  /** Its GGML type id (see {@linkcode GGML_TYPES}). */
  dtype: number;
  /** Where its data starts, in bytes from the start of the data section. */
  offset: number;
}

/**
 * What a GGUF Llama file holds besides its weights: everything
 * {@linkcode LlamaModel} has but the tensors, and the table that finds them.
 */
export interface GgufLlamaHeader {
  /** The file. */
  path: string;
  /** Hyper-parameters, checked. */
  config: LlamaConfig;
  /** The vocabulary (for {@linkcode createTokenizer}). */
  vocab: Vocabulary;
  /** As {@linkcode LlamaModel.source}. */
  source: string;
  /** As {@linkcode LlamaModel.tensorTypes}. */
  tensorTypes: Record<string, number>;
  /** The tensor table. */
  tensorInfos: GgufTensorInfo[];
  /** Byte offset of the data section in the file. */
  dataStart: number;
  /** `general.alignment` (default 32). */
  alignment: number;
}

/**
 * Read a GGUF Llama file's header only (metadata and tensor table, a few
 * megabytes at most, read in chunks): the hyper-parameters and vocabulary
 * checked as {@linkcode readGgufLlama} checks them, without its weights.
 *
 * @param path a `.gguf` file of a Llama-architecture model (general.architecture llama, mistral or qwen2)
 * @returns config, vocabulary, source, tensor types and the tensor table
 * @throws {InputError} naming the file and the metadata key for anything unusable
 *
 * @example
 * ```ts
 * import { readGgufLlamaHeader } from "@brainorg/models";
 * const { config, tensorInfos } = await readGgufLlamaHeader("stories260K.gguf");
 * console.log(config.layers, tensorInfos.length);
 * ```
 */
export async function readGgufLlamaHeader(path: string): Promise<GgufLlamaHeader> {
  let parsed;
  try {
    parsed = await gguf(path, { allowLocalFile: true });
  } catch (err) {
    throw new InputError("not a readable GGUF file", {
      file: path,
      field: "header",
      expected: "a GGUF file (magic GGUF, version 1-3, tensor and metadata tables inside the file)",
      found: String((err as Error).message ?? err),
      cause: err,
    });
  }
  const { metadata, tensorInfos, tensorDataOffset } = parsed as unknown as {
    metadata: Record<string, unknown>;
    tensorInfos: { name: string; shape: bigint[]; dtype: number; offset: bigint }[];
    tensorDataOffset: bigint;
  };
  const arch = ggufArchitecture(metadata, path), p = `${arch.name}.`;
  const bad = (field: string, expected: string, found: unknown): never => {
    throw new InputError("GGUF metadata holds an unusable value", {
      file: path,
      field,
      expected,
      found: typeof found === "bigint" ? String(found) : JSON.stringify(found) ?? String(found),
    });
  };
  const int = (key: string, max: number, fallback?: number): number => {
    const v = metadata[key];
    if (v === undefined) {
      if (fallback !== undefined) return fallback;
      throw new InputError("GGUF metadata lacks a required key", {
        file: path,
        field: key,
        expected: `a whole number from 1 to ${max}`,
        found: "nothing",
      });
    }
    const n = typeof v === "bigint" ? Number(v) : v;
    return typeof n === "number" && Number.isInteger(n) && n >= 1 && n <= max
      ? n
      : bad(key, `a whole number from 1 to ${max}`, v);
  };
  const real = (key: string, fallback: number): number => {
    const v = metadata[key] ?? fallback;
    return typeof v === "number" && Number.isFinite(v) && v > 0 ? v : bad(key, "a number > 0", v);
  };
  const dim = int(`${p}embedding_length`, 1 << 16);
  const heads = int(`${p}attention.head_count`, 1024);
  if (dim % heads !== 0 || (dim / heads) % 2 !== 0) {
    bad(
      `${p}attention.head_count`,
      `a divisor of ${p}embedding_length (${dim}) leaving an even head size (RoPE rotates pairs)`,
      heads,
    );
  }
  const kvHeads = int(`${p}attention.head_count_kv`, heads, heads);
  if (heads % kvHeads !== 0) {
    bad(`${p}attention.head_count_kv`, `a divisor of the head count (${heads})`, kvHeads);
  }
  const pieces = metadata["tokenizer.ggml.tokens"];
  if (pieces === undefined) {
    throw new InputError("GGUF file has no tokenizer", {
      file: path,
      field: "tokenizer.ggml.tokens",
      expected: "the vocabulary: a list of token strings",
      found: "nothing",
    });
  }
  if (
    !Array.isArray(pieces) || pieces.length === 0 || pieces.length > 1 << 22 ||
    !pieces.every((p) => typeof p === "string")
  ) {
    bad("tokenizer.ggml.tokens", "a non-empty list of token strings", summary(pieces));
  }
  const vocab = (pieces as string[]).length;
  const rawScores = metadata["tokenizer.ggml.scores"];
  if (
    rawScores !== undefined &&
    !(Array.isArray(rawScores) && rawScores.length === vocab &&
      rawScores.every((x) => typeof x === "number" && !Number.isNaN(x)))
  ) {
    bad("tokenizer.ggml.scores", `${vocab} numbers, one per token`, summary(rawScores));
  }
  const special = (key: string, fallback: number): number => {
    const v = metadata[key] ?? fallback;
    const n = typeof v === "bigint" ? Number(v) : v;
    return typeof n === "number" && Number.isInteger(n) && n >= 0 && n < vocab
      ? n
      : bad(key, `a token id from 0 to ${vocab - 1}`, v);
  };
  const config: LlamaConfig = {
    dim,
    hiddenDim: int(`${p}feed_forward_length`, 1 << 20),
    layers: int(`${p}block_count`, 1024),
    heads,
    kvHeads,
    vocabSize: vocab,
    contextLength: int(`${p}context_length`, 1 << 20),
    normEps: real(`${p}attention.layer_norm_rms_epsilon`, 1e-5),
    ropeTheta: real(`${p}rope.freq_base`, 10000),
    // Only where they differ from Llama's, so that Llama configs stay as they were.
    ...(arch.name === "llama" ? {} : { architecture: arch.name }),
    ...(arch.ropeType === "neox" ? { ropeType: "neox" as const } : {}),
  };
  const bpe = ggufBpeFields(metadata, path, vocab);
  const dataStart = Number(tensorDataOffset);
  // The library has checked it: a positive whole number.
  const alignment = Number(metadata["general.alignment"] ?? 32);
  const tensorTypes: Record<string, number> = {};
  for (const t of tensorInfos) {
    const name = ggmlTypeName(t.dtype);
    tensorTypes[name] = (tensorTypes[name] ?? 0) + 1;
  }
  const types = Object.entries(tensorTypes).sort((a, b) => b[1] - a[1]);
  return {
    path,
    config,
    vocab: {
      pieces: pieces as string[],
      scores: Float32Array.from((rawScores as number[] | undefined) ?? new Array(vocab).fill(0)),
      bos: special("tokenizer.ggml.bos_token_id", 1),
      eos: special("tokenizer.ggml.eos_token_id", 2),
      unk: special("tokenizer.ggml.unknown_token_id", 0),
      ...bpe,
    },
    source: types.some(([name]) => name !== "F32")
      ? `${path} (tensor types: ${types.map(([name, n]) => `${name} ${n}`).join(", ")})`
      : path,
    tensorTypes,
    tensorInfos: tensorInfos.map((t) => ({
      name: t.name,
      shape: t.shape.map(Number),
      dtype: t.dtype,
      offset: Number(t.offset),
    })),
    dataStart,
    alignment,
  };
}

/**
 * Find a tensor in a GGUF file's table and check it before any byte is
 * read: present, of a type read here, of `length` values, rows of whole
 * blocks, aligned, inside the file.
 *
 * @param header the file's header (see {@linkcode readGgufLlamaHeader})
 * @param name the tensor's name
 * @param length the values it must hold
 * @param fileSize the file's size in bytes
 * @returns its table entry, where its data starts in the file (`start`, bytes) and its `size` in bytes
 * @throws {InputError} naming the file and the tensor for anything unusable
 *
 * @example
 * ```ts
 * import { locateGgufTensor, readGgufLlamaHeader } from "@brainorg/models";
 * const header = await readGgufLlamaHeader("stories260K.gguf");
 * const { size } = (await Deno.stat("stories260K.gguf"));
 * const { start } = locateGgufTensor(header, "output_norm.weight", header.config.dim, size);
 * ```
 */
export function locateGgufTensor(
  header: GgufLlamaHeader,
  name: string,
  length: number,
  fileSize: number,
): { info: GgufTensorInfo; start: number; size: number } {
  const { path, tensorInfos, dataStart, alignment } = header;
  const info = tensorInfos.find((t) => t.name === name);
  if (!info) {
    throw new InputError("GGUF file lacks a tensor", {
      file: path,
      field: name,
      expected: `a tensor of ${length} values`,
      found: `${tensorInfos.length} tensors, none named so`,
    });
  }
  const type = ggmlType(info.dtype);
  if (!type) {
    throw new InputError("a tensor has a GGML type brainorg does not read", {
      file: path,
      field: `${name} (type)`,
      expected: Object.values(GGML_TYPES).map((t) => `${t.name} (${t.id})`).join(", "),
      found: `${ggmlTypeName(info.dtype)} (${info.dtype})`,
    });
  }
  const shape = info.shape.map(Number);
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== length) {
    throw new InputError("tensor has the wrong size", {
      file: path,
      field: name,
      expected: String(length),
      found: String(count),
    });
  }
  const size = ggmlTensorBytes(type, shape, { file: path, tensor: name });
  const start = dataStart + Number(info.offset);
  if (Number(info.offset) % alignment !== 0) {
    throw new InputError("a tensor's offset breaks the file's alignment (damaged table)", {
      file: path,
      field: `${name} (offset)`,
      expected: `a multiple of ${alignment} (general.alignment)`,
      found: String(info.offset),
    });
  }
  if (!(Number.isSafeInteger(start) && start + size <= fileSize)) {
    throw new InputError("a tensor lies outside the file (truncated or damaged)", {
      file: path,
      field: `${name} (offset)`,
      expected: `${size} bytes ending within the file's ${fileSize}`,
      found: `bytes ${start} to ${start + size}`,
    });
  }
  return { info, start, size };
}

/**
 * A dequantized tensor, checked finite (ggml's F16 and block scales can hold
 * infinities and NaN).
 *
 * @param header the file's header, for errors
 * @param info the tensor's entry
 * @param out its values
 * @returns `out`
 * @throws {InputError} naming the file and the tensor when a value is NaN or infinite
 */
export function checkFiniteTensor(
  header: GgufLlamaHeader,
  info: GgufTensorInfo,
  out: Float32Array,
): Float32Array {
  const { path } = header, name = info.name, count = out.length;
  const type = ggmlType(info.dtype)!;
  let nonFinite = 0;
  for (let i = 0; i < out.length; i++) if (out[i] - out[i] !== 0) nonFinite++;
  if (nonFinite) {
    throw new InputError("a tensor holds non-finite weights", {
      file: path,
      field: name,
      expected: `finite values (${type.name})`,
      found: `${nonFinite} NaN or infinite of ${count}`,
    });
  }
  return out;
}

/** A metadata value as an error shows it: its type and length, not its megabytes. */
function summary(v: unknown): string {
  if (Array.isArray(v)) {
    const kinds = [...new Set(v.slice(0, 1000).map((x) => typeof x))].join("/");
    return `a list of ${v.length} (${kinds || "empty"})`;
  }
  return v === undefined ? "nothing" : typeof v;
}
