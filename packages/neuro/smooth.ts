/**
 * Gaussian smoothing of volumes on their voxel grid (nilearn's
 * `smooth_img`, without the FWHM-to-mm conversion of anisotropic grids
 * beyond per-axis voxel sizes).
 *
 * @module
 */

import type { Affine } from "./affine.ts";

/**
 * Voxel sizes (mm) along i, j, k: the lengths of the affine's first three columns.
 *
 * @param affine voxel → world (mm)
 * @returns `[dx, dy, dz]`, positive
 *
 * @example
 * ```ts
 * import { voxelSizes } from "@brainorg/neuro";
 * const mni2mm = Float64Array.from([-2, 0, 0, 90, 0, 2, 0, -126, 0, 0, 2, -72, 0, 0, 0, 1]);
 * const [dx, dy, dz] = voxelSizes(mni2mm); // 2, 2, 2
 * ```
 */
export function voxelSizes(affine: Affine): [number, number, number] {
  return [0, 1, 2].map((c) => Math.hypot(affine[c], affine[4 + c], affine[8 + c])) as [
    number,
    number,
    number,
  ];
}

function kernel(sigma: number): Float64Array {
  if (sigma <= 0) return Float64Array.of(1);
  const half = Math.floor(3 * sigma + 0.5), k = new Float64Array(2 * half + 1);
  let sum = 0;
  for (let i = -half; i <= half; i++) sum += k[i + half] = Math.exp(-(i * i) / (2 * sigma * sigma));
  return k.map((v) => v / sum);
}

/**
 * Smooth each of `count` volumes in place with a separable Gaussian (zero
 * outside the grid).
 *
 * @param data `count` volumes of shape `[nx, ny, nz]` in NIfTI order (x fastest)
 * @param shape `[nx, ny, nz]`
 * @param fwhmVoxels full width at half maximum per axis, in voxels (0: that axis is left as it is)
 * @param count volumes in `data`. Default: 1.
 * @throws {RangeError} when `data` does not hold `count` volumes of `shape`
 *
 * @example
 * ```ts
 * import { smoothVolumes, voxelSizes } from "@brainorg/neuro";
 * const affine = Float64Array.from([2, 0, 0, 0, 0, 2, 0, 0, 0, 0, 2, 0, 0, 0, 0, 1]);
 * const data = new Float32Array(10 * 10 * 10);
 * data[555] = 1; // one bright voxel
 * const fwhm = voxelSizes(affine).map((d) => 6 / d) as [number, number, number]; // 6 mm
 * smoothVolumes(data, [10, 10, 10], fwhm); // now a blob, still summing to about 1
 * ```
 */
export function smoothVolumes(
  data: Float32Array,
  shape: readonly [number, number, number],
  fwhmVoxels: readonly [number, number, number],
  count = 1,
): void {
  const [nx, ny, nz] = shape, n = nx * ny * nz;
  if (data.length !== n * count) {
    throw new RangeError(`smoothVolumes: ${data.length} values for ${count} volumes of ${n}`);
  }
  const strides = [1, nx, nx * ny], dims = [nx, ny, nz];
  const line = new Float64Array(Math.max(nx, ny, nz));
  for (let axis = 0; axis < 3; axis++) {
    const k = kernel(fwhmVoxels[axis] / Math.sqrt(8 * Math.log(2)));
    if (k.length === 1) continue;
    const half = (k.length - 1) / 2, len = dims[axis], stride = strides[axis];
    const others = [0, 1, 2].filter((a) => a !== axis);
    for (let v = 0; v < count; v++) {
      const base = v * n;
      for (let b = 0; b < dims[others[1]]; b++) {
        for (let a = 0; a < dims[others[0]]; a++) {
          const start = base + a * strides[others[0]] + b * strides[others[1]];
          for (let i = 0; i < len; i++) line[i] = data[start + i * stride];
          for (let i = 0; i < len; i++) {
            let s = 0;
            const lo = Math.max(0, i - half), hi = Math.min(len - 1, i + half);
            for (let j = lo; j <= hi; j++) s += k[j - i + half] * line[j];
            data[start + i * stride] = s;
          }
        }
      }
    }
  }
}
