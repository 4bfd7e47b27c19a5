/**
 * A GGUF v3 writer for tests: a {@linkcode LlamaModel} (e.g. stories260K as
 * read) written back as a llama.cpp-style file (header, metadata, tensor
 * infos, aligned data) with its 2-D weight tensors in one GGML type and its
 * norms in F32, as llama.cpp keeps them. Also the quantizers, the block
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
import { GGML_TYPES, type GgmlTypeName, halfToFloat } from "./gguf_quants.ts";

// ---------------------------------------------------------------- scalars

function roundEven(v: number): number {
  const f = Math.floor(v), r = v - f;
  return r > 0.5 || (r === 0.5 && f % 2 !== 0) ? f + 1 : f;
}

/**
 * A number as IEEE binary16 bits, rounded to nearest even (overflow to
 * infinity, NaN to a quiet NaN).
 *
 * @param x the number
 * @returns the 16 bits
 */
export function floatToHalf(x: number): number {
  if (Number.isNaN(x)) return 0x7e00;
  const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0, a = Math.abs(x);
  if (a >= 65520) return sign | 0x7c00;
  if (a < 2 ** -14) return sign | roundEven(a * 2 ** 24);
  let e = Math.floor(Math.log2(a));
  if (2 ** e > a) e--;
  if (2 ** (e + 1) <= a) e++;
  // A mantissa rounded up to 2048 carries into the exponent, as it should.
  return sign | (((e + 15) << 10) + roundEven(a * 2 ** (10 - e)) - 1024);
}

/**
 * The bits of the smallest binary16 at or above `x` (x ≥ 0, finite in f16).
 *
 * @param x the number
 * @returns the 16 bits
 */
export function halfAtLeast(x: number): number {
  const h = floatToHalf(x);
  return halfToFloat(h) < x ? h + 1 : h;
}

const f32 = new Float32Array(1), u32 = new Uint32Array(f32.buffer);

/**
 * A number as bfloat16 bits, as ggml rounds it (`ggml_compute_fp32_to_bf16`:
 * to float32, then to nearest even on the upper 16 bits).
 *
 * @param x the number
 * @returns the 16 bits
 */
export function floatToBf16(x: number): number {
  f32[0] = x;
  const u = u32[0];
  if ((u & 0x7fffffff) > 0x7f800000) return ((u >>> 16) | 64) & 0xffff;
  return ((u + (0x7fff + ((u >>> 16) & 1))) >>> 16) & 0xffff;
}

// ---------------------------------------------------------------- block packers

function setHalf(out: Uint8Array, p: number, bits: number): void {
  out[p] = bits & 0xff;
  out[p + 1] = bits >> 8;
}

/**
 * Pack a `block_q4_K` (or, with `qh`, a `block_q5_K`) as ggml's reference
 * quantizer lays it out.
 *
 * @param d f16 bits of the super-block scale
 * @param dmin f16 bits of the super-block min scale
 * @param scales the 8 sub-blocks' 6-bit scales
 * @param mins the 8 sub-blocks' 6-bit mins
 * @param q the 256 quants (0–15, or 0–31 for Q5_K)
 * @param five whether to pack a Q5_K block (176 bytes) rather than Q4_K (144)
 * @returns the block's bytes
 */
export function packQ4KQ5K(
  d: number,
  dmin: number,
  scales: ArrayLike<number>,
  mins: ArrayLike<number>,
  q: ArrayLike<number>,
  five = false,
): Uint8Array {
  const out = new Uint8Array(five ? 176 : 144);
  setHalf(out, 0, d);
  setHalf(out, 2, dmin);
  const s = out.subarray(4, 16);
  for (let j = 0; j < 8; j++) {
    const ls = scales[j], lm = mins[j];
    if (j < 4) {
      s[j] = ls;
      s[j + 4] = lm;
    } else {
      s[j + 4] = (ls & 0xf) | ((lm & 0xf) << 4);
      s[j - 4] |= (ls >> 4) << 6;
      s[j] |= (lm >> 4) << 6;
    }
  }
  const qh = out.subarray(16, 48), qs = out.subarray(five ? 48 : 16);
  for (let c = 0; c < 4; c++) {
    for (let l = 0; l < 32; l++) {
      const a = q[64 * c + l], b = q[64 * c + 32 + l];
      qs[32 * c + l] = (a & 0xf) | ((b & 0xf) << 4);
      if (five) qh[l] |= ((a >> 4) << (2 * c)) | ((b >> 4) << (2 * c + 1));
    }
  }
  return out;
}

/**
 * Pack a `block_q6_K` as ggml's reference quantizer lays it out.
 *
 * @param d f16 bits of the super-block scale
 * @param scales the 16 sub-blocks' int8 scales
 * @param q the 256 quants, stored as q + 32 (0–63)
 * @returns the block's 210 bytes
 */
export function packQ6K(d: number, scales: ArrayLike<number>, q: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(210);
  for (let n = 0; n < 2; n++) {
    const j = 128 * n;
    for (let l = 0; l < 32; l++) {
      const a = q[j + l], b = q[j + l + 32], c = q[j + l + 64], e = q[j + l + 96];
      out[64 * n + l] = (a & 0xf) | ((c & 0xf) << 4);
      out[64 * n + l + 32] = (b & 0xf) | ((e & 0xf) << 4);
      out[128 + 32 * n + l] = (a >> 4) | ((b >> 4) << 2) | ((c >> 4) << 4) | ((e >> 4) << 6);
    }
  }
  for (let i = 0; i < 16; i++) out[192 + i] = scales[i] & 0xff;
  setHalf(out, 208, d);
  return out;
}

// ---------------------------------------------------------------- quantizers

/** ggml's `roundf`: halves away from zero. */
function roundAway(v: number): number {
  return v < 0 ? -Math.round(-v) : Math.round(v);
}

function q8_0(x: Float32Array, o: number, out: Uint8Array, p: number): void {
  let amax = 0;
  for (let j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(x[o + j]));
  const d = Math.fround(amax / 127), id = d ? Math.fround(1 / d) : 0;
  setHalf(out, p, floatToHalf(d));
  for (let j = 0; j < 32; j++) out[p + 2 + j] = roundAway(Math.fround(x[o + j] * id)) & 0xff;
}

function q4_0(x: Float32Array, o: number, out: Uint8Array, p: number): void {
  let amax = 0, max = 0;
  for (let j = 0; j < 32; j++) {
    if (amax < Math.abs(x[o + j])) {
      amax = Math.abs(x[o + j]);
      max = x[o + j];
    }
  }
  const d = Math.fround(max / -8), id = d ? Math.fround(1 / d) : 0;
  setHalf(out, p, floatToHalf(d));
  const q = (v: number) => Math.min(15, Math.trunc(Math.fround(Math.fround(v * id) + 8.5)));
  for (let j = 0; j < 16; j++) out[p + 2 + j] = q(x[o + j]) | (q(x[o + j + 16]) << 4);
}

function qK(x: Float32Array, o: number, out: Uint8Array, p: number, five: boolean): void {
  const nmax = five ? 31 : 15;
  const lo = new Float64Array(8), hi = new Float64Array(8);
  let maxMin = 0;
  for (let j = 0; j < 8; j++) {
    let a = 0, b = -Infinity;
    for (let l = 0; l < 32; l++) {
      const v = x[o + 32 * j + l];
      if (v < a) a = v;
      if (v > b) b = v;
    }
    lo[j] = a;
    hi[j] = b;
    maxMin = Math.max(maxMin, -a);
  }
  const dminBits = halfAtLeast(maxMin / 63), dmin = halfToFloat(dminBits);
  const mins = new Uint8Array(8), scales = new Uint8Array(8), M = new Float64Array(8);
  let maxSpan = 0;
  for (let j = 0; j < 8; j++) {
    mins[j] = dmin > 0 ? Math.min(63, Math.ceil(-lo[j] / dmin)) : 0;
    M[j] = Math.fround(dmin * mins[j]);
    maxSpan = Math.max(maxSpan, hi[j] + M[j]);
  }
  const dBits = halfAtLeast(maxSpan / nmax / 63), d = halfToFloat(dBits);
  const q = new Uint8Array(256);
  for (let j = 0; j < 8; j++) {
    scales[j] = d > 0 ? Math.min(63, Math.ceil((hi[j] + M[j]) / nmax / d)) : 0;
    const D = Math.fround(d * scales[j]);
    if (!D) continue;
    for (let l = 0; l < 32; l++) {
      q[32 * j + l] = Math.max(0, Math.min(nmax, Math.round((x[o + 32 * j + l] + M[j]) / D)));
    }
  }
  out.set(packQ4KQ5K(dBits, dminBits, scales, mins, q, five), p);
}

function q6_K(x: Float32Array, o: number, out: Uint8Array, p: number): void {
  const s = new Float64Array(16);
  let maxS = 0;
  for (let j = 0; j < 16; j++) {
    let a = 0;
    for (let l = 0; l < 16; l++) a = Math.max(a, Math.abs(x[o + 16 * j + l]));
    s[j] = a / 31;
    maxS = Math.max(maxS, s[j]);
  }
  const dBits = halfAtLeast(maxS / 127), d = halfToFloat(dBits);
  const scales = new Int8Array(16), q = new Uint8Array(256).fill(32);
  for (let j = 0; j < 16; j++) {
    scales[j] = d > 0 ? Math.min(127, Math.ceil(s[j] / d)) : 0;
    const D = Math.fround(d * scales[j]);
    if (!D) continue;
    for (let l = 0; l < 16; l++) {
      q[16 * j + l] = 32 + Math.max(-32, Math.min(31, Math.round(x[o + 16 * j + l] / D)));
    }
  }
  out.set(packQ6K(dBits, scales, q), p);
}

/**
 * Quantize row-major values to a GGML type (see the module's notes for how).
 *
 * @param type the type
 * @param x the values; rows of `ne0`
 * @param ne0 the row length, a whole number of the type's blocks
 * @param name the tensor, for errors
 * @returns the tensor's bytes as a GGUF file holds them
 * @throws {RangeError} when a row is not a whole number of blocks
 */
export function quantize(
  type: GgmlTypeName,
  x: Float32Array,
  ne0: number,
  name = "tensor",
): Uint8Array {
  const t = GGML_TYPES[type];
  if (ne0 % t.blockValues !== 0 || x.length % ne0 !== 0) {
    throw new RangeError(
      `${name}: rows of ${ne0} values are not a whole number of ${type} blocks ` +
        `(${t.blockValues} values): widen the model (widenLlama) or keep it in F32/F16/BF16`,
    );
  }
  const blocks = x.length / t.blockValues, out = new Uint8Array(blocks * t.blockBytes);
  switch (type) {
    case "F32":
      out.set(new Uint8Array(x.buffer, x.byteOffset, x.byteLength));
      break;
    case "F16":
    case "BF16": {
      const conv = type === "F16" ? floatToHalf : floatToBf16;
      for (let i = 0; i < x.length; i++) setHalf(out, 2 * i, conv(x[i]));
      break;
    }
    case "Q8_0":
      for (let b = 0; b < blocks; b++) q8_0(x, 32 * b, out, 34 * b);
      break;
    case "Q4_0":
      for (let b = 0; b < blocks; b++) q4_0(x, 32 * b, out, 18 * b);
      break;
    case "Q4_K":
    case "Q5_K":
      for (let b = 0; b < blocks; b++) qK(x, 256 * b, out, t.blockBytes * b, type === "Q5_K");
      break;
    case "Q6_K":
      for (let b = 0; b < blocks; b++) q6_K(x, 256 * b, out, 210 * b);
      break;
  }
  return out;
}

// ---------------------------------------------------------------- the file

/** Options of {@linkcode llamaGguf}. */
export interface GgufWriteOptions {
  /** The type of the 2-D weight tensors; norms stay F32. */
  type: GgmlTypeName;
  /** `general.name`. Default: "brainorg test model". */
  name?: string;
  /** `general.alignment` of the tensor data. Default: 32 (GGUF's default). */
  alignment?: number;
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

const KV_U32 = 4, KV_F32 = 6, KV_STRING = 8, KV_ARRAY = 9;

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
    return { ...t, type, bytes: quantize(type, t.values, t.shape[0], t.name) };
  });

  const out = new Bytes();
  out.raw(new TextEncoder().encode("GGUF"));
  out.u32(3);
  out.u64(tensors.length);
  const kvs: [string, (b: Bytes) => void][] = [];
  const u = (key: string, v: number) => kvs.push([key, (b) => (b.u32(KV_U32), b.u32(v))]);
  const f = (key: string, v: number) => kvs.push([key, (b) => (b.u32(KV_F32), b.f32(v))]);
  const s = (key: string, v: string) => kvs.push([key, (b) => (b.u32(KV_STRING), b.str(v))]);
  s("general.architecture", "llama");
  s("general.name", options.name ?? "brainorg test model");
  u("general.alignment", alignment);
  u("llama.context_length", c.contextLength);
  u("llama.embedding_length", c.dim);
  u("llama.feed_forward_length", c.hiddenDim);
  u("llama.attention.head_count", c.heads);
  u("llama.attention.head_count_kv", c.kvHeads);
  u("llama.block_count", c.layers);
  u("llama.rope.dimension_count", c.dim / c.heads);
  f("llama.attention.layer_norm_rms_epsilon", c.normEps);
  f("llama.rope.freq_base", c.ropeTheta);
  s("tokenizer.ggml.model", "llama");
  kvs.push(["tokenizer.ggml.tokens", (b) => {
    b.u32(KV_ARRAY);
    b.u32(KV_STRING);
    b.u64(vocab.pieces.length);
    for (const p of vocab.pieces) b.str(p);
  }]);
  kvs.push(["tokenizer.ggml.scores", (b) => {
    b.u32(KV_ARRAY);
    b.u32(KV_F32);
    b.u64(vocab.scores.length);
    for (const v of vocab.scores) b.f32(v);
  }]);
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
    })),
    source: `${model.source} (widened with zeros to width ${D}, FFN ${H})`,
  };
}
