/**
 * Writing NIfTI-1 images that nibabel, FSL, AFNI and NiiVue read back with
 * the same data and affine: the header is built with `nifti-reader-js`, the
 * affine stored as sform (exactly) and as qform (its rigid part), units in mm
 * and seconds.
 *
 * @module
 */

import * as nifti from "nifti-reader-js";
import { gzipSync } from "fflate";
import { writeFileAtomic } from "@brainorg/common";
import { affineToQuaternion } from "./affine.ts";
import type { NiftiImage } from "./nifti_image.ts";

/** Datatypes brainorg writes: float32 maps and integer label maps. */
export type WriteDatatype = "float32" | "uint8" | "int16" | "int32";

const CODES: Record<WriteDatatype, { code: number; bits: number }> = {
  uint8: { code: 2, bits: 8 },
  int16: { code: 4, bits: 16 },
  int32: { code: 8, bits: 32 },
  float32: { code: 16, bits: 32 },
};

/**
 * Spaces an affine can map into, by the names of their NIfTI xform codes:
 * scanner (1), aligned to another image (2), Talairach (3), MNI152 (4).
 */
export type NiftiSpace = "scanner" | "aligned" | "talairach" | "mni";

/** NIfTI xform codes by the name of the space. */
const SPACE_CODES: Readonly<Record<NiftiSpace, number>> = {
  scanner: 1,
  aligned: 2,
  talairach: 3,
  mni: 4,
};

/** Options of {@linkcode encodeNifti1}. */
export interface EncodeOptions {
  /** Stored datatype; integer types round the values. Default: `"float32"`. */
  datatype?: WriteDatatype;
  /** The `descrip` field (at most 79 bytes are kept). Default: the image's description. */
  description?: string;
  /** Space the affine maps into (sets qform_code and sform_code). Default: `"mni"`. */
  space?: NiftiSpace;
  /** Gzip the result (for `.nii.gz`). Default: true. */
  gzip?: boolean;
  /** NIfTI intent (e.g. 1002 = label, 5 = z-score) and its name. Default: none. */
  intent?: { code: number; name?: string };
  /**
   * Store integers scaled by `scl_slope` so that the largest |value| uses
   * the type's range (readers apply the slope). Halves a float32 series'
   * size as int16 at 1/32767 of its range in precision. Default: false.
   */
  scale?: boolean;
}

function truncateUtf8(text: string, maxBytes: number): string {
  const enc = new TextEncoder();
  let out = text;
  while (enc.encode(out).length > maxBytes) out = out.slice(0, -1);
  return out;
}

/**
 * Encode an image as NIfTI-1 (single file, little-endian).
 *
 * @param img shape `[nx, ny, nz]` or `[nx, ny, nz, nt]`, data in NIfTI order
 *   (x fastest), the affine, and optionally the TR (s) and a description
 * @param options datatype, description, space, gzip, intent, scaling (see
 *   {@linkcode EncodeOptions}). Default: float32, MNI, gzipped.
 * @returns the file's bytes (gzipped unless `gzip` is false)
 * @throws {RangeError} when `data.length` does not match `shape` or a value
 *   does not fit an integer datatype
 *
 * @example
 * ```ts
 * import { decodeNifti, encodeNifti1, identityAffine } from "@brainorg/neuro";
 * const bytes = encodeNifti1(
 *   { shape: [2, 2, 1], affine: identityAffine(), data: Float32Array.of(0, 1, 2, 3) },
 *   { datatype: "uint8", gzip: false },
 * );
 * const back = decodeNifti(bytes, "labels.nii"); // back.datatype === "uint8", the same data
 * ```
 */
export function encodeNifti1(
  img: Pick<NiftiImage, "shape" | "affine" | "data"> & { tr?: number; description?: string },
  options: EncodeOptions = {},
): Uint8Array {
  const datatype = options.datatype ?? "float32";
  const { code, bits } = CODES[datatype];
  const count = img.shape.reduce((a, b) => a * b, 1);
  if (img.data.length !== count) {
    throw new RangeError(
      `image data has ${img.data.length} values; shape ${img.shape.join("×")} needs ${count}`,
    );
  }
  if (img.shape.length < 3 || img.shape.length > 4) {
    throw new RangeError(`image shape must have 3 or 4 dimensions: ${img.shape.join("×")}`);
  }
  const h = new nifti.NIFTI1();
  h.littleEndian = true;
  h.dims = [img.shape.length, ...img.shape];
  while (h.dims.length < 8) h.dims.push(1);
  h.datatypeCode = code;
  h.numBitsPerVoxel = bits;
  const q = affineToQuaternion(img.affine);
  h.pixDims = [q.qfac, q.dx, q.dy, q.dz, img.shape.length > 3 ? (img.tr ?? 1) : 0, 0, 0, 0];
  h.vox_offset = 352;
  h.xyzt_units = 2 | 8; // mm, seconds
  let min = Infinity, max = -Infinity;
  for (let i = 0; i < count; i++) {
    const v = img.data[i];
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const typeMax = { uint8: 255, int16: 32767, int32: 2147483647, float32: 1 }[datatype];
  const peak = Math.max(Math.abs(min), Math.abs(max));
  const slope = options.scale && datatype !== "float32" && peak > 0 ? peak / typeMax : 1;
  h.scl_slope = slope;
  h.scl_inter = 0;
  h.cal_min = Number.isFinite(min) ? min : 0;
  h.cal_max = Number.isFinite(max) ? max : 0;
  h.description = truncateUtf8(options.description ?? img.description ?? "", 79);
  h.aux_file = "";
  h.intent_code = options.intent?.code ?? 0;
  h.intent_name = truncateUtf8(options.intent?.name ?? "", 15);
  const space = SPACE_CODES[options.space ?? "mni"];
  h.qform_code = space;
  h.sform_code = space;
  h.quatern_b = q.b;
  h.quatern_c = q.c;
  h.quatern_d = q.d;
  h.qoffset_x = q.x;
  h.qoffset_y = q.y;
  h.qoffset_z = q.z;
  h.affine = [0, 1, 2, 3].map((r) => [0, 1, 2, 3].map((c) => img.affine[4 * r + c]));
  h.magic = "n+1";
  const header = new Uint8Array(h.toArrayBuffer(false));
  // nifti-reader-js leaves intent_p1..3 unset on a new header: zero them.
  new DataView(header.buffer).setFloat32(56, 0, true);
  new DataView(header.buffer).setFloat32(60, 0, true);
  new DataView(header.buffer).setFloat32(64, 0, true);

  const body = new Uint8Array(count * (bits / 8));
  const view = new DataView(body.buffer);
  if (datatype === "float32") {
    new Float32Array(body.buffer).set(img.data);
  } else {
    const lim = { uint8: [0, 255], int16: [-32768, 32767], int32: [-2147483648, 2147483647] }[
      datatype
    ];
    for (let i = 0; i < count; i++) {
      const v = Math.round(img.data[i] / slope);
      if (!(v >= lim[0] && v <= lim[1])) {
        throw new RangeError(`value ${img.data[i]} at index ${i} does not fit ${datatype}`);
      }
      if (datatype === "uint8") view.setUint8(i, v);
      else if (datatype === "int16") view.setInt16(2 * i, v, true);
      else view.setInt32(4 * i, v, true);
    }
  }
  const out = new Uint8Array(header.length + body.length);
  out.set(header);
  out.set(body, header.length);
  return options.gzip === false ? out : gzipSync(out);
}

/**
 * Write an image as NIfTI-1 to `path`, atomically; gzipped when the name ends
 * in `.gz` (see {@linkcode encodeNifti1}).
 *
 * @param path the file to write (`.nii` or `.nii.gz`)
 * @param img the image, as {@linkcode encodeNifti1} takes it
 * @param options datatype, description, space, intent, scaling (see
 *   {@linkcode EncodeOptions}). Default: float32, MNI.
 * @throws {RangeError} as {@linkcode encodeNifti1}
 * @throws {OutputError} when the file cannot be written
 *
 * @example
 * ```ts
 * import { identityAffine, writeNifti } from "@brainorg/neuro";
 * await writeNifti("/tmp/x.nii.gz", {
 *   shape: [2, 2, 1], affine: identityAffine(), data: new Float32Array(4),
 * });
 * ```
 */
export async function writeNifti(
  path: string,
  img: Parameters<typeof encodeNifti1>[0],
  options: Omit<EncodeOptions, "gzip"> = {},
): Promise<void> {
  await writeFileAtomic(path, encodeNifti1(img, { ...options, gzip: path.endsWith(".gz") }));
}
