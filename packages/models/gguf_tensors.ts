/**
 * A GGUF file's tensors read one at a time by positioned reads, never the
 * whole file: what a model larger than memory (Llama-3-8B in F16 is 16 GB)
 * needs to be run block by block. Each tensor is checked before a byte of it
 * is read (see {@linkcode locateGgufTensor}), dequantized to float32 as
 * `gguf_quants.ts` defines it, and checked finite.
 *
 * @module
 */

import {
  checkFiniteTensor,
  type GgufLlamaHeader,
  type GgufTensorInfo,
  locateGgufTensor,
} from "./gguf_model.ts";
import { dequantizeTensor, ggmlType } from "./gguf_quants.ts";
import { InputError } from "@brainorg/common";

/** A tensor's bytes as the file stores them, checked and located. */
export interface RawTensor {
  /** Its table entry. */
  info: GgufTensorInfo;
  /** Its bytes (GGML blocks of its type). */
  bytes: Uint8Array;
}

/** Positioned reads of one GGUF file's tensors (see {@linkcode openGgufTensors}). */
export interface GgufTensorFile {
  /** The file's header. */
  readonly header: GgufLlamaHeader;
  /** The file's size in bytes. */
  readonly fileSize: number;
  /**
   * A tensor's bytes, checked (present, its type, `length` values, inside
   * the file) before they are read.
   */
  readRaw(name: string, length: number): Promise<RawTensor>;
  /** A tensor dequantized to float32 and checked finite: `length` values, row-major. */
  read(name: string, length: number): Promise<Float32Array>;
  /**
   * Some rows of a 2-D tensor (e.g. the embeddings of the tokens a story
   * uses), each read on its own.
   *
   * @param name the tensor, (rowCount × rowLength) row-major (GGUF shape [rowLength, rowCount])
   * @param rowLength values per row
   * @param rowCount rows in the tensor
   * @param rows the rows wanted, each 0 … rowCount − 1
   * @returns (rows.length × rowLength), row-major, in the order asked
   */
  readRows(
    name: string,
    rowLength: number,
    rowCount: number,
    rows: readonly number[],
  ): Promise<Float32Array>;
}

/** Read `size` bytes from `start` of an open file: a read may return fewer than asked. */
async function readAt(file: Deno.FsFile, start: number, size: number): Promise<Uint8Array> {
  const out = new Uint8Array(size);
  await file.seek(start, Deno.SeekMode.Start);
  for (let got = 0; got < size;) {
    const n = await file.read(out.subarray(got));
    if (n === null) throw new Error(`end of file at byte ${start + got} of ${start + size}`);
    got += n;
  }
  return out;
}

/**
 * Positioned reads of a GGUF file's tensors. Every read opens the file on
 * its own, so reads may run concurrently (the next block's tensors while
 * this one computes) and nothing stays open between them.
 *
 * @param header the file's header (see {@linkcode readGgufLlamaHeader})
 * @returns the reader
 * @throws {Deno.errors.NotFound} when the file has gone
 *
 * @example
 * ```ts
 * import { openGgufTensors, readGgufLlamaHeader } from "@brainorg/models";
 * const header = await readGgufLlamaHeader("stories260K.gguf");
 * const file = await openGgufTensors(header);
 * const down = await file.read("blk.0.ffn_down.weight", header.config.dim * header.config.hiddenDim);
 * ```
 */
export async function openGgufTensors(header: GgufLlamaHeader): Promise<GgufTensorFile> {
  const fileSize = (await Deno.stat(header.path)).size;
  const withFile = async <T>(f: (file: Deno.FsFile) => Promise<T>): Promise<T> => {
    const file = await Deno.open(header.path, { read: true });
    try {
      return await f(file);
    } finally {
      file.close();
    }
  };
  const readRaw = async (name: string, length: number): Promise<RawTensor> => {
    const { info, start, size } = locateGgufTensor(header, name, length, fileSize);
    return { info, bytes: await withFile((file) => readAt(file, start, size)) };
  };
  return {
    header,
    fileSize,
    readRaw,
    async read(name, length) {
      return dequantizeRaw(header, await readRaw(name, length));
    },
    async readRows(name, rowLength, rowCount, rows) {
      const { info, start } = locateGgufTensor(header, name, rowLength * rowCount, fileSize);
      if (info.shape[0] !== rowLength) {
        throw new InputError("a tensor's rows are not as long as the model's width", {
          file: header.path,
          field: `${name} (shape)`,
          expected: `rows of ${rowLength} values`,
          found: `shape ${info.shape.join(" × ")}`,
        });
      }
      // locateGgufTensor has checked that rows are whole blocks of a known type.
      const type = ggmlType(info.dtype)!;
      const rowBytes = (rowLength / type.blockValues) * type.blockBytes;
      const out = new Float32Array(rows.length * rowLength);
      await withFile(async (file) => {
        for (let i = 0; i < rows.length; i++) {
          const r = rows[i];
          if (!(Number.isInteger(r) && r >= 0 && r < rowCount)) {
            throw new RangeError(`row ${r} of ${name} is outside 0 … ${rowCount - 1}`);
          }
          const bytes = await readAt(file, start + r * rowBytes, rowBytes);
          const row = dequantizeTensor(info.dtype, [rowLength], bytes, 0, {
            file: header.path,
            tensor: `${name} (row ${r})`,
          });
          out.set(checkFiniteTensor(header, info, row), i * rowLength);
        }
      });
      return out;
    },
  };
}

/**
 * Raw bytes read by {@linkcode GgufTensorFile.readRaw} as float32, checked finite.
 *
 * @param header the file's header, for errors
 * @param raw the tensor's bytes
 * @returns its values, row-major
 * @throws {InputError} naming the tensor when a value is NaN or infinite
 */
export function dequantizeRaw(header: GgufLlamaHeader, raw: RawTensor): Float32Array {
  const where = { file: header.path, tensor: raw.info.name };
  return checkFiniteTensor(
    header,
    raw.info,
    dequantizeTensor(raw.info.dtype, raw.info.shape, raw.bytes, 0, where),
  );
}

/**
 * Bytes the model's weights would take as float32 (every tensor of the
 * file, dequantized): what {@linkcode readGgufLlama} holds in memory.
 *
 * @param header the file's header
 * @returns bytes, 4 per value
 *
 * @example
 * ```ts
 * import { ggufFloat32Bytes, readGgufLlamaHeader } from "@brainorg/models";
 * const gib = ggufFloat32Bytes(await readGgufLlamaHeader("llama3-8b.F16.gguf")) / 2 ** 30; // ≈ 30
 * ```
 */
export function ggufFloat32Bytes(header: GgufLlamaHeader): number {
  return header.tensorInfos.reduce((s, t) => s + 4 * t.shape.reduce((a, b) => a * b, 1), 0);
}
