/**
 * Cortical meshes packed for the self-contained `report.html`, so that the
 * report draws every atom's map on the left and right cortex with no
 * server: the two ICBM152 hemispheres (40,962 vertices and 81,920 faces
 * each) take 0.62 MB in the page instead of 2.0 MB for their MZ3 files in base64.
 *
 * - Vertices: MNI mm rounded to a 0.01 mm grid from the mesh's lowest corner
 *   (error ≤ 0.005 mm per axis), each axis delta-coded along the vertex order.
 * - Faces: the first corner delta-coded from the previous face's, the other
 *   two as offsets from the first (neighbouring vertices have close numbers).
 * - Both as zigzag int32 split into byte planes (byte 0 of every value,
 *   then byte 1, …), which gzip packs tighter than interleaved bytes, then
 *   gzip and base64 (`packBytes`).
 * - The network borders per vertex (as the dashboard draws them) as bits.
 *
 * The maps are not stored per vertex: the page samples the atom's volume at
 * the vertices with `sampleGrid` (`@brainorg/neuro`), trilinear over the
 * analysed voxels, as the dashboard's surface views do on the server.
 *
 * @module
 */

import { InputError } from "@brainorg/common";
import { HEMISPHERES, meshPath, resolveDataFile, type ResolveOptions } from "@brainorg/datasets";
import {
  borderVertices,
  invertAffine,
  labelsAtVertices,
  type Mz3Mesh,
  type NiftiImage,
  readMz3,
} from "@brainorg/neuro";
import { packBytes, packMaskBits, type ReportMapsPayload } from "./report_maps.ts";

/** The grid step vertices are rounded to, in mm. */
export const SURFACE_STEP_MM = 0.01;

/** One hemisphere as the report stores it. */
export interface ReportHemisphere {
  /** `"lh"` or `"rh"`. */
  name: string;
  /** Number of vertices (n). */
  nVertices: number;
  /** Number of faces (f). */
  nFaces: number;
  /** The lowest corner of the mesh (mm) the vertex grid starts from. */
  origin: [number, number, number];
  /** Vertices: zigzag deltas on the {@linkcode SURFACE_STEP_MM} grid, x then y then z, byte planes, packed. */
  vertices: string;
  /** Faces: zigzag (Δfirst, second − first, third − first), byte planes, packed. */
  faces: string;
  /** Vertices on a border between networks: `packMaskBits`, packed; absent without a label volume. */
  border?: string;
}

/** What the report's surface views read. */
export interface ReportSurfacesPayload {
  /** Format of this object. */
  format: "brainorg.report-surfaces/1";
  /** The vertex grid's step in mm. */
  step: number;
  /** mm → voxel of the maps' grid, row-major 4×4: the inverse of the payload's affine. */
  inverse: number[];
  /** A vertex with none of its 8 voxels analysed takes the closest analysed voxel within this many mm. */
  fallbackRadius: number;
  /** Where the meshes come from (registry paths). */
  meshes: string[];
  /** The template set whose network borders are drawn; absent: none. */
  borders?: string;
  /** Left, then right. */
  hemispheres: ReportHemisphere[];
}

/** Zigzag: small signed integers to small unsigned ones (0, −1, 1, −2 → 0, 1, 2, 3). */
function zigzag(v: number): number {
  return ((v << 1) ^ (v >> 31)) >>> 0;
}

/** Unsigned 32-bit values as 4 byte planes: byte b of value i at b·n + i. */
function bytePlanes(values: Uint32Array): Uint8Array {
  const n = values.length, out = new Uint8Array(4 * n);
  for (let i = 0; i < n; i++) {
    const v = values[i];
    out[i] = v & 255;
    out[n + i] = (v >>> 8) & 255;
    out[2 * n + i] = (v >>> 16) & 255;
    out[3 * n + i] = v >>> 24;
  }
  return out;
}

/**
 * Pack one hemisphere's mesh (and its border vertices) for the report.
 *
 * @param name `"lh"` or `"rh"`
 * @param mesh vertices (n × 3, mm) and faces (f × 3)
 * @param border the border vertices' indices (from `borderVertices`); absent: no borders
 * @returns the hemisphere as the report stores it
 * @throws {InputError} when a vertex lies more than 20 m from the mesh's corner (not mm)
 */
export function packHemisphere(
  name: string,
  mesh: Mz3Mesh,
  border?: Uint32Array,
): ReportHemisphere {
  const n = mesh.nVertices, v = mesh.vertices, f = mesh.faces;
  const origin = [0, 1, 2].map((c) => {
    let lo = Infinity;
    for (let i = 0; i < n; i++) lo = Math.min(lo, v[3 * i + c]);
    return lo;
  }) as [number, number, number];
  const verts = new Uint32Array(3 * n);
  for (let c = 0; c < 3; c++) {
    let prev = 0;
    for (let i = 0; i < n; i++) {
      const q = Math.round((v[3 * i + c] - origin[c]) / SURFACE_STEP_MM);
      if (!(q < 2 ** 30)) {
        throw new InputError("a mesh vertex is too far from the others to be in mm", {
          file: name,
          field: `vertex ${i}`,
          expected: "coordinates in mm within 10 m of each other",
          found: String(v[3 * i + c]),
        });
      }
      verts[c * n + i] = zigzag(q - prev);
      prev = q;
    }
  }
  const faces = new Uint32Array(f.length);
  let prev = 0;
  for (let t = 0; t + 2 < f.length; t += 3) {
    const a = f[t];
    faces[t] = zigzag(a - prev);
    faces[t + 1] = zigzag(f[t + 1] - a);
    faces[t + 2] = zigzag(f[t + 2] - a);
    prev = a;
  }
  let borderBits: string | undefined;
  if (border) {
    const flags = new Uint8Array(n);
    for (const i of border) flags[i] = 1;
    borderBits = packBytes(packMaskBits(flags));
  }
  return {
    name,
    nVertices: n,
    nFaces: f.length / 3,
    origin,
    vertices: packBytes(bytePlanes(verts)),
    faces: packBytes(bytePlanes(faces)),
    ...(borderBits ? { border: borderBits } : {}),
  };
}

/**
 * Decode a hemisphere's vertices and faces from their unpacked bytes (the
 * inverse of {@linkcode packHemisphere}). It refers to nothing outside its
 * own body: the report's page runs it from its source text.
 *
 * @param vertexBytes the `vertices` field after base64 and gunzip (12·n bytes)
 * @param faceBytes the `faces` field after base64 and gunzip (12·f bytes)
 * @param nVertices n
 * @param nFaces f
 * @param origin the mesh's lowest corner, mm
 * @param step the vertex grid's step, mm
 * @returns vertices (Float32Array, n × 3, mm) and faces (Uint32Array, f × 3)
 */
export function decodeHemisphere(
  vertexBytes: Uint8Array,
  faceBytes: Uint8Array,
  nVertices: number,
  nFaces: number,
  origin: ArrayLike<number>,
  step: number,
): { vertices: Float32Array; faces: Uint32Array } {
  const ints = (b: Uint8Array, n: number) => {
    if (b.length !== 4 * n) throw new Error(`expected ${4 * n} bytes, found ${b.length}`);
    const out = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const u = (b[i] | (b[n + i] << 8) | (b[2 * n + i] << 16) | (b[3 * n + i] << 24)) >>> 0;
      out[i] = (u >>> 1) ^ -(u & 1);
    }
    return out;
  };
  const n = nVertices, d = ints(vertexBytes, 3 * n), vertices = new Float32Array(3 * n);
  for (let c = 0; c < 3; c++) {
    let q = 0;
    for (let i = 0; i < n; i++) {
      q += d[c * n + i];
      vertices[3 * i + c] = origin[c] + q * step;
    }
  }
  const e = ints(faceBytes, 3 * nFaces), faces = new Uint32Array(3 * nFaces);
  let a = 0;
  for (let t = 0; t < 3 * nFaces; t += 3) {
    a += e[t];
    faces[t] = a;
    faces[t + 1] = a + e[t + 1];
    faces[t + 2] = a + e[t + 2];
  }
  return { vertices, faces };
}

/** The report's whole payload: the maps (`report_maps.ts`) and the meshes they are drawn on. */
export type ReportPayload = ReportMapsPayload & {
  /** The cortical meshes the maps are also drawn on; absent: see `surfacesUnavailable`. */
  surfaces?: ReportSurfacesPayload;
  /** Why there are no surfaces (e.g. the meshes were found nowhere). */
  surfacesUnavailable?: string;
};

/** What {@linkcode readReportSurfaces} gives: the payload, or why there is none. */
export type ReportSurfacesResult = { surfaces: ReportSurfacesPayload } | { unavailable: string };

/**
 * The registered ICBM152 meshes packed for a report whose maps are on
 * `grid`, with the borders of `labels`' networks when given.
 *
 * @param grid the maps' grid (its affine: voxel → MNI mm)
 * @param labels a label volume on that grid (networks) and its name; absent: no borders
 * @param data where the meshes are looked for (the run's data folder, cache, offline); default: the environment's
 * @returns the payload, or the reason the meshes could not be had (not found, damaged)
 */
export async function readReportSurfaces(
  grid: NiftiImage,
  labels?: { name: string; img: NiftiImage },
  data: ResolveOptions = {},
): Promise<ReportSurfacesResult> {
  const A = grid.affine;
  const hemispheres: ReportHemisphere[] = [];
  for (const hemi of HEMISPHERES) {
    let mesh: Mz3Mesh;
    try {
      mesh = await readMz3((await resolveDataFile(meshPath(hemi), data)).path);
    } catch (err) {
      return { unavailable: `the ${hemi} mesh: ${(err as Error).message.split("\n")[0]}` };
    }
    const border = labels
      ? borderVertices(
        mesh.faces,
        labelsAtVertices(labels.img, mesh.vertices, { name: labels.name }),
      )
      : undefined;
    hemispheres.push(packHemisphere(hemi, mesh, border));
  }
  return {
    surfaces: {
      format: "brainorg.report-surfaces/1",
      step: SURFACE_STEP_MM,
      // + 0 turns −0 into 0, as JSON will: the payload reads back equal.
      inverse: Array.from(invertAffine(A), (x) => x + 0),
      // One voxel, as the dashboard: pial vertices sit up to a voxel outside the analysed grey matter.
      fallbackRadius: Math.max(...[0, 1, 2].map((c) => Math.hypot(A[c], A[4 + c], A[8 + c]))),
      meshes: HEMISPHERES.map(meshPath),
      ...(labels ? { borders: labels.name } : {}),
      hemispheres,
    },
  };
}
