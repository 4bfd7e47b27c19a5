/**
 * Maskers (in nilearn's sense): a brain mask turns a 4-D image into a
 * time × voxel matrix, and a voxel vector back into a volume.
 *
 * @module
 */

import { InputError } from "@brainorg/common";
import { affineDistance } from "./affine.ts";
import {
  formatShape,
  type Grid,
  gridOf,
  type NiftiImage,
  volumeCount,
  voxelsPerVolume,
} from "./nifti_image.ts";

/** A brain mask: which voxels of a grid are analysed, in NIfTI order. */
export interface BrainMask {
  /** The grid the mask lies on: images must share it to be masked. */
  grid: Grid;
  /** Flat NIfTI-order indices of the voxels in the mask, ascending; length V. */
  indices: Uint32Array;
  /** Where the mask came from, for error messages. */
  source: string;
}

const AFFINE_TOLERANCE_MM = 1e-3;

/**
 * Make a mask from an image: voxels whose (first-volume) value is non-zero
 * and finite (NaN and ±Inf are outside: a value that cannot be compared is
 * no verdict of "brain").
 *
 * @param img a 3-D image (uint8 or float); further volumes are ignored
 * @param source name of the file, for error messages. Default: `"mask"`.
 * @returns the mask on the image's grid, V = the number of voxels inside
 * @throws {InputError} when no voxel is non-zero
 *
 * @example
 * ```ts
 * import { identityAffine, maskFromImage } from "@brainorg/neuro";
 * const img = {
 *   shape: [2, 2, 1], affine: identityAffine(), data: Float32Array.of(0, 1, NaN, 3),
 *   description: "", affineSource: "sform" as const, version: 1 as const, datatype: "float32" as const,
 * };
 * const mask = maskFromImage(img, "toy"); // indices [1, 3]
 * ```
 */
export function maskFromImage(img: NiftiImage, source = "mask"): BrainMask {
  const n = voxelsPerVolume(img);
  let count = 0;
  const inside = (v: number) => v !== 0 && Number.isFinite(v);
  for (let i = 0; i < n; i++) if (inside(img.data[i])) count++;
  if (count === 0) {
    throw new InputError("mask is empty", {
      file: source,
      field: "voxel values (first volume)",
      expected: "at least one finite, non-zero voxel",
      found: "all zero or non-finite",
    });
  }
  const indices = new Uint32Array(count);
  for (let i = 0, k = 0; i < n; i++) {
    if (inside(img.data[i])) indices[k++] = i;
  }
  return { grid: gridOf(img), indices, source };
}

/**
 * Check that an image lies on the mask's grid (same shape, same affine to
 * within 0.001 mm).
 *
 * @param mask the mask
 * @param img the image to be masked
 * @param imageName the image's file name, for errors. Default: `"image"`.
 * @throws {InputError} naming both files and the differing field
 *
 * @example
 * ```ts
 * import { assertSameGrid, maskFromImage, readNifti } from "@brainorg/neuro";
 * const mask = maskFromImage(await readNifti("mask.nii.gz"), "mask.nii.gz");
 * assertSameGrid(mask, await readNifti("bold.nii.gz"), "bold.nii.gz"); // throws if off-grid
 * ```
 */
export function assertSameGrid(mask: BrainMask, img: NiftiImage, imageName = "image"): void {
  const shape = img.shape.slice(0, 3);
  if (shape.some((d, i) => d !== mask.grid.shape[i])) {
    throw new InputError(`mask does not match the image grid (mask: ${mask.source})`, {
      file: imageName,
      field: "dim",
      expected: formatShape(mask.grid.shape),
      found: formatShape(shape),
    });
  }
  const d = affineDistance(mask.grid.affine, img.affine);
  // Written so that a NaN distance (a non-finite affine) is a mismatch too.
  if (!(d <= AFFINE_TOLERANCE_MM)) {
    throw new InputError(
      `mask and image share a shape but not a position in space (mask: ${mask.source}); ` +
        `resample one onto the other first`,
      {
        file: imageName,
        field: "affine",
        expected: `the mask's affine [${[...mask.grid.affine.slice(0, 12)].join(", ")}]`,
        found: `[${[...img.affine.slice(0, 12)].join(", ")}] (max difference ${d} mm)`,
      },
    );
  }
}

/**
 * Extract the masked voxels of every volume.
 *
 * @param img a 3-D or 4-D image on the mask's grid
 * @param mask the mask
 * @param imageName file name for errors
 * @returns `Float32Array` of shape (T, V), row-major (`out[t * V + v]`), T
 *   the number of volumes and V the number of mask voxels
 *
 * @example
 * ```ts
 * import { applyMask, maskFromImage, readNifti } from "@brainorg/neuro";
 * const mask = maskFromImage(await readNifti("mask.nii.gz"), "mask.nii.gz");
 * const bold = await readNifti("bold.nii.gz");
 * const y = applyMask(bold, mask, "bold.nii.gz"); // (T, V)
 * ```
 */
export function applyMask(img: NiftiImage, mask: BrainMask, imageName = "image"): Float32Array {
  assertSameGrid(mask, img, imageName);
  const T = volumeCount(img), V = mask.indices.length, N = voxelsPerVolume(img);
  const out = new Float32Array(T * V);
  for (let t = 0; t < T; t++) {
    const base = t * N;
    for (let v = 0; v < V; v++) out[t * V + v] = img.data[base + mask.indices[v]];
  }
  return out;
}

/**
 * A flat NIfTI-order voxel index as (i, j, k) on a grid.
 *
 * @param index `i + nx · (j + ny · k)`
 * @param shape the grid, `[nx, ny, nz]` (further entries are ignored)
 * @returns `[i, j, k]`
 *
 * @example
 * ```ts
 * import { voxelCoordinates } from "@brainorg/neuro";
 * voxelCoordinates(23, [4, 3, 2]); // [3, 2, 1]
 * ```
 */
export function voxelCoordinates(
  index: number,
  shape: readonly number[],
): [number, number, number] {
  const [nx, ny] = shape;
  return [index % nx, Math.floor(index / nx) % ny, Math.floor(index / (nx * ny))];
}

/**
 * The mask without some of its voxels (e.g. those unusable in a subject).
 *
 * @param mask the mask
 * @param keep per mask voxel (length V), non-zero to keep it
 * @returns a mask on the same grid with the kept voxels, in the same order
 * @throws {RangeError} when `keep` does not have one entry per mask voxel
 *
 * @example
 * ```ts
 * import { maskFromImage, readNifti, subsetMask } from "@brainorg/neuro";
 * const mask = maskFromImage(await readNifti("mask.nii.gz"), "mask.nii.gz");
 * const firstHalf = subsetMask(mask, mask.indices.map((_, v) => v < mask.indices.length / 2 ? 1 : 0));
 * ```
 */
export function subsetMask(mask: BrainMask, keep: ArrayLike<number>): BrainMask {
  if (keep.length !== mask.indices.length) {
    throw new RangeError(
      `keep has ${keep.length} entries: expected one per mask voxel (${mask.indices.length})`,
    );
  }
  const indices = mask.indices.filter((_, v) => keep[v] !== 0);
  return { grid: mask.grid, indices, source: mask.source };
}

/**
 * Put voxel values back into volumes (zero outside the mask).
 *
 * @param values shape (K, V) row-major, or (V) for one volume
 * @param mask the mask the values were extracted with
 * @returns a 3-D image (K = 1) or 4-D image with K volumes on the mask's grid
 * @throws {RangeError} when `values.length` is not a multiple of V
 *
 * @example
 * ```ts
 * import { maskFromImage, readNifti, unmask, writeNifti } from "@brainorg/neuro";
 * const mask = maskFromImage(await readNifti("mask.nii.gz"), "mask.nii.gz");
 * const r = new Float32Array(mask.indices.length).fill(0.2); // one value per voxel
 * await writeNifti("r_map.nii.gz", unmask(r, mask));
 * ```
 */
export function unmask(values: ArrayLike<number>, mask: BrainMask): NiftiImage {
  const V = mask.indices.length;
  if (values.length === 0 || values.length % V !== 0) {
    throw new RangeError(
      `values has ${values.length} entries: expected a multiple of the mask's ${V} voxels`,
    );
  }
  const K = values.length / V;
  const N = mask.grid.shape[0] * mask.grid.shape[1] * mask.grid.shape[2];
  const data = new Float32Array(N * K);
  for (let k = 0; k < K; k++) {
    for (let v = 0; v < V; v++) data[k * N + mask.indices[v]] = values[k * V + v];
  }
  return {
    shape: K === 1 ? [...mask.grid.shape] : [...mask.grid.shape, K],
    affine: mask.grid.affine,
    data,
    description: "",
    affineSource: "sform",
    version: 1,
    datatype: "float32",
  };
}
