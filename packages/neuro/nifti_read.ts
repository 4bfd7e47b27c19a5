/**
 * Reading NIfTI-1 and NIfTI-2 images (`.nii`, `.nii.gz`) with
 * `nifti-reader-js`, checked against the header and converted to
 * {@linkcode NiftiImage}.
 *
 * @module
 */

import * as nifti from "nifti-reader-js";
import { InputError, unreadableFile } from "@brainorg/common";
import { type Affine, identityAffine, quaternionToAffine } from "./affine.ts";
import type { NiftiDatatype, NiftiImage } from "./nifti_image.ts";
import {
  DEFAULT_MAX_VALUES,
  inflateNifti,
  isGzip,
  type NiftiLayout,
  niftiLayout,
} from "./_nifti_layout.ts";

// xyzt_units time codes → seconds per unit.
const TIME_UNITS: Record<number, number> = { 8: 1, 16: 1e-3, 24: 1e-6 };

type Header = nifti.NIFTI1 | nifti.NIFTI2;

function headerAffine(h: Header): { affine: Affine; source: NiftiImage["affineSource"] } {
  // As nibabel's get_best_affine: the sform when set, else the qform, else pixdim.
  if (h.sform_code > 0) {
    const a = new Float64Array(16);
    for (let r = 0; r < 3; r++) for (let c = 0; c < 4; c++) a[4 * r + c] = h.affine[r][c];
    a[15] = 1;
    return { affine: a, source: "sform" };
  }
  const dx = Math.abs(h.pixDims[1] || 1), dy = Math.abs(h.pixDims[2] || 1);
  const dz = Math.abs(h.pixDims[3] || 1);
  if (h.qform_code > 0) {
    return {
      affine: quaternionToAffine({
        b: h.quatern_b,
        c: h.quatern_c,
        d: h.quatern_d,
        x: h.qoffset_x,
        y: h.qoffset_y,
        z: h.qoffset_z,
        dx,
        dy,
        dz,
        qfac: h.pixDims[0] < 0 ? -1 : 1,
      }),
      source: "qform",
    };
  }
  const a = identityAffine();
  a[0] = dx;
  a[5] = dy;
  a[10] = dz;
  return { affine: a, source: "pixdim" };
}

function convert(
  raw: ArrayBuffer,
  type: { name: NiftiDatatype; bytes: number },
  count: number,
  littleEndian: boolean,
  slope: number,
  inter: number,
): Float32Array {
  const out = new Float32Array(count);
  const view = new DataView(raw);
  const read: (i: number) => number = {
    uint8: (i: number) => view.getUint8(i),
    int8: (i: number) => view.getInt8(i),
    int16: (i: number) => view.getInt16(2 * i, littleEndian),
    uint16: (i: number) => view.getUint16(2 * i, littleEndian),
    int32: (i: number) => view.getInt32(4 * i, littleEndian),
    uint32: (i: number) => view.getUint32(4 * i, littleEndian),
    int64: (i: number) => Number(view.getBigInt64(8 * i, littleEndian)),
    uint64: (i: number) => Number(view.getBigUint64(8 * i, littleEndian)),
    float32: (i: number) => view.getFloat32(4 * i, littleEndian),
    float64: (i: number) => view.getFloat64(8 * i, littleEndian),
  }[type.name];
  if (type.name === "float32" && littleEndian && raw.byteLength % 4 === 0) {
    out.set(new Float32Array(raw, 0, count));
  } else {
    for (let i = 0; i < count; i++) out[i] = read(i);
  }
  // The standard: scaling applies when scl_slope is neither 0 nor non-finite.
  if (slope !== 0 && Number.isFinite(slope) && (slope !== 1 || inter !== 0)) {
    const b = Number.isFinite(inter) ? inter : 0;
    for (let i = 0; i < count; i++) out[i] = out[i] * slope + b;
  }
  return out;
}

/** Options of {@linkcode decodeNifti} and {@linkcode readNifti}. */
export interface DecodeNiftiOptions {
  /**
   * Refuse an image with more values than this (voxels × volumes), before
   * inflating or allocating its data. Default: 2³¹ (8 GiB as float32).
   */
  maxValues?: number;
}

/**
 * Decode a NIfTI-1 or NIfTI-2 image from the bytes of a `.nii` or `.nii.gz`.
 *
 * The header's layout (magic, sizeof_hdr, datatype, dim, vox_offset) is
 * checked before any data are inflated or allocated. `bitpix` is not read:
 * as nibabel does, the datatype decides. The affine must be finite and
 * invertible. Voxel values are returned as stored: NaN and ±Inf included
 * (screening them is the caller's business, see `screenVoxelSeries`).
 *
 * @param bytes the whole file, gzipped or not
 * @param name the file's name, used in error messages
 * @param options the largest image accepted (see {@linkcode DecodeNiftiOptions}). Default: 2³¹ values.
 * @returns the image with float32 data (`scl_slope`/`scl_inter` applied) and
 *   the affine from the sform, else the qform, else pixdim
 * @throws {InputError} naming the file and the header field for corrupt
 *   gzip, a wrong magic or sizeof_hdr, unsupported datatypes, invalid
 *   dimensions or offsets, images over `maxValues`, data shorter than the
 *   header's dimensions require, or a non-finite or singular affine
 *
 * @example
 * ```ts
 * import { decodeNifti } from "@brainorg/neuro";
 * const img = decodeNifti(await Deno.readFile("mask.nii.gz"), "mask.nii.gz");
 * console.log(img.shape, img.affine);
 * ```
 */
export function decodeNifti(
  bytes: Uint8Array,
  name = "<bytes>",
  options: DecodeNiftiOptions = {},
): NiftiImage {
  const maxValues = options.maxValues ?? DEFAULT_MAX_VALUES;
  let file: Uint8Array, layout: NiftiLayout;
  if (isGzip(bytes)) ({ data: file, layout } = inflateNifti(bytes, name, maxValues));
  else (file = bytes), (layout = niftiLayout(bytes, name, maxValues));
  const { shape, count, datatype: type, voxOffset } = layout;
  if (file.byteLength < layout.needed) {
    throw new InputError("header dimensions disagree with the data size", {
      file: name,
      field: "dim",
      expected:
        `${formatBytes(layout.needed)} for ${shape.join("×")} ${type.name} voxels at offset ` +
        `${voxOffset}`,
      found: formatBytes(file.byteLength),
    });
  }
  const h = readFullHeader(file, layout, name);
  const raw = file.buffer.slice(
    file.byteOffset + voxOffset,
    file.byteOffset + voxOffset + count * type.bytes,
  ) as ArrayBuffer;
  const data = convert(raw, type, count, layout.littleEndian, h.scl_slope, h.scl_inter);
  const { affine, source } = headerAffine(h);
  checkAffine(affine, source, name);
  const unit = TIME_UNITS[h.xyzt_units & 0x38];
  const tr = shape.length > 3 && h.pixDims[4] > 0 && Number.isFinite(h.pixDims[4])
    ? h.pixDims[4] * (unit ?? 1)
    : undefined;
  return {
    shape,
    affine,
    data,
    ...(tr !== undefined ? { tr } : {}),
    description: h.description.replace(/\0+$/, ""),
    affineSource: source,
    version: layout.version,
    datatype: type.name,
  };
}

/**
 * The library's header object, from the fixed header alone: extensions
 * (which brainorg does not use) are never parsed, so a damaged extension
 * cannot make a readable image unreadable.
 */
function readFullHeader(file: Uint8Array, layout: NiftiLayout, name: string): Header {
  const head = file.slice(0, layout.headerSize).buffer as ArrayBuffer;
  const h = layout.version === 1 ? new nifti.NIFTI1() : new nifti.NIFTI2();
  try {
    h.readHeader(head);
  } catch (err) {
    throw new InputError("the NIfTI header cannot be read", {
      file: name,
      field: "header",
      expected: `a NIfTI-${layout.version} header`,
      found: String((err as Error).message ?? err),
      cause: err,
    });
  }
  return h;
}

const AFFINE_FIELDS = {
  sform: "srow_x, srow_y, srow_z (sform)",
  qform: "quatern_b, quatern_c, quatern_d, qoffset, pixdim (qform)",
  pixdim: "pixdim[1..3]",
} as const;

/** A grid must map to space one-to-one: finite entries, non-zero determinant. */
function checkAffine(a: Float64Array, source: NiftiImage["affineSource"], name: string): void {
  const det = a[0] * (a[5] * a[10] - a[6] * a[9]) - a[1] * (a[4] * a[10] - a[6] * a[8]) +
    a[2] * (a[4] * a[9] - a[5] * a[8]);
  if (a.every(Number.isFinite) && det !== 0 && Number.isFinite(det)) return;
  throw new InputError("the image's voxel-to-world transform is unusable", {
    file: name,
    field: AFFINE_FIELDS[source],
    expected: "finite values and an invertible 3×3 part",
    found: `[${[...a.slice(0, 12)].map((v) => Number(v.toPrecision(6))).join(", ")}]`,
  });
}

function formatBytes(n: number): string {
  return `${n.toLocaleString("en-US")} bytes`;
}

/**
 * Read a NIfTI image from a file (see {@linkcode decodeNifti}).
 *
 * @param path a `.nii` or `.nii.gz` file
 * @param options the largest image accepted (see {@linkcode DecodeNiftiOptions}). Default: 2³¹ values.
 * @returns the image, as {@linkcode decodeNifti} returns it
 * @throws {InputError} naming the file when it is missing, unreadable or not a valid NIfTI image
 *
 * @example
 * ```ts
 * import { readNifti, volumeCount } from "@brainorg/neuro";
 * const bold = await readNifti("sub-01_bold.nii.gz");
 * console.log(bold.shape, volumeCount(bold), bold.tr);
 * ```
 */
export async function readNifti(
  path: string,
  options: DecodeNiftiOptions = {},
): Promise<NiftiImage> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (err) {
    throw unreadableFile(path, err);
  }
  return decodeNifti(bytes, path, options);
}
