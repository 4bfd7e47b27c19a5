/**
 * What the cross-validated solvers share: contiguous folds, penalty grids,
 * and designs centered on a subset of rows.
 *
 * @module
 */

import type { MatrixView } from "./matrix.ts";

/**
 * Contiguous k-fold boundaries over n samples, sizes differing by at most
 * one, the larger first (as scikit-learn's unshuffled KFold).
 *
 * @param n samples
 * @param k folds, an integer from 2 to n
 * @returns k `[start, end)` row ranges that tile 0 … n − 1 in order
 * @throws {RangeError} for k out of range
 *
 * @example
 * ```ts
 * import { contiguousFolds } from "@brainorg/kernels";
 * const folds = contiguousFolds(11, 3); // [[0, 4], [4, 8], [8, 11]]
 * ```
 */
export function contiguousFolds(n: number, k: number): [number, number][] {
  if (!Number.isInteger(k) || k < 2 || k > n) {
    throw new RangeError(
      `folds must be an integer from 2 to the ${n} samples: current value is ${k}`,
    );
  }
  const out: [number, number][] = [];
  let start = 0;
  for (let f = 0; f < k; f++) {
    const size = Math.floor(n / k) + (f < n % k ? 1 : 0);
    out.push([start, start + size]);
    start += size;
  }
  return out;
}

/**
 * The folds of a cross-validation: `k` contiguous folds
 * ({@linkcode contiguousFolds}), or the row ranges given (e.g. one per
 * story, for leave-one-story-out), checked to cover the rows `[0, n)` in
 * order without gaps or overlap.
 *
 * @param n number of samples
 * @param folds a count, or `[start, end)` ranges
 * @returns the folds as `[start, end)` ranges
 * @throws {RangeError} for fewer than 2 folds, an empty fold, or ranges that do not tile `[0, n)`
 *
 * @example
 * ```ts
 * import { resolveFolds } from "@brainorg/kernels";
 * resolveFolds(10, [[0, 6], [6, 10]]); // [[0, 6], [6, 10]]
 * resolveFolds(10, 2); // [[0, 5], [5, 10]]
 * ```
 */
export function resolveFolds(
  n: number,
  folds: number | readonly (readonly [number, number])[],
): [number, number][] {
  if (typeof folds === "number") return contiguousFolds(n, folds);
  let at = 0;
  for (const [s, e] of folds) {
    if (s !== at || !(e > s) || !Number.isInteger(e)) {
      throw new RangeError(
        `fold ranges must tile the ${n} samples in order: ${JSON.stringify(folds)}`,
      );
    }
    at = e;
  }
  if (at !== n || folds.length < 2) {
    throw new RangeError(
      `fold ranges must be at least 2 and tile the ${n} samples: ${JSON.stringify(folds)}`,
    );
  }
  return folds.map(([s, e]) => [s, e]);
}

/**
 * `count` values log-spaced from 10^lo to 10^hi, both included (numpy's
 * `logspace`): the usual grid of penalties.
 *
 * @param lo exponent of the first value
 * @param hi exponent of the last value
 * @param count how many values (1: just 10^lo)
 * @returns the values, ascending when lo < hi
 *
 * @example
 * ```ts
 * import { logspace } from "@brainorg/kernels";
 * const alphas = logspace(-2, 4, 7); // [0.01, 0.1, 1, 10, 100, 1000, 10000]
 * ```
 */
export function logspace(lo: number, hi: number, count: number): number[] {
  return Array.from(
    { length: count },
    (_, i) => 10 ** (lo + (count === 1 ? 0 : (i * (hi - lo)) / (count - 1))),
  );
}

/** Element (r, c) of a view. */
export function getter(v: MatrixView): (r: number, c: number) => number {
  const stride = v.rowStride ?? v.cols, off = v.offset ?? 0;
  return (r: number, c: number) => v.data[off + r * stride + c];
}

/** A design centered on a subset of its rows. */
export interface CenteredDesign {
  /** Column means over the rows used (zeros without intercept), (p). */
  mean: Float64Array;
  /** X minus those means on the rows used, zero on the others: (n × p). */
  masked: Float32Array;
  /** Gram matrix of the rows used, centered, float64 (p × p). */
  gram: Float64Array;
  /** Rows used. */
  count: number;
}

/** Center X on the rows where `rows(r)` holds (means from those rows; none without intercept). */
export function centeredDesign(
  x: MatrixView,
  rows: (r: number) => boolean,
  intercept: boolean,
): CenteredDesign {
  const n = x.rows, p = x.cols, get = getter(x);
  const mean = new Float64Array(p);
  let count = 0;
  for (let r = 0; r < n; r++) {
    if (!rows(r)) continue;
    count++;
    for (let j = 0; j < p; j++) mean[j] += get(r, j);
  }
  if (intercept) { for (let j = 0; j < p; j++) mean[j] /= count; }
  else mean.fill(0);
  const centered = new Float64Array(n * p);
  for (let r = 0; r < n; r++) {
    if (!rows(r)) continue;
    for (let j = 0; j < p; j++) centered[r * p + j] = get(r, j) - mean[j];
  }
  const gram = new Float64Array(p * p);
  for (let r = 0; r < n; r++) {
    for (let a = 0; a < p; a++) {
      const xa = centered[r * p + a];
      if (xa === 0) continue;
      for (let b = a; b < p; b++) gram[a * p + b] += xa * centered[r * p + b];
    }
  }
  for (let a = 0; a < p; a++) for (let b = 0; b < a; b++) gram[a * p + b] = gram[b * p + a];
  return { mean, masked: Float32Array.from(centered), gram, count };
}

/** Row f is 1 on fold f's held-out rows: one product gives every fold's column sums. */
export function foldIndicator(folds: [number, number][], n: number): Float32Array {
  const out = new Float32Array(folds.length * n);
  folds.forEach(([s, e], f) => out.fill(1, f * n + s, f * n + e));
  return out;
}
