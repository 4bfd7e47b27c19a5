/**
 * GGML tensor types as GGUF files store them, and their dequantization to
 * float32, block by block, as ggml defines it: the block layouts of
 * `ggml-common.h` (`block_q4_0`, `block_q8_0`, `block_q4_K`, `block_q5_K`,
 * `block_q6_K`) and the formulas of `ggml-quants.c` (`dequantize_row_*`).
 *
 * | type | id | values per block | bytes per block | value |
 * | --- | --- | --- | --- | --- |
 * | F32 | 0 | 1 | 4 | IEEE binary32 |
 * | F16 | 1 | 1 | 2 | IEEE binary16 |
 * | Q4_0 | 2 | 32 | 18 | d·(q − 8); d f16, q 4 bits (low nibbles: values 0–15, high: 16–31) |
 * | Q8_0 | 8 | 32 | 34 | d·q; d f16, q int8 |
 * | Q4_K | 12 | 256 | 144 | d·sc·q − dmin·m per 32 values; d, dmin f16, sc, m 6 bits, q 4 bits |
 * | Q5_K | 13 | 256 | 176 | as Q4_K with a fifth bit of q in `qh` |
 * | Q6_K | 14 | 256 | 210 | d·sc·(q − 32) per 16 values; sc int8, q 6 bits, d f16 |
 * | BF16 | 30 | 1 | 2 | the upper half of a binary32 |
 *
 * A tensor's rows (its first GGUF dimension, `ne0`) hold a whole number of
 * blocks, as ggml's GGUF loader requires. Every value is the float32 that
 * ggml's reference C computes: the products involved are exact in float32
 * (an f16 scale times integers of at most 13 bits), and the K-quants' one
 * subtraction is rounded once, as C rounds it.
 *
 * @module
 */

import { InputError } from "@brainorg/common";

/** The names of the GGML tensor types brainorg reads. */
export type GgmlTypeName = "F32" | "F16" | "Q4_0" | "Q8_0" | "Q4_K" | "Q5_K" | "Q6_K" | "BF16";

/** A GGML tensor type: its id in GGUF tensor infos and its block layout. */
export interface GgmlType {
  /** ggml's id (`enum ggml_type`), as GGUF tensor infos store it. */
  readonly id: number;
  /** ggml's name for it. */
  readonly name: GgmlTypeName;
  /** Values per block (a row holds a whole number of blocks). */
  readonly blockValues: number;
  /** Bytes per block. */
  readonly blockBytes: number;
}

/** Values per K-quant super-block (ggml's `QK_K`). */
const QK_K = 256;

/** The GGML tensor types brainorg dequantizes, by name. */
export const GGML_TYPES: Readonly<Record<GgmlTypeName, GgmlType>> = Object.freeze(
  {
    F32: { id: 0, name: "F32", blockValues: 1, blockBytes: 4 },
    F16: { id: 1, name: "F16", blockValues: 1, blockBytes: 2 },
    Q4_0: { id: 2, name: "Q4_0", blockValues: 32, blockBytes: 2 + 16 },
    Q8_0: { id: 8, name: "Q8_0", blockValues: 32, blockBytes: 2 + 32 },
    Q4_K: { id: 12, name: "Q4_K", blockValues: QK_K, blockBytes: 2 + 2 + 12 + QK_K / 2 },
    Q5_K: {
      id: 13,
      name: "Q5_K",
      blockValues: QK_K,
      blockBytes: 2 + 2 + 12 + QK_K / 8 + QK_K / 2,
    },
    Q6_K: {
      id: 14,
      name: "Q6_K",
      blockValues: QK_K,
      blockBytes: QK_K / 2 + QK_K / 4 + QK_K / 16 + 2,
    },
    BF16: { id: 30, name: "BF16", blockValues: 1, blockBytes: 2 },
  } as const,
);

const BY_ID = new Map(Object.values(GGML_TYPES).map((t) => [t.id, t]));

/** ggml's names of the types brainorg does not read, for errors. */
const OTHER_NAMES: Record<number, string> = {
  3: "Q4_1",
  6: "Q5_0",
  7: "Q5_1",
  9: "Q8_1",
  10: "Q2_K",
  11: "Q3_K",
  15: "Q8_K",
  16: "IQ2_XXS",
  17: "IQ2_XS",
  18: "IQ3_XXS",
  19: "IQ1_S",
  20: "IQ4_NL",
  21: "IQ3_S",
  22: "IQ2_S",
  23: "IQ4_XS",
  24: "I8",
  25: "I16",
  26: "I32",
  27: "I64",
  28: "F64",
  29: "IQ1_M",
  34: "TQ1_0",
  35: "TQ2_0",
};

/**
 * The type of a GGUF tensor-info type id, if brainorg reads it.
 *
 * @param id ggml's type id
 * @returns its layout, or `undefined` for a type brainorg does not read
 *
 * @example
 * ```ts
 * import { ggmlType } from "@brainorg/models";
 * console.log(ggmlType(12)); // { id: 12, name: "Q4_K", blockValues: 256, blockBytes: 144 }
 * ```
 */
export function ggmlType(id: number): GgmlType | undefined {
  return BY_ID.get(id);
}

/**
 * A type id as ggml names it, read or not: `Q4_K`, `Q4_1`, or `unknown (99)`.
 *
 * @param id ggml's type id
 * @returns ggml's name of it
 *
 * @example
 * ```ts
 * import { ggmlTypeName } from "@brainorg/models";
 * console.log(ggmlTypeName(14), ggmlTypeName(3)); // Q6_K Q4_1
 * ```
 */
export function ggmlTypeName(id: number): string {
  return BY_ID.get(id)?.name ?? OTHER_NAMES[id] ?? `unknown (${id})`;
}

/** Where a tensor comes from, for errors. */
export interface TensorSource {
  /** The file. */
  file?: string;
  /** The tensor's name. */
  tensor: string;
}

/**
 * Bytes a tensor of `type` with this shape takes, after checking that its
 * rows are a whole number of blocks.
 *
 * @param type the tensor's type
 * @param shape its dimensions in GGUF order (`ne0`, the row length, first)
 * @param where the tensor, for errors
 * @returns its size in bytes
 * @throws {InputError} naming the tensor when a row is not a whole number of blocks
 */
export function ggmlTensorBytes(
  type: GgmlType,
  shape: readonly number[],
  where: TensorSource,
): number {
  const ne0 = shape[0] ?? 1;
  const count = shape.reduce((a, b) => a * b, 1);
  if (ne0 % type.blockValues !== 0) {
    throw new InputError("a tensor's rows are not a whole number of blocks", {
      file: where.file,
      field: `${where.tensor} (shape)`,
      expected: `rows (the first dimension) of a multiple of ${type.blockValues} values: ` +
        `${type.name} stores blocks of ${type.blockValues}`,
      found: `rows of ${ne0} values (shape ${shape.join(" × ")})`,
    });
  }
  return (count / type.blockValues) * type.blockBytes;
}

/** Whether typed arrays read this host's memory little-endian (GGUF's order). */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** binary16 bits → value, all 65,536 of them (built on first use). */
let halfTable: Float32Array | undefined;

/**
 * An IEEE binary16 (ggml's `ggml_half`) as a number: subnormals, infinities
 * and NaN included.
 *
 * @param bits the 16 bits
 * @returns the value (exact: every binary16 is a binary32)
 */
export function halfToFloat(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1, exp = (bits >> 10) & 0x1f, mant = bits & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 31) return mant ? NaN : sign * Infinity;
  return sign * (1024 + mant) * 2 ** (exp - 25);
}

function halves(): Float32Array {
  if (!halfTable) {
    halfTable = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) halfTable[h] = halfToFloat(h);
  }
  return halfTable;
}

/**
 * Dequantize one tensor to float32, block by block, straight from the bytes
 * that hold it (no intermediate copy; an F32 tensor is copied as it is).
 *
 * @param typeId the tensor's GGML type id (F32 0, F16 1, Q4_0 2, Q8_0 8,
 *   Q4_K 12, Q5_K 13, Q6_K 14, BF16 30)
 * @param shape its dimensions in GGUF order (`ne0`, the row length, first)
 * @param bytes the bytes holding it (e.g. the whole file)
 * @param offset where in `bytes` its data starts
 * @param where the tensor, for errors
 * @returns its values, row-major
 * @throws {InputError} naming the tensor for a type brainorg does not read,
 *   rows that are not a whole number of blocks, or data cut short
 *
 * @example
 * ```ts
 * import { dequantizeTensor } from "@brainorg/models";
 * // One Q8_0 block: d = 0.5 (f16 0x3800), then 32 int8 values 0, 1, 2, …
 * const block = new Uint8Array(34);
 * block.set([0x00, 0x38]);
 * for (let j = 0; j < 32; j++) block[2 + j] = j;
 * console.log(dequantizeTensor(8, [32], block, 0, { tensor: "demo" })); // 0, 0.5, 1, …
 * ```
 */
export function dequantizeTensor(
  typeId: number,
  shape: readonly number[],
  bytes: Uint8Array,
  offset: number,
  where: TensorSource,
): Float32Array {
  const type = BY_ID.get(typeId);
  if (!type) {
    throw new InputError("a tensor has a GGML type brainorg does not read", {
      file: where.file,
      field: `${where.tensor} (type)`,
      expected: Object.values(GGML_TYPES).map((t) => `${t.name} (${t.id})`).join(", "),
      found: `${ggmlTypeName(typeId)}${typeId in OTHER_NAMES ? ` (${typeId})` : ""}`,
    });
  }
  const size = ggmlTensorBytes(type, shape, where);
  const count = shape.reduce((a, b) => a * b, 1);
  if (!(offset >= 0 && offset + size <= bytes.byteLength)) {
    throw new InputError("a tensor's data is cut short (truncated or damaged file)", {
      file: where.file,
      field: `${where.tensor} (data)`,
      expected: `${size} bytes (${count / type.blockValues} ${type.name} blocks of ` +
        `${type.blockBytes}) from byte ${offset}`,
      found: `${Math.max(0, bytes.byteLength - offset)} bytes`,
    });
  }
  const at = bytes.byteOffset + offset;
  if (type.name === "F32") return new Float32Array(bytes.buffer.slice(at, at + size));
  const out = new Float32Array(count);
  const src = new Uint8Array(bytes.buffer, at, size);
  const blocks = count / type.blockValues;
  switch (type.name) {
    case "F16": {
      const h = halves();
      // Whole 16-bit words where the data is aligned (little-endian hosts, as
      // ggml's files): several times faster on the gigabytes of a large model.
      if (at % 2 === 0 && LITTLE_ENDIAN) {
        const u16 = new Uint16Array(bytes.buffer, at, count);
        for (let i = 0; i < count; i++) out[i] = h[u16[i]];
      } else for (let i = 0; i < count; i++) out[i] = h[src[2 * i] | (src[2 * i + 1] << 8)];
      break;
    }
    case "BF16": {
      const bits = new Uint32Array(out.buffer);
      for (let i = 0; i < count; i++) bits[i] = (src[2 * i] | (src[2 * i + 1] << 8)) << 16;
      break;
    }
    case "Q4_0":
      for (let b = 0; b < blocks; b++) q4_0(src, b * 18, out, b * 32);
      break;
    case "Q8_0":
      for (let b = 0; b < blocks; b++) q8_0(src, b * 34, out, b * 32);
      break;
    case "Q4_K":
      for (let b = 0; b < blocks; b++) q4_K(src, b * 144, out, b * QK_K);
      break;
    case "Q5_K":
      for (let b = 0; b < blocks; b++) q5_K(src, b * 176, out, b * QK_K);
      break;
    case "Q6_K":
      for (let b = 0; b < blocks; b++) q6_K(src, b * 210, out, b * QK_K);
      break;
  }
  return out;
}

/** The f16 at `src[p]`, little-endian. */
function half(src: Uint8Array, p: number): number {
  return halves()[src[p] | (src[p + 1] << 8)];
}

/** `block_q4_0`: d (f16), qs[16]; value j = (nibble − 8)·d, low nibbles first. */
function q4_0(src: Uint8Array, p: number, y: Float32Array, o: number): void {
  const d = half(src, p);
  for (let j = 0; j < 16; j++) {
    const q = src[p + 2 + j];
    y[o + j] = ((q & 0x0f) - 8) * d;
    y[o + j + 16] = ((q >> 4) - 8) * d;
  }
}

/** `block_q8_0`: d (f16), qs[32] (int8); value j = qs[j]·d. */
function q8_0(src: Uint8Array, p: number, y: Float32Array, o: number): void {
  const d = half(src, p);
  for (let j = 0; j < 32; j++) y[o + j] = ((src[p + 2 + j] << 24) >> 24) * d;
}

/**
 * ggml's `get_scale_min_k4`: the 6-bit scale and min of sub-block `j` (0–7)
 * from the 12 packed bytes at `s`, as `scale | min << 8`.
 */
function scaleMin(src: Uint8Array, s: number, j: number): number {
  if (j < 4) return (src[s + j] & 63) | ((src[s + j + 4] & 63) << 8);
  const sc = (src[s + j + 4] & 0x0f) | ((src[s + j - 4] >> 6) << 4);
  const m = (src[s + j + 4] >> 4) | ((src[s + j] >> 6) << 4);
  return sc | (m << 8);
}

/**
 * `block_q4_K`: d, dmin (f16), scales[12], qs[128]. Each 64 values take 32
 * bytes of qs: their low nibbles are sub-block 2c, high nibbles 2c + 1; value
 * = d·sc·q − dmin·m.
 */
function q4_K(src: Uint8Array, p: number, y: Float32Array, o: number): void {
  const d = half(src, p), dmin = half(src, p + 2);
  for (let c = 0; c < 4; c++) {
    const a = scaleMin(src, p + 4, 2 * c), b = scaleMin(src, p + 4, 2 * c + 1);
    const d1 = Math.fround(d * (a & 0xff)), m1 = Math.fround(dmin * (a >> 8));
    const d2 = Math.fround(d * (b & 0xff)), m2 = Math.fround(dmin * (b >> 8));
    const q = p + 16 + 32 * c, out = o + 64 * c;
    for (let l = 0; l < 32; l++) y[out + l] = d1 * (src[q + l] & 0x0f) - m1;
    for (let l = 0; l < 32; l++) y[out + 32 + l] = d2 * (src[q + l] >> 4) - m2;
  }
}

/**
 * `block_q5_K`: d, dmin (f16), scales[12], qh[32], qs[128]: Q4_K's layout
 * with a fifth bit per value in qh (bit 2c for sub-block 2c, 2c + 1 for
 * 2c + 1), adding 16.
 */
function q5_K(src: Uint8Array, p: number, y: Float32Array, o: number): void {
  const d = half(src, p), dmin = half(src, p + 2), qh = p + 16;
  for (let c = 0; c < 4; c++) {
    const a = scaleMin(src, p + 4, 2 * c), b = scaleMin(src, p + 4, 2 * c + 1);
    const d1 = Math.fround(d * (a & 0xff)), m1 = Math.fround(dmin * (a >> 8));
    const d2 = Math.fround(d * (b & 0xff)), m2 = Math.fround(dmin * (b >> 8));
    const u1 = 1 << (2 * c), u2 = 2 << (2 * c);
    const q = p + 48 + 32 * c, out = o + 64 * c;
    for (let l = 0; l < 32; l++) {
      y[out + l] = d1 * ((src[q + l] & 0x0f) + (src[qh + l] & u1 ? 16 : 0)) - m1;
    }
    for (let l = 0; l < 32; l++) {
      y[out + 32 + l] = d2 * ((src[q + l] >> 4) + (src[qh + l] & u2 ? 16 : 0)) - m2;
    }
  }
}

/**
 * `block_q6_K`: ql[128] (low 4 bits), qh[64] (high 2 bits), scales[16]
 * (int8, one per 16 values), d (f16); value = d·sc·(q − 32). Each half of
 * 128 values takes 64 bytes of ql and 32 of qh: value l + 32k (k = 0–3)
 * has its low bits in ql[l + 32·(k & 1)] (low nibble for k < 2) and its high
 * bits at qh[l] >> 2k.
 */
function q6_K(src: Uint8Array, p: number, y: Float32Array, o: number): void {
  const d = half(src, p + 208);
  for (let n = 0; n < 2; n++) {
    const ql = p + 64 * n, qh = p + 128 + 32 * n, sc = p + 192 + 8 * n, out = o + 128 * n;
    for (let l = 0; l < 32; l++) {
      const is = l >> 4, h = src[qh + l], lo = src[ql + l], hi = src[ql + l + 32];
      const q1 = ((lo & 0x0f) | ((h & 3) << 4)) - 32;
      const q2 = ((hi & 0x0f) | (((h >> 2) & 3) << 4)) - 32;
      const q3 = ((lo >> 4) | (((h >> 4) & 3) << 4)) - 32;
      const q4 = ((hi >> 4) | (((h >> 6) & 3) << 4)) - 32;
      y[out + l] = Math.fround(d * ((src[sc + is] << 24) >> 24)) * q1;
      y[out + l + 32] = Math.fround(d * ((src[sc + is + 2] << 24) >> 24)) * q2;
      y[out + l + 64] = Math.fround(d * ((src[sc + is + 4] << 24) >> 24)) * q3;
      y[out + l + 96] = Math.fround(d * ((src[sc + is + 6] << 24) >> 24)) * q4;
    }
  }
}
