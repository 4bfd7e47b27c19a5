/**
 * Quality checks of time series before they reach a solver: the one rule
 * for a constant series (shared by ROI tables and voxels), and the
 * screening of a subject's voxel series for non-finite values, lost
 * volumes and constant voxels.
 *
 * The policy for voxels: a few bad voxels cost the voxels (dropped for
 * every subject, since group maps need the same voxels in everyone), many
 * bad voxels or a lost volume cost the subject. A lost volume cannot be
 * cut out alone: the encoding's folds, its high-pass filter and its
 * circularly shifted null all assume an unbroken series.
 *
 * @module
 */

/**
 * Whether a series whose values span [min, max] is constant: its range is
 * at most 10⁻⁹ of its level (so a large offset with float noise counts as
 * constant too). The one rule for ROI tables and voxels.
 *
 * @param min the series' smallest value
 * @param max its largest value
 * @returns true when the series is constant
 *
 * @example
 * ```ts
 * import { isConstantRange } from "@brainorg/neuro";
 * isConstantRange(100, 100 + 1e-8); // true
 * isConstantRange(0, 1e-6); // false
 * ```
 */
export function isConstantRange(min: number, max: number): boolean {
  return max - min <= 1e-9 * Math.max(1, Math.abs(max), Math.abs(min));
}

/** Options of {@linkcode screenVoxelSeries}. */
export interface VoxelScreenOptions {
  /**
   * Largest share of the mask's voxels that may be unusable (non-finite
   * anywhere, or constant) in a subject who is kept; beyond it the subject
   * is excluded rather than taking those voxels from everyone. Default: 0.1.
   */
  maxBadVoxelShare?: number;
  /**
   * A volume whose values are non-finite in more than this share of the
   * mask's voxels is lost, and a subject with a lost volume is excluded.
   * Default: 0.5.
   */
  lostVolumeShare?: number;
  /** Number of the first row's volume in the file, for the reasons given. Default: 0. */
  firstVolume?: number;
}

/** Why a voxel is unusable in a subject. */
export const VOXEL_PROBLEMS = ["", "non-finite", "constant"] as const;

/** What screening found in one subject's series. */
export interface VoxelScreen {
  /** Per mask voxel (length V): 0 usable, 1 non-finite (NaN/±Inf) somewhere, 2 constant. */
  problem: Uint8Array;
  /** Voxels with a non-finite value. */
  nonFinite: number;
  /** Finite voxels whose series is constant ({@linkcode isConstantRange}). */
  constant: number;
  /** Lost volumes, numbered in the file (`firstVolume` + row). */
  lostVolumes: number[];
  /** False when the subject must be excluded. */
  usable: boolean;
  /** Why the subject is excluded, or which of its voxels are unusable; "" when all is well. */
  reason: string;
}

/**
 * Ascending integers as ranges, for messages: `[3, 4, 5, 9]` → `"3–5, 9"`.
 *
 * @param values ascending integers (e.g. volume numbers)
 * @returns runs of consecutive values joined by an en dash, separated by commas; "" for none
 *
 * @example
 * ```ts
 * import { formatRanges } from "@brainorg/neuro";
 * const text = formatRanges([3, 4, 5, 9]); // "3–5, 9"
 * ```
 */
export function formatRanges(values: readonly number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < values.length;) {
    let j = i;
    while (j + 1 < values.length && values[j + 1] === values[j] + 1) j++;
    parts.push(j === i ? String(values[i]) : `${values[i]}–${values[j]}`);
    i = j + 1;
  }
  return parts.join(", ");
}

const share = (n: number, of: number) => `${(100 * n / of).toFixed(n / of < 0.001 ? 3 : 1)}%`;

/**
 * Screen one subject's voxel series (see the module's policy).
 *
 * @param series shape (rows, V), row-major: the kept volumes × mask voxels
 * @param rows the number of volumes (rows)
 * @param options the shares that exclude a subject, the first volume's number
 *   (see {@linkcode VoxelScreenOptions}). Default: all defaults.
 * @returns each voxel's problem and the verdict on the subject, with its reason
 * @throws {RangeError} when `series.length` is not a multiple of `rows`
 *
 * @example
 * ```ts
 * import { screenVoxelSeries } from "@brainorg/neuro";
 * const y = new Float32Array([1, 5, 2, NaN, 3, 5]); // 3 volumes × 2 voxels
 * const s = screenVoxelSeries(y, 3, { maxBadVoxelShare: 0.5 });
 * console.log(s.problem, s.usable, s.reason); // [0, 1], true, "1 of 2 voxels …"
 * ```
 */
export function screenVoxelSeries(
  series: Float32Array,
  rows: number,
  options: VoxelScreenOptions = {},
): VoxelScreen {
  if (!(rows >= 1) || series.length % rows !== 0) {
    throw new RangeError(
      `series has ${series.length} values: expected rows (${rows}) × voxels, row-major`,
    );
  }
  const V = series.length / rows;
  const maxShare = options.maxBadVoxelShare ?? 0.1;
  const lostShare = options.lostVolumeShare ?? 0.5;
  const first = options.firstVolume ?? 0;
  const min = new Float32Array(V).fill(Infinity), max = new Float32Array(V).fill(-Infinity);
  const problem = new Uint8Array(V);
  const lostVolumes: number[] = [];
  for (let t = 0; t < rows; t++) {
    let bad = 0;
    const row = series.subarray(t * V, (t + 1) * V);
    for (let v = 0; v < V; v++) {
      const x = row[v];
      if (x - x !== 0) { // NaN or ±Inf, in one comparison
        problem[v] = 1;
        bad++;
      } else {
        if (x < min[v]) min[v] = x;
        if (x > max[v]) max[v] = x;
      }
    }
    if (V > 0 && bad > lostShare * V) lostVolumes.push(first + t);
  }
  let nonFinite = 0, constant = 0;
  for (let v = 0; v < V; v++) {
    if (problem[v] === 1) nonFinite++;
    else if (isConstantRange(min[v], max[v])) (problem[v] = 2), constant++;
  }
  const badVoxels = nonFinite + constant;
  const what = [
    nonFinite ? `${nonFinite} non-finite (NaN/Inf)` : "",
    constant ? `${constant} constant` : "",
  ].filter(Boolean).join(" and ");
  let usable = true, reason = "";
  if (lostVolumes.length) {
    usable = false;
    reason = `volume${lostVolumes.length > 1 ? "s" : ""} ${formatRanges(lostVolumes)} ` +
      `non-finite in more than ${Math.round(100 * lostShare)}% of the mask's voxels (lost volumes)`;
  } else if (V > 0 && badVoxels === V) {
    usable = false;
    reason = `every one of the mask's ${V} voxels is unusable: ${what}`;
  } else if (badVoxels > maxShare * V) {
    usable = false;
    reason = `${badVoxels} of the mask's ${V} voxels (${share(badVoxels, V)}) are unusable ` +
      `(${what}): more than the ${Math.round(100 * maxShare)}% a subject may lose`;
  } else if (badVoxels) {
    reason = `${badVoxels} of ${V} voxels (${share(badVoxels, V)}) unusable (${what}): ` +
      `dropped for every subject`;
  }
  return { problem, nonFinite, constant, lostVolumes, usable, reason };
}
