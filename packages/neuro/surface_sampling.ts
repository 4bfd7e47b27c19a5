/**
 * A volume seen on a cortical surface: an image sampled at a mesh's
 * vertices through the image's affine (world mm → voxel by its inverse),
 * network labels per vertex, and the vertices where the label changes.
 *
 * @module
 */

import { InputError } from "@brainorg/common";
import { invertAffine } from "./affine.ts";
import { formatShape, type NiftiImage, volumeCount, voxelsPerVolume } from "./nifti_image.ts";

/** Options of {@linkcode sampleAtVertices}. */
export interface SurfaceSampleOptions {
  /**
   * `"linear"`: trilinear over the 8 voxels around the point; `"nearest"`:
   * the voxel whose centre is closest (for labels). Default: `"linear"`.
   */
  interpolation?: "linear" | "nearest";
  /** The volume of a 4-D image to sample, from 0. Default: 0. */
  volume?: number;
  /**
   * Which voxels hold data: length nx·ny·nz, non-zero inside. Voxels outside
   * it are treated like voxels off the grid or holding NaN: left out.
   * Default: every voxel (non-finite ones are always left out).
   */
  mask?: ArrayLike<number>;
  /**
   * When a vertex gets no value (every voxel it would use is left out),
   * take the value of the closest usable voxel centre within this many mm
   * (ties: the first in x-fastest order); 0 leaves it NaN. Pial vertices
   * lie a few mm outside a template's grey-matter labels. Default: 0.
   */
  fallbackRadius?: number;
  /** The image's name, for error messages. Default: `"image"`. */
  name?: string;
}

/**
 * Sample an image at points given in world coordinates (mm), e.g. a
 * cortical mesh's vertices in MNI mm.
 *
 * Trilinear: the weights of the 8 surrounding voxels are the usual
 * products of (1 − fractional distance) along each axis; voxels off the
 * grid, outside `mask` or non-finite are dropped and the remaining weights
 * renormalized to sum to 1, so a map that stops at the brain's edge is not
 * pulled towards 0 there (the same value as scipy's
 * `map_coordinates(data·valid, order=1) / map_coordinates(valid, order=1)`
 * with `mode="grid-constant"`). A point with no usable neighbour is NaN
 * (unless `fallbackRadius` finds one). Nearest: the voxel at the rounded
 * index, NaN when it is unusable (same fallback).
 *
 * @param img the image (3-D, or 4-D with `volume` chosen); its `affine` maps voxel → mm
 * @param points Float32Array or Float64Array, shape (nPoints, 3), row-major, world mm
 * @param options interpolation, volume, mask, fallback radius (see {@linkcode SurfaceSampleOptions}). Default: trilinear, volume 0, no mask, no fallback.
 * @returns Float32Array, length nPoints: the value at each point, NaN where none
 * @throws {InputError} for a `mask` of the wrong length, a missing `volume`, or `points` not in triplets
 *
 * @example
 * ```ts
 * import { readMz3, readNifti, sampleAtVertices } from "@brainorg/neuro";
 * const lh = await readMz3("BrainMesh_ICBM152.lh.mz3");
 * const tmap = await readNifti("group_t.nii.gz");
 * const values = sampleAtVertices(tmap, lh.vertices, { volume: 3 }); // 40,962 values
 * ```
 */
export function sampleAtVertices(
  img: NiftiImage,
  points: Float32Array | Float64Array,
  options: SurfaceSampleOptions = {},
): Float32Array {
  const {
    interpolation = "linear",
    volume = 0,
    mask,
    fallbackRadius = 0,
    name = "image",
  } = options;
  const [nx, ny, nz] = img.shape, nVox = voxelsPerVolume(img);
  if (points.length % 3 !== 0) {
    throw new InputError("points must be (x, y, z) triplets", {
      field: "points",
      expected: "a length divisible by 3",
      found: String(points.length),
    });
  }
  if (!(Number.isInteger(volume) && volume >= 0 && volume < volumeCount(img))) {
    throw new InputError("the image has no such volume", {
      file: name,
      field: "volume",
      expected: `0 to ${volumeCount(img) - 1}`,
      found: String(volume),
    });
  }
  if (mask !== undefined && mask.length !== nVox) {
    throw new InputError("the mask does not match the image grid", {
      file: name,
      field: "mask",
      expected: `${nVox} voxels (${formatShape([nx, ny, nz])})`,
      found: `${mask.length} values`,
    });
  }
  const data = img.data.subarray(volume * nVox, (volume + 1) * nVox);
  return sampleGrid(
    data,
    [nx, ny, nz],
    img.affine,
    invertAffine(img.affine),
    points,
    interpolation === "linear",
    mask ?? null,
    fallbackRadius,
  );
}

/**
 * The sampling of {@linkcode sampleAtVertices} on a bare grid, without its
 * checks. It refers to nothing outside its own body, so that a page can
 * run it from its source text: the self-contained report samples its maps
 * on the cortex with this very function (`sampleGrid.toString()`).
 *
 * @param data Float32Array, length nx·ny·nz, NIfTI (x-fastest) order
 * @param shape `[nx, ny, nz]`
 * @param affine voxel → mm, row-major 4×4 (16 numbers)
 * @param inverse mm → voxel, row-major 4×4: the inverse of `affine`
 * @param points shape (nPoints, 3), row-major, world mm
 * @param linear true: trilinear over the usable voxels; false: the nearest voxel
 * @param mask length nx·ny·nz, non-zero where a voxel may be used; null: every voxel
 * @param fallbackRadius mm within which a point without a value takes the closest usable voxel; 0: none
 * @returns Float32Array, length nPoints, NaN where there is no value
 */
export function sampleGrid(
  data: Float32Array,
  shape: ArrayLike<number>,
  affine: ArrayLike<number>,
  inverse: ArrayLike<number>,
  points: ArrayLike<number>,
  linear: boolean,
  mask: ArrayLike<number> | null,
  fallbackRadius: number,
): Float32Array {
  const nx = shape[0], ny = shape[1], nz = shape[2], A = affine, M = inverse;
  const usable = (o: number) => Number.isFinite(data[o]) && (mask === null || mask[o] !== 0);
  /** The closest usable voxel centre to voxel position (x, y, z) within r mm, or NaN. */
  const closest = (x: number, y: number, z: number, r: number) => {
    // Half-widths of the search box in voxels: r over each axis's voxel size.
    const h = [0, 1, 2].map((c) => r / Math.hypot(A[c], A[4 + c], A[8 + c]));
    const lo = (c: number, hc: number) => Math.max(0, Math.ceil(c - hc));
    const hi = (c: number, hc: number, n: number) => Math.min(n - 1, Math.floor(c + hc));
    let best = r * r + 1e-9, v = NaN;
    for (let k = lo(z, h[2]); k <= hi(z, h[2], nz); k++) {
      for (let j = lo(y, h[1]); j <= hi(y, h[1], ny); j++) {
        for (let i = lo(x, h[0]); i <= hi(x, h[0], nx); i++) {
          const di = i - x, dj = j - y, dk = k - z;
          const d = (A[0] * di + A[1] * dj + A[2] * dk) ** 2 +
            (A[4] * di + A[5] * dj + A[6] * dk) ** 2 + (A[8] * di + A[9] * dj + A[10] * dk) ** 2;
          const o = i + nx * (j + ny * k);
          if (d < best && usable(o)) (best = d), (v = data[o]);
        }
      }
    }
    return v;
  };
  const n = Math.floor(points.length / 3), out = new Float32Array(n);
  for (let p = 0; p < n; p++) {
    const X = points[3 * p], Y = points[3 * p + 1], Z = points[3 * p + 2];
    const x = M[0] * X + M[1] * Y + M[2] * Z + M[3];
    const y = M[4] * X + M[5] * Y + M[6] * Z + M[7];
    const z = M[8] * X + M[9] * Y + M[10] * Z + M[11];
    let v = NaN;
    if (!linear) {
      const i = Math.round(x), j = Math.round(y), k = Math.round(z);
      if (i >= 0 && j >= 0 && k >= 0 && i < nx && j < ny && k < nz) {
        const o = i + nx * (j + ny * k);
        if (usable(o)) v = data[o];
      }
    } else {
      const i0 = Math.floor(x), j0 = Math.floor(y), k0 = Math.floor(z);
      const fx = x - i0, fy = y - j0, fz = z - k0;
      let sum = 0, weight = 0;
      for (let c = 0; c < 8; c++) {
        const i = i0 + (c & 1), j = j0 + ((c >> 1) & 1), k = k0 + (c >> 2);
        if (i < 0 || j < 0 || k < 0 || i >= nx || j >= ny || k >= nz) continue;
        const o = i + nx * (j + ny * k);
        if (!usable(o)) continue;
        const w = (c & 1 ? fx : 1 - fx) * ((c >> 1) & 1 ? fy : 1 - fy) * (c >> 2 ? fz : 1 - fz);
        sum += w * data[o];
        weight += w;
      }
      if (weight > 1e-12) v = sum / weight;
    }
    if (Number.isNaN(v) && fallbackRadius > 0) v = closest(x, y, z, fallbackRadius);
    out[p] = v;
  }
  return out;
}

/** Options of {@linkcode labelsAtVertices}. */
export interface SurfaceLabelOptions {
  /**
   * A vertex whose voxel is unlabelled (0) takes the closest labelled voxel
   * within this many mm (see {@linkcode SurfaceSampleOptions.fallbackRadius}).
   * Default: 6 (on the ICBM152 pial surface and Yeo-7 at 2 mm, 94 % of
   * vertices get a network; the rest are mostly the medial wall).
   */
  fallbackRadius?: number;
  /** The atlas's name, for error messages. Default: `"atlas"`. */
  name?: string;
}

/**
 * Network labels per vertex from a label atlas (nearest voxel; 0 and
 * non-finite voxels are unlabelled, and a vertex there takes the closest
 * labelled voxel within `fallbackRadius` mm).
 *
 * @param atlas a 3-D label image (labels stored as numbers, 0 = none), affine voxel → mm
 * @param points Float32Array, shape (nPoints, 3), row-major, world mm
 * @param options fallback radius, name (see {@linkcode SurfaceLabelOptions}). Default: 6 mm.
 * @returns Int32Array, length nPoints: each vertex's label, 0 where none was found
 * @throws {InputError} as {@linkcode sampleAtVertices} does
 *
 * @example
 * ```ts
 * import { labelsAtVertices, readMz3, readNifti } from "@brainorg/neuro";
 * const lh = await readMz3("BrainMesh_ICBM152.lh.mz3");
 * const yeo = await readNifti("Yeo-7_space-MNI152NLin6_res-2x2x2.nii.gz");
 * const labels = labelsAtVertices(yeo, lh.vertices); // 1…7 per vertex, 0 on the medial wall
 * ```
 */
export function labelsAtVertices(
  atlas: NiftiImage,
  points: Float32Array | Float64Array,
  options: SurfaceLabelOptions = {},
): Int32Array {
  const n = voxelsPerVolume(atlas), mask = new Uint8Array(n);
  for (let i = 0; i < n; i++) mask[i] = atlas.data[i] !== 0 ? 1 : 0;
  const values = sampleAtVertices(atlas, points, {
    interpolation: "nearest",
    mask,
    fallbackRadius: options.fallbackRadius ?? 6,
    name: options.name ?? "atlas",
  });
  return Int32Array.from(values, (v) => (Number.isFinite(v) ? Math.round(v) : 0));
}

/**
 * The vertices on a border between labels: those with a neighbour (a vertex
 * sharing a face with it) that carries another label, 0 (unlabelled)
 * counting as a label, so the networks' outer edges are borders too.
 *
 * @param faces Uint32Array, shape (nFaces, 3), row-major, vertex indices
 * @param labels one label per vertex (length nVertices)
 * @returns Uint32Array: the border vertices' indices, ascending
 * @throws {InputError} when a face names a vertex past the end of `labels`
 *
 * @example
 * ```ts
 * import { borderVertices } from "@brainorg/neuro";
 * // Two triangles sharing the edge 1–2; vertex 3 carries another label.
 * const border = borderVertices(Uint32Array.of(0, 1, 2, 1, 3, 2), Int32Array.of(1, 1, 1, 2));
 * console.log(border); // Uint32Array [1, 2, 3]
 * ```
 */
export function borderVertices(faces: Uint32Array, labels: ArrayLike<number>): Uint32Array {
  const n = labels.length, border = new Uint8Array(n);
  for (let f = 0; f + 2 < faces.length; f += 3) {
    const a = faces[f], b = faces[f + 1], c = faces[f + 2];
    if (a >= n || b >= n || c >= n) {
      throw new InputError("a face names a vertex that has no label", {
        field: `face ${f / 3}`,
        expected: `vertex indices below ${n}`,
        found: `${a}, ${b}, ${c}`,
      });
    }
    const la = labels[a], lb = labels[b], lc = labels[c];
    if (la !== lb) border[a] = border[b] = 1;
    if (lb !== lc) border[b] = border[c] = 1;
    if (la !== lc) border[a] = border[c] = 1;
  }
  const out: number[] = [];
  for (let i = 0; i < n; i++) if (border[i]) out.push(i);
  return Uint32Array.from(out);
}
