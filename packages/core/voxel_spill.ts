/**
 * Subjects' voxel series kept on disk instead of in memory, for the voxel
 * stage run block by block (`voxel_blocks.ts`): the loader hands each
 * subject's screened series to the spill and takes it back to clean it, one
 * subject at a time, and each block of voxels is then read back from every
 * subject's cleaned file at its turn. Memory holds one subject while
 * loading, and one block of every subject while analysing; the disk holds
 * every subject's cleaned series (volumes × voxels float32, 365 MB per
 * subject at 2 mm and 400 volumes).
 *
 * Cleaning is per voxel (a projection of each column), and so is every
 * check that drops a voxel, so the series read back equal the ones the
 * in-memory loader keeps, bit for bit: the rows left out by scrubbing and
 * the voxels dropped after cleaning are left out as the blocks are read.
 *
 * @module
 */

import { join } from "node:path";
import { open } from "node:fs/promises";
import { InputError } from "@brainorg/common";
import type { Matrix } from "@brainorg/kernels";

/** A typed array's bytes, without a copy. */
const bytesOf = (a: Float32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/**
 * Bytes per write or read: a subject's series (hundreds of MB) goes through
 * in chunks, so that no second whole copy is made beside the array's.
 */
const CHUNK = 8 << 20;

/** Write `bytes` to a new file `path`, chunk by chunk. */
async function writeChunked(path: string, bytes: Uint8Array): Promise<void> {
  const handle = await open(path, "w");
  try {
    for (let at = 0; at < bytes.byteLength; at += CHUNK) {
      const part = bytes.subarray(at, Math.min(bytes.byteLength, at + CHUNK));
      let done = 0;
      while (done < part.byteLength) done += (await handle.write(part, done)).bytesWritten;
    }
  } finally {
    await handle.close();
  }
}

/** A whole file of float32 values, read chunk by chunk into one array. */
async function readChunked(path: string): Promise<Float32Array> {
  const handle = await open(path, "r");
  try {
    const size = (await handle.stat()).size, out = new Float32Array(size / 4);
    const bytes = bytesOf(out);
    for (let at = 0; at < size;) {
      const { bytesRead } = await handle.read(bytes, at, Math.min(CHUNK, size - at), at);
      if (bytesRead === 0) {
        throw new InputError("a spilled voxel series is shorter than written", {
          file: path,
          field: "(file)",
          expected: `${size} bytes`,
          found: `${at} bytes`,
        });
      }
      at += bytesRead;
    }
    return out;
  } finally {
    await handle.close();
  }
}

/**
 * Subjects' series on disk, written by the loader and read back by blocks
 * of voxels. One folder per run (removed by {@linkcode dispose}, or when the
 * process exits).
 *
 * @example
 * ```ts
 * import { VoxelSpill } from "@brainorg/core";
 * const spill = await VoxelSpill.create(await Deno.makeTempDir());
 * await spill.putCleaned("sub-01", { rows: 2, cols: 3, data: Float32Array.of(1, 2, 3, 4, 5, 6) });
 * spill.finish({ voxels: 3 });
 * const block = await spill.readBlock(0, 1, 3); // (2 × 2): 2, 3, 5, 6
 * await spill.dispose();
 * ```
 */
export class VoxelSpill {
  /** The folder holding the files. */
  readonly dir: string;
  /** Subjects whose cleaned series are stored, in order. */
  readonly ids: string[] = [];
  #shape: { rows: number; cols: number }[] = [];
  #keepRows?: Uint8Array;
  /** Per final voxel, its column in the stored series; identity when nothing was dropped. */
  #columns?: Int32Array;
  #voxels = -1;
  #onUnload = () => {
    try {
      Deno.removeSync(this.dir, { recursive: true });
    } catch { /* already gone */ }
  };

  private constructor(dir: string) {
    this.dir = dir;
    globalThis.addEventListener("unload", this.#onUnload);
  }

  /**
   * A new, empty spill in a fresh folder under `parent`.
   *
   * @param parent an existing or creatable folder with room for every subject's series
   */
  static async create(parent: string): Promise<VoxelSpill> {
    await Deno.mkdir(parent, { recursive: true });
    return new VoxelSpill(await Deno.makeTempDir({ dir: parent, prefix: "voxel-blocks-" }));
  }

  /** Keep a subject's raw series (any shape) until {@linkcode takeRaw}. */
  async putRaw(id: string, data: Float32Array): Promise<void> {
    await writeChunked(this.#raw(id), bytesOf(data));
  }

  /** A subject's raw series as {@linkcode putRaw} kept it; its file is removed. */
  async takeRaw(id: string): Promise<Float32Array> {
    const data = await readChunked(this.#raw(id));
    await Deno.remove(this.#raw(id));
    return data;
  }

  /**
   * Store a subject's cleaned series and return the placeholder that stands
   * for it in memory: the shape it will have once read (rows and voxels as
   * {@linkcode finish} leaves them), no data.
   *
   * @param m (T × V') the cleaned series, all volumes, on the screened mask
   */
  async putCleaned(id: string, m: Matrix): Promise<Matrix> {
    await writeChunked(this.#clean(this.ids.length), bytesOf(m.data));
    this.ids.push(id);
    this.#shape.push({ rows: m.rows, cols: m.cols });
    return { rows: m.rows, cols: m.cols, data: new Float32Array(0) };
  }

  /**
   * Say what the loader left out of every subject after storing them: rows
   * censored by scrubbing (`keepRows`) and voxels dropped after cleaning
   * (`keepColumns`, over the stored columns).
   *
   * @param options `voxels`: the stored columns when nothing is dropped
   */
  finish(options: { voxels: number; keepRows?: Uint8Array; keepColumns?: Uint8Array }): void {
    const { keepRows, keepColumns } = options;
    if (keepRows) this.#keepRows = keepRows;
    if (keepColumns) {
      const cols: number[] = [];
      keepColumns.forEach((k, c) => k && cols.push(c));
      this.#columns = Int32Array.from(cols);
    }
    this.#voxels = keepColumns ? this.#columns!.length : options.voxels;
  }

  /** Voxels of a block's columns once {@linkcode finish} has been told: the analysis's V. */
  get voxels(): number {
    return this.#voxels;
  }

  /**
   * Voxels `[v0, v1)` (of the final mask) of subject `subject`, rows left
   * out by scrubbing removed: what the in-memory loader's matrix holds in
   * those columns.
   *
   * @returns (kept volumes × (v1 − v0)) float32, row-major
   * @throws {RangeError} for a subject or range outside the stored ones
   * @throws {InputError} when the subject's file is shorter than written
   */
  async readBlock(subject: number, v0: number, v1: number): Promise<Matrix> {
    const shape = this.#shape[subject];
    if (!shape || this.#voxels < 0 || !(0 <= v0 && v0 < v1 && v1 <= this.#voxels)) {
      throw new RangeError(
        `block [${v0}, ${v1}) of subject ${subject}: expected a stored subject (of ` +
          `${this.ids.length}) and a range within [0, ${this.#voxels}) after finish()`,
      );
    }
    const cols = this.#columns, keep = this.#keepRows;
    const c0 = cols ? cols[v0] : v0, c1 = cols ? cols[v1 - 1] + 1 : v1, span = c1 - c0;
    const w = v1 - v0, rows = keep ? keep.reduce((n, k) => n + (k ? 1 : 0), 0) : shape.rows;
    const out = new Float32Array(rows * w), row = new Float32Array(span);
    const file = this.#clean(subject), handle = await open(file, "r");
    try {
      let r = 0;
      for (let t = 0; t < shape.rows; t++) {
        if (keep && !keep[t]) continue;
        const position = (t * shape.cols + c0) * 4;
        const { bytesRead } = await handle.read(bytesOf(row), 0, span * 4, position);
        if (bytesRead !== span * 4) {
          throw new InputError("a spilled voxel series is shorter than written", {
            file,
            field: `row ${t}`,
            expected: `${span * 4} bytes at ${position}`,
            found: `${bytesRead} bytes`,
          });
        }
        if (!cols) out.set(row, r * w);
        else for (let v = v0; v < v1; v++) out[r * w + v - v0] = row[cols[v] - c0];
        r++;
      }
    } finally {
      await handle.close();
    }
    return { rows, cols: w, data: out };
  }

  /** Remove the folder and its files. */
  async dispose(): Promise<void> {
    globalThis.removeEventListener("unload", this.#onUnload);
    await Deno.remove(this.dir, { recursive: true }).catch(() => {});
  }

  #raw = (id: string) => join(this.dir, `raw-${encodeURIComponent(id)}.f32`);
  #clean = (i: number) => join(this.dir, `clean-${i}.f32`);
}
