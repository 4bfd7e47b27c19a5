/**
 * 4×4 voxel-to-world affines (row-major `Float64Array(16)`, world in mm) and
 * the NIfTI quaternion (qform) parameterisation of their rigid part.
 *
 * @module
 */

/** A 4×4 affine, row-major: `a[4 * row + col]`; the last row is `0 0 0 1`. */
export type Affine = Float64Array;

/**
 * The identity affine: voxel indices are world coordinates in mm.
 *
 * @returns a new affine (16 values, row-major)
 *
 * @example
 * ```ts
 * import { applyAffine, identityAffine } from "@brainorg/neuro";
 * const p = applyAffine(identityAffine(), 1, 2, 3); // [1, 2, 3]
 * ```
 */
export function identityAffine(): Affine {
  return Float64Array.from([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]);
}

/**
 * The product `a · b`: the affine that applies b, then a.
 *
 * @param a the affine applied second (4 × 4, row-major)
 * @param b the affine applied first (4 × 4, row-major)
 * @returns a new affine
 *
 * @example
 * ```ts
 * import { applyAffine, multiplyAffine } from "@brainorg/neuro";
 * const scale = Float64Array.from([2, 0, 0, 0, 0, 2, 0, 0, 0, 0, 2, 0, 0, 0, 0, 1]);
 * const shift = Float64Array.from([1, 0, 0, -90, 0, 1, 0, -126, 0, 0, 1, -72, 0, 0, 0, 1]);
 * const m = multiplyAffine(shift, scale); // scale by 2 mm, then move the origin
 * const p = applyAffine(m, 45, 63, 36); // [0, 0, 0]
 * ```
 */
export function multiplyAffine(a: Affine, b: Affine): Affine {
  const out = new Float64Array(16);
  for (let i = 0; i < 4; i++) {
    for (let j = 0; j < 4; j++) {
      let s = 0;
      for (let k = 0; k < 4; k++) s += a[4 * i + k] * b[4 * k + j];
      out[4 * i + j] = s;
    }
  }
  return out;
}

/**
 * Inverse of an affine (rotation/scale/shear block inverted by cofactors):
 * world (mm) → voxel for a voxel → world affine.
 *
 * @param m the affine (4 × 4, row-major; last row `0 0 0 1`)
 * @returns a new affine, m⁻¹
 * @throws {RangeError} when the 3×3 block is singular
 *
 * @example
 * ```ts
 * import { applyAffine, invertAffine } from "@brainorg/neuro";
 * const mni2mm = Float64Array.from([-2, 0, 0, 90, 0, 2, 0, -126, 0, 0, 2, -72, 0, 0, 0, 1]);
 * const voxel = applyAffine(invertAffine(mni2mm), 0, 0, 0); // [45, 63, 36]
 * ```
 */
export function invertAffine(m: Affine): Affine {
  const [a, b, c, , d, e, f, , g, h, i] = m;
  const A = e * i - f * h, B = -(d * i - f * g), C = d * h - e * g;
  const det = a * A + b * B + c * C;
  if (!Number.isFinite(det) || Math.abs(det) < 1e-12) {
    throw new RangeError(`affine is singular (determinant ${det})`);
  }
  const inv3 = [
    A / det,
    -(b * i - c * h) / det,
    (b * f - c * e) / det,
    B / det,
    (a * i - c * g) / det,
    -(a * f - c * d) / det,
    C / det,
    -(a * h - b * g) / det,
    (a * e - b * d) / det,
  ];
  const t = [m[3], m[7], m[11]];
  const out = new Float64Array(16);
  for (let r = 0; r < 3; r++) {
    out[4 * r] = inv3[3 * r];
    out[4 * r + 1] = inv3[3 * r + 1];
    out[4 * r + 2] = inv3[3 * r + 2];
    out[4 * r + 3] = -(inv3[3 * r] * t[0] + inv3[3 * r + 1] * t[1] + inv3[3 * r + 2] * t[2]);
  }
  out[15] = 1;
  return out;
}

/**
 * Apply an affine to the point `(x, y, z)`.
 *
 * @param m the affine (4 × 4, row-major)
 * @param x first coordinate (e.g. voxel index i)
 * @param y second coordinate (j)
 * @param z third coordinate (k)
 * @returns `[x', y', z']` (e.g. world coordinates in mm)
 *
 * @example
 * ```ts
 * import { applyAffine } from "@brainorg/neuro";
 * const mni2mm = Float64Array.from([-2, 0, 0, 90, 0, 2, 0, -126, 0, 0, 2, -72, 0, 0, 0, 1]);
 * const mm = applyAffine(mni2mm, 45, 63, 36); // [0, 0, 0]: the anterior commissure
 * ```
 */
export function applyAffine(m: Affine, x: number, y: number, z: number): [number, number, number] {
  return [
    m[0] * x + m[1] * y + m[2] * z + m[3],
    m[4] * x + m[5] * y + m[6] * z + m[7],
    m[8] * x + m[9] * y + m[10] * z + m[11],
  ];
}

/** NIfTI-1 qform parameters (quaternion b, c, d; offsets; voxel sizes; qfac). */
export interface Quaternion {
  /** Quaternion b (quatern_b); a = √(1 − b² − c² − d²) is implied. */
  b: number;
  /** Quaternion c (quatern_c). */
  c: number;
  /** Quaternion d (quatern_d). */
  d: number;
  /** World x of voxel (0, 0, 0), mm (qoffset_x). */
  x: number;
  /** World y of voxel (0, 0, 0), mm (qoffset_y). */
  y: number;
  /** World z of voxel (0, 0, 0), mm (qoffset_z). */
  z: number;
  /** Voxel size along i (pixdim[1]), positive. */
  dx: number;
  /** Voxel size along j (pixdim[2]), positive. */
  dy: number;
  /** Voxel size along k (pixdim[3]), positive. */
  dz: number;
  /** ±1: the handedness (pixdim[0]). */
  qfac: number;
}

/**
 * The affine a qform describes (NIfTI-1 "method 2").
 *
 * @param q the qform parameters
 * @returns a new affine: rotation · diag(dx, dy, qfac · dz), then the offsets
 *
 * @example
 * ```ts
 * import { quaternionToAffine } from "@brainorg/neuro";
 * const m = quaternionToAffine({ b: 0, c: 0, d: 0, x: -90, y: -126, z: -72, dx: 2, dy: 2, dz: 2, qfac: 1 });
 * // m: diag(2, 2, 2) with translation (−90, −126, −72)
 * ```
 */
export function quaternionToAffine(q: Quaternion): Affine {
  const { b, c, d } = q;
  const a = Math.sqrt(Math.max(0, 1 - (b * b + c * c + d * d)));
  const R = [
    a * a + b * b - c * c - d * d,
    2 * (b * c - a * d),
    2 * (b * d + a * c),
    2 * (b * c + a * d),
    a * a + c * c - b * b - d * d,
    2 * (c * d - a * b),
    2 * (b * d - a * c),
    2 * (c * d + a * b),
    a * a + d * d - c * c - b * b,
  ];
  const qfac = q.qfac < 0 ? -1 : 1;
  const s = [q.dx, q.dy, q.dz * qfac];
  const out = new Float64Array(16);
  for (let r = 0; r < 3; r++) {
    for (let col = 0; col < 3; col++) out[4 * r + col] = R[3 * r + col] * s[col];
  }
  out[3] = q.x;
  out[7] = q.y;
  out[11] = q.z;
  out[15] = 1;
  return out;
}

/**
 * The qform closest to an affine: its rotation (orthogonalised by polar
 * decomposition through Newton iterations), voxel sizes and handedness, as
 * nifti_mat44_to_quatern does. Shears cannot be stored in a qform; they are
 * dropped here (the sform keeps them).
 *
 * @param m the affine (4 × 4, row-major)
 * @returns its qform parameters; {@linkcode quaternionToAffine} gives back
 *   m itself when m has no shear
 *
 * @example
 * ```ts
 * import { affineToQuaternion } from "@brainorg/neuro";
 * const mni2mm = Float64Array.from([-2, 0, 0, 90, 0, 2, 0, -126, 0, 0, 2, -72, 0, 0, 0, 1]);
 * const q = affineToQuaternion(mni2mm); // dx = dy = dz = 2; qfac −1: a left-handed grid
 * ```
 */
export function affineToQuaternion(m: Affine): Quaternion {
  const col = (j: number) => [m[j], m[4 + j], m[8 + j]];
  const norm = (v: number[]) => Math.hypot(v[0], v[1], v[2]) || 1;
  const cols = [col(0), col(1), col(2)];
  const dx = norm(cols[0]), dy = norm(cols[1]), dz = norm(cols[2]);
  // Normalised columns form Q; orthogonalise with Q ← (Q + Q⁻ᵀ)/2.
  let Q = [0, 1, 2].map((j) => cols[j].map((v) => v / [dx, dy, dz][j]));
  const toRows = (cs: number[][]) => [0, 1, 2].map((r) => [cs[0][r], cs[1][r], cs[2][r]]);
  for (let it = 0; it < 30; it++) {
    const R = toRows(Q);
    const det = R[0][0] * (R[1][1] * R[2][2] - R[1][2] * R[2][1]) -
      R[0][1] * (R[1][0] * R[2][2] - R[1][2] * R[2][0]) +
      R[0][2] * (R[1][0] * R[2][1] - R[1][1] * R[2][0]);
    // Inverse transpose via cofactors / det, expressed back as columns.
    const cof = (r: number, c: number) => {
      const rr = [0, 1, 2].filter((x) => x !== r), cc = [0, 1, 2].filter((x) => x !== c);
      const v = R[rr[0]][cc[0]] * R[rr[1]][cc[1]] - R[rr[0]][cc[1]] * R[rr[1]][cc[0]];
      return ((r + c) % 2 ? -v : v) / det;
    };
    const next = [0, 1, 2].map((j) => [0, 1, 2].map((r) => (Q[j][r] + cof(r, j)) / 2));
    const delta = next.flat().reduce((s, v, k) => s + Math.abs(v - Q.flat()[k]), 0);
    Q = next;
    if (delta < 1e-12) break;
  }
  let R = toRows(Q);
  const det = R[0][0] * (R[1][1] * R[2][2] - R[1][2] * R[2][1]) -
    R[0][1] * (R[1][0] * R[2][2] - R[1][2] * R[2][0]) +
    R[0][2] * (R[1][0] * R[2][1] - R[1][1] * R[2][0]);
  let qfac = 1;
  if (det < 0) {
    qfac = -1;
    R = R.map((row) => [row[0], row[1], -row[2]]);
  }
  const [[r11, r12, r13], [r21, r22, r23], [r31, r32, r33]] = R;
  let a = r11 + r22 + r33 + 1, b: number, c: number, d: number;
  if (a > 0.5) {
    a = 0.5 * Math.sqrt(a);
    b = 0.25 * (r32 - r23) / a;
    c = 0.25 * (r13 - r31) / a;
    d = 0.25 * (r21 - r12) / a;
  } else {
    const xd = 1 + r11 - (r22 + r33), yd = 1 + r22 - (r11 + r33), zd = 1 + r33 - (r11 + r22);
    if (xd > 1) {
      b = 0.5 * Math.sqrt(xd);
      c = 0.25 * (r12 + r21) / b;
      d = 0.25 * (r13 + r31) / b;
      a = 0.25 * (r32 - r23) / b;
    } else if (yd > 1) {
      c = 0.5 * Math.sqrt(yd);
      b = 0.25 * (r12 + r21) / c;
      d = 0.25 * (r23 + r32) / c;
      a = 0.25 * (r13 - r31) / c;
    } else {
      d = 0.5 * Math.sqrt(zd);
      b = 0.25 * (r13 + r31) / d;
      c = 0.25 * (r23 + r32) / d;
      a = 0.25 * (r21 - r12) / d;
    }
    if (a < 0) {
      b = -b;
      c = -c;
      d = -d;
    }
  }
  return { b, c, d, x: m[3], y: m[7], z: m[11], dx, dy, dz, qfac };
}

/**
 * Largest absolute difference between two affines' entries: how far apart
 * two grids are placed (mm, for the translations).
 *
 * @param a an affine
 * @param b another
 * @returns max over the 16 entries of |a − b|
 *
 * @example
 * ```ts
 * import { affineDistance, identityAffine } from "@brainorg/neuro";
 * const shifted = identityAffine();
 * shifted[3] = 0.5;
 * const d = affineDistance(identityAffine(), shifted); // 0.5
 * ```
 */
export function affineDistance(a: Affine, b: Affine): number {
  let d = 0;
  for (let i = 0; i < 16; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}
