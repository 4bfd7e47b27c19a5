/**
 * The in-memory form of a NIfTI image that every brainorg step uses.
 *
 * @module
 */

import type { Affine } from "./affine.ts";

/** Datatypes brainorg reads, by NIfTI name. */
export type NiftiDatatype =
  | "uint8"
  | "int8"
  | "int16"
  | "uint16"
  | "int32"
  | "uint32"
  | "int64"
  | "uint64"
  | "float32"
  | "float64";

/**
 * A 3-D or 4-D image on a voxel grid placed in world space by an affine.
 *
 * `data` holds voxel values as float32 (scaling already applied), in NIfTI's
 * order: x fastest, then y, z, t — `data[x + nx * (y + ny * (z + nz * t))]`.
 */
export interface NiftiImage {
  /** `[nx, ny, nz]` or `[nx, ny, nz, nt]` (further NIfTI dimensions are folded into nt). */
  shape: number[];
  /** Voxel index → world (mm) affine. */
  affine: Affine;
  /** Voxel values; length = product of `shape`. */
  data: Float32Array;
  /** Seconds between volumes (pixdim[4] converted to seconds), when the file states it. */
  tr?: number;
  /** The file's `descrip` field. */
  description: string;
  /** Where `affine` came from: the sform, the qform, or pixdim alone (no transform stored). */
  affineSource: "sform" | "qform" | "pixdim";
  /** NIfTI-1 or NIfTI-2 (1 for images made in memory). */
  version: 1 | 2;
  /** The stored datatype before conversion to float32. */
  datatype: NiftiDatatype;
}

/** A voxel grid without data: what two images must share to be combined by index. */
export interface Grid {
  /** `[nx, ny, nz]`. */
  shape: [number, number, number];
  /** Voxel index → world (mm) affine. */
  affine: Affine;
}

/**
 * Number of voxels in one volume of `img`.
 *
 * @param img an image, or anything with its `shape`
 * @returns nx · ny · nz
 *
 * @example
 * ```ts
 * import { voxelsPerVolume } from "@brainorg/neuro";
 * const n = voxelsPerVolume({ shape: [91, 109, 91, 300] }); // 902,629
 * ```
 */
export function voxelsPerVolume(img: { shape: number[] }): number {
  return img.shape[0] * img.shape[1] * img.shape[2];
}

/**
 * Number of volumes (1 for a 3-D image).
 *
 * @param img an image, or anything with its `shape`
 * @returns nt, or 1
 *
 * @example
 * ```ts
 * import { volumeCount } from "@brainorg/neuro";
 * const nt = volumeCount({ shape: [91, 109, 91, 300] }); // 300
 * ```
 */
export function volumeCount(img: { shape: number[] }): number {
  return img.shape.length > 3 ? img.shape[3] : 1;
}

/**
 * The spatial grid of an image: what another image must share with it to
 * be combined voxel by voxel.
 *
 * @param img an image, or anything with its `shape` and `affine`
 * @returns its first three dimensions and its affine (not copied)
 *
 * @example
 * ```ts
 * import { gridOf, identityAffine } from "@brainorg/neuro";
 * const grid = gridOf({ shape: [4, 5, 6, 10], affine: identityAffine() }); // shape [4, 5, 6]
 * ```
 */
export function gridOf(img: { shape: number[]; affine: Affine }): Grid {
  return { shape: [img.shape[0], img.shape[1], img.shape[2]], affine: img.affine };
}

/**
 * A shape as error messages write it: `[91, 109, 91]` → `"91×109×91"`.
 *
 * @param shape the dimensions
 * @returns them joined by `×`
 */
export function formatShape(shape: readonly number[]): string {
  return shape.join("×");
}
