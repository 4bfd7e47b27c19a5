/**
 * Signal cleaning before encoding (nilearn's `signal.clean` with
 * `standardize="zscore"` and `high_pass`): a discrete cosine basis below the
 * cutoff frequency is regressed out of each run, then each column is
 * z-scored. Regressors and BOLD data get the same treatment so that slow
 * drifts explain neither.
 *
 * @module
 */

import type { Backend, Matrix } from "@brainorg/kernels";
import { zscoreColumns } from "./stats.ts";

/**
 * The DCT-II basis of SPM's high-pass filter with the constant: columns
 * cos(π k (t + ½) / n) for k = 0 … ⌊2 n tr / cutoff⌋, orthonormal: (n × m).
 */
export function dctBasis(n: number, tr: number, cutoffSeconds: number): Matrix {
  const m = Math.max(1, Math.floor((2 * n * tr) / cutoffSeconds) + 1);
  const data = new Float32Array(n * m);
  for (let k = 0; k < m; k++) {
    const scale = k === 0 ? Math.sqrt(1 / n) : Math.sqrt(2 / n);
    for (let t = 0; t < n; t++) data[t * m + k] = scale * Math.cos((Math.PI * k * (t + 0.5)) / n);
  }
  return { rows: n, cols: m, data };
}

/** Options of {@linkcode cleanSeries}. */
export interface CleanOptions {
  /** Repetition time in seconds. */
  tr: number;
  /** High-pass cutoff period in seconds (SPM's default 128); 0 removes only the mean. Default: 128. */
  highPassSeconds?: number;
  /** Volumes of each run, when the rows are runs end to end: each run is cleaned on its own. */
  runs?: number[];
}

/**
 * High-pass filter and z-score every column ({@linkcode zscoreColumns}:
 * population SD). A column whose residual is rounding noise next to its
 * level (a constant or pure-drift voxel: the rule of `zscoreColumns`
 * applied to the column before filtering) becomes 0.
 *
 * @param m (T × V), row-major
 * @returns a new (T × V) matrix
 */
export async function cleanSeries(
  backend: Backend,
  m: Matrix,
  options: CleanOptions,
): Promise<Matrix> {
  const runs = options.runs ?? [m.rows];
  if (runs.reduce((a, b) => a + b, 0) !== m.rows) {
    throw new RangeError(`runs of ${runs.join(" + ")} volumes do not add up to the ${m.rows} rows`);
  }
  if (runs.length > 1) {
    const out = new Float32Array(m.rows * m.cols);
    let start = 0;
    for (const n of runs) {
      const part = await cleanSeries(backend, {
        rows: n,
        cols: m.cols,
        data: m.data.subarray(start * m.cols, (start + n) * m.cols),
      }, { ...options, runs: undefined });
      out.set(part.data, start * m.cols);
      start += n;
    }
    return { rows: m.rows, cols: m.cols, data: out };
  }
  const cutoff = options.highPassSeconds ?? 128;
  const basis = cutoff > 0
    ? dctBasis(m.rows, options.tr, cutoff)
    : { rows: m.rows, cols: 1, data: new Float32Array(m.rows).fill(1 / Math.sqrt(m.rows)) };
  const coef = await backend.gemm(basis, m, { transA: true });
  const fitted = await backend.gemm(basis, coef);
  // The residual overwrites the fit, whose buffer is ours: one (T × V) copy fewer at the peak.
  const residual = fitted.data;
  for (let i = 0; i < residual.length; i++) residual[i] = m.data[i] - residual[i];
  const z = zscoreColumns({ rows: m.rows, cols: m.cols, data: residual }, { original: m });
  return { rows: z.rows, cols: z.cols, data: z.data };
}
