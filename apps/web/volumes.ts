/**
 * One volume of a 4-D NIfTI map as a 3-D NIfTI of its own, for the brain
 * viewer of a page that shows one atom: the browser then fetches and
 * decodes 3.6 MB (a 2 mm volume) instead of a 64-atom map (60 MiB gzipped,
 * 231 MB inflated, tens of seconds in a browser). The file is inflated
 * natively as a stream, up to the volume only; nothing else is kept.
 *
 * @module
 */

import { createReadStream } from "node:fs";
import { fileCache } from "./file_cache.ts";
import { createGunzip } from "node:zlib";
import type { Readable } from "node:stream";

/** Where a NIfTI header keeps what extracting a volume needs. */
interface Layout {
  version: 1 | 2;
  littleEndian: boolean;
  dims: number[];
  bytesPerValue: number;
  voxOffset: number;
}

/** The header's layout, or a reason it is not one this reads. */
function layout(head: Uint8Array): Layout | string {
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const size = (le: boolean) => view.getInt32(0, le);
  const littleEndian = size(true) === 348 || size(true) === 540;
  const sizeof = size(littleEndian);
  if (sizeof !== 348 && sizeof !== 540) return "not a NIfTI header (sizeof_hdr)";
  const v1 = sizeof === 348, le = littleEndian;
  if (head.length < sizeof) return "the header is cut short";
  const dims = Array.from(
    { length: 8 },
    (_, i) => v1 ? view.getInt16(40 + 2 * i, le) : Number(view.getBigInt64(16 + 8 * i, le)),
  );
  const bitpix = v1 ? view.getInt16(72, le) : view.getInt16(14, le);
  const voxOffset = v1 ? view.getFloat32(108, le) : Number(view.getBigInt64(168, le));
  if (!(bitpix > 0 && bitpix % 8 === 0) || !(voxOffset >= sizeof)) return "bitpix or vox_offset";
  return { version: v1 ? 1 : 2, littleEndian, dims, bytesPerValue: bitpix / 8, voxOffset };
}

/**
 * Volume `k` of a NIfTI file (`.nii` or `.nii.gz`), as an uncompressed
 * 3-D `.nii` (its header, extensions included, with `dim[0]` 3 and `dim[4]`
 * 1; its data, as stored).
 *
 * @param file the map's path (checked to be inside a run by the caller)
 * @param k the volume, from 0
 * @returns the bytes, or why there are none (not NIfTI, no volume k, cut short)
 */
export async function extractVolume(file: string, k: number): Promise<Uint8Array | string> {
  const first = await readStart(file, 2);
  const raw: Readable = createReadStream(file);
  const stream: Readable = first[0] === 0x1f && first[1] === 0x8b ? raw.pipe(createGunzip()) : raw;
  const parts: Uint8Array[] = [];
  // Set once the header is read (in a closure, so in an object TypeScript does not narrow away).
  const at: { head?: Layout; out?: Uint8Array; start: number; end: number } = { start: 0, end: 0 };
  let got = 0;
  /** Read the header from the bytes so far; a reason when it is not usable. */
  const begin = (): string | null => {
    const joined = concat(parts, got), l = layout(joined);
    if (typeof l === "string") return l;
    const [nd, nx, ny, nz, nt] = l.dims, volumes = nd >= 4 ? Math.max(1, nt) : 1;
    if (!(k >= 0 && k < volumes)) return `has no volume ${k} (it has ${volumes})`;
    const bytes = nx * ny * nz * l.bytesPerValue;
    at.head = l;
    at.start = l.voxOffset + k * bytes;
    at.end = at.start + bytes;
    at.out = new Uint8Array(l.voxOffset + bytes);
    copyRange(at.out, joined, 0, l.voxOffset, at.start, at.end);
    parts.length = 0;
    return null;
  };
  try {
    for await (const chunk of stream as AsyncIterable<Uint8Array>) {
      const from = got;
      got += chunk.length;
      if (at.head) copyRange(at.out!, chunk, from, at.head.voxOffset, at.start, at.end);
      else {
        parts.push(chunk);
        // NIfTI-2's header is 540 bytes; NIfTI-1's 348 (a file that small is read after the loop).
        if (got < 540) continue;
        const why = begin();
        if (why) return why;
      }
      if (at.head && got >= at.end) break;
    }
    if (!at.head && got >= 348) {
      const why = begin();
      if (why) return why;
    }
  } catch (err) {
    return `the gzip stream is corrupt (${(err as Error).message})`;
  } finally {
    raw.destroy();
    stream.destroy();
  }
  const { head, out, end } = at;
  if (!head || !out) return "the header is cut short";
  if (got < end) return `is truncated: volume ${k} needs ${end} bytes, the file has ${got}`;
  const view = new DataView(out.buffer);
  if (head.version === 1) {
    view.setInt16(40, 3, head.littleEndian);
    view.setInt16(48, 1, head.littleEndian);
  } else {
    view.setBigInt64(16, 3n, head.littleEndian);
    view.setBigInt64(48, 1n, head.littleEndian);
  }
  return out;
}

/**
 * Copy the part of `chunk` (which starts at byte `at` of the inflated file)
 * that falls in the header's tail `[?, voxOffset)` or in `[start, end)`, to
 * where it goes in `out` (header, then the volume's data).
 */
function copyRange(
  out: Uint8Array,
  chunk: Uint8Array,
  at: number,
  voxOffset: number,
  start: number,
  end: number,
): void {
  const headEnd = Math.min(voxOffset, at + chunk.length);
  if (at < headEnd) out.set(chunk.subarray(0, headEnd - at), at);
  const lo = Math.max(start, at), hi = Math.min(end, at + chunk.length);
  if (lo < hi) out.set(chunk.subarray(lo - at, hi - at), voxOffset + (lo - start));
}

function concat(parts: Uint8Array[], n: number): Uint8Array {
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) (out.set(p, at), (at += p.length));
  return out;
}

async function readStart(file: string, n: number): Promise<Uint8Array> {
  const f = await Deno.open(file);
  try {
    const buf = new Uint8Array(n);
    const got = await f.read(buf);
    return buf.subarray(0, got ?? 0);
  } finally {
    f.close();
  }
}

/**
 * {@linkcode extractVolume} through {@linkcode fileCache}: cut out once per
 * file version, shared by the file route's `?volume=k`, the surfaces and a
 * page that starts the cut-out before the browser asks for it (a volume
 * late in a 64-atom 2 mm map means inflating most of 231 MB: about a second).
 *
 * @param file the map's path (checked to be inside a run by the caller)
 * @param k the volume, from 0
 * @returns the 3-D `.nii` bytes, why there are none, or null when the file is gone
 */
export function cachedVolume(file: string, k: number): Promise<Uint8Array | string | null> {
  return fileCache.get(file, `volume:${k}`, () => extractVolume(file, k), {
    // Unknown before it is cut out; an eighth of the map errs on the side of keeping fewer.
    bytes: (stat) => stat.size / 8,
  });
}
