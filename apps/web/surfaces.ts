/**
 * An atom's group map on the cortical surface, computed on the server: the
 * ICBM152 meshes (reference data, resolved and checksummed like the
 * atlases), the atom's volume sampled at each vertex, and the vertices on
 * the borders between networks. Each result is kept in {@linkcode fileCache}
 * while the map (or the label volume) stays the same version.
 *
 * Sampling: trilinear through the map's affine, over the voxels that hold a
 * value (finite and non-zero: a results map stores 0 or NaN outside the
 * analysis mask), weights renormalized over them; a vertex with none of its
 * 8 voxels in the mask takes the closest in-mask voxel within one voxel
 * size, else it has no value. Networks: the run's own label volume
 * (`voxels/networks_Yeo-7.nii.gz`, the one its maps were matched with),
 * nearest voxel, unlabelled vertices take the closest label within 6 mm.
 *
 * @module
 */

import { InputError } from "@brainorg/common";
import { type Hemisphere, meshPath, resolveDataFile } from "@brainorg/datasets";
import {
  borderVertices,
  decodeMz3,
  decodeNifti,
  labelsAtVertices,
  type Mz3Mesh,
  sampleAtVertices,
} from "@brainorg/neuro";
import { templateFiles, voxelFiles } from "@brainorg/core/results";
import { fileCache } from "./file_cache.ts";
import type { SurfaceViewerProps } from "./islands/SurfaceViewer.tsx";
import { VIEWER_ATLAS } from "./run_data.ts";
import { resolveRunFile, type Run } from "./runs.ts";
import { runHref } from "./urls.ts";
import { cachedVolume } from "./volumes.ts";

/** A hemisphere's mesh: the verified file and its decoded vertices and faces. */
export interface SurfaceMesh {
  /** The verified local file (served as is to the browser). */
  file: string;
  /** Its SHA-256 (from the registry): what the per-vertex results are keyed by. */
  sha256: string;
  /** Vertices (nVertices × 3, MNI mm) and faces (nFaces × 3). */
  mesh: Mz3Mesh;
}

/**
 * Resolve and decode a hemisphere's mesh (data folder, `$BRAINORG_DATA`,
 * `../shared/data`, the cache, or a download; see `@brainorg/datasets`).
 *
 * @param hemi `"lh"` or `"rh"`
 * @returns the verified file and its mesh
 * @throws {DataNotFoundError} naming every place looked when the mesh is nowhere
 */
export async function surfaceMesh(hemi: Hemisphere): Promise<SurfaceMesh> {
  const resolved = await resolveDataFile(meshPath(hemi));
  const mesh = await fileCache.get(
    resolved.path,
    "mz3",
    async (f) => decodeMz3(await Deno.readFile(f), meshPath(hemi)),
    // Decoded: 40,962 × 12 + 81,920 × 12 bytes, about 1.5 MB.
    { bytes: () => 1.5e6 },
  );
  if (!mesh) throw new InputError("the mesh vanished while it was read", { file: resolved.path });
  return { file: resolved.path, sha256: resolved.entry.sha256, mesh };
}

/** An atom's values on one hemisphere, or why there are none. */
export type SurfaceValues =
  | { ok: true; values: Float32Array; interpolation: "linear"; map: string }
  | { ok: false; status: 404 | 422; message: string };

/**
 * The group t map of one atom sampled at a hemisphere's vertices.
 *
 * @param run the run
 * @param model the model (its `voxels/<model>/group_t.nii.gz`)
 * @param atom the atom (volume of the map), from 0
 * @param hemi `"lh"` or `"rh"`
 * @returns Float32Array, length nVertices (NaN where the map has no value), or a reason
 */
export async function surfaceValues(
  run: Run,
  model: string,
  atom: number,
  hemi: Hemisphere,
): Promise<SurfaceValues> {
  const path = voxelFiles(model).groupT, file = await resolveRunFile(run, path);
  if (!file) return { ok: false, status: 404, message: `${path} is missing` };
  const { mesh, sha256 } = await surfaceMesh(hemi);
  const values = await fileCache.get(
    file,
    `surface:${sha256}:${atom}`,
    async () => {
      // The same cache entry as the volume viewer's `?volume=k`: the volume is inflated once.
      const bytes = await cachedVolume(file, atom);
      if (bytes === null) return `${path} is missing`;
      if (typeof bytes === "string") return `${path}: ${bytes}`;
      const img = decodeNifti(bytes, path);
      const n = img.data.length, mask = new Uint8Array(n);
      for (let i = 0; i < n; i++) {
        mask[i] = Number.isFinite(img.data[i]) && img.data[i] !== 0 ? 1 : 0;
      }
      const A = img.affine,
        voxel = Math.max(
          ...[0, 1, 2].map((c) => Math.hypot(A[c], A[4 + c], A[8 + c])),
        );
      return sampleAtVertices(img, mesh.vertices, { mask, fallbackRadius: voxel, name: path });
    },
    { bytes: () => 4 * mesh.nVertices },
  );
  if (values === null) return { ok: false, status: 404, message: `${path} is missing` };
  if (typeof values === "string") return { ok: false, status: 422, message: values };
  return { ok: true, values, interpolation: "linear", map: path };
}

/** The networks on one hemisphere: each vertex's label and the border vertices. */
export type SurfaceNetworks =
  | { ok: true; labels: Int32Array; border: Uint32Array; atlas: string }
  | { ok: false; status: 404 | 422; message: string };

/**
 * The run's network labels (its `VIEWER_ATLAS` label volume) at a
 * hemisphere's vertices and the vertices on the borders between them.
 *
 * @param run the run
 * @param hemi `"lh"` or `"rh"`
 * @returns labels (Int32Array, length nVertices, 0 = none) and border vertex indices (ascending)
 */
export async function surfaceNetworks(run: Run, hemi: Hemisphere): Promise<SurfaceNetworks> {
  const path = templateFiles(VIEWER_ATLAS).labels, file = await resolveRunFile(run, path);
  if (!file) return { ok: false, status: 404, message: `${path} is missing` };
  const { mesh, sha256 } = await surfaceMesh(hemi);
  const result = await fileCache.get(
    file,
    `surface-networks:${sha256}`,
    async () => {
      const atlas = decodeNifti(await Deno.readFile(file), path);
      const labels = labelsAtVertices(atlas, mesh.vertices, { name: path });
      return { labels, border: borderVertices(mesh.faces, labels) };
    },
    { bytes: () => 8 * mesh.nVertices },
  );
  if (!result) return { ok: false, status: 404, message: `${path} is missing` };
  return { ok: true, ...result, atlas: path };
}

/**
 * The surface viewer's props for an atom's map: the meshes and the
 * per-vertex data routes of both hemispheres.
 *
 * @param run the run's id
 * @param model the model
 * @param atom the atom
 * @param options whether to draw network borders (the run has a label volume), the threshold
 * @returns `{ lh, rh, threshold, title }` for the `SurfaceViewer` island
 */
export function surfaceViewerProps(
  run: string,
  model: string,
  atom: number,
  options: { borders: boolean; threshold: number },
): SurfaceViewerProps {
  const base = runHref(run, "surfaces", model, atom);
  const hemi = (h: Hemisphere) => ({
    mesh: `/surfaces/${h}.mz3`,
    values: `${base}/${h}.values.mz3`,
    ...(options.borders ? { borders: `${base}/${h}.borders.mz3` } : {}),
  });
  return {
    lh: hemi("lh"),
    rh: hemi("rh"),
    threshold: options.threshold,
    title: `Group t map of atom ${atom} on the cortex` +
      (options.borders ? ` (lines: ${VIEWER_ATLAS} borders)` : ""),
  };
}
