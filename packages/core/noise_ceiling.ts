/**
 * The noise ceiling of the voxel level: how much of one subject's series a
 * model of the response shared across subjects can predict at most, from
 * the subjects themselves (everyone heard the same story, rows aligned in
 * time), against which each model's held-out encoding r is read as a
 * fraction.
 *
 * Two quantities, per voxel:
 *
 * - **ISC**: the leave-one-subject-out intersubject correlation
 *   `r_s = corr(Y_s, mean_{s'≠s} Y_s')`, averaged over subjects through
 *   Fisher's z (Nastase, Gazzola, Hasson & Keysers 2019, "Measuring shared
 *   responses across subjects using intersubject correlation", SCAN 14:669,
 *   and BrainIAK's `isc`). They describe ISC as an estimate of the
 *   stimulus-driven signal any model of the stimulus could capture, and note
 *   that the leave-one-out ISC exceeds the pairwise ISC, as the average of
 *   the others is less noisy than one subject.
 * - **ceiling**: the correlation a perfect model of the shared response
 *   would reach with one subject's series. Model each subject as
 *   `Y_s = g + e_s`, with a shared response g of variance a and independent
 *   noise e_s of variance b. A perfect model predicts g, so its r is
 *   `√(a / (a + b)) = √ρ`, where ρ is the share of a subject's variance that
 *   is shared: the correlation between two subjects (the pairwise ISC), or
 *   the explainable variance of repeated presentations (Schoppe et al. 2016,
 *   "Measuring the performance of neural models", Front. Comput. Neurosci.
 *   10:10, whose maximal correlation is √(signal power / response power);
 *   the Gallant lab's voxelwise tutorials, fitted with himalaya, compute that
 *   explainable variance). The leave-one-out ISC under the same model is
 *   `ρ / √(ρ + (1 − ρ)/(S − 1))` for S subjects: it tends to √ρ as S grows
 *   but underestimates it with few subjects (0.19 for √ρ = 0.32 with 6), so
 *   the ceiling inverts that relation for ρ ({@linkcode ceilingFromIsc}) and
 *   takes its square root. It is 0 where the ISC is ≤ 0.
 *
 * The ceiling is a bound on a model of the *shared* response: a subject's
 * own stimulus-locked response, not shared with others, is predictable too
 * and can lift an encoding r above it (a fraction above 1).
 *
 * Rows are the cleaned data's runs end to end, and every correlation is over
 * all of them: the runs were cleaned (high-pass) each on its own, and the
 * same story time sits in the same row in every subject.
 *
 * @module
 */

import type { Backend, Matrix } from "@brainorg/kernels";
import { fisherZ } from "./stats.ts";

/** How {@linkcode NoiseCeiling.ceiling} is defined, in one line (as `summary.json` records it). */
export const NOISE_CEILING_DEFINITION: string =
  "ceiling = √ρ, the r of a perfect model of the shared response with one subject's series; " +
  "ρ, the share of a subject's variance that is shared, solves " +
  "ISC = ρ / √(ρ + (1 − ρ)/(S − 1)), where ISC is the leave-one-subject-out intersubject " +
  "correlation averaged over subjects through Fisher's z; 0 where ISC ≤ 0";

/**
 * The smallest ceiling against which an encoding r is read as a fraction:
 * 0.2, i.e. 4% of a subject's variance shared. Below it the ratio divides by
 * noise: a voxel with no shared signal still has a positive ISC half the
 * time (the Fisher-averaged leave-one-out ISC of white noise has an SD of
 * about √(2 / (S·T))), and the square root lifts it. Measured on white noise
 * (T = 400 rows): ceilings above 0.1 in 22% of the voxels with 6 subjects
 * and 36% with 3, above 0.2 in 0.4% and 8.5%; with 20 subjects (T = 300),
 * 0.5% and 0. Autocorrelated BOLD has fewer effective rows, and more.
 */
export const MIN_CEILING = 0.2;

/** One subject's series for {@linkcode noiseCeiling}. */
export interface NoiseCeilingSubject {
  /** The subject's id. */
  id: string;
  /** (T × V) float32, row-major: the subject's cleaned series, rows aligned in time across subjects. */
  data: Matrix;
  /**
   * (T) 1 where the row is kept, 0 where it is censored. The subject's
   * correlation is over its kept rows that at least one other subject kept,
   * against the mean of the others that kept each row. Default: every row.
   */
  keep?: Uint8Array;
}

/** Options of {@linkcode noiseCeiling}. */
export interface NoiseCeilingOptions {
  /** Also return each subject's leave-one-out r (S × V). Default: false. */
  perSubject?: boolean;
}

/** The noise ceiling of every voxel. */
export interface NoiseCeiling {
  /** (V) leave-one-subject-out ISC, Fisher-averaged over subjects; NaN where no subject has ≥ 3 rows. */
  isc: Float32Array;
  /** (V) the ceiling of one subject's encoding r ({@linkcode NOISE_CEILING_DEFINITION}). */
  ceiling: Float32Array;
  /** (S × V) each subject's leave-one-out r, where asked for; NaN for a subject with < 3 rows. */
  perSubject?: Matrix;
  /** Subjects the ISC is over. */
  subjects: number;
}

/**
 * The leave-one-subject-out ISC and the ceiling it implies, per voxel.
 *
 * Subjects are read one at a time, twice: a first pass sums them (and counts
 * each row's keepers), a second correlates each subject with
 * `(sum − Y_s) / (S − 1)`. Beside the subjects, the function holds the
 * running sum, one leave-one-out mean and, with `keep`, one compacted copy
 * of a subject: 2 or 3 (T × V) float32 arrays whatever the number of
 * subjects. The sum is float32: its rounding (≈ 1e-7 of √S relative) is far
 * below the ISC's sampling error.
 *
 * @param backend computes the per-column correlations
 * @param subjects S ≥ 2 subjects, each (T × V) with the same T and V
 * @param options what else to return (see {@linkcode NoiseCeilingOptions}). Default: none.
 * @returns `isc` and `ceiling` (V each), and `perSubject` where asked for
 * @throws {RangeError} with fewer than 2 subjects, shapes that differ, or a `keep` of the wrong length
 *
 * @example
 * ```ts
 * import { createBackend, matrix } from "@brainorg/kernels";
 * import { noiseCeiling } from "@brainorg/core";
 * const backend = await createBackend({ backend: "cpu" });
 * const shared = [1, -1, 2, 0, -2, 1];
 * const subjects = [0, 1, 2].map((s) => ({
 *   id: `s${s}`,
 *   data: matrix(6, 1, shared.map((g, t) => g + Math.sin(7 * s + 3 * t))),
 * }));
 * const { isc, ceiling } = await noiseCeiling(backend, subjects);
 * console.log(isc[0], ceiling[0]);
 * backend.dispose();
 * ```
 */
export async function noiseCeiling(
  backend: Backend,
  subjects: readonly NoiseCeilingSubject[],
  options: NoiseCeilingOptions = {},
): Promise<NoiseCeiling> {
  const S = subjects.length;
  if (S < 2) throw new RangeError(`the noise ceiling needs at least 2 subjects: got ${S}`);
  const { rows: T, cols: V } = subjects[0].data;
  for (const s of subjects) {
    if (s.data.rows !== T || s.data.cols !== V || s.data.data.length !== T * V) {
      throw new RangeError(
        `subject ${s.id}'s data must be ${T} × ${V} like ${subjects[0].id}'s: ` +
          `current shape is ${s.data.rows} × ${s.data.cols} (${s.data.data.length} values)`,
      );
    }
    if (s.keep && s.keep.length !== T) {
      throw new RangeError(
        `subject ${s.id}'s keep must have one entry per row (${T}): current length is ${s.keep.length}`,
      );
    }
  }
  const censored = subjects.some((s) => s.keep);
  const sum = new Float32Array(T * V), keepers = new Int32Array(T);
  for (const s of subjects) {
    const y = s.data.data;
    for (let t = 0; t < T; t++) {
      if (s.keep && !s.keep[t]) continue;
      keepers[t]++;
      const o = t * V;
      for (let v = 0; v < V; v++) sum[o + v] += y[o + v];
    }
  }
  const loso = new Float32Array(T * V), own = censored ? new Float32Array(T * V) : undefined;
  const zSum = new Float64Array(V), zCount = new Int32Array(V);
  const perSubject = options.perSubject ? new Float32Array(S * V).fill(NaN) : undefined;
  for (let i = 0; i < S; i++) {
    const r = await subjectIsc(backend, subjects[i], sum, keepers, loso, own);
    if (!r) continue;
    perSubject?.set(r, i * V);
    for (let v = 0; v < V; v++) {
      if (Number.isNaN(r[v])) continue;
      zSum[v] += fisherZ(r[v]);
      zCount[v]++;
    }
  }
  const isc = Float32Array.from(zSum, (z, v) => (zCount[v] ? Math.tanh(z / zCount[v]) : NaN));
  return {
    isc,
    ceiling: Float32Array.from(isc, (r) => ceilingFromIsc(r, S)),
    ...(perSubject ? { perSubject: { rows: S, cols: V, data: perSubject } } : {}),
    subjects: S,
  };
}

/**
 * One subject's r with the mean of the others, per voxel; null when fewer
 * than 3 of its rows were also kept by another subject.
 */
async function subjectIsc(
  backend: Backend,
  subject: NoiseCeilingSubject,
  sum: Float32Array,
  keepers: Int32Array,
  loso: Float32Array,
  own: Float32Array | undefined,
): Promise<Float32Array | null> {
  const { rows: T, cols: V, data: y } = subject.data;
  if (!subject.keep && keepers[0] >= 2 && keepers.every((k) => k === keepers[0])) {
    // Every row kept by every subject: the mean of the others is (sum − Y_s)/(S − 1) throughout.
    const inv = 1 / (keepers[0] - 1);
    for (let i = 0; i < T * V; i++) loso[i] = (sum[i] - y[i]) * inv;
    return await backend.columnCorrelation(subject.data, { rows: T, cols: V, data: loso });
  }
  let n = 0;
  for (let t = 0; t < T; t++) {
    const mine = subject.keep ? subject.keep[t] !== 0 : true, others = keepers[t] - (mine ? 1 : 0);
    if (!mine || others < 1) continue;
    const from = t * V, to = n * V, inv = 1 / others;
    for (let v = 0; v < V; v++) {
      own![to + v] = y[from + v];
      loso[to + v] = (sum[from + v] - y[from + v]) * inv;
    }
    n++;
  }
  if (n < 3) return null;
  return await backend.columnCorrelation(
    { rows: n, cols: V, data: own! },
    { rows: n, cols: V, data: loso },
  );
}

/**
 * The ceiling of one subject's encoding r implied by a leave-one-out ISC:
 * √ρ, where ρ solves `isc = ρ / √(ρ + (1 − ρ)/(S − 1))`, i.e. the positive
 * root of `ρ² − isc²(1 − 1/n) ρ − isc²/n = 0` with n = S − 1.
 *
 * @param isc leave-one-subject-out ISC (Fisher-averaged over subjects)
 * @param subjects S, the subjects it is over (≥ 2)
 * @returns √ρ in [0, 1]; 0 where `isc` ≤ 0, NaN where it is NaN
 *
 * @example
 * ```ts
 * import { ceilingFromIsc } from "@brainorg/core";
 * ceilingFromIsc(0.1 / Math.sqrt(0.1 + 0.9 / 5), 6); // 0.3162… = √0.1
 * ```
 */
export function ceilingFromIsc(isc: number, subjects: number): number {
  if (Number.isNaN(isc)) return NaN;
  if (isc <= 0) return 0;
  const n = subjects - 1, r2 = Math.min(1, isc) ** 2, b = r2 * (1 - 1 / n);
  const rho = (b + Math.sqrt(b * b + (4 * r2) / n)) / 2;
  return Math.sqrt(Math.min(1, rho));
}

/** Options of {@linkcode fractionOfCeiling}. */
export interface FractionOptions {
  /** The smallest ceiling a fraction is taken of. Default: {@linkcode MIN_CEILING} (0.2). */
  minCeiling?: number;
}

/**
 * An encoding r as a fraction of the noise ceiling, per voxel: `r / ceiling`
 * where the ceiling exceeds `minCeiling`, NaN elsewhere (and where r is NaN).
 *
 * @param r (V) e.g. the mean held-out r over subjects (`GroupMaps.meanR`)
 * @param ceiling (V) {@linkcode NoiseCeiling.ceiling}
 * @param options the smallest ceiling (see {@linkcode FractionOptions}). Default: 0.2.
 * @returns (V) the fractions; above 1 where a model beats the shared response
 * @throws {RangeError} when the lengths differ
 *
 * @example
 * ```ts
 * import { fractionOfCeiling } from "@brainorg/core";
 * fractionOfCeiling([0.2, 0.2], [0.4, 0.1]); // Float32Array [0.5, NaN]
 * ```
 */
export function fractionOfCeiling(
  r: ArrayLike<number>,
  ceiling: ArrayLike<number>,
  options: FractionOptions = {},
): Float32Array {
  if (r.length !== ceiling.length) {
    throw new RangeError(
      `r and ceiling must have one value per voxel each: current lengths are ${r.length} and ${ceiling.length}`,
    );
  }
  const min = options.minCeiling ?? MIN_CEILING;
  return Float32Array.from(
    { length: r.length },
    (_, v) => (ceiling[v] > min ? r[v] / ceiling[v] : NaN),
  );
}
