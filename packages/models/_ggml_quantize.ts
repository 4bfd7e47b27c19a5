/**
 * ggml's reference K-quantizers (`quantize_row_q4_K_ref`,
 * `quantize_row_q6_K_ref` in ggml-quants.c), which llama.cpp's
 * `llama-quantize` runs when no importance matrix is given, written anew
 * from their algorithm for the test writer:
 *
 * - Q4_K: each 32-value sub-block gets a scale and a min from
 *   `make_qkx2_quants` (weights |x| + RMS of the sub-block; 21 candidate
 *   scales (15 − 1 + 0.1·k) / (max − min), each refitted by weighted least
 *   squares of scale and min, the one of least weighted squared error kept);
 *   the super-block's f16 d and dmin are the largest scale and min / 63,
 *   each sub-block's 6-bit scale and min rounded, and the quants
 *   recomputed with the rounded values.
 * - Q6_K: each 16-value sub-block's scale from `make_qx_quants` (nmax 32,
 *   weights x²: the scale −32/max and 18 neighbours −(32 ± 0.1·k)/max, each
 *   refitted by least squares, the best kept); d = −(the largest-magnitude
 *   scale) / 128 in f16, int8 scales rounded, quants recomputed.
 *
 * Sums are taken in float64 where ggml uses float32, so a quant may differ
 * from ggml's in a near-tie; the layout and the rules are ggml's.
 *
 * @module
 */

import { GGML_TYPES, type GgmlTypeName, halfToFloat } from "./gguf_quants.ts";
import { floatToHalf, packQ4KQ5K, packQ6K, quantize } from "./_gguf_quantize.ts";

/** ggml's `nearest_int`: float32 rounding, halves to even. */
function nearestInt(v: number): number {
  return Math.fround(Math.fround(v) + 12582912) - 12582912;
}

/** ggml's `GROUP_MAX_EPS`: a group this small is all zero. */
const GROUP_MAX_EPS = 1e-15;

/**
 * `make_qkx2_quants`: quants L in 0…nmax, a scale and a min (returned
 * positive: x ≈ scale·L − min) of least weighted squared error among the
 * candidates.
 */
function makeQkx2(
  x: Float32Array,
  w: Float64Array,
  L: Uint8Array,
  nmax: number,
  rmin: number,
  rdelta: number,
  nstep: number,
): { scale: number; min: number } {
  const n = x.length;
  let min = x[0], max = x[0], sumW = 0, sumX = 0;
  for (let i = 0; i < n; i++) {
    if (x[i] < min) min = x[i];
    if (x[i] > max) max = x[i];
    sumW += w[i];
    sumX += w[i] * x[i];
  }
  if (min > 0) min = 0;
  if (max === min) {
    L.fill(0);
    return { scale: 0, min: -min };
  }
  let iscale = nmax / (max - min), scale = 1 / iscale, best = 0;
  for (let i = 0; i < n; i++) {
    L[i] = Math.max(0, Math.min(nmax, nearestInt(iscale * (x[i] - min))));
    best += w[i] * (scale * L[i] + min - x[i]) ** 2;
  }
  const aux = new Uint8Array(n);
  for (let is = 0; is <= nstep; is++) {
    iscale = (rmin + rdelta * is + nmax) / (max - min);
    let sumL = 0, sumL2 = 0, sumXL = 0;
    for (let i = 0; i < n; i++) {
      const l = Math.max(0, Math.min(nmax, nearestInt(iscale * (x[i] - min))));
      aux[i] = l;
      sumL += w[i] * l;
      sumL2 += w[i] * l * l;
      sumXL += w[i] * l * x[i];
    }
    const D = sumW * sumL2 - sumL * sumL;
    if (!(D > 0)) continue;
    let s = (sumW * sumXL - sumX * sumL) / D, m = (sumL2 * sumX - sumL * sumXL) / D;
    if (m > 0) {
      m = 0;
      s = sumXL / sumL2;
    }
    let err = 0;
    for (let i = 0; i < n; i++) err += w[i] * (s * aux[i] + m - x[i]) ** 2;
    if (err < best) {
      L.set(aux);
      best = err;
      scale = s;
      min = m;
    }
  }
  return { scale, min: -min };
}

/** `make_qx_quants` with `rmse_type` 1 (weights x²): L in 0…2·nmax − 1 (quant + nmax), the scale. */
function makeQx(x: Float32Array, L: Uint8Array, nmax: number): number {
  const n = x.length;
  let max = 0, amax = 0;
  for (let i = 0; i < n; i++) {
    const a = Math.abs(x[i]);
    if (a > amax) {
      amax = a;
      max = x[i];
    }
  }
  if (amax < GROUP_MAX_EPS) {
    L.fill(0);
    return 0;
  }
  const fit = (iscale: number, out?: Uint8Array) => {
    let sumLX = 0, sumL2 = 0;
    for (let i = 0; i < n; i++) {
      const l = Math.max(-nmax, Math.min(nmax - 1, nearestInt(iscale * x[i])));
      if (out) out[i] = l + nmax;
      const w = x[i] * x[i];
      sumLX += w * x[i] * l;
      sumL2 += w * l * l;
    }
    return { sumLX, sumL2 };
  };
  let { sumLX, sumL2 } = fit(-nmax / max, L);
  let scale = sumL2 ? sumLX / sumL2 : 0, best = scale * sumLX;
  for (let is = -9; is <= 9; is++) {
    if (is === 0) continue;
    const iscale = -(nmax + Math.fround(0.1 * is)) / max;
    ({ sumLX, sumL2 } = fit(iscale));
    // Larger sumLX²/sumL2 is smaller weighted squared error at the least-squares scale.
    if (sumL2 > 0 && sumLX * sumLX > best * sumL2) {
      fit(iscale, L);
      scale = sumLX / sumL2;
      best = scale * sumLX;
    }
  }
  return scale;
}

/**
 * One Q4_K super-block as ggml's reference quantizer makes it.
 *
 * @param x the block's 256 values
 * @returns the block's 144 bytes
 */
export function quantizeQ4KRef(x: Float32Array): Uint8Array {
  const scales = new Float64Array(8), mins = new Float64Array(8), L = new Uint8Array(256);
  let maxScale = 0, maxMin = 0;
  for (let j = 0; j < 8; j++) {
    const xs = x.subarray(32 * j, 32 * j + 32);
    let sumX2 = 0;
    for (const v of xs) sumX2 += v * v;
    const av = Math.sqrt(sumX2 / 32), w = Float64Array.from(xs, (v) => av + Math.abs(v));
    const r = makeQkx2(xs, w, L.subarray(32 * j, 32 * j + 32), 15, -1, 0.1, 20);
    scales[j] = r.scale;
    mins[j] = r.min;
    maxScale = Math.max(maxScale, r.scale);
    maxMin = Math.max(maxMin, r.min);
  }
  const invScale = maxScale > 0 ? 63 / maxScale : 0, invMin = maxMin > 0 ? 63 / maxMin : 0;
  const ls = Uint8Array.from(scales, (s) => Math.min(63, nearestInt(invScale * s)));
  const lm = Uint8Array.from(mins, (m) => Math.min(63, nearestInt(invMin * m)));
  const dBits = floatToHalf(maxScale / 63), dminBits = floatToHalf(maxMin / 63);
  const d = halfToFloat(dBits), dmin = halfToFloat(dminBits);
  for (let j = 0; j < 8; j++) {
    const D = Math.fround(d * ls[j]);
    if (!D) continue;
    const M = Math.fround(dmin * lm[j]);
    for (let i = 0; i < 32; i++) {
      L[32 * j + i] = Math.max(0, Math.min(15, nearestInt((x[32 * j + i] + M) / D)));
    }
  }
  return packQ4KQ5K(dBits, dminBits, ls, lm, L);
}

/**
 * One Q6_K super-block as ggml's reference quantizer makes it.
 *
 * @param x the block's 256 values
 * @returns the block's 210 bytes
 */
export function quantizeQ6KRef(x: Float32Array): Uint8Array {
  const scales = new Float64Array(16), L = new Uint8Array(256);
  let maxScale = 0, maxAbs = 0;
  for (let j = 0; j < 16; j++) {
    const s = makeQx(x.subarray(16 * j, 16 * j + 16), L.subarray(16 * j, 16 * j + 16), 32);
    scales[j] = s;
    if (Math.abs(s) > maxAbs) {
      maxAbs = Math.abs(s);
      maxScale = s;
    }
  }
  if (maxAbs < GROUP_MAX_EPS) return packQ6K(0, new Int8Array(16), new Uint8Array(256));
  const iscale = -128 / maxScale, dBits = floatToHalf(1 / iscale), d = halfToFloat(dBits);
  const sc = Int8Array.from(scales, (s) => Math.min(127, nearestInt(iscale * s)));
  for (let j = 0; j < 16; j++) {
    const D = Math.fround(d * sc[j]);
    if (!D) continue;
    for (let i = 0; i < 16; i++) {
      L[16 * j + i] = 32 + Math.max(-32, Math.min(31, nearestInt(x[16 * j + i] / D)));
    }
  }
  return packQ6K(dBits, sc, L);
}

/**
 * Quantize row-major values to a GGML type with ggml's reference
 * quantizers: Q4_K and Q6_K from this module; F16, BF16, Q8_0 and Q4_0
 * are the writer's, which follow ggml's already (see `_gguf_writer.ts`).
 *
 * @param type the type
 * @param x the values; rows of `ne0`
 * @param ne0 the row length, a whole number of the type's blocks
 * @returns the tensor's bytes as a GGUF file holds them
 * @throws {RangeError} when a row is not a whole number of blocks, or the type is Q5_K (no reference here)
 */
export function quantizeGgmlRef(type: GgmlTypeName, x: Float32Array, ne0: number): Uint8Array {
  if (type === "Q5_K") throw new RangeError("no ggml reference quantizer for Q5_K here");
  if (type !== "Q4_K" && type !== "Q6_K") return quantize(type, x, ne0);
  if (ne0 % 256 !== 0 || x.length % ne0 !== 0) {
    throw new RangeError(`rows of ${ne0} values are not a whole number of ${type} blocks (256)`);
  }
  const block = type === "Q4_K" ? quantizeQ4KRef : quantizeQ6KRef;
  const size = GGML_TYPES[type].blockBytes, out = new Uint8Array((x.length / 256) * size);
  for (let b = 0; b < x.length / 256; b++) {
    out.set(block(x.subarray(256 * b, 256 * b + 256)), b * size);
  }
  return out;
}
