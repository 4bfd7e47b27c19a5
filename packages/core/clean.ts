/**
 * Signal cleaning before encoding (nilearn's `signal.clean` with
 * `standardize="zscore"`, `high_pass`, `confounds` and `sample_mask`): a
 * discrete cosine basis below the cutoff frequency, and any confounds
 * (fMRIPrep's, chosen by `selectConfounds` of @brainorg/neuro), are
 * regressed out of each run, then each column is z-scored. Regressors and
 * BOLD data get the same treatment so that slow drifts explain neither.
 *
 * @module
 */

import type { Backend, Matrix } from "@brainorg/kernels";
import { isConstant, zscoreColumns } from "./stats.ts";

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
  /**
   * Confounds to regress out with the cosine basis: (T × C) over all rows,
   * runs end to end, float32 row-major, finite. Each run's columns are
   * z-scored within the run first (constant ones dropped), so their scale
   * and mean do not matter. Default: none.
   */
  confounds?: Matrix;
  /**
   * Length T: 1 = kept, 0 = censored (scrubbed or non-steady-state volumes).
   * The fit and the z-score statistics use the kept rows only; censored rows
   * of the output are 0, and must be left out downstream (they are not data).
   * Default: every row kept.
   */
  sampleMask?: Uint8Array;
}

/**
 * A design column whose part independent of the columns before it (cosines
 * first, then the confounds in order) is at most this fraction of its norm
 * on the kept rows is dropped: in float32 (relative resolution 6e-8) such
 * a part is rounding, e.g. fMRIPrep's `cosineXX` repeating our own basis.
 * As `CONSTANT_RELATIVE_SD` (stats.ts), 1e-5 clears that floor with a margin.
 */
export const DESIGN_RANK_TOLERANCE = 1e-5;

/**
 * High-pass filter, regress out confounds and z-score every column
 * ({@linkcode zscoreColumns}: population SD). A column whose residual is
 * rounding noise next to its level (a constant or pure-drift voxel: the
 * rule of `zscoreColumns` applied to the column before filtering) becomes 0.
 *
 * Without `confounds` and `sampleMask` each run's residual is m − B Bᵀ m for
 * the orthonormal cosine basis B (n × M). With them, per run:
 * b* = argmin_b Σ_{kept t} (m_t − x_t b)² for the design x = [B | Z] (Z: the
 * run's confounds z-scored over its kept rows), solved through an
 * orthonormal basis Q of x's kept rows (Gram–Schmidt in float64, columns
 * dependent within {@linkcode DESIGN_RANK_TOLERANCE} dropped, so a
 * rank-deficient design has the pseudo-inverse's fit); the residual
 * m − x b* is formed for every row, z-scored with the kept rows' mean and
 * SD, and censored rows are set to 0.
 *
 * @param m (T × V), row-major
 * @param options TR, cutoff, runs, confounds and sample mask (see {@linkcode CleanOptions})
 * @returns a new (T × V) matrix
 * @throws {RangeError} when the runs, confounds or mask do not fit m, a
 *   confound is not finite, or a run has no residual degrees of freedom on its kept rows
 *
 * @example
 * ```ts
 * import { cleanSeries } from "@brainorg/core";
 * import { createCpuBackend, matrix } from "@brainorg/kernels";
 * const backend = await createCpuBackend();
 * const bold = matrix(200, 3, Array.from({ length: 600 }, (_, i) => Math.sin(i)));
 * const motion = matrix(200, 1, Array.from({ length: 200 }, (_, t) => Math.cos(t / 3)));
 * const mask = new Uint8Array(200).fill(1).fill(0, 50, 53);
 * const z = await cleanSeries(backend, bold, { tr: 2, confounds: motion, sampleMask: mask });
 * backend.dispose();
 * ```
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
  if (options.confounds !== undefined || options.sampleMask !== undefined) {
    return await cleanWithConfounds(backend, m, options, runs);
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
  const basis = cosineBasis(m.rows, options);
  const coef = await backend.gemm(basis, m, { transA: true });
  const fitted = await backend.gemm(basis, coef);
  // The residual overwrites the fit, whose buffer is ours: one (T × V) copy fewer at the peak.
  const residual = fitted.data;
  for (let i = 0; i < residual.length; i++) residual[i] = m.data[i] - residual[i];
  const z = zscoreColumns({ rows: m.rows, cols: m.cols, data: residual }, { original: m });
  return { rows: z.rows, cols: z.cols, data: z.data };
}

/** The cosine basis of {@linkcode dctBasis}, or the constant alone when the cutoff is 0. */
function cosineBasis(n: number, options: CleanOptions): Matrix {
  const cutoff = options.highPassSeconds ?? 128;
  return cutoff > 0
    ? dctBasis(n, options.tr, cutoff)
    : { rows: n, cols: 1, data: new Float32Array(n).fill(1 / Math.sqrt(n)) };
}

async function cleanWithConfounds(
  backend: Backend,
  m: Matrix,
  options: CleanOptions,
  runs: number[],
): Promise<Matrix> {
  const { confounds, sampleMask } = options, T = m.rows, V = m.cols;
  if (confounds) {
    if (confounds.rows !== T || confounds.data.length !== confounds.rows * confounds.cols) {
      throw new RangeError(
        `options.confounds must have the data's ${T} rows: current value is ` +
          `${confounds.rows} × ${confounds.cols} (${confounds.data.length} values)`,
      );
    }
    const bad = confounds.data.findIndex((x) => !Number.isFinite(x));
    if (bad >= 0) {
      throw new RangeError(
        `options.confounds must be finite: row ${Math.floor(bad / confounds.cols)}, ` +
          `column ${bad % confounds.cols} is ${confounds.data[bad]}`,
      );
    }
  }
  if (sampleMask && sampleMask.length !== T) {
    throw new RangeError(
      `options.sampleMask must have the data's ${T} rows: current length is ${sampleMask.length}`,
    );
  }
  const out = new Float32Array(runs.length > 1 ? T * V : 0);
  let start = 0;
  for (const [r, n] of runs.entries()) {
    const keep = sampleMask ? sampleMask.subarray(start, start + n) : new Uint8Array(n).fill(1);
    const C = confounds?.cols ?? 0;
    const q = designBasis(cosineBasis(n, options), {
      rows: n,
      cols: C,
      data: confounds ? confounds.data.subarray(start * C, (start + n) * C) : new Float32Array(0),
    }, keep);
    const kept = keep.reduce((a, b) => a + (b ? 1 : 0), 0);
    if (q.basis.cols >= kept) {
      throw new RangeError(
        `run ${r + 1} has ${kept} kept volumes and a design of rank ${q.basis.cols} ` +
          `(cosines and confounds): no degrees of freedom are left for the residual`,
      );
    }
    const y = { rows: n, cols: V, data: m.data.subarray(start * V, (start + n) * V) };
    const coef = await backend.gemm(q.keptBasis, y, { transA: true });
    const residual = await backend.gemm(q.basis, coef);
    for (let i = 0; i < residual.data.length; i++) residual.data[i] = y.data[i] - residual.data[i];
    zscoreKeptRows(residual, y, keep);
    // One run: the residual's buffer is the result, one (T × V) copy fewer at the peak.
    if (runs.length === 1) return residual;
    out.set(residual.data, start * V);
    start += n;
  }
  return { rows: T, cols: V, data: out };
}

/**
 * An orthonormal basis (on the kept rows) of the design [B | Z]: Z is each
 * confound z-scored over the kept rows; constant confounds and columns
 * within {@linkcode DESIGN_RANK_TOLERANCE} of the span before them are left
 * out. Classical Gram–Schmidt run twice per column (as accurate as
 * Householder QR at this size) in float64 over the kept rows; every row of
 * a column gets the same combination, so the censored rows hold the fitted
 * design's values there.
 *
 * @returns `basis` Q (n × r) and `keptBasis` (Q with censored rows 0), float32
 */
function designBasis(
  cosines: Matrix,
  confounds: Matrix,
  keep: Uint8Array,
): { basis: Matrix; keptBasis: Matrix } {
  const n = cosines.rows, kept = keep.reduce((a, b) => a + (b ? 1 : 0), 0);
  const candidates: Float64Array[] = [];
  for (let k = 0; k < cosines.cols; k++) {
    candidates.push(Float64Array.from({ length: n }, (_, t) => cosines.data[t * cosines.cols + k]));
  }
  for (let k = 0; k < confounds.cols; k++) {
    const x = Float64Array.from({ length: n }, (_, t) => confounds.data[t * confounds.cols + k]);
    let mean = 0, sq = 0;
    for (let t = 0; t < n; t++) if (keep[t]) (mean += x[t]), (sq += x[t] * x[t]);
    mean /= kept;
    let ss = 0;
    for (let t = 0; t < n; t++) if (keep[t]) ss += (x[t] - mean) ** 2;
    const sd = Math.sqrt(ss / kept);
    if (isConstant(sd, Math.sqrt(sq / kept))) continue;
    for (let t = 0; t < n; t++) x[t] = (x[t] - mean) / sd;
    candidates.push(x);
  }
  const dot = (a: Float64Array, b: Float64Array) => {
    let s = 0;
    for (let t = 0; t < n; t++) if (keep[t]) s += a[t] * b[t];
    return s;
  };
  const accepted: Float64Array[] = [];
  for (const x of candidates) {
    const norm0 = Math.sqrt(dot(x, x));
    if (norm0 === 0) continue;
    for (let pass = 0; pass < 2; pass++) {
      for (const q of accepted) {
        const d = dot(q, x);
        for (let t = 0; t < n; t++) x[t] -= d * q[t];
      }
    }
    const norm = Math.sqrt(dot(x, x));
    if (norm <= DESIGN_RANK_TOLERANCE * norm0) continue;
    for (let t = 0; t < n; t++) x[t] /= norm;
    accepted.push(x);
  }
  const r = accepted.length, basis = new Float32Array(n * r), keptBasis = new Float32Array(n * r);
  accepted.forEach((q, j) => {
    for (let t = 0; t < n; t++) {
      basis[t * r + j] = q[t];
      if (keep[t]) keptBasis[t * r + j] = q[t];
    }
  });
  return {
    basis: { rows: n, cols: r, data: basis },
    keptBasis: { rows: n, cols: r, data: keptBasis },
  };
}

/**
 * z-score each column of `residual` in place with its kept rows' mean and
 * population SD; censored rows become 0, and so does a column that is
 * constant by the rule of {@linkcode zscoreColumns} (SD against the RMS of
 * `original`, both over the kept rows). A column with NaN stays NaN on the kept rows.
 */
function zscoreKeptRows(residual: Matrix, original: Matrix, keep: Uint8Array): void {
  const { rows, cols, data } = residual, kept = keep.reduce((a, b) => a + (b ? 1 : 0), 0);
  const mean = new Float64Array(cols), ss = new Float64Array(cols), sq = new Float64Array(cols);
  for (let t = 0; t < rows; t++) {
    if (!keep[t]) continue;
    for (let c = 0, i = t * cols; c < cols; c++, i++) {
      mean[c] += data[i];
      sq[c] += original.data[i] * original.data[i];
    }
  }
  for (let c = 0; c < cols; c++) mean[c] /= kept;
  for (let t = 0; t < rows; t++) {
    if (!keep[t]) continue;
    for (let c = 0, i = t * cols; c < cols; c++, i++) ss[c] += (data[i] - mean[c]) ** 2;
  }
  const scale = new Float64Array(cols);
  for (let c = 0; c < cols; c++) {
    const sd = Math.sqrt(ss[c] / kept);
    scale[c] = isConstant(sd, Math.sqrt(sq[c] / kept)) ? 0 : 1 / sd;
  }
  for (let t = 0; t < rows; t++) {
    const i0 = t * cols;
    if (!keep[t]) {
      data.fill(0, i0, i0 + cols);
      continue;
    }
    for (let c = 0; c < cols; c++) {
      data[i0 + c] = scale[c] === 0 ? 0 : (data[i0 + c] - mean[c]) * scale[c];
    }
  }
}

/**
 * A subject's nuisance design made once and applied to any regressors on
 * the analysis's rows: each run's cosines and the subject's confounds,
 * orthonormal over the rows the analysis keeps (scrubbing's survivors).
 * Regressors cleaned with the same design as the data they predict are
 * what the Frisch–Waugh–Lovell theorem asks for: a confound that follows
 * the stimulus (speech-locked head motion) is then taken out of both, and
 * cannot bias one regressor's coefficient through another.
 */
export interface RegressorCleaning {
  /** Rows of the matrices it cleans: the kept rows. */
  readonly rows: number;
  /**
   * Regress the design out of every column and z-score it (population SD;
   * a column with nothing left becomes 0).
   *
   * @param x (rows × K), row-major
   * @returns a new (rows × K) matrix
   */
  apply(backend: Backend, x: Matrix): Promise<Matrix>;
}

/**
 * Prepare a {@linkcode RegressorCleaning} from a subject's confounds.
 *
 * @param options TR, cutoff, runs (volumes of each, before any row is left
 *   out), confounds (T × C over those volumes) and the rows kept (T; 1 kept)
 * @throws {RangeError} when a run keeps fewer rows than its design's rank
 */
export function prepareRegressorCleaning(options: {
  tr: number;
  highPassSeconds?: number;
  runs: number[];
  confounds: Matrix;
  keepRows?: Uint8Array;
}): RegressorCleaning {
  const { runs, confounds } = options, T = runs.reduce((a, b) => a + b, 0), C = confounds.cols;
  const keepAll = options.keepRows ?? new Uint8Array(T).fill(1);
  const parts: { basis: Matrix; rows: number }[] = [];
  let start = 0;
  for (const [r, n] of runs.entries()) {
    const keep = keepAll.subarray(start, start + n);
    const q = designBasis(cosineBasis(n, options), {
      rows: n,
      cols: C,
      data: confounds.data.subarray(start * C, (start + n) * C),
    }, keep);
    const kept = keep.reduce((a, b) => a + (b ? 1 : 0), 0), rank = q.basis.cols;
    if (rank >= kept) {
      throw new RangeError(
        `run ${r + 1} keeps ${kept} volumes for a design of rank ${rank}: nothing is left`,
      );
    }
    // Orthonormal over the kept rows: those rows alone are the basis of the analysis's rows.
    const basis = new Float32Array(kept * rank);
    let row = 0;
    for (let t = 0; t < n; t++) {
      if (keep[t]) basis.set(q.basis.data.subarray(t * rank, (t + 1) * rank), (row++) * rank);
    }
    parts.push({ basis: { rows: kept, cols: rank, data: basis }, rows: kept });
    start += n;
  }
  const rows = parts.reduce((a, p) => a + p.rows, 0);
  return {
    rows,
    async apply(backend, x) {
      if (x.rows !== rows) {
        throw new RangeError(`regressors have ${x.rows} rows; the design has ${rows}`);
      }
      const out = new Float32Array(rows * x.cols);
      let at = 0;
      for (const p of parts) {
        const y = {
          rows: p.rows,
          cols: x.cols,
          data: x.data.subarray(at * x.cols, (at + p.rows) * x.cols),
        };
        const coef = await backend.gemm(p.basis, y, { transA: true });
        const fit = await backend.gemm(p.basis, coef);
        for (let i = 0; i < fit.data.length; i++) fit.data[i] = y.data[i] - fit.data[i];
        zscoreKeptRows(fit, y, new Uint8Array(p.rows).fill(1));
        out.set(fit.data, at * x.cols);
        at += p.rows;
      }
      return { rows, cols: x.cols, data: out };
    },
  };
}
