/**
 * A synthetic Llama GGUF file of any shape, written tensor by tensor so that
 * an 8 B-parameter file (16 GB in F16) never sits in memory: random F16
 * weights (normal, σ 0.02, as Llama's initialisation), norms of ones in F32,
 * and a SentencePiece vocabulary in which every word of
 * {@linkcode syntheticWords} is one or two tokens.
 *
 * @module
 */

import { floatToHalf } from "../packages/models/_gguf_writer.ts";
import type { LlamaConfig } from "../packages/models/gguf_model.ts";

/**
 * The shape of a synthetic model: a Llama config's sizes, the vocabulary at
 * least 260 + 2 · {@linkcode SYNTH_CHARS}.
 */
export type SynthShape = Pick<
  LlamaConfig,
  "dim" | "hiddenDim" | "layers" | "heads" | "kvHeads" | "vocabSize" | "contextLength"
>;

/** Llama-3-8B's shape (Meta's config.json). */
export const LLAMA3_8B: SynthShape = {
  dim: 4096,
  hiddenDim: 14336,
  layers: 32,
  heads: 32,
  kvHeads: 8,
  vocabSize: 128256,
  contextLength: 8192,
};

/** Characters the vocabulary spells words with (CJK ideographs: one character each). */
export const SYNTH_CHARS = 2000;
const CHAR0 = 0x4e00;

/**
 * The pieces: specials, the 256 byte pieces, "▁", each character alone and
 * after "▁" (so a one-character word is one token, "▁c", and a
 * two-character word two: "▁c" and "d"), then fillers up to `vocabSize`.
 */
function pieces(vocabSize: number): string[] {
  const out = ["<unk>", "<s>", "</s>"];
  for (let b = 0; b < 256; b++) out.push(`<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`);
  out.push("▁");
  for (let i = 0; i < SYNTH_CHARS; i++) out.push(String.fromCodePoint(CHAR0 + i));
  for (let i = 0; i < SYNTH_CHARS; i++) out.push("▁" + String.fromCodePoint(CHAR0 + i));
  if (out.length > vocabSize) throw new RangeError(`vocabSize must be ≥ ${out.length}`);
  for (let i = out.length; i < vocabSize; i++) out.push(`<filler_${i}>`);
  return out;
}

/**
 * `n` words of one character, or two with probability `twoTokens`: about
 * 1 + twoTokens tokens per word (Llama 3's tokenizer gives about 1.3 on
 * English prose).
 *
 * @param n words
 * @param twoTokens the share of two-token words. Default: 0.3.
 * @param seed seed of the draws. Default: 1.
 * @returns the words
 */
export function syntheticWords(n: number, twoTokens = 0.3, seed = 1): string[] {
  let s = seed >>> 0 || 1;
  const next = () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
  const ch = () => String.fromCodePoint(CHAR0 + Math.floor(next() * SYNTH_CHARS));
  return Array.from({ length: n }, () => next() < twoTokens ? ch() + ch() : ch());
}

/** Little-endian bytes, appended (the header only: a few megabytes). */
class Header {
  private parts: Uint8Array[] = [];
  length = 0;
  private push(b: Uint8Array) {
    this.parts.push(b);
    this.length += b.length;
  }
  u32(v: number) {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, v, true);
    this.push(b);
  }
  u64(v: number) {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, BigInt(v), true);
    this.push(b);
  }
  f32(v: number) {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    this.push(b);
  }
  str(s: string) {
    const b = new TextEncoder().encode(s);
    this.u64(b.length);
    this.push(b);
  }
  bytes(): Uint8Array {
    const out = new Uint8Array(this.length);
    let o = 0;
    for (const p of this.parts) (out.set(p, o), o += p.length);
    return out;
  }
}

const KV_U32 = 4, KV_F32 = 6, KV_STRING = 8, KV_ARRAY = 9;
const F32 = 0, F16 = 1, ALIGN = 32;

/** The tensors of a shape, in llama.cpp's order: name, GGUF shape (ne0 first), type. */
function tensors(c: SynthShape): { name: string; shape: number[]; type: number }[] {
  const kvDim = (c.dim / c.heads) * c.kvHeads;
  const out = [{ name: "token_embd.weight", shape: [c.dim, c.vocabSize], type: F16 }];
  for (let l = 0; l < c.layers; l++) {
    const t = (n: string, shape: number[]) =>
      out.push({ name: `blk.${l}.${n}.weight`, shape, type: shape.length > 1 ? F16 : F32 });
    t("attn_norm", [c.dim]);
    t("attn_q", [c.dim, c.dim]);
    t("attn_k", [c.dim, kvDim]);
    t("attn_v", [c.dim, kvDim]);
    t("attn_output", [c.dim, c.dim]);
    t("ffn_norm", [c.dim]);
    t("ffn_gate", [c.dim, c.hiddenDim]);
    t("ffn_up", [c.dim, c.hiddenDim]);
    t("ffn_down", [c.hiddenDim, c.dim]);
  }
  out.push({ name: "output_norm.weight", shape: [c.dim], type: F32 });
  out.push({ name: "output.weight", shape: [c.dim, c.vocabSize], type: F16 });
  return out;
}

/**
 * The size in bytes of the file {@linkcode writeSyntheticGguf} writes for a shape.
 *
 * @param shape the model's shape
 * @returns bytes of tensor data (the header adds a few megabytes)
 */
export function syntheticDataBytes(shape: SynthShape): number {
  return tensors(shape).reduce((s, t) => {
    const n = t.shape.reduce((a, b) => a * b, 1) * (t.type === F16 ? 2 : 4);
    return s + Math.ceil(n / ALIGN) * ALIGN;
  }, 0);
}

/**
 * Write a synthetic F16 Llama GGUF file, tensor by tensor (at most 64 MB in
 * memory), through `path + ".partial"` renamed at the end, so a file at
 * `path` is always whole.
 *
 * @param path the file to write
 * @param shape the model's shape
 * @param seed seed of the weights. Default: 1.
 */
export async function writeSyntheticGguf(
  path: string,
  shape: SynthShape,
  seed = 1,
): Promise<void> {
  const list = tensors(shape), vocab = pieces(shape.vocabSize);
  const h = new Header();
  h.u32(0x46554747); // "GGUF" little-endian
  h.u32(3);
  h.u64(list.length);
  const kvs: [string, () => void][] = [];
  const u = (k: string, v: number) => kvs.push([k, () => (h.u32(KV_U32), h.u32(v))]);
  const f = (k: string, v: number) => kvs.push([k, () => (h.u32(KV_F32), h.f32(v))]);
  const s = (k: string, v: string) => kvs.push([k, () => (h.u32(KV_STRING), h.str(v))]);
  s("general.architecture", "llama");
  s("general.name", "brainorg synthetic (Llama shape, random weights)");
  u("general.alignment", ALIGN);
  u("llama.context_length", shape.contextLength);
  u("llama.embedding_length", shape.dim);
  u("llama.feed_forward_length", shape.hiddenDim);
  u("llama.attention.head_count", shape.heads);
  u("llama.attention.head_count_kv", shape.kvHeads);
  u("llama.block_count", shape.layers);
  u("llama.rope.dimension_count", shape.dim / shape.heads);
  f("llama.attention.layer_norm_rms_epsilon", 1e-5);
  f("llama.rope.freq_base", 500000);
  s("tokenizer.ggml.model", "llama");
  kvs.push(["tokenizer.ggml.tokens", () => {
    h.u32(KV_ARRAY), h.u32(KV_STRING), h.u64(vocab.length);
    for (const p of vocab) h.str(p);
  }]);
  // Longer pieces merge first, as SentencePiece's scores rank them.
  kvs.push(["tokenizer.ggml.scores", () => {
    h.u32(KV_ARRAY), h.u32(KV_F32), h.u64(vocab.length);
    for (const p of vocab) h.f32(p.length);
  }]);
  u("tokenizer.ggml.bos_token_id", 1);
  u("tokenizer.ggml.eos_token_id", 2);
  u("tokenizer.ggml.unknown_token_id", 0);
  h.u64(kvs.length);
  for (const [k, write] of kvs) (h.str(k), write());
  let offset = 0;
  const sizes = list.map((t) => t.shape.reduce((a, b) => a * b, 1) * (t.type === F16 ? 2 : 4));
  list.forEach((t, i) => {
    h.str(t.name);
    h.u32(t.shape.length);
    for (const n of t.shape) h.u64(n);
    h.u32(t.type);
    h.u64(offset);
    offset += Math.ceil(sizes[i] / ALIGN) * ALIGN;
  });
  const head = h.bytes();
  const padded = new Uint8Array(Math.ceil(head.length / ALIGN) * ALIGN);
  padded.set(head);

  // 65,536 normal quantiles as f16: a random 16-bit index draws one.
  const table = new Uint16Array(65536);
  for (let i = 0; i < 65536; i++) table[i] = floatToHalf(0.02 * normalQuantile((i + 0.5) / 65536));
  let r = seed >>> 0 || 1;
  const tmp = `${path}.partial`;
  const file = await Deno.open(tmp, { write: true, create: true, truncate: true });
  try {
    const writeAll = async (b: Uint8Array) => {
      for (let o = 0; o < b.length;) o += await file.write(b.subarray(o));
    };
    await writeAll(padded);
    const CHUNK = 1 << 25; // values per write: 64 MB of F16
    const buf16 = new Uint16Array(CHUNK), ones = new Float32Array(CHUNK / 2).fill(1);
    for (let i = 0; i < list.length; i++) {
      const t = list[i], n = t.shape.reduce((a, b) => a * b, 1);
      if (t.type === F32) {
        for (let o = 0; o < n; o += ones.length) {
          const m = Math.min(ones.length, n - o);
          await writeAll(new Uint8Array(ones.buffer, 0, 4 * m));
        }
      } else {
        for (let o = 0; o < n; o += CHUNK) {
          const m = Math.min(CHUNK, n - o);
          for (let j = 0; j < m; j += 2) {
            // xorshift32: two draws of 16 bits per step.
            r ^= r << 13, r ^= r >>> 17, r ^= r << 5;
            buf16[j] = table[r & 0xffff];
            buf16[j + 1] = table[r >>> 16];
          }
          await writeAll(new Uint8Array(buf16.buffer, 0, 2 * m));
        }
      }
      const pad = Math.ceil(sizes[i] / ALIGN) * ALIGN - sizes[i];
      if (pad) await writeAll(new Uint8Array(pad));
    }
  } finally {
    file.close();
  }
  await Deno.rename(tmp, path);
}

/** The standard normal's quantile function (Acklam's approximation, |error| < 1.2e-9). */
function normalQuantile(p: number): number {
  const a = [
    -39.69683028665376,
    220.9460984245205,
    -275.9285104469687,
    138.357751867269,
    -30.66479806614716,
    2.506628277459239,
  ];
  const b = [
    -54.47609879822406,
    161.5858368580409,
    -155.6989798598866,
    66.80131188771972,
    -13.28068155288572,
  ];
  const c = [
    -0.007784894002430293,
    -0.3223964580411365,
    -2.400758277161838,
    -2.549732539343734,
    4.374664141464968,
    2.938163982698783,
  ];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const lo = 0.02425;
  if (p < lo || p > 1 - lo) {
    const q = Math.sqrt(-2 * Math.log(p < lo ? p : 1 - p));
    const x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
      ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
    return p < lo ? x : -x;
  }
  const q = p - 0.5, r = q * q;
  return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
    (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}
