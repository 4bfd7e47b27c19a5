/**
 * The analysis's statistics, each written once and tested once against
 * scipy: correlation and median, z-scoring with the one rule for a constant
 * column, Fisher's z with the one clamp, one-sample, paired and Welch t
 * tests, Student t and normal tails, Benjamini–Hochberg FDR and permutation
 * p-values from exceedance counts. Every stage of the pipeline calls these
 * rather than its own copy, so a rule changed here changes everywhere.
 *
 * The constant rule: a column (or a set of samples) is constant when its
 * standard deviation is at most {@linkcode CONSTANT_RELATIVE_SD} of its RMS
 * (about 0, so the level counts) before any centering or filtering. A
 * relative rule makes the verdict independent of units; an absolute floor
 * would keep a large pure-drift voxel (its high-pass residual is float32
 * rounding noise, far above any absolute floor) and z-score that noise
 * into a unit-variance series.
 *
 * @example
 * ```ts
 * import { fisherZ, oneSampleT, studentTTwoSided } from "@brainorg/core";
 * const z = [0.12, 0.08, 0.15, 0.02].map((r) => [fisherZ(r)]);
 * const { t, df } = oneSampleT(z);
 * console.log(t[0], df, studentTTwoSided(t[0], df));
 * ```
 *
 * @module
 */

import { fdrBH, type Matrix } from "@brainorg/kernels";

export { FISHER_R_LIMIT, fisherZ } from "@brainorg/kernels";
export {
  incompleteBeta,
  normalUpper,
  studentTQuantileUpper,
  studentTTwoSided,
  studentTUpper,
} from "./_distributions.ts";

/**
 * Pearson correlation of two equal-length series (NaN when either is constant).
 *
 * @throws {RangeError} when the lengths differ
 *
 * @example
 * ```ts
 * import { pearson } from "@brainorg/core";
 * pearson([1, 2, 3], [2, 4, 7]); // 0.9934…
 * ```
 */
export function pearson(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) {
    throw new RangeError(`series lengths differ: ${a.length} and ${b.length}`);
  }
  const n = a.length;
  let ma = 0, mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i];
    mb += b[i];
  }
  ma /= n;
  mb /= n;
  let sab = 0, saa = 0, sbb = 0;
  for (let i = 0; i < n; i++) {
    const x = a[i] - ma, y = b[i] - mb;
    sab += x * y;
    saa += x * x;
    sbb += y * y;
  }
  return saa > 0 && sbb > 0 ? sab / Math.sqrt(saa * sbb) : NaN;
}

/**
 * The median (the mean of the two middle values for an even count).
 *
 * @example
 * ```ts
 * import { median } from "@brainorg/core";
 * median([3, 1, 4, 1]); // 2
 * ```
 */
export function median(values: ArrayLike<number>): number {
  const s = Float64Array.from(values).sort(), n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/**
 * The largest standard deviation, relative to the RMS, of a constant column.
 * Stored series are float32 (relative resolution 6e-8), and a product over
 * a few hundred volumes in float32 (a high-pass filter through BLAS or
 * WebGPU) leaves residuals of up to ≈ 2e-6 of the level (measured: 1.6e-6
 * for a 362-volume pure-drift voxel through OpenBLAS); 1e-5 clears that
 * floor with a margin, and sits two orders below the weakest BOLD
 * fluctuation worth fitting (≈ 1e-3 of the baseline at a tSNR of 1000).
 */
export const CONSTANT_RELATIVE_SD = 1e-5;

/**
 * The one rule for a constant column: its population SD is at most
 * {@linkcode CONSTANT_RELATIVE_SD} times its RMS about 0, the RMS taken
 * before any centering or filtering. An all-zero column is constant; a
 * column with NaN is not (its NaN propagates instead).
 *
 * @param sd population standard deviation (ddof 0) of the column, after filtering if any
 * @param rms root mean square of the column as given: √(Σx² / n)
 *
 * @example
 * ```ts
 * import { isConstant } from "@brainorg/core";
 * isConstant(1e-3, 1e4); // true: 1e-7 of its level is rounding noise
 * isConstant(1e-3, 1e-2); // false
 * ```
 */
export function isConstant(sd: number, rms: number): boolean {
  return sd <= CONSTANT_RELATIVE_SD * rms;
}

/** Options of {@linkcode zscoreColumns}. */
export interface ZscoreOptions {
  /**
   * The columns before they were filtered (same shape as the input): the
   * constant rule compares the SD with their RMS. A high-pass residual has
   * no level left, so its own RMS cannot tell rounding noise from signal.
   * Default: the input itself.
   */
  original?: Matrix;
}

/** A z-scored matrix, and which of its columns were constant. */
export interface ZscoredColumns extends Matrix {
  /** Length cols: 1 where the column was constant ({@linkcode isConstant}) and is now all zeros. */
  constant: Uint8Array;
}

/**
 * Columns z-scored: mean 0, population SD 1 (scipy's `stats.zscore` with
 * ddof 0, in float64). Constant columns ({@linkcode isConstant}) become all
 * zeros, where scipy gives NaN or amplified rounding noise; a column with a
 * NaN becomes all NaN, as in scipy.
 *
 * @param m shape (rows, cols), row-major, e.g. volumes × regressors
 * @returns a new (rows × cols) float32 matrix with the constant columns flagged
 * @throws {RangeError} when `options.original` has another shape
 *
 * @example
 * ```ts
 * import { zscoreColumns } from "@brainorg/core";
 * const z = zscoreColumns({ rows: 3, cols: 2, data: Float32Array.of(1, 5, 2, 5, 3, 5) });
 * z.data; // [-1.2247, 0, 0, 0, 1.2247, 0]
 * z.constant; // [0, 1]
 * ```
 */
export function zscoreColumns(m: Matrix, options: ZscoreOptions = {}): ZscoredColumns {
  const { rows, cols } = m, original = options.original ?? m;
  if (original.rows !== rows || original.cols !== cols) {
    throw new RangeError(
      `options.original must have the input's shape ${rows} × ${cols}: ` +
        `current value is ${original.rows} × ${original.cols}`,
    );
  }
  const mean = new Float64Array(cols), ss = new Float64Array(cols), sq = new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0, i = r * cols; c < cols; c++, i++) {
      mean[c] += m.data[i];
      sq[c] += original.data[i] * original.data[i];
    }
  }
  for (let c = 0; c < cols; c++) mean[c] /= rows;
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) ss[c] += (m.data[r * cols + c] - mean[c]) ** 2;
  }
  const sd = new Float64Array(cols), constant = new Uint8Array(cols);
  for (let c = 0; c < cols; c++) {
    sd[c] = Math.sqrt(ss[c] / rows);
    constant[c] = isConstant(sd[c], Math.sqrt(sq[c] / rows)) ? 1 : 0;
  }
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      out[r * cols + c] = constant[c] ? 0 : (m.data[r * cols + c] - mean[c]) / sd[c];
    }
  }
  return { rows, cols, data: out, constant };
}

/** A t test per entry: the statistic and its degrees of freedom. */
export interface TTest {
  /** Per entry (n). */
  t: Float64Array;
  /** Degrees of freedom, the same for every entry: samples − 1. */
  df: number;
}

/**
 * t of a mean from its sample's sum of squared deviations: mean / (SD / √n).
 * Constant samples ({@linkcode isConstant}) have no spread to measure, so t
 * is ±∞ as the exact arithmetic gives (scipy too), and 0 where every value
 * is 0 (scipy: NaN), so that an entry no subject touches reads as no effect.
 */
function tOfMean(mean: number, ss: number, n: number, rms: number): number {
  if (n < 2) return NaN;
  if (isConstant(Math.sqrt(ss / n), rms)) return rms === 0 ? 0 : mean > 0 ? Infinity : -Infinity;
  return mean / Math.sqrt(ss / (n - 1) / n);
}

/** Every sample must have the first one's length; returns it. */
function entries(samples: readonly ArrayLike<number>[], name: string): number {
  const n = samples[0]?.length ?? 0;
  samples.forEach((s, i) => {
    if (s.length !== n) {
      throw new RangeError(
        `${name}[${i}] must have ${name}[0]'s ${n} entries: current value has ${s.length}`,
      );
    }
  });
  return n;
}

/**
 * One-sample t test against 0 per entry, over samples (scipy's
 * `stats.ttest_1samp(samples, 0)` along axis 0): mean / (SD / √S), SD with
 * ddof 1, df = S − 1. Constant entries follow the module's rule: ±∞, or 0
 * where all values are 0; with fewer than 2 samples t is NaN (df 0). A NaN
 * in an entry makes its t NaN.
 *
 * @param samples S arrays of n entries each, e.g. one coefficient map (K × V, flat) per subject
 * @returns t per entry (n) and df
 * @throws {RangeError} when the samples' lengths differ
 *
 * @example
 * ```ts
 * import { oneSampleT } from "@brainorg/core";
 * const { t, df } = oneSampleT([[1, 0], [2, 0], [3, 0]]); // t = [3.4641, 0], df = 2
 * ```
 */
export function oneSampleT(samples: readonly ArrayLike<number>[]): TTest {
  const S = samples.length, n = entries(samples, "samples"), t = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const { mean, ss, rms } = sums(samples, i);
    t[i] = tOfMean(mean, ss, S, rms);
  }
  return { t, df: Math.max(0, S - 1) };
}

/** Entry i over S samples: mean, sum of squares about it, and root mean square about 0. */
function sums(samples: readonly ArrayLike<number>[], i: number) {
  const S = samples.length;
  let m = 0, sq = 0;
  for (let s = 0; s < S; s++) {
    const x = samples[s][i];
    m += x;
    sq += x * x;
  }
  m /= S;
  let ss = 0;
  for (let s = 0; s < S; s++) ss += (samples[s][i] - m) ** 2;
  return { mean: m, ss, rms: Math.sqrt(sq / S) };
}

/**
 * The t of {@linkcode oneSampleT} from running sums, for nulls that never
 * store their samples. The sum of squares about the mean comes from
 * Σx² − n·mean², whose cancellation costs ≈ 1e-16 of Σx²: far below the
 * constant rule's tolerance, so constant samples are still recognised.
 *
 * @param sum Σx over the n samples
 * @param sumSq Σx² over the n samples
 * @param n the number of samples (df = n − 1)
 *
 * @example
 * ```ts
 * import { oneSampleTFromSums } from "@brainorg/core";
 * oneSampleTFromSums(1 + 2 + 3, 1 + 4 + 9, 3); // 3.4641…
 * ```
 */
export function oneSampleTFromSums(sum: number, sumSq: number, n: number): number {
  const m = sum / n;
  return tOfMean(m, Math.max(0, sumSq - n * m * m), n, Math.sqrt(sumSq / n));
}

/**
 * Paired t test per entry (scipy's `stats.ttest_rel(a, b)`): the one-sample
 * t of the differences a − b, sample by sample, with df = S − 1 and the
 * same rules as {@linkcode oneSampleT}.
 *
 * @param a S arrays of n entries each, e.g. one subject's Fisher z per ROI
 * @param b S arrays of n entries each, paired with `a` sample by sample
 * @throws {RangeError} when the number of samples or entries differs
 *
 * @example
 * ```ts
 * import { pairedT } from "@brainorg/core";
 * pairedT([[1.2], [0.9], [1.4]], [[1.0], [0.8], [1.0]]).t; // [2.6458…]
 * ```
 */
export function pairedT(a: readonly ArrayLike<number>[], b: readonly ArrayLike<number>[]): TTest {
  const n = entries(a, "a");
  if (b.length !== a.length || entries(b, "b") !== n) {
    throw new RangeError(
      `b must pair a's ${a.length} samples of ${n} entries: ` +
        `current value has ${b.length} of ${b[0]?.length ?? 0}`,
    );
  }
  return oneSampleT(a.map((x, s) => Float64Array.from({ length: n }, (_, i) => x[i] - b[s][i])));
}

/** Welch's t test per entry: the statistic and its Welch–Satterthwaite degrees of freedom. */
export interface WelchTTest {
  /** Per entry (n): (mean a − mean b) / √(var a / Sa + var b / Sb). */
  t: Float64Array;
  /** Per entry (n): the Welch–Satterthwaite df (NaN where both groups are constant). */
  df: Float64Array;
}

/** Per entry of S samples: mean, unbiased variance (0 when constant by the rule). */
function groupMoments(samples: readonly ArrayLike<number>[], i: number): [number, number] {
  const S = samples.length, { mean, ss, rms } = sums(samples, i);
  return [mean, isConstant(Math.sqrt(ss / S), rms) ? 0 : ss / (S - 1)];
}

/**
 * Welch's two-sample t test per entry (scipy's
 * `stats.ttest_ind(a, b, equal_var=False)`), with the Welch–Satterthwaite
 * df. A group that is constant ({@linkcode isConstant}) counts with
 * variance 0; when both are, t is ±∞ (0 for equal means) and df NaN. With
 * fewer than 2 samples in a group, t and df are NaN.
 *
 * @param a Sa arrays of n entries each (one per subject of the first group)
 * @param b Sb arrays of n entries each
 * @throws {RangeError} when the entries' counts differ
 *
 * @example
 * ```ts
 * import { twoSampleT } from "@brainorg/core";
 * const { t, df } = twoSampleT([[1], [2], [3]], [[2], [4], [6], [8]]); // t ≈ [-2.1213], df ≈ [4.075]
 * ```
 */
export function twoSampleT(
  a: readonly ArrayLike<number>[],
  b: readonly ArrayLike<number>[],
): WelchTTest {
  const n = entries(a, "a"), Sa = a.length, Sb = b.length;
  if (Sb > 0 && entries(b, "b") !== n) {
    throw new RangeError(
      `b's samples must have a's ${n} entries: current value has ${b[0].length}`,
    );
  }
  const t = new Float64Array(n), df = new Float64Array(n);
  if (Sa < 2 || Sb < 2) return { t: t.fill(NaN), df: df.fill(NaN) };
  for (let i = 0; i < n; i++) {
    const [ma, va] = groupMoments(a, i), [mb, vb] = groupMoments(b, i);
    const ea = va / Sa, eb = vb / Sb, se2 = ea + eb, diff = ma - mb;
    t[i] = se2 === 0 ? (diff === 0 ? 0 : diff > 0 ? Infinity : -Infinity) : diff / Math.sqrt(se2);
    df[i] = (se2 * se2) / ((ea * ea) / (Sa - 1) + (eb * eb) / (Sb - 1));
  }
  return { t, df };
}

/**
 * Benjamini–Hochberg adjusted p-values (q-values): reject where q ≤ the
 * chosen false discovery rate. The kernels' `fdrBH` does the adjusting; NaN
 * p-values (tests that were not run) get a NaN q and are left out of the
 * number of tests, as R's `p.adjust` does, instead of upsetting the sort.
 *
 * @param p per test, in [0, 1] or NaN
 * @returns q per test, in the input's order
 * @throws {RangeError} when a p-value is outside [0, 1]
 *
 * @example
 * ```ts
 * import { benjaminiHochberg } from "@brainorg/core";
 * benjaminiHochberg([0.01, 0.04, 0.03, NaN, 0.2]); // [0.04, 0.0533, 0.0533, NaN, 0.2]
 * ```
 */
export function benjaminiHochberg(p: ArrayLike<number>): Float64Array {
  const tested: number[] = [];
  for (let i = 0; i < p.length; i++) {
    if (p[i] >= 0 && p[i] <= 1) tested.push(i);
    else if (!Number.isNaN(p[i])) {
      throw new RangeError(`p[${i}] must be in [0, 1] or NaN: current value is ${p[i]}`);
    }
  }
  if (tested.length === p.length) return fdrBH(p);
  const q = new Float64Array(p.length).fill(NaN);
  const adjusted = fdrBH(tested.map((i) => p[i]));
  tested.forEach((i, k) => (q[i] = adjusted[k]));
  return q;
}

/**
 * One-sided permutation p-value from an exceedance count: (1 + #{null ≥
 * observed}) / (1 + permutations), never 0 (Phipson & Smyth 2010). The
 * kernels' `permutationPValues` and `ExceedanceCounter` compute the same.
 *
 * @param exceedances surrogates whose score reached the observed one, 0 … permutations
 * @param permutations surrogates drawn
 * @throws {RangeError} when the count is not in 0 … permutations
 *
 * @example
 * ```ts
 * import { permutationPValue } from "@brainorg/core";
 * permutationPValue(0, 99); // 0.01
 * ```
 */
export function permutationPValue(exceedances: number, permutations: number): number {
  if (!(exceedances >= 0 && exceedances <= permutations)) {
    throw new RangeError(
      `exceedances must be in 0 … ${permutations}: current value is ${exceedances}`,
    );
  }
  return (1 + exceedances) / (1 + permutations);
}
