/**
 * The test GGUF writer's quantizers and block packers (see `_gguf_writer.ts`,
 * which re-exports them): their own module, since ggml's reference
 * quantizers (`_ggml_quantize.ts`) build on them and the writer uses those.
 *
 * @module
 */

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
