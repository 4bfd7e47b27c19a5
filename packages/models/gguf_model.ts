/**
 * Llama-architecture models in GGUF files (llama.cpp's format), read with
 * `@huggingface/gguf`: hyper-parameters, the SentencePiece vocabulary and
 * float32 weights.
 *
 * @module
 */

import { gguf } from "@huggingface/gguf";
import { InputError } from "@brainorg/common";

/** Hyper-parameters of a Llama model. */
export interface LlamaConfig {
  dim: number;
  hiddenDim: number;
  layers: number;
  heads: number;
  kvHeads: number;
  vocabSize: number;
  contextLength: number;
  normEps: number;
  ropeTheta: number;
}

/** One transformer block's weights; matrices row-major (out × in). */
export interface LlamaLayer {
  attnNorm: Float32Array;
  wq: Float32Array;
  wk: Float32Array;
  wv: Float32Array;
  wo: Float32Array;
  ffnNorm: Float32Array;
  /** SwiGLU gate (w1), (hiddenDim × dim). */
  gate: Float32Array;
  /** SwiGLU up (w3), (hiddenDim × dim). */
  up: Float32Array;
  /** The FFN's second linear layer (w2, `down_proj`), (dim × hiddenDim): its outputs are the ANs. */
  down: Float32Array;
}

/** A loaded model. */
export interface LlamaModel {
  config: LlamaConfig;
  /** Token embeddings, (vocabSize × dim). */
  embedding: Float32Array;
  layers: LlamaLayer[];
  finalNorm: Float32Array;
  /** Output projection, (vocabSize × dim); the embedding when tied. */
  output: Float32Array;
  vocab: { pieces: string[]; scores: Float32Array; bos: number; eos: number; unk: number };
  /** The file read and its architecture. */
  source: string;
}

/**
 * Read a Llama model from a GGUF file (float32 tensors).
 *
 * @throws {InputError} naming the file and the field for a missing tensor,
 *   another architecture or an unsupported tensor type
 *
 * @example
 * ```ts
 * import { readGgufLlama } from "@brainorg/models";
 * const model = await readGgufLlama("stories260K.gguf");
 * console.log(model.config);
 * ```
 */
export async function readGgufLlama(path: string): Promise<LlamaModel> {
  let parsed;
  try {
    parsed = await gguf(path, { allowLocalFile: true });
  } catch (err) {
    throw new InputError("not a readable GGUF file", {
      file: path,
      cause: err,
      found: String((err as Error).message),
    });
  }
  const { metadata, tensorInfos, tensorDataOffset } = parsed as unknown as {
    metadata: Record<string, unknown>;
    tensorInfos: { name: string; shape: bigint[]; dtype: number; offset: bigint }[];
    tensorDataOffset: bigint;
  };
  const arch = String(metadata["general.architecture"]);
  if (arch !== "llama") {
    throw new InputError("unsupported model architecture", {
      file: path,
      field: "general.architecture",
      expected: "llama",
      found: arch,
    });
  }
  const num = (key: string, fallback?: number) => {
    const v = metadata[key];
    if (v === undefined) {
      if (fallback !== undefined) return fallback;
      throw new InputError("GGUF metadata lacks a required key", { file: path, field: key });
    }
    return Number(v);
  };
  const dim = num("llama.embedding_length");
  const heads = num("llama.attention.head_count");
  const pieces = metadata["tokenizer.ggml.tokens"] as string[] | undefined;
  if (!pieces) {
    throw new InputError("GGUF file has no tokenizer", {
      file: path,
      field: "tokenizer.ggml.tokens",
    });
  }
  const bytes = await Deno.readFile(path);
  const f32 = (name: string, length?: number): Float32Array => {
    const info = tensorInfos.find((t) => t.name === name);
    if (!info) {
      throw new InputError("GGUF file lacks a tensor", {
        file: path,
        field: name,
        found: `${tensorInfos.length} tensors`,
      });
    }
    if (info.dtype !== 0) {
      throw new InputError("only float32 tensors are supported", {
        file: path,
        field: name,
        expected: "F32 (0)",
        found: String(info.dtype),
      });
    }
    const count = info.shape.reduce((a, b) => a * Number(b), 1);
    if (length !== undefined && count !== length) {
      throw new InputError("tensor has the wrong size", {
        file: path,
        field: name,
        expected: String(length),
        found: String(count),
      });
    }
    const start = Number(tensorDataOffset + info.offset);
    return new Float32Array(
      bytes.buffer.slice(bytes.byteOffset + start, bytes.byteOffset + start + 4 * count),
    );
  };
  const config: LlamaConfig = {
    dim,
    hiddenDim: num("llama.feed_forward_length"),
    layers: num("llama.block_count"),
    heads,
    kvHeads: num("llama.attention.head_count_kv", heads),
    vocabSize: pieces.length,
    contextLength: num("llama.context_length"),
    normEps: num("llama.attention.layer_norm_rms_epsilon", 1e-5),
    ropeTheta: num("llama.rope.freq_base", 10000),
  };
  const kvDim = (dim / heads) * config.kvHeads, H = config.hiddenDim;
  const embedding = f32("token_embd.weight", config.vocabSize * dim);
  const layers = Array.from({ length: config.layers }, (_, l) => ({
    attnNorm: f32(`blk.${l}.attn_norm.weight`, dim),
    wq: f32(`blk.${l}.attn_q.weight`, dim * dim),
    wk: f32(`blk.${l}.attn_k.weight`, kvDim * dim),
    wv: f32(`blk.${l}.attn_v.weight`, kvDim * dim),
    wo: f32(`blk.${l}.attn_output.weight`, dim * dim),
    ffnNorm: f32(`blk.${l}.ffn_norm.weight`, dim),
    gate: f32(`blk.${l}.ffn_gate.weight`, H * dim),
    up: f32(`blk.${l}.ffn_up.weight`, H * dim),
    down: f32(`blk.${l}.ffn_down.weight`, dim * H),
  }));
  const hasOutput = tensorInfos.some((t) => t.name === "output.weight");
  return {
    config,
    embedding,
    layers,
    finalNorm: f32("output_norm.weight", dim),
    output: hasOutput ? f32("output.weight", config.vocabSize * dim) : embedding,
    vocab: {
      pieces,
      scores: Float32Array.from(
        (metadata["tokenizer.ggml.scores"] as number[]) ?? pieces.map(() => 0),
      ),
      bos: num("tokenizer.ggml.bos_token_id", 1),
      eos: num("tokenizer.ggml.eos_token_id", 2),
      unk: num("tokenizer.ggml.unknown_token_id", 0),
    },
    source: path,
  };
}
