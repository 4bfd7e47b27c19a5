/**
 * NumPy's `.npy` format for float32 arrays, so that `numpy.load` reads what
 * brainorg writes (the full AN code matrix, `models/<name>/codes.npy`) and
 * brainorg reads it back. Writes version 1.0: the magic `\x93NUMPY`, the
 * version, a little-endian uint16 header length, a header dict
 * `{'descr': '<f4', 'fortran_order': False, 'shape': (K, N), }` padded with
 * spaces and a newline so that the data start at a multiple of 64 bytes,
 * then the values, little-endian, C order. Reads versions 1.0, 2.0 and 3.0
 * of the same (`<f4`, C order); anything else is an {@linkcode InputError}.
 *
 * @module
 */

import { InputError } from "./errors.ts";

/** A float32 array with its shape, C order (last axis fastest). */
export interface NpyArray {
  /** Length of each axis; `[K, N]` for a K × N matrix, `[]` for a scalar. */
  shape: number[];
  /** The values, C order: length the product of `shape`. */
  data: Float32Array;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // "\x93NUMPY"
const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

/** The header's Python tuple: `()`, `(5,)`, `(3, 4)`. */
function shapeTuple(shape: readonly number[]): string {
  return shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
}

/**
 * A float32 array as the two parts of a `.npy` file (version 1.0): the
 * header, then the values, so that a large array is written without a
 * copy of it ({@linkcode encodeNpy} joins them).
 *
 * @param array its shape and its values (C order); `data.length` must be the product of `shape`
 * @returns `[header, values]`: the header a multiple of 64 bytes; the values
 *   little-endian (on a little-endian host, a view on `array.data`)
 * @throws {RangeError} when `shape` is not whole numbers or does not match `data.length`
 *
 * @example
 * ```ts
 * import { npyParts } from "@brainorg/common";
 * const [header, values] = npyParts({ shape: [2, 3], data: new Float32Array(6) });
 * header.length; // 64
 * values.length; // 24
 * ```
 */
export function npyParts(array: NpyArray): [Uint8Array, Uint8Array] {
  const { shape, data } = array;
  if (!shape.every((n) => Number.isSafeInteger(n) && n >= 0)) {
    throw new RangeError(
      `\`shape\` must be whole numbers ≥ 0: current value is [${shape.join(", ")}]`,
    );
  }
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== data.length) {
    throw new RangeError(
      `\`data\` must have ${count} values for shape [${shape.join(", ")}]: ` +
        `current length is ${data.length}`,
    );
  }
  const dict = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shapeTuple(shape)}, }`;
  // Spaces, then a newline, up to the next multiple of 64 (as numpy pads).
  const total = Math.ceil((10 + dict.length + 1) / 64) * 64;
  const text = dict + " ".repeat(total - 10 - dict.length - 1) + "\n";
  const header = new Uint8Array(total);
  header.set(MAGIC, 0);
  header[6] = 1;
  header[7] = 0;
  new DataView(header.buffer).setUint16(8, text.length, true);
  for (let i = 0; i < text.length; i++) header[10 + i] = text.charCodeAt(i);
  let values: Uint8Array;
  if (LITTLE_ENDIAN) values = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  else {
    values = new Uint8Array(data.length * 4);
    const view = new DataView(values.buffer);
    for (let i = 0; i < data.length; i++) view.setFloat32(4 * i, data[i], true);
  }
  return [header, values];
}

/**
 * Encode a float32 array as a `.npy` file (version 1.0), in one piece.
 *
 * @param array its shape and its values (C order); `data.length` must be the product of `shape`
 * @returns the whole file: header (a multiple of 64 bytes) then the values, little-endian
 * @throws {RangeError} when `shape` is not whole numbers or does not match `data.length`
 *
 * @example
 * ```ts
 * import { encodeNpy } from "@brainorg/common";
 * const bytes = encodeNpy({ shape: [2, 3], data: Float32Array.of(1, 2, 3, 4, 5, 6) });
 * bytes.length; // 64 + 24
 * ```
 */
export function encodeNpy(array: NpyArray): Uint8Array {
  const [header, values] = npyParts(array);
  const out = new Uint8Array(header.length + values.length);
  out.set(header, 0);
  out.set(values, header.length);
  return out;
}

/** Options of {@linkcode decodeNpy}. */
export interface DecodeNpyOptions {
  /** The file's name, for errors. Default: `"the .npy data"`. */
  file?: string;
}

/**
 * Decode a `.npy` file holding a float32 array in C order.
 *
 * @param bytes the whole file
 * @param options the file's name, for errors
 * @returns its shape and values (a copy, aligned, in the host's byte order)
 * @throws {InputError} naming the file and the field at fault: the magic,
 *   the version, the header (`descr` other than `<f4`, `fortran_order: True`,
 *   a bad shape) or a data length that does not fit the shape
 *
 * @example
 * ```ts
 * import { decodeNpy, encodeNpy } from "@brainorg/common";
 * const back = decodeNpy(encodeNpy({ shape: [2], data: Float32Array.of(0.5, -1) }));
 * back.shape; // [2]
 * ```
 */
export function decodeNpy(bytes: Uint8Array, options: DecodeNpyOptions = {}): NpyArray {
  const file = options.file ?? "the .npy data";
  const fail = (field: string, expected: string, found: string): never => {
    throw new InputError("not a float32 .npy array brainorg can read", {
      file,
      field,
      expected,
      found,
    });
  };
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) {
    fail("magic", "\\x93NUMPY", bytes.length < 10 ? `${bytes.length} bytes` : "other bytes");
  }
  const major = bytes[6], minor = bytes[7];
  if (major < 1 || major > 3 || minor !== 0) {
    fail("version", "1.0, 2.0 or 3.0", `${major}.${minor}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lengthBytes = major === 1 ? 2 : 4;
  if (bytes.length < 8 + lengthBytes) fail("header length", "present", "the file ends");
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = 8 + lengthBytes, dataStart = start + headerLength;
  if (dataStart > bytes.length) {
    fail("header", `${headerLength} bytes`, `${bytes.length - start} bytes before the end`);
  }
  const header = new TextDecoder(major === 3 ? "utf-8" : "latin1").decode(
    bytes.subarray(start, dataStart),
  );
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  if (descr !== "<f4") fail("descr", "'<f4' (float32, little-endian)", descr ?? "none");
  const order = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  if (order !== "False") fail("fortran_order", "False (C order)", order ?? "none");
  const tuple = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  const parts = tuple === undefined ? [] : tuple.split(",").map((s) => s.trim()).filter(Boolean);
  const shape = parts.map(Number);
  if (tuple === undefined || !shape.every((n) => Number.isSafeInteger(n) && n >= 0)) {
    fail("shape", "a tuple of whole numbers", tuple === undefined ? "none" : `(${tuple})`);
  }
  const count = shape.reduce((a, b) => a * b, 1);
  const available = bytes.length - dataStart;
  if (available !== count * 4) {
    fail("data", `${count * 4} bytes for shape ${shapeTuple(shape)}`, `${available} bytes`);
  }
  const data = new Float32Array(count);
  if (LITTLE_ENDIAN) {
    new Uint8Array(data.buffer).set(bytes.subarray(dataStart, dataStart + count * 4));
  } else {
    for (let i = 0; i < count; i++) data[i] = view.getFloat32(dataStart + 4 * i, true);
  }
  return { shape, data };
}
