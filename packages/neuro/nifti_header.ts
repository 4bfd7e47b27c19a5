/**
 * A NIfTI file's header without its data, and whether the file holds all
 * the data its header promises: cheap enough to run on every run of a
 * 345-subject dataset before anything is decoded.
 *
 * @module
 */

import { type FileHandle, open } from "node:fs/promises";
import { Readable } from "node:stream";
import { constants, createGunzip } from "node:zlib";
import { InputError, unreadableFile } from "@brainorg/common";
import type { NiftiDatatype } from "./nifti_image.ts";
import { isGzip, niftiLayout } from "./_nifti_layout.ts";

/** Whether a file holds all the bytes its header's dimensions require. */
export interface NiftiSizeCheck {
  /**
   * `complete`: at least `vox_offset + data bytes` (uncompressed);
   * `truncated`: fewer; `corrupt`: the gzip stream cannot be inflated;
   * `not checked`: the gzip trailer disagrees and inflating was not asked for.
   */
  status: "complete" | "truncated" | "corrupt" | "not checked";
  /**
   * How it was decided: the file's size (`.nii`), the gzip trailer's ISIZE,
   * or inflating the whole stream.
   */
  method: "file size" | "gzip ISIZE" | "inflated" | "none";
  /** Uncompressed bytes the header requires: `vox_offset + dims × bytes per value`. */
  expected: number;
  /** Uncompressed bytes found (the ISIZE, mod 2³², for `gzip ISIZE`), when known. */
  found?: number;
  /** The finding in words, e.g. `2,912 of 5,472 bytes`. */
  detail: string;
}

/** What a NIfTI header says, read without the data (see {@linkcode readNiftiHeaderInfo}). */
export interface NiftiHeaderInfo {
  /** NIfTI-1 (348-byte header) or NIfTI-2 (540 bytes). */
  version: 1 | 2;
  /** Whether the file is gzipped (by its magic bytes, not its name). */
  gzip: boolean;
  /** Byte order of the header and data. */
  littleEndian: boolean;
  /** `dim[1..dim[0]]`, e.g. `[91, 109, 91, 300]`. */
  dims: number[];
  /** `pixdim[1..dim[0]]` in the header's units: voxel sizes, then the time step. */
  pixdim: number[];
  /** The spatial unit of `xyzt_units`. */
  spaceUnit: "m" | "mm" | "um" | "unknown";
  /** The temporal unit of `xyzt_units` (`Hz`, `ppm`, `rad/s` are not times). */
  timeUnit: "s" | "ms" | "us" | "Hz" | "ppm" | "rad/s" | "unknown";
  /**
   * `pixdim[4]` in seconds, for images with a 4th dimension whose time step
   * is positive and a time (an unknown unit is taken as seconds, as
   * fMRIPrep and nibabel write seconds); undefined otherwise.
   */
  tr?: number;
  /** `dim[4]`: volumes of a 4-D image, 1 for a 3-D one. */
  volumes: number;
  /** The datatype's name and its NIfTI code. */
  datatype: { name: NiftiDatatype; code: number; bytes: number };
  /** Byte offset of the first voxel in the (uncompressed) file. */
  voxOffset: number;
  /** Bytes on disk. */
  fileBytes: number;
  /** Whether the data are all there (see {@linkcode NiftiSizeCheck}). */
  size: NiftiSizeCheck;
}

/** Options of {@linkcode readNiftiHeaderInfo}. */
export interface NiftiHeaderOptions {
  /**
   * When a `.nii.gz`'s trailer disagrees with the header, inflate the whole
   * stream (without keeping it) to tell a truncated file from a valid
   * multi-member one; costs about a second per 300 MB, paid only for such
   * files. When false, those files are `not checked`. Default: true.
   */
  inflateWhenUnsure?: boolean;
}

const TIME_UNITS = { 8: "s", 16: "ms", 24: "us", 32: "Hz", 40: "ppm", 48: "rad/s" } as const;
const TO_SECONDS: Record<string, number> = { s: 1, ms: 1e-3, us: 1e-6, unknown: 1 };
const SPACE_UNITS = { 1: "m", 2: "mm", 3: "um" } as const;
const STEP = 1 << 16;

/**
 * Read a NIfTI-1 or NIfTI-2 header (`.nii` or `.nii.gz`) and check the
 * file's size against it, without reading the data.
 *
 * For a `.nii.gz` only the start of the stream is inflated. The size check
 * compares the bytes the header requires (`vox_offset` + dims × bytes per
 * value) with the file's size (`.nii`) or with the gzip trailer's ISIZE,
 * the uncompressed size mod 2³² in the last 4 bytes (`.nii.gz`). ISIZE is
 * the size of the whole file only for a single-member gzip, which is what
 * nibabel and fMRIPrep write; a multi-member file (e.g. from `pigz
 * --independent` or files concatenated) has the last member's size there.
 * When ISIZE disagrees, the stream is inflated to decide between the two
 * unless `inflateWhenUnsure` is false, in which case the result is
 * `not checked`.
 *
 * @param path a `.nii` or `.nii.gz` file
 * @param options whether to inflate when unsure (see {@linkcode NiftiHeaderOptions}). Default: true.
 * @returns dims, pixdim, units, TR, datatype, vox_offset and the size check
 * @throws {InputError} naming the file when it cannot be read, its gzip
 *   stream breaks inside the header, or the header is not a usable NIfTI
 *   header (magic, sizeof_hdr, datatype, dim, vox_offset)
 *
 * @example
 * ```ts
 * import { readNiftiHeaderInfo } from "@brainorg/neuro";
 * const h = await readNiftiHeaderInfo("sub-001_task-pieman_desc-preproc_bold.nii.gz");
 * console.log(h.dims, h.tr, h.volumes, h.size.status); // [65, 77, 49, 300] 1.5 300 "complete"
 * ```
 */
export async function readNiftiHeaderInfo(
  path: string,
  options: NiftiHeaderOptions = {},
): Promise<NiftiHeaderInfo> {
  let fh: FileHandle;
  try {
    fh = await open(path, "r");
  } catch (err) {
    throw unreadableFile(path, err);
  }
  try {
    const fileBytes = (await fh.stat()).size;
    const first = await readAt(fh, 0, Math.min(fileBytes, STEP));
    const gzip = isGzip(first);
    const head = gzip ? await inflateStart(fh, fileBytes, 540, path) : first.subarray(0, 540);
    // Any size: a header is only read here, nothing is allocated for its data.
    const layout = niftiLayout(head, path, Infinity);
    const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
    const le = layout.littleEndian;
    const v1 = layout.version === 1;
    const ndim = v1 ? view.getInt16(40, le) : Number(view.getBigInt64(16, le));
    const dims: number[] = [], pixdim: number[] = [];
    for (let i = 1; i <= ndim; i++) {
      dims.push(v1 ? view.getInt16(40 + 2 * i, le) : Number(view.getBigInt64(16 + 8 * i, le)));
      pixdim.push(v1 ? view.getFloat32(76 + 4 * i, le) : view.getFloat64(104 + 8 * i, le));
    }
    const units = v1 ? view.getUint8(123) : view.getInt32(500, le);
    const timeUnit = TIME_UNITS[(units & 0x38) as keyof typeof TIME_UNITS] ?? "unknown";
    const spaceUnit = SPACE_UNITS[(units & 0x07) as keyof typeof SPACE_UNITS] ?? "unknown";
    const step = pixdim[3];
    const tr = ndim >= 4 && step > 0 && Number.isFinite(step) && timeUnit in TO_SECONDS
      ? step * TO_SECONDS[timeUnit]
      : undefined;
    const expected = layout.needed;
    const size = gzip
      ? await gzipSizeCheck(fh, fileBytes, expected, options.inflateWhenUnsure ?? true)
      : plainSizeCheck(fileBytes, expected);
    return {
      version: layout.version,
      gzip,
      littleEndian: le,
      dims,
      pixdim,
      spaceUnit,
      timeUnit,
      ...(tr !== undefined ? { tr } : {}),
      volumes: dims[3] ?? 1,
      datatype: layout.datatype,
      voxOffset: layout.voxOffset,
      fileBytes,
      size,
    };
  } finally {
    await fh.close();
  }
}

async function readAt(fh: FileHandle, at: number, n: number): Promise<Uint8Array> {
  const buf = new Uint8Array(Math.max(0, n));
  let got = 0;
  while (got < buf.length) {
    const { bytesRead } = await fh.read(buf, got, buf.length - got, at + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return buf.subarray(0, got);
}

/** The file's bytes from `at` to its end, in chunks, through node:fs/promises. */
function chunks(fh: FileHandle, from: number, to: number): Readable {
  return Readable.from((async function* () {
    for (let at = from; at < to; at += STEP) {
      const c = await readAt(fh, at, Math.min(STEP, to - at));
      if (c.length === 0) return;
      yield c;
    }
  })());
}

/**
 * Inflate the file's gzip stream, handing each piece to `take` until it
 * returns false or the stream ends. At the end of the input the inflater
 * hands over what it could inflate instead of failing with "unexpected end
 * of file" (`Z_SYNC_FLUSH`), so a truncated file shows as fewer bytes than
 * required; corrupt data still fail, with the error returned. Pieces are
 * taken as they come (not through an async iterator, which would drop the
 * output still buffered when the stream fails). Resolves once the file is
 * no longer being read, so that the caller may close it.
 */
function inflate(
  fh: FileHandle,
  fileBytes: number,
  take: (chunk: Uint8Array) => boolean,
): Promise<Error | undefined> {
  return new Promise((resolve) => {
    const src = chunks(fh, 0, fileBytes);
    const gunzip = createGunzip({ finishFlush: constants.Z_SYNC_FLUSH });
    let result: Error | undefined, done = false;
    const finish = (err?: Error) => {
      if (done) return;
      done = true;
      result = err;
      src.unpipe(gunzip);
      gunzip.destroy();
      if (src.destroyed && src.closed) resolve(result);
      else (src.once("close", () => resolve(result)), src.destroy());
    };
    src.on("error", finish);
    gunzip.on("error", finish);
    gunzip.on("end", () => finish());
    gunzip.on("data", (c: Uint8Array) => {
      if (!done && !take(c)) finish();
    });
    src.pipe(gunzip);
  });
}

/**
 * Inflate the gzip stream only as far as `want` bytes (or its end). A
 * stream that breaks before the header is complete is an error; one that
 * breaks later is left to the size check.
 */
async function inflateStart(
  fh: FileHandle,
  fileBytes: number,
  want: number,
  path: string,
): Promise<Uint8Array> {
  const out = new Uint8Array(want);
  let got = 0;
  const err = await inflate(fh, fileBytes, (chunk) => {
    const n = Math.min(chunk.length, want - got);
    out.set(chunk.subarray(0, n), got);
    got += n;
    return got < want;
  });
  if (err && got < 348) {
    throw new InputError("gzip stream is corrupt or truncated inside the NIfTI header", {
      file: path,
      field: "gzip",
      expected: "a gzip stream holding at least the 348-byte header",
      found: `${got} bytes inflated, then: ${err.message ?? err}`,
      cause: err,
    });
  }
  return out.subarray(0, got);
}

function bytes(n: number): string {
  return n.toLocaleString("en-US");
}

function plainSizeCheck(fileBytes: number, expected: number): NiftiSizeCheck {
  const complete = fileBytes >= expected;
  return {
    status: complete ? "complete" : "truncated",
    method: "file size",
    expected,
    found: fileBytes,
    detail: complete
      ? `${bytes(fileBytes)} bytes, ${bytes(expected)} required`
      : `${bytes(fileBytes)} of ${bytes(expected)} bytes`,
  };
}

async function gzipSizeCheck(
  fh: FileHandle,
  fileBytes: number,
  expected: number,
  inflateWhenUnsure: boolean,
): Promise<NiftiSizeCheck> {
  const tail = await readAt(fh, Math.max(0, fileBytes - 4), 4);
  const isize = tail.length === 4
    ? new DataView(tail.buffer, tail.byteOffset, 4).getUint32(0, true)
    : undefined;
  // nibabel writes exactly vox_offset + data: ISIZE equals that mod 2³².
  if (isize === expected % 2 ** 32) {
    return {
      status: "complete",
      method: "gzip ISIZE",
      expected,
      found: isize,
      detail: `gzip trailer: ${bytes(isize)} bytes (mod 2³²), as the header requires`,
    };
  }
  const unsure = `the gzip trailer says ${bytes(isize ?? 0)} bytes, the header requires ` +
    `${bytes(expected)}`;
  if (!inflateWhenUnsure) {
    return {
      status: "not checked",
      method: "none",
      expected,
      detail: `${unsure}: truncated, or a multi-member gzip (not inflated to decide)`,
    };
  }
  // A truncated stream ends without a trailer; a multi-member one inflates in full.
  let total = 0;
  const err = await inflate(fh, fileBytes, (chunk) => ((total += chunk.length), true));
  if (err) {
    return {
      status: "corrupt",
      method: "inflated",
      expected,
      found: total,
      detail: `the gzip stream breaks after ${bytes(total)} bytes: ${err.message ?? err}`,
    };
  }
  const complete = total >= expected;
  return {
    status: complete ? "complete" : "truncated",
    method: "inflated",
    expected,
    found: total,
    detail: complete
      ? `inflated: ${bytes(total)} bytes, ${bytes(expected)} required (${unsure})`
      : `the gzip stream holds ${bytes(total)} of ${bytes(expected)} bytes`,
  };
}
