/**
 * A 4-D NIfTI's voxels on a mask, read one volume at a time: memory holds
 * the masked series (T × V) and one volume, never the whole image. A 2 mm
 * MNI run of 400 volumes is 1.4 GB as float32; reading it whole (file,
 * data copy, float32 image) took three times that at once, for every
 * subject, to keep the 25 % of it that the mask covers.
 *
 * @module
 */

import { Gunzip } from "fflate";
import { InputError, unreadableFile } from "@brainorg/common";
import { DEFAULT_MAX_VALUES, type NiftiLayout, niftiLayout } from "./_nifti_layout.ts";
import { decodeNifti, type DecodeNiftiOptions } from "./nifti_read.ts";
import type { NiftiImage } from "./nifti_image.ts";
import { applyMask, type BrainMask } from "./masker.ts";

/** What {@linkcode readMaskedSeries} returns. */
export interface MaskedSeries {
  /** The mask's voxels of every volume: shape (volumes, V), row-major, float32. */
  data: Float32Array;
  /** Volumes in the file (dimensions past the 4th folded in, as `readNifti` does). */
  volumes: number;
  /** The image's header as `readNifti` gives it, with the first volume only as its data. */
  first: NiftiImage;
}

const READ_BYTES = 8 << 20;

/** The file's bytes, inflated where it is gzip, in chunks of any size. */
async function* fileBytes(path: string): AsyncGenerator<Uint8Array> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path);
  } catch (err) {
    throw unreadableFile(path, err);
  }
  try {
    let gunzip: Gunzip | undefined, first = true;
    const out: Uint8Array[] = [];
    while (true) {
      const buf = new Uint8Array(READ_BYTES);
      const n = await file.read(buf);
      const chunk = n === null ? new Uint8Array(0) : buf.subarray(0, n);
      if (first && n !== null) {
        first = false;
        if (chunk.byteLength >= 2 && chunk[0] === 0x1f && chunk[1] === 0x8b) {
          gunzip = new Gunzip((data) => out.push(data));
        }
      }
      if (gunzip) {
        try {
          gunzip.push(chunk, n === null);
        } catch (err) {
          throw new InputError("gzip stream is corrupt or truncated", {
            file: path,
            field: "gzip",
            expected: "a complete gzip stream",
            found: String((err as Error).message ?? err),
          });
        }
        yield* out.splice(0);
      } else if (n !== null) yield chunk;
      if (n === null) return;
    }
  } finally {
    file.close();
  }
}

/** The header with its volume dimensions set to 1: what one volume's bytes need to decode. */
function oneVolumeHeader(head: Uint8Array, layout: NiftiLayout): Uint8Array {
  const out = head.slice(0, layout.voxOffset);
  const view = new DataView(out.buffer);
  for (let d = 4; d <= 7; d++) {
    if (layout.version === 1) view.setInt16(40 + 2 * d, 1, layout.littleEndian);
    else view.setBigInt64(16 + 8 * d, 1n, layout.littleEndian);
  }
  return out;
}

/**
 * Read a NIfTI image's voxels on a mask, one volume at a time (`.nii` or
 * `.nii.gz`). Each volume is decoded by `decodeNifti` (the same datatypes,
 * byte orders and scaling) and masked by `applyMask` (the same grid check),
 * so the values equal `applyMask(await readNifti(path), mask)`.
 *
 * @param path the image (3-D or 4-D) on the mask's grid
 * @param mask the voxels to keep (V)
 * @param options the most values the image may hold (`readNifti`'s `maxValues`)
 * @returns the masked series (volumes × V), the volume count and the header
 * @throws {InputError} for an unreadable, truncated or corrupt file, or one off the mask's grid
 *
 * @example
 * ```ts
 * import { maskFromImage, readMaskedSeries, readNifti } from "@brainorg/neuro";
 * const mask = maskFromImage(await readNifti("mask.nii.gz"), "mask.nii.gz");
 * const { data, volumes } = await readMaskedSeries("sub-01_bold.nii.gz", mask);
 * // data: (volumes × mask.indices.length)
 * ```
 */
export async function readMaskedSeries(
  path: string,
  mask: BrainMask,
  options: DecodeNiftiOptions = {},
): Promise<MaskedSeries> {
  const maxValues = options.maxValues ?? DEFAULT_MAX_VALUES;
  const V = mask.indices.length;
  // Bytes not yet used, at the start of `buf`: at most a volume and a chunk.
  let buf = new Uint8Array(1 << 16), filled = 0;
  let layout: NiftiLayout | undefined, header: Uint8Array | undefined;
  let volumeBytes = 0, volumes = 0, done = 0, data = new Float32Array(0);
  let first: NiftiImage | undefined;
  const consume = (bytes: number) => {
    buf.copyWithin(0, bytes, filled);
    filled -= bytes;
  };
  for await (const chunk of fileBytes(path)) {
    if (filled + chunk.byteLength > buf.byteLength) {
      const grown = new Uint8Array(Math.max(2 * buf.byteLength, filled + chunk.byteLength));
      grown.set(buf.subarray(0, filled));
      buf = grown;
    }
    buf.set(chunk, filled);
    filled += chunk.byteLength;
    if (!layout) {
      if (filled < 4) continue;
      const view = new DataView(buf.buffer);
      const size = view.getInt32(0, true) === 540 || view.getInt32(0, false) === 540 ? 540 : 348;
      if (filled < size) continue;
      const found = niftiLayout(buf.subarray(0, filled), path, maxValues);
      if (filled < found.voxOffset) continue;
      layout = found;
      header = oneVolumeHeader(buf, layout);
      consume(layout.voxOffset);
      const [nx, ny, nz] = layout.shape;
      volumes = layout.count / (nx * ny * nz);
      volumeBytes = nx * ny * nz * layout.datatype.bytes;
      data = new Float32Array(volumes * V);
    }
    let used = 0;
    while (done < volumes && filled - used >= volumeBytes) {
      const bytes = new Uint8Array(header!.byteLength + volumeBytes);
      bytes.set(header!);
      bytes.set(buf.subarray(used, used + volumeBytes), header!.byteLength);
      used += volumeBytes;
      const img = decodeNifti(bytes, path, options);
      data.set(applyMask(img, mask, path), done * V);
      if (done === 0) first = img;
      done++;
    }
    if (used > 0) consume(used);
  }
  if (!layout || done < volumes) {
    const needed = layout ? layout.needed : 348;
    throw new InputError("header dimensions disagree with the data size", {
      file: path,
      field: "dim",
      expected: `${needed} bytes${layout ? ` for ${layout.shape.join("×")} voxels` : ""}`,
      found: layout
        ? `${layout.voxOffset + done * volumeBytes + filled} bytes`
        : "a file shorter than a NIfTI header",
    });
  }
  return { data, volumes, first: first! };
}
