/**
 * Triangle meshes and per-vertex scalars in MZ3, the native format of Surf
 * Ice and NiiVue (its cortical surfaces: `meshes/BrainMesh_ICBM152.*.mz3`).
 *
 * Layout (little-endian, optionally gzipped as a whole): a 16-byte header
 * `uint16 magic 0x5A4D ("MZ"), uint16 attributes, uint32 nFaces, uint32
 * nVertices, uint32 nSkip`, then nSkip bytes to skip, then in this order
 * whichever the attribute bits announce: faces (bit 0, int32 triplets),
 * vertices (bit 1, float32 triplets), colours (bit 2, RGBA bytes per
 * vertex), scalars (bit 3, float32 per vertex; bit 4 makes them float64),
 * as many scalar layers as fill the rest of the file.
 *
 * @module
 */

import { gunzipSync, gzipSync } from "fflate";
import { InputError } from "@brainorg/common";

/** MZ3's signature: the bytes "MZ" read as a little-endian uint16. */
export const MZ3_MAGIC = 0x5a4d;

const FACES = 1, VERTICES = 2, RGBA = 4, SCALARS = 8, DOUBLE = 16;
const HEADER_BYTES = 16;

/** A mesh, or per-vertex data for one, as an MZ3 file holds it. */
export interface Mz3Mesh {
  /** Vertex coordinates (mm for brainorg's meshes): Float32Array, shape (nVertices, 3), row-major; empty in a scalar-only file. */
  vertices: Float32Array;
  /** Triangles as vertex indices: Uint32Array, shape (nFaces, 3), row-major; empty when the file has none. */
  faces: Uint32Array;
  /** Number of vertices (stated by the header even when a file holds only scalars). */
  nVertices: number;
  /** Per-vertex colours: Uint8Array, shape (nVertices, 4) RGBA, when the file has them. */
  colors?: Uint8Array;
  /** Per-vertex scalar layers: each a Float32Array of length nVertices, when the file has them. */
  scalars?: Float32Array[];
}

function bad(file: string, message: string, field: string, expected: string, found: string) {
  return new InputError(message, { file, field, expected, found });
}

/**
 * Decode an MZ3 file's bytes (gzipped or not).
 *
 * @param bytes the file's content
 * @param file its name, for error messages. Default: `"mesh.mz3"`.
 * @returns vertices (nVertices × 3), faces (nFaces × 3) and any colours or scalar layers
 * @throws {InputError} naming the file and field for a bad signature, unknown attribute
 *   bits, a truncated body, or a face that names a vertex the mesh does not have
 *
 * @example
 * ```ts
 * import { decodeMz3 } from "@brainorg/neuro";
 * const mesh = decodeMz3(await Deno.readFile("BrainMesh_ICBM152.lh.mz3"), "lh.mz3");
 * console.log(mesh.nVertices, mesh.faces.length / 3); // 40962 81920
 * ```
 */
export function decodeMz3(bytes: Uint8Array, file = "mesh.mz3"): Mz3Mesh {
  let raw = bytes;
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      raw = gunzipSync(bytes);
    } catch (err) {
      throw new InputError("the gzip stream is corrupt or truncated", { file, cause: err });
    }
  }
  if (raw.length < HEADER_BYTES) {
    throw bad(file, "too short for an MZ3 header", "header", "16 bytes", `${raw.length} bytes`);
  }
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const magic = view.getUint16(0, true), attr = view.getUint16(2, true);
  if (magic !== MZ3_MAGIC) {
    const hex = (v: number) => `0x${v.toString(16).toUpperCase().padStart(4, "0")}`;
    throw bad(file, "not an MZ3 file", "magic", hex(MZ3_MAGIC), hex(magic));
  }
  if (attr === 0 || attr > 31) {
    throw bad(file, "unknown MZ3 attributes", "attributes", "bits 0–4 (1 to 31)", String(attr));
  }
  const nFaces = view.getUint32(4, true), nVertices = view.getUint32(8, true);
  const nSkip = view.getUint32(12, true);
  const hasFaces = (attr & FACES) !== 0, hasVertices = (attr & VERTICES) !== 0;
  if (hasFaces && !hasVertices) {
    throw bad(file, "faces without vertices", "attributes", "bit 1 set with bit 0", String(attr));
  }
  const perVertex = (attr & (VERTICES | RGBA | SCALARS)) !== 0;
  if ((hasFaces && nFaces === 0) || (perVertex && nVertices === 0)) {
    throw bad(
      file,
      "the header announces data but counts none",
      hasFaces && nFaces === 0 ? "nFaces" : "nVertices",
      "at least 1",
      "0",
    );
  }
  const scalarBytes = attr & DOUBLE ? 8 : 4;
  let at = HEADER_BYTES + nSkip;
  const need = at + (hasFaces ? nFaces * 12 : 0) + (hasVertices ? nVertices * 12 : 0) +
    (attr & RGBA ? nVertices * 4 : 0) + (attr & SCALARS ? nVertices * scalarBytes : 0);
  if (raw.length < need) {
    throw bad(
      file,
      "the file is truncated",
      "length",
      `${need} bytes for ${nFaces} faces and ${nVertices} vertices`,
      `${raw.length} bytes`,
    );
  }
  // Copied out of `raw` so the arrays are aligned and own their memory.
  const faces = new Uint32Array(hasFaces ? nFaces * 3 : 0);
  for (let i = 0; i < faces.length; i++, at += 4) {
    const v = view.getInt32(at, true);
    if (v < 0 || v >= nVertices) {
      throw bad(
        file,
        "a face names a vertex the mesh does not have",
        `face ${Math.floor(i / 3)}`,
        `vertex indices 0 to ${nVertices - 1}`,
        String(v),
      );
    }
    faces[i] = v;
  }
  const vertices = new Float32Array(hasVertices ? nVertices * 3 : 0);
  for (let i = 0; i < vertices.length; i++, at += 4) vertices[i] = view.getFloat32(at, true);
  const mesh: Mz3Mesh = { vertices, faces, nVertices };
  if (attr & RGBA) {
    mesh.colors = raw.slice(at, at + nVertices * 4);
    at += nVertices * 4;
  }
  if (attr & SCALARS) {
    // As many whole layers as the file holds (Surf Ice writes several into one file).
    const layers = Math.floor((raw.length - at) / (nVertices * scalarBytes));
    mesh.scalars = [];
    for (let l = 0; l < layers; l++) {
      const layer = new Float32Array(nVertices);
      for (let i = 0; i < nVertices; i++, at += scalarBytes) {
        layer[i] = scalarBytes === 8 ? view.getFloat64(at, true) : view.getFloat32(at, true);
      }
      mesh.scalars.push(layer);
    }
  }
  return mesh;
}

/**
 * Read an MZ3 file (see {@linkcode decodeMz3}).
 *
 * @param path the file
 * @returns its mesh, colours and scalar layers
 * @throws {InputError} for a file that is not a readable MZ3 mesh
 *
 * @example
 * ```ts
 * import { readMz3 } from "@brainorg/neuro";
 * const lh = await readMz3("../shared/data/meshes/BrainMesh_ICBM152.lh.mz3");
 * console.log(lh.vertices.length / 3); // 40962
 * ```
 */
export async function readMz3(path: string): Promise<Mz3Mesh> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (err) {
    throw new InputError("cannot read the mesh", { file: path, cause: err });
  }
  return decodeMz3(bytes, path);
}

/** Options of {@linkcode encodeMz3}. */
export interface EncodeMz3Options {
  /** Gzip the file (as NiiVue's and Surf Ice's meshes are). Default: false. */
  gzip?: boolean;
  /** Bytes of (zero) header extension to write, for readers' tests. Default: 0. */
  skip?: number;
}

/**
 * Encode a mesh, its colours and scalar layers (float32) as MZ3; any part
 * may be left out (a scalar-only file, as NiiVue loads for a mesh layer,
 * has only `nVertices` and `scalars`).
 *
 * @param mesh what to write: faces (nFaces × 3) and vertices (nVertices × 3) row-major, colours (nVertices × 4), scalar layers (nVertices each)
 * @param options gzip, header extension (see {@linkcode EncodeMz3Options}). Default: neither.
 * @returns the file's bytes
 * @throws {RangeError} when the parts' lengths disagree with `nVertices`
 *
 * @example
 * ```ts
 * import { decodeMz3, encodeMz3 } from "@brainorg/neuro";
 * const bytes = encodeMz3({
 *   nVertices: 3,
 *   vertices: Float32Array.of(0, 0, 0, 1, 0, 0, 0, 1, 0),
 *   faces: Uint32Array.of(0, 1, 2),
 * });
 * console.log(decodeMz3(bytes).faces); // Uint32Array [0, 1, 2]
 * ```
 */
export function encodeMz3(
  mesh: Partial<Mz3Mesh> & { nVertices: number },
  options: EncodeMz3Options = {},
): Uint8Array {
  const { nVertices } = mesh, skip = options.skip ?? 0;
  const faces = mesh.faces?.length ? mesh.faces : undefined;
  const vertices = mesh.vertices?.length ? mesh.vertices : undefined;
  const layers = mesh.scalars ?? [];
  const check = (what: string, length: number, expected: number) => {
    if (length !== expected) {
      throw new RangeError(`${what} must have ${expected} values: current length is ${length}`);
    }
  };
  if (vertices) check("vertices", vertices.length, 3 * nVertices);
  if (faces && faces.length % 3) check("faces", faces.length, 3 * Math.ceil(faces.length / 3));
  if (mesh.colors) check("colors", mesh.colors.length, 4 * nVertices);
  for (const l of layers) check("a scalar layer", l.length, nVertices);
  const attr = (faces ? FACES : 0) | (vertices ? VERTICES : 0) | (mesh.colors ? RGBA : 0) |
    (layers.length ? SCALARS : 0);
  const nFaces = faces ? faces.length / 3 : 0;
  const size = HEADER_BYTES + skip + 4 * (faces?.length ?? 0) + 4 * (vertices?.length ?? 0) +
    (mesh.colors ? 4 * nVertices : 0) + 4 * nVertices * layers.length;
  const out = new Uint8Array(size), view = new DataView(out.buffer);
  view.setUint16(0, MZ3_MAGIC, true);
  view.setUint16(2, attr, true);
  view.setUint32(4, nFaces, true);
  view.setUint32(8, nVertices, true);
  view.setUint32(12, skip, true);
  let at = HEADER_BYTES + skip;
  for (const f of faces ?? []) (view.setInt32(at, f, true), (at += 4));
  for (const v of vertices ?? []) (view.setFloat32(at, v, true), (at += 4));
  if (mesh.colors) (out.set(mesh.colors, at), (at += mesh.colors.length));
  for (const l of layers) for (const v of l) (view.setFloat32(at, v, true), (at += 4));
  return options.gzip ? gzipSync(out) : out;
}
