/**
 * Brain maps packed for the self-contained `report.html`: only the mask's
 * voxels, each map quantized to int8 with its own scale, gzipped and
 * base64-encoded, so that every atom's group map of every model fits in a
 * page that opens from `file://` (the demo's 2 models × 16 atoms on 32,810
 * voxels take about 0.6 MB).
 *
 * Quantization: a map's values v (finite) become q = round(v / s) with
 * s = max |v| / 127, q in −127…127; −128 marks a value that was not finite.
 * The browser reads v ≈ q · s back: the error is at most s / 2 (0.4 % of the
 * map's peak).
 *
 * @module
 */

import { gunzipSync, gzipSync } from "fflate";
import { InputError } from "@brainorg/common";

/** The int8 code of a value that was not finite (NaN, ±Inf). */
export const NOT_FINITE_CODE: number = -128;

/** A map quantized to int8 codes and its scale: value ≈ code · scale. */
export interface QuantizedMap {
  /** Codes in −127…127, {@linkcode NOT_FINITE_CODE} for a non-finite value; length V. */
  codes: Int8Array;
  /** Scale s = max |v| / 127 over the finite values (1 for a map of zeros). */
  scale: number;
}

/**
 * Quantize one map to int8 with a per-map scale (symmetric about 0, so a
 * sign is never lost and 0 stays 0).
 *
 * @param values the map on the mask's voxels, length V
 * @returns codes (length V) and the scale
 *
 * @example
 * ```ts
 * import { quantizeInt8 } from "@brainorg/core";
 * const { codes, scale } = quantizeInt8(Float32Array.of(-2, 0, 1.27));
 * // scale = 2 / 127; codes = [-127, 0, 81]
 * ```
 */
export function quantizeInt8(values: ArrayLike<number>): QuantizedMap {
  let peak = 0;
  for (let i = 0; i < values.length; i++) {
    const a = Math.abs(values[i]);
    if (a > peak && Number.isFinite(a)) peak = a;
  }
  const scale = peak > 0 ? peak / 127 : 1;
  const codes = new Int8Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    codes[i] = Number.isFinite(v)
      ? Math.max(-127, Math.min(127, Math.round(v / scale)))
      : NOT_FINITE_CODE;
  }
  return { codes, scale };
}

/**
 * Pack a mask into bits: voxel i is bit (i mod 8) of byte ⌊i / 8⌋, least
 * significant bit first (NumPy's `packbits(…, bitorder="little")`).
 *
 * @param inside one entry per grid voxel, NIfTI (x-fastest) order; non-zero = inside
 * @returns ⌈N / 8⌉ bytes
 */
export function packMaskBits(inside: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(Math.ceil(inside.length / 8));
  for (let i = 0; i < inside.length; i++) if (inside[i]) out[i >> 3] |= 1 << (i & 7);
  return out;
}

/**
 * The flat indices of the set bits of a packed mask, ascending (the inverse
 * of {@linkcode packMaskBits}).
 *
 * @param bits the packed mask
 * @param n the grid's voxel count (bits past it are ignored)
 */
export function unpackMaskBits(bits: Uint8Array, n: number): Uint32Array {
  const idx: number[] = [];
  for (let i = 0; i < n; i++) if (bits[i >> 3] & (1 << (i & 7))) idx.push(i);
  return Uint32Array.from(idx);
}

/** Bytes → gzip (level 9) → base64, the form every array takes in the report. */
export function packBytes(bytes: Uint8Array): string {
  const gz = gzipSync(bytes, { level: 9, mtime: 0 });
  let s = "";
  for (let i = 0; i < gz.length; i += 0x8000) {
    s += String.fromCharCode(...gz.subarray(i, i + 0x8000));
  }
  return btoa(s);
}

/** base64 → gunzip → bytes (the inverse of {@linkcode packBytes}). */
export function unpackBytes(text: string): Uint8Array {
  return gunzipSync(Uint8Array.from(atob(text), (c) => c.charCodeAt(0)));
}

/** One atom of a model as the report's viewer lists it. */
export interface ReportAtom {
  /** The atom's number. */
  atom: number;
  /** Quantization scale of its map: value ≈ code · scale. */
  scale: number;
  /** The networks it is linked with (display names and sign), for the picker. */
  links: string[];
}

/** What the report's viewer reads: the grid, the mask, the maps and what is drawn under them. */
export interface ReportMapsPayload {
  /** Format of this object. */
  format: "brainorg.report-maps/1";
  /** `[nx, ny, nz]` of the analysis grid. */
  shape: [number, number, number];
  /** Voxel → MNI mm, row-major 4×4 (16 numbers). */
  affine: number[];
  /** Voxels in the mask (V). */
  voxels: number;
  /** The mask: {@linkcode packMaskBits} of the grid, then {@linkcode packBytes}. */
  mask: string;
  /** What the maps are (e.g. "one-sample t"). */
  quantity: string;
  /** |value| where the colours start at first. */
  threshold: number;
  /** The background over the whole grid as uint8 (0…255 from its min…max), packed; absent: none. */
  background?: string;
  /** A label volume (networks) on the mask's voxels as uint8, packed, with its label names. */
  atlas?: { name: string; names: Record<string, string>; labels: string };
  /** Per model: its atoms and their int8 codes, atom-major (K × V), packed. */
  models: { name: string; atoms: ReportAtom[]; codes: string }[];
}

/** The maps of one model on the grid, before packing. */
export interface ModelMaps {
  /** The model's name. */
  name: string;
  /** Each atom's map over the whole grid: shape (K, N), atom-major (NIfTI 4-D order), N = nx·ny·nz. */
  maps: Float32Array;
  /** Per atom: its number and its linked networks (display text). */
  atoms: { atom: number; links: string[] }[];
}

/** The input of {@linkcode packReportMaps}. */
export interface ReportMapsInput {
  /** `[nx, ny, nz]`. */
  shape: [number, number, number];
  /** Voxel → MNI mm, row-major 4×4. */
  affine: ArrayLike<number>;
  /** One entry per grid voxel (N), non-zero inside the analysed mask. */
  inside: ArrayLike<number>;
  /** The background image on the grid (N values), e.g. the MNI T1. Default: none. */
  background?: ArrayLike<number>;
  /** A label image on the grid (N values, labels 0…255) and its names. Default: none. */
  atlas?: { name: string; names: Record<string, string>; labels: ArrayLike<number> };
  /** What the maps hold, for the page. */
  quantity: string;
  /** Where the colours start at first, |value|. */
  threshold: number;
  /** Each model's maps. */
  models: ModelMaps[];
}

/**
 * Pack maps for the report: keep the mask's voxels, quantize each atom's
 * map (see the module doc), gzip and base64 each array.
 *
 * @param input the grid, the mask, the maps (K × N per model), the background and labels
 * @returns the payload the report's viewer reads (JSON-serializable)
 * @throws {InputError} when an image does not have the grid's N voxels (or K × N for maps)
 *
 * @example
 * ```ts
 * import { packReportMaps } from "@brainorg/core";
 * const inside = Uint8Array.of(0, 1, 1, 0);
 * const payload = packReportMaps({
 *   shape: [2, 2, 1], affine: [4, 0, 0, 0, 0, 4, 0, 0, 0, 0, 4, 0, 0, 0, 0, 1], inside,
 *   quantity: "t", threshold: 2,
 *   models: [{ name: "m", maps: Float32Array.of(0, 3, -1, 0), atoms: [{ atom: 0, links: [] }] }],
 * });
 * console.log(payload.voxels); // 2
 * ```
 */
export function packReportMaps(input: ReportMapsInput): ReportMapsPayload {
  const [nx, ny, nz] = input.shape, N = nx * ny * nz;
  const check = (field: string, length: number, want: number) => {
    if (length !== want) {
      throw new InputError("a report map does not fit the grid", {
        field,
        expected: `${want} values (grid ${nx}×${ny}×${nz})`,
        found: `${length}`,
      });
    }
  };
  check("inside", input.inside.length, N);
  if (input.background) check("background", input.background.length, N);
  if (input.atlas) check("atlas.labels", input.atlas.labels.length, N);
  const idx: number[] = [];
  for (let i = 0; i < N; i++) if (input.inside[i]) idx.push(i);
  const V = idx.length;
  const models = input.models.map((m) => {
    const K = m.atoms.length;
    check(`models[${m.name}].maps`, m.maps.length, K * N);
    const codes = new Int8Array(K * V), atoms: ReportAtom[] = [];
    for (let k = 0; k < K; k++) {
      const q = quantizeInt8(idx.map((i) => m.maps[k * N + i]));
      codes.set(q.codes, k * V);
      atoms.push({ atom: m.atoms[k].atom, scale: q.scale, links: m.atoms[k].links });
    }
    return { name: m.name, atoms, codes: packBytes(new Uint8Array(codes.buffer)) };
  });
  return {
    format: "brainorg.report-maps/1",
    shape: [nx, ny, nz],
    affine: Array.from(input.affine),
    voxels: V,
    mask: packBytes(packMaskBits(input.inside)),
    quantity: input.quantity,
    threshold: input.threshold,
    ...(input.background ? { background: packBytes(toUint8Range(input.background)) } : {}),
    ...(input.atlas
      ? {
        atlas: {
          name: input.atlas.name,
          names: input.atlas.names,
          labels: packBytes(
            Uint8Array.from(idx, (i) =>
              Math.max(0, Math.min(255, Math.round(input.atlas!.labels[i])))),
          ),
        },
      }
      : {}),
    models,
  };
}

/** Values → 0…255 linearly from their finite min to max (non-finite → 0). */
function toUint8Range(values: ArrayLike<number>): Uint8Array {
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (Number.isFinite(v)) (lo = Math.min(lo, v)), (hi = Math.max(hi, v));
  }
  const span = hi > lo ? hi - lo : 1;
  return Uint8Array.from(
    { length: values.length },
    (_, i) => Number.isFinite(values[i]) ? Math.round((255 * (values[i] - lo)) / span) : 0,
  );
}
