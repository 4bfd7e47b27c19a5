/**
 * Bringing an image onto another grid through the two affines: nearest
 * neighbour for label atlases, trilinear for continuous maps.
 *
 * @module
 */

import { InputError } from "@brainorg/common";
import { invertAffine, multiplyAffine } from "./affine.ts";
import { formatShape, type Grid, type NiftiImage, volumeCount } from "./nifti_image.ts";

/** Options of {@linkcode resampleToGrid}. */
export interface ResampleOptions {
  /** `"nearest"` for labels, `"linear"` (trilinear) for continuous values. Default: `"nearest"`. */
  interpolation?: "nearest" | "linear";
  /** Value for target voxels outside the source image. Default: 0. */
  fill?: number;
  /**
   * Least fraction of target voxels that must fall inside the source image;
   * below it the spaces are taken not to match. Default: 0.25.
   */
  minOverlap?: number;
  /** Name of the source, for error messages. */
  sourceName?: string;
}

/**
 * Resample `img` (3-D or 4-D) onto `target`, mapping each target voxel
 * through `inv(img.affine) · target.affine`.
 *
 * @param img the image to resample
 * @param target the grid to resample onto (shape and affine)
 * @param options interpolation, fill value, least overlap, name (see {@linkcode ResampleOptions}). Default: nearest, 0, 0.25.
 * @returns an image with `target`'s grid and `img`'s number of volumes
 * @throws {InputError} when less than `minOverlap` of the target lies inside the source
 *
 * @example
 * ```ts
 * import { readNifti, resampleToGrid } from "@brainorg/neuro";
 * const yeo2 = await readNifti("Yeo-7_2mm.nii.gz");
 * const mask4 = await readNifti("brainmask_4mm.nii.gz");
 * const yeo4 = resampleToGrid(yeo2, { shape: [45, 54, 45], affine: mask4.affine });
 * ```
 */
export function resampleToGrid(
  img: NiftiImage,
  target: Grid,
  options: ResampleOptions = {},
): NiftiImage {
  const { interpolation = "nearest", fill = 0, minOverlap = 0.25 } = options;
  const [sx, sy, sz] = img.shape;
  const [tx, ty, tz] = target.shape;
  const T = volumeCount(img);
  const M = multiplyAffine(invertAffine(img.affine), target.affine);
  const nT = tx * ty * tz, nS = sx * sy * sz;
  const out = new Float32Array(nT * T).fill(fill);
  let inside = 0;
  for (let k = 0; k < tz; k++) {
    for (let j = 0; j < ty; j++) {
      for (let i = 0; i < tx; i++) {
        const x = M[0] * i + M[1] * j + M[2] * k + M[3];
        const y = M[4] * i + M[5] * j + M[6] * k + M[7];
        const z = M[8] * i + M[9] * j + M[10] * k + M[11];
        const o = i + tx * (j + ty * k);
        if (interpolation === "nearest") {
          const xi = Math.round(x), yi = Math.round(y), zi = Math.round(z);
          if (xi < 0 || yi < 0 || zi < 0 || xi >= sx || yi >= sy || zi >= sz) continue;
          inside++;
          const s = xi + sx * (yi + sy * zi);
          for (let t = 0; t < T; t++) out[t * nT + o] = img.data[t * nS + s];
        } else {
          // Tolerate float error at the faces so edge voxels are kept.
          const eps = 1e-6;
          if (
            x < -eps || y < -eps || z < -eps || x > sx - 1 + eps || y > sy - 1 + eps ||
            z > sz - 1 + eps
          ) continue;
          inside++;
          const x0 = Math.min(Math.max(Math.floor(x), 0), Math.max(sx - 2, 0));
          const y0 = Math.min(Math.max(Math.floor(y), 0), Math.max(sy - 2, 0));
          const z0 = Math.min(Math.max(Math.floor(z), 0), Math.max(sz - 2, 0));
          const fx = Math.min(Math.max(x - x0, 0), 1), fy = Math.min(Math.max(y - y0, 0), 1);
          const fz = Math.min(Math.max(z - z0, 0), 1);
          const x1 = Math.min(x0 + 1, sx - 1), y1 = Math.min(y0 + 1, sy - 1);
          const z1 = Math.min(z0 + 1, sz - 1);
          for (let t = 0; t < T; t++) {
            const b = t * nS;
            const at = (a: number, bb: number, c: number) => img.data[b + a + sx * (bb + sy * c)];
            const c00 = at(x0, y0, z0) * (1 - fx) + at(x1, y0, z0) * fx;
            const c10 = at(x0, y1, z0) * (1 - fx) + at(x1, y1, z0) * fx;
            const c01 = at(x0, y0, z1) * (1 - fx) + at(x1, y0, z1) * fx;
            const c11 = at(x0, y1, z1) * (1 - fx) + at(x1, y1, z1) * fx;
            out[t * nT + o] = (c00 * (1 - fy) + c10 * fy) * (1 - fz) +
              (c01 * (1 - fy) + c11 * fy) * fz;
          }
        }
      }
    }
  }
  if (inside < minOverlap * nT) {
    throw new InputError("the image and the target grid do not cover the same space", {
      file: options.sourceName,
      field: "affine",
      expected: `at least ${Math.round(minOverlap * 100)}% of the ${formatShape(target.shape)} ` +
        `target voxels inside the ${formatShape(img.shape.slice(0, 3))} image`,
      found: `${(100 * inside / nT).toFixed(1)}%`,
    });
  }
  return {
    shape: T > 1 ? [tx, ty, tz, T] : [tx, ty, tz],
    affine: target.affine,
    data: out,
    description: img.description,
    affineSource: "sform",
    version: 1,
    datatype: "float32",
  };
}
