/**
 * The part of a NIfTI header that says where the data are and how large
 * they are, read and checked before any voxel is decoded, so that a
 * damaged or hostile header is refused before its data are inflated or
 * allocated. Private to `@brainorg/neuro`.
 *
 * @module
 */

import { Gunzip } from "fflate";
import { InputError } from "@brainorg/common";
import type { NiftiDatatype } from "./nifti_image.ts";

/** Datatypes brainorg reads: NIfTI code → name and bytes per value. */
export const DATATYPES: Readonly<Record<number, { name: NiftiDatatype; bytes: number }>> = {
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

// Named so that the error says what the file holds, not only a number.
const UNSUPPORTED: Record<number, string> = {
  1: "binary",
  32: "complex64",
  128: "rgb24",
  1536: "float128",
  1792: "complex128",
  2048: "complex256",
  2304: "rgba32",
};

/**
 * Values one image may hold by default: 2³¹ (8 GiB as float32). A 2 mm MNI
 * grid with 1,000 volumes is 0.9 × 10⁹; a header asking for more is far
 * more likely damaged than real, and is refused before anything is
 * allocated for it.
 */
export const DEFAULT_MAX_VALUES = 2 ** 31;

/** Where the voxels of a NIfTI file are, from its header. */
export interface NiftiLayout {
  version: 1 | 2;
  littleEndian: boolean;
  /** Bytes of the fixed header (348 or 540). */
  headerSize: number;
  /** `[nx, ny, nz]` or `[nx, ny, nz, nt]`, dimensions beyond the 4th folded into nt. */
  shape: number[];
  datatype: { code: number; name: NiftiDatatype; bytes: number };
  /** Byte offset of the first voxel. */
  voxOffset: number;
  /** Values in the image (product of `shape`). */
  count: number;
  /** Bytes the file must hold: `voxOffset + count × bytes`. */
  needed: number;
}

const MAGIC1 = [0x6e, 0x2b, 0x31]; // n+1
const PAIR1 = [0x6e, 0x69, 0x31]; // ni1
const MAGIC2 = [0x6e, 0x2b, 0x32]; // n+2
const PAIR2 = [0x6e, 0x69, 0x32]; // ni2

function matches(bytes: Uint8Array, at: number, magic: number[]): boolean {
  return magic.every((b, i) => bytes[at + i] === b);
}

/** `"n+1\0"` as a JSON string with NULs shown. */
function shownMagic(bytes: Uint8Array, at: number): string {
  const text = new TextDecoder().decode(bytes.subarray(at, at + 4)).replace(/\0/g, "\\0");
  return JSON.stringify(text);
}

/**
 * Read and check the layout fields of a header: magic, sizeof_hdr,
 * datatype, dim, vox_offset, and the size they imply.
 *
 * @param head at least the first 348 bytes of the (inflated) file; 540 for NIfTI-2
 * @param name the file, for errors
 * @param maxValues refuse images with more values than this
 * @throws {InputError} naming the file and the header field at fault
 */
export function niftiLayout(head: Uint8Array, name: string, maxValues: number): NiftiLayout {
  const fail = (message: string, field: string, expected: string, found: string): never => {
    throw new InputError(message, { file: name, field, expected, found });
  };
  if (head.byteLength < 348) {
    fail(
      "file is too short to hold a NIfTI header",
      "header",
      "at least 348 bytes",
      `${head.byteLength} bytes`,
    );
  }
  const version = matches(head, 344, MAGIC1) ? 1 : matches(head, 4, MAGIC2) ? 2 : 0;
  if (version === 0) {
    if (matches(head, 344, PAIR1) || matches(head, 4, PAIR2)) {
      fail(
        "a header of a .hdr/.img pair: brainorg reads single-file NIfTI",
        "magic",
        '"n+1" or "n+2" (a .nii or .nii.gz file; convert the pair with nibabel or fslchfiletype)',
        matches(head, 344, PAIR1) ? '"ni1"' : '"ni2"',
      );
    }
    fail("not a NIfTI file", "magic", '"n+1", "ni1", "n+2" or "ni2"', shownMagic(head, 344));
  }
  const headerSize = version === 1 ? 348 : 540;
  if (head.byteLength < headerSize) {
    fail(
      "file is too short to hold a NIfTI-2 header",
      "header",
      "at least 540 bytes",
      `${head.byteLength} bytes`,
    );
  }
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const littleEndian = view.getInt32(0, true) === headerSize;
  if (!littleEndian && view.getInt32(0, false) !== headerSize) {
    fail(
      `the header's size disagrees with its NIfTI-${version} magic`,
      "sizeof_hdr",
      `${headerSize} (little- or big-endian)`,
      `${view.getInt32(0, true)} (little-endian), ${view.getInt32(0, false)} (big-endian)`,
    );
  }
  const code = view.getInt16(version === 1 ? 70 : 12, littleEndian);
  const type = DATATYPES[code];
  if (!type) {
    fail(
      "unsupported datatype",
      "datatype",
      Object.entries(DATATYPES).map(([c, t]) => `${t.name} (${c})`).join(", "),
      `${UNSUPPORTED[code] ?? "unknown"} (${code})`,
    );
  }
  const dim = (i: number): number =>
    version === 1
      ? view.getInt16(40 + 2 * i, littleEndian)
      : Number(view.getBigInt64(16 + 8 * i, littleEndian));
  const ndim = dim(0);
  if (!(ndim >= 1 && ndim <= 7)) {
    fail("invalid number of dimensions", "dim[0]", "1 to 7", String(ndim));
  }
  const dims: number[] = [];
  for (let i = 1; i <= ndim; i++) {
    const d = dim(i);
    if (!(d >= 1 && Number.isSafeInteger(d))) {
      fail("invalid dimension", `dim[${i}]`, "a whole number ≥ 1", String(d));
    }
    dims.push(d);
  }
  while (dims.length < 3) dims.push(1);
  const extra = dims.slice(3).reduce((a, b) => a * b, 1);
  const shape = extra > 1 ? [dims[0], dims[1], dims[2], extra] : dims.slice(0, 3);
  const count = shape.reduce((a, b) => a * b, 1);
  if (!(count <= maxValues)) {
    fail(
      "the image is too large to read",
      "dim",
      `at most ${
        maxValues.toLocaleString("en-US")
      } values (resample to a coarser grid, or split the runs)`,
      `${shape.join("×")} = ${count.toExponential(3)} values`,
    );
  }
  const voxOffset = version === 1
    ? view.getFloat32(108, littleEndian)
    : Number(view.getBigInt64(168, littleEndian));
  if (!(Number.isSafeInteger(voxOffset) && voxOffset >= headerSize)) {
    fail(
      "the data offset is not usable",
      "vox_offset",
      `a whole number of bytes ≥ ${headerSize} (the header's size)`,
      String(voxOffset),
    );
  }
  return {
    version: version as 1 | 2,
    littleEndian,
    headerSize,
    shape,
    datatype: { code, ...type },
    voxOffset,
    count,
    needed: voxOffset + count * type.bytes,
  };
}

/** True when the bytes start with gzip's magic (1f 8b). */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.byteLength >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/**
 * Inflate a `.nii.gz` only as far as its header allows: the header is
 * checked as soon as it is inflated, so an image too large is refused
 * before its data are inflated, and no more than `needed` bytes are ever
 * kept (the rest of the stream is still inflated to check its CRC).
 *
 * @returns the first `min(needed, inflated size)` bytes and the layout
 * @throws {InputError} for a corrupt or truncated stream, or a bad header
 */
export function inflateNifti(
  bytes: Uint8Array,
  name: string,
  maxValues: number,
): { data: Uint8Array; layout: NiftiLayout } {
  const chunks: Uint8Array[] = [];
  let kept = 0, limit = Infinity, layout: NiftiLayout | undefined;
  const gunzip = new Gunzip((chunk) => {
    if (kept >= limit) return;
    const part = kept + chunk.byteLength > limit ? chunk.subarray(0, limit - kept) : chunk;
    chunks.push(part);
    kept += part.byteLength;
  });
  const joined = () => {
    if (chunks.length === 1) return chunks[0];
    const out = new Uint8Array(kept);
    let at = 0;
    for (const c of chunks) (out.set(c, at), (at += c.byteLength));
    chunks.length = 0;
    chunks.push(out);
    return out;
  };
  const STEP = 1 << 20;
  for (let at = 0; at < bytes.byteLength; at += STEP) {
    const last = at + STEP >= bytes.byteLength;
    try {
      gunzip.push(bytes.subarray(at, at + STEP), last);
    } catch (err) {
      throw new InputError("gzip stream is corrupt or truncated", {
        file: name,
        field: "gzip",
        expected: "a complete gzip stream",
        found: String((err as Error).message ?? err),
        cause: err,
      });
    }
    if (!layout && (kept >= 540 || last)) {
      layout = niftiLayout(joined(), name, maxValues);
      limit = layout.needed;
      if (kept > limit) {
        chunks[0] = chunks[0].subarray(0, limit);
        kept = limit;
      }
    }
  }
  if (!layout) layout = niftiLayout(joined(), name, maxValues);
  return { data: joined(), layout };
}
