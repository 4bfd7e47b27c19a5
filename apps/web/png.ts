/**
 * A PNG encoder for the server's static pictures (the atom page's first view
 * of its brain map): 8-bit RGB, no interlacing, one deflate stream through
 * node:zlib, each scanline filtered with "up" (the rows of a slice picture
 * repeat, so the difference to the row above is mostly zeros).
 *
 * @module
 */

import { deflateSync } from "node:zlib";

/** CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320) table, as PNG's chunks use. */
const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/**
 * CRC-32 of bytes, as PNG (and gzip, zip) define it.
 *
 * @param bytes the data
 * @returns the checksum, an unsigned 32-bit integer (`crc32("IEND")` is 0xAE426082)
 */
export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

const SIGNATURE = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a);

/** A chunk: length, type, data, CRC of type and data. */
function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length), view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/**
 * Encode an RGB picture as PNG (colour type 2, bit depth 8).
 *
 * @param rgb the pixels, row by row from the top, 3 bytes each: length `3 · width · height`
 * @param width pixels per row (≥ 1)
 * @param height rows (≥ 1)
 * @param level zlib's compression level, 0–9 (default 6)
 * @returns the file's bytes
 * @throws {RangeError} when the sizes are not positive integers or disagree with `rgb`
 *
 * @example
 * ```ts
 * const red = encodePng(Uint8Array.of(255, 0, 0), 1, 1); // a 1 × 1 red PNG, 69 bytes
 * ```
 */
export function encodePng(rgb: Uint8Array, width: number, height: number, level = 6): Uint8Array {
  if (!(Number.isInteger(width) && width > 0 && Number.isInteger(height) && height > 0)) {
    throw new RangeError(`PNG size must be positive integers: current value is ${width}×${height}`);
  }
  if (rgb.length !== 3 * width * height) {
    throw new RangeError(
      `PNG pixels: expected ${
        3 * width * height
      } bytes for ${width}×${height} RGB, found ${rgb.length}`,
    );
  }
  const stride = 3 * width, raw = new Uint8Array((stride + 1) * height);
  for (let y = 0; y < height; y++) {
    const at = y * (stride + 1), row = y * stride;
    if (y === 0) {
      raw[at] = 0; // None
      raw.set(rgb.subarray(0, stride), at + 1);
      continue;
    }
    raw[at] = 2; // Up: the byte minus the byte above it, modulo 256
    for (let x = 0; x < stride; x++) raw[at + 1 + x] = rgb[row + x] - rgb[row - stride + x];
  }
  const header = new Uint8Array(13), view = new DataView(header.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  header.set([8, 2, 0, 0, 0], 8); // bit depth 8, RGB, deflate, adaptive filtering, no interlace
  const parts = [
    SIGNATURE,
    chunk("IHDR", header),
    chunk("IDAT", new Uint8Array(deflateSync(raw, { level }))),
    chunk("IEND", new Uint8Array(0)),
  ];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) (out.set(p, at), (at += p.length));
  return out;
}
