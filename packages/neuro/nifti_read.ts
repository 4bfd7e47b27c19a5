/**
 * Reading NIfTI-1 and NIfTI-2 images (`.nii`, `.nii.gz`) with
 * `nifti-reader-js`, checked against the header and converted to
 * {@linkcode NiftiImage}.
 *
 * @module
 */

import * as nifti from "nifti-reader-js";
import { InputError } from "@brainorg/common";
import { type Affine, identityAffine, quaternionToAffine } from "./affine.ts";
import type { NiftiDatatype, NiftiImage } from "./nifti_image.ts";

const DATATYPES: Record<number, { name: NiftiDatatype; bytes: number }> = {
  2: { name: "uint8", bytes: 1 },
  4: { name: "int16", bytes: 2 },
  8: { name: "int32", bytes: 4 },
  16: { name: "float32", bytes: 4 },
  64: { name: "float64", bytes: 8 },
  256: { name: "int8", bytes: 1 },
  512: { name: "uint16", bytes: 2 },
  768: { name: "uint32", bytes: 4 },
  1024: { name: "int64", bytes: 8 },
  1280: { name: "uint64", bytes: 8 },
};

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

/**
 * Decode a NIfTI-1 or NIfTI-2 image from the bytes of a `.nii` or `.nii.gz`.
 *
 * @param bytes the whole file, gzipped or not
 * @param name the file's name, used in error messages
 * @returns the image with float32 data (`scl_slope`/`scl_inter` applied) and
 *   the affine from the sform, else the qform, else pixdim
 * @throws {InputError} for corrupt gzip, a wrong magic, unsupported datatypes
 *   or data shorter than the header's dimensions require
 *
 * @example
 * ```ts
 * import { decodeNifti } from "@brainorg/neuro";
 * const img = decodeNifti(await Deno.readFile("mask.nii.gz"), "mask.nii.gz");
 * console.log(img.shape, img.affine);
 * ```
 */
export function decodeNifti(bytes: Uint8Array, name = "<bytes>"): NiftiImage {
  let buf = bytes.buffer.slice(
    bytes.byteOffset,
    bytes.byteOffset + bytes.byteLength,
  ) as ArrayBuffer;
  if (nifti.isCompressed(buf)) {
    try {
      buf = nifti.decompress(buf) as ArrayBuffer;
    } catch (err) {
      throw new InputError("gzip stream is corrupt or truncated", {
        file: name,
        field: "gzip",
        expected: "a complete gzip stream",
        found: String((err as Error).message ?? err),
        cause: err,
      });
    }
  }
  if (buf.byteLength < 348) {
    throw new InputError("file is too short to hold a NIfTI header", {
      file: name,
      field: "header",
      expected: "at least 348 bytes",
      found: `${buf.byteLength} bytes`,
    });
  }
  if (!nifti.isNIFTI(buf)) {
    const magic = new TextDecoder().decode(new Uint8Array(buf, 344, 4)).replace(/\0/g, "\\0");
    throw new InputError("not a NIfTI file", {
      file: name,
      field: "magic",
      expected: '"n+1", "ni1", "n+2" or "ni2"',
      found: JSON.stringify(magic),
    });
  }
  const h = nifti.readHeader(buf) as Header;
  const version = h instanceof nifti.NIFTI2 ? 2 : 1;
  const type = DATATYPES[h.datatypeCode];
  if (!type) {
    throw new InputError("unsupported datatype", {
      file: name,
      field: "datatype",
      expected: Object.entries(DATATYPES).map(([c, t]) => `${t.name} (${c})`).join(", "),
      found: `${h.getDatatypeCodeString(h.datatypeCode)} (${h.datatypeCode})`,
    });
  }
  const ndim = h.dims[0];
  if (!(ndim >= 1 && ndim <= 7)) {
    throw new InputError("invalid number of dimensions", {
      file: name,
      field: "dim[0]",
      expected: "1 to 7",
      found: String(ndim),
    });
  }
  const dims = h.dims.slice(1, ndim + 1).map((d) => Math.max(1, d));
  while (dims.length < 3) dims.push(1);
  const extra = dims.slice(3).reduce((a, b) => a * b, 1);
  const shape = extra > 1 ? [dims[0], dims[1], dims[2], extra] : dims.slice(0, 3);
  const count = shape.reduce((a, b) => a * b, 1);
  const needed = h.vox_offset + count * type.bytes;
  if (buf.byteLength < needed) {
    throw new InputError("header dimensions disagree with the data size", {
      file: name,
      field: "dim",
      expected: `${formatBytes(needed)} for ${shape.join("×")} ${type.name} voxels at offset ` +
        `${h.vox_offset}`,
      found: formatBytes(buf.byteLength),
    });
  }
  const raw = buf.slice(h.vox_offset, h.vox_offset + count * type.bytes);
  const data = convert(raw, type, count, h.littleEndian, h.scl_slope, h.scl_inter);
  const { affine, source } = headerAffine(h);
  const unit = TIME_UNITS[h.xyzt_units & 0x38];
  const tr = shape.length > 3 && h.pixDims[4] > 0 ? h.pixDims[4] * (unit ?? 1) : undefined;
  return {
    shape,
    affine,
    data,
    ...(tr !== undefined ? { tr } : {}),
    description: h.description.replace(/\0+$/, ""),
    affineSource: source,
    version,
    datatype: type.name,
  };
}

function formatBytes(n: number): string {
  return `${n.toLocaleString("en-US")} bytes`;
}

/**
 * Read a NIfTI image from a file (see {@linkcode decodeNifti}).
 * @throws {InputError} naming the file when it is missing or unreadable
 */
export async function readNifti(path: string): Promise<NiftiImage> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (err) {
    throw new InputError(
      err instanceof Deno.errors.NotFound ? "file not found" : "file cannot be read",
      { file: path, cause: err },
    );
  }
  return decodeNifti(bytes, path);
}
