/**
 * A GGUF v3 writer for tests: a {@linkcode LlamaModel} (e.g. stories260K as
 * read) written back as a llama.cpp-style file (header, metadata, tensor
 * infos, aligned data) with its 2-D weight tensors in one GGML type and its
 * norms and biases in F32, as llama.cpp keeps them; its architecture
 * (`config.architecture`: llama, mistral, qwen2) and its vocabulary,
 * SentencePiece or byte-level BPE (merges, pre-tokenizer, token types). Also the quantizers, the block
 * packers the tests build known blocks with, and {@linkcode widenLlama},
 * which pads a model with zeros, keeping its function, so that its rows fit
 * the K-quants' 256-value blocks.
 *
 * The quantizers are simple, not llama.cpp's (no importance weights, no
 * iterative search):
 *
 * - F16: round to nearest even; BF16: ggml's `ggml_compute_fp32_to_bf16`.
 * - Q8_0 and Q4_0: ggml's reference quantizers (`quantize_row_q8_0_ref`:
 *   d = max|x| / 127, q = round(x / d); `quantize_row_q4_0_ref`: d = the
 *   largest-magnitude value / −8, q = min(15, trunc(x / d + 8.5))).
 * - Q4_K and Q5_K: per 32-value sub-block, the range [min(0, min x), max x]
 *   (ggml's K-quants keep the offset ≤ 0); the super-block's f16 dmin is
 *   the largest such −min / 63 rounded up, each sub-block's 6-bit m the
 *   ceiling of −min / dmin (so the grid starts at or below the sub-block's
 *   minimum); then d is the largest (max + dmin·m) / (15·63) (31 for Q5_K)
 *   rounded up, and each 6-bit scale the ceiling that makes the grid reach
 *   the sub-block's maximum; q = round((x + dmin·m) / (d·sc)). Every value is
 *   then within d·sc / 2 of its original: at most
 *   ((max − min) + dmin) / (2·15) + d / 2 per sub-block.
 * - Q6_K: per 16-value sub-block, s = max|x| / 31; d the largest s / 127
 *   rounded up to f16, each int8 scale the ceiling of s / d, q = round(x /
 *   (d·sc)) in −32…31; every value within (max|x| / 31 + d) / 2.
 *
 * @module
 */

import type { LlamaModel } from "./gguf_model.ts";
import { GGML_TYPES, type GgmlTypeName } from "./gguf_quants.ts";
import { quantizeGgmlRef } from "./_ggml_quantize.ts";
import { quantize } from "./_gguf_quantize.ts";

export * from "./_gguf_quantize.ts";

// ---------------------------------------------------------------- the file

/** Options of {@linkcode llamaGguf}. */
export interface GgufWriteOptions {
  /** The type of the 2-D weight tensors; norms stay F32. */
  type: GgmlTypeName;
  /** `general.name`. Default: "brainorg test model". */
  name?: string;
  /** `general.alignment` of the tensor data. Default: 32 (GGUF's default). */
  alignment?: number;
  /**
   * "bounded": this module's quantizers, every value within a stated bound;
   * "ggml": ggml's reference quantizers (`_ggml_quantize.ts`: Q4_K and Q6_K
   * search for least squared error, as `llama-quantize` does). Default: "bounded".
   */
  quantizer?: "bounded" | "ggml";
}

/** Little-endian bytes, appended. */
class Bytes {
  private buf = new Uint8Array(1 << 16);
  private view = new DataView(this.buf.buffer);
  length = 0;
  private room(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(2 * this.buf.length, this.length + n));
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }
  u32(v: number): void {
    this.room(4);
    this.view.setUint32(this.length, v, true);
    this.length += 4;
  }
  u64(v: number): void {
    this.room(8);
    this.view.setBigUint64(this.length, BigInt(v), true);
    this.length += 8;
  }
  f32(v: number): void {
    this.room(4);
    this.view.setFloat32(this.length, v, true);
    this.length += 4;
  }
  str(s: string): void {
    const b = new TextEncoder().encode(s);
    this.u64(b.length);
    this.raw(b);
  }
  raw(b: Uint8Array): void {
    this.room(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }
  pad(alignment: number): void {
    this.raw(new Uint8Array((alignment - (this.length % alignment)) % alignment));
  }
  bytes(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

const KV_U32 = 4, KV_I32 = 5, KV_F32 = 6, KV_STRING = 8, KV_ARRAY = 9;

/**
 * A model as a GGUF v3 file's bytes.
 *
 * @param model the model (float32 weights)
 * @param options the weights' type, name and alignment
 * @returns the file's bytes
 * @throws {RangeError} when a weight's rows are not a whole number of the type's blocks
 */
export function llamaGguf(model: LlamaModel, options: GgufWriteOptions): Uint8Array {
  const { config: c, vocab } = model, alignment = options.alignment ?? 32;
  const kvDim = (c.dim / c.heads) * c.kvHeads;
  const tensors: { name: string; shape: number[]; values: Float32Array }[] = [
    { name: "token_embd.weight", shape: [c.dim, c.vocabSize], values: model.embedding },
    { name: "output_norm.weight", shape: [c.dim], values: model.finalNorm },
  ];
  if (model.output !== model.embedding) {
    tensors.push({ name: "output.weight", shape: [c.dim, c.vocabSize], values: model.output });
  }
  model.layers.forEach((w, l) => {
    const t = (name: string, shape: number[], values: Float32Array) =>
      tensors.push({ name: `blk.${l}.${name}.weight`, shape, values });
    // Biases are 1-D, so they stay F32 as llama.cpp keeps them.
    const bias = (name: string, values: Float32Array | undefined) =>
      values && tensors.push({ name: `blk.${l}.${name}.bias`, shape: [values.length], values });
    bias("attn_q", w.bq);
    bias("attn_k", w.bk);
    bias("attn_v", w.bv);
    t("attn_q", [c.dim, c.dim], w.wq);
    t("attn_k", [c.dim, kvDim], w.wk);
    t("attn_v", [c.dim, kvDim], w.wv);
    t("attn_output", [c.dim, c.dim], w.wo);
    t("attn_norm", [c.dim], w.attnNorm);
    t("ffn_gate", [c.dim, c.hiddenDim], w.gate);
    t("ffn_down", [c.hiddenDim, c.dim], w.down);
    t("ffn_up", [c.dim, c.hiddenDim], w.up);
    t("ffn_norm", [c.dim], w.ffnNorm);
  });
  const data = tensors.map((t) => {
    const type = t.shape.length === 2 ? options.type : "F32";
    const bytes = options.quantizer === "ggml"
      ? quantizeGgmlRef(type, t.values, t.shape[0])
      : quantize(type, t.values, t.shape[0], t.name);
    return { ...t, type, bytes };
  });

  const out = new Bytes();
  out.raw(new TextEncoder().encode("GGUF"));
  out.u32(3);
  out.u64(tensors.length);
  const kvs: [string, (b: Bytes) => void][] = [];
  const u = (key: string, v: number) => kvs.push([key, (b) => (b.u32(KV_U32), b.u32(v))]);
  const f = (key: string, v: number) => kvs.push([key, (b) => (b.u32(KV_F32), b.f32(v))]);
  const s = (key: string, v: string) => kvs.push([key, (b) => (b.u32(KV_STRING), b.str(v))]);
  const arch = c.architecture ?? "llama";
  s("general.architecture", arch);
  s("general.name", options.name ?? "brainorg test model");
  u("general.alignment", alignment);
  u(`${arch}.context_length`, c.contextLength);
  u(`${arch}.embedding_length`, c.dim);
  u(`${arch}.feed_forward_length`, c.hiddenDim);
  u(`${arch}.attention.head_count`, c.heads);
  u(`${arch}.attention.head_count_kv`, c.kvHeads);
  u(`${arch}.block_count`, c.layers);
  u(`${arch}.rope.dimension_count`, c.dim / c.heads);
  f(`${arch}.attention.layer_norm_rms_epsilon`, c.normEps);
  f(`${arch}.rope.freq_base`, c.ropeTheta);
  const bpe = vocab.kind === "bpe";
  s("tokenizer.ggml.model", bpe ? "gpt2" : "llama");
  const strings = (key: string, list: string[]) =>
    kvs.push([key, (b) => {
      b.u32(KV_ARRAY);
      b.u32(KV_STRING);
      b.u64(list.length);
      for (const p of list) b.str(p);
    }]);
  strings("tokenizer.ggml.tokens", vocab.pieces);
  if (bpe) {
    // As llama.cpp's converter writes Llama 3: merges and a pre-tokenizer, no scores.
    s("tokenizer.ggml.pre", vocab.pre ?? "default");
    strings("tokenizer.ggml.merges", vocab.merges ?? []);
  } else {
    kvs.push(["tokenizer.ggml.scores", (b) => {
      b.u32(KV_ARRAY);
      b.u32(KV_F32);
      b.u64(vocab.scores.length);
      for (const v of vocab.scores) b.f32(v);
    }]);
  }
  const types = vocab.types;
  if (types) {
    kvs.push(["tokenizer.ggml.token_type", (b) => {
      b.u32(KV_ARRAY);
      b.u32(KV_I32);
      b.u64(types.length);
      for (const t of types) b.u32(t >>> 0);
    }]);
  }
  u("tokenizer.ggml.bos_token_id", vocab.bos);
  u("tokenizer.ggml.eos_token_id", vocab.eos);
  u("tokenizer.ggml.unknown_token_id", vocab.unk);
  out.u64(kvs.length);
  for (const [key, write] of kvs) {
    out.str(key);
    write(out);
  }
  let offset = 0;
  for (const t of data) {
    out.str(t.name);
    out.u32(t.shape.length);
    for (const n of t.shape) out.u64(n);
    out.u32(GGML_TYPES[t.type].id);
    out.u64(offset);
    offset += Math.ceil(t.bytes.length / alignment) * alignment;
  }
  out.pad(alignment);
  for (const t of data) {
    out.raw(t.bytes);
    out.pad(alignment);
  }
  return out.bytes();
}

/**
 * Write a model as a GGUF v3 file (see {@linkcode llamaGguf}).
 *
 * @param path the file to write
 * @param model the model
 * @param options the weights' type, name and alignment
 */
export async function writeGgufLlama(
  path: string,
  model: LlamaModel,
  options: GgufWriteOptions,
): Promise<void> {
  await Deno.writeFile(path, llamaGguf(model, options));
}

// ---------------------------------------------------------------- widening

/**
 * The same model, padded with zeros so that its width and FFN hidden layer
 * are multiples of `multiple` (e.g. 256 for the K-quants' blocks): new
 * heads (of the same head size, keeping the query/key-value grouping),
 * hidden units and residual dimensions whose weights are all zero. The RMS
 * norms see the zeros, so ε scales by dim / dim′ and the norm weights by
 * √(dim / dim′): with dim′ / dim a power of 4 (64 → 256) every float
 * operation of the forward pass then gives the original's result, bit for
 * bit, and each block's FFN units are the original's followed by zeros.
 *
 * @param model the model
 * @param multiple the multiple the width and hidden layer are padded to
 * @returns the widened model (its `source` says so)
 * @throws {RangeError} when the padded width is not a whole number of head groups
 */
export function widenLlama(model: LlamaModel, multiple: number): LlamaModel {
  const c = model.config;
  const headDim = c.dim / c.heads, group = c.heads / c.kvHeads;
  const D = Math.ceil(c.dim / multiple) * multiple;
  const H = Math.ceil(c.hiddenDim / multiple) * multiple;
  if (D % (headDim * group) !== 0) {
    throw new RangeError(`a width of ${D} is not a whole number of ${group} heads of ${headDim}`);
  }
  const heads = D / headDim, kvHeads = heads / group, kvDim = kvHeads * headDim;
  const oldKv = c.kvHeads * headDim;
  const pad = (w: Float32Array, rows: number, cols: number, R: number, C: number) => {
    if (rows === R && cols === C) return w;
    const out = new Float32Array(R * C);
    for (let r = 0; r < rows; r++) out.set(w.subarray(r * cols, (r + 1) * cols), r * C);
    return out;
  };
  const norm = (w: Float32Array) => {
    const out = new Float32Array(D);
    const k = Math.sqrt(c.dim / D);
    for (let i = 0; i < c.dim; i++) out[i] = w[i] * k;
    return out;
  };
  const V = c.vocabSize;
  const embedding = pad(model.embedding, V, c.dim, V, D);
  return {
    ...model,
    config: { ...c, dim: D, hiddenDim: H, heads, kvHeads, normEps: (c.normEps * c.dim) / D },
    embedding,
    output: model.output === model.embedding ? embedding : pad(model.output, V, c.dim, V, D),
    finalNorm: norm(model.finalNorm),
    layers: model.layers.map((w) => ({
      attnNorm: norm(w.attnNorm),
      wq: pad(w.wq, c.dim, c.dim, D, D),
      wk: pad(w.wk, oldKv, c.dim, kvDim, D),
      wv: pad(w.wv, oldKv, c.dim, kvDim, D),
      wo: pad(w.wo, c.dim, c.dim, D, D),
      ffnNorm: norm(w.ffnNorm),
      gate: pad(w.gate, c.hiddenDim, c.dim, H, D),
      up: pad(w.up, c.hiddenDim, c.dim, H, D),
      down: pad(w.down, c.dim, c.hiddenDim, D, H),
      ...(w.bq ? { bq: pad(w.bq, 1, c.dim, 1, D) } : {}),
      ...(w.bk ? { bk: pad(w.bk, 1, oldKv, 1, kvDim) } : {}),
      ...(w.bv ? { bv: pad(w.bv, 1, oldKv, 1, kvDim) } : {}),
    })),
    source: `${model.source} (widened with zeros to width ${D}, FFN ${H})`,
  };
}
