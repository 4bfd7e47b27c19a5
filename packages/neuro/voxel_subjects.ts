/**
 * Subjects' 4-D images on a mask, read and screened before any solver sees
 * them: a subject with lost volumes, the wrong number of volumes or too
 * many unusable voxels is excluded with the reason; the unusable voxels of
 * the others (non-finite or constant) are dropped for everyone, since group
 * maps need the same voxels in every subject. A file that cannot be read,
 * or is not on the mask's grid, is an error: it is a mistake in the study's
 * description to fix, not a property of the data.
 *
 * @module
 */

import { type BrainMask, subsetMask, voxelCoordinates } from "./masker.ts";
import { readMaskedSeries } from "./nifti_masked.ts";
import { screenVoxelSeries, VOXEL_PROBLEMS, type VoxelScreenOptions } from "./series_checks.ts";

/** The verdict on one subject. */
export interface VoxelSubjectVerdict {
  /** The subject's id, as given. */
  id: string;
  /** False when the subject is excluded. */
  usable: boolean;
  /** Why the subject is excluded, or which of its voxels were dropped; "" when all is well. */
  reason: string;
  /** Mask voxels with a NaN or ±Inf value in the kept volumes. */
  nonFinite: number;
  /** Mask voxels whose kept series is constant. */
  constant: number;
  /** Lost volumes, numbered in the file. */
  lostVolumes: number[];
}

/** A voxel dropped for every subject, and why. */
export interface DroppedVoxel {
  /** Flat NIfTI-order index in the mask's grid. */
  index: number;
  /** Voxel coordinates (i, j, k). */
  ijk: [number, number, number];
  /** What was wrong (the first problem found, in subject order). */
  problem: string;
  /** The subjects in which it was unusable. */
  subjects: string[];
}

/** Subjects read and screened. */
export interface ScreenedSubjects {
  /** One per subject given, in order. */
  verdicts: VoxelSubjectVerdict[];
  /** The usable subjects' series on `mask`: (volumes × V) each, row-major. */
  series: { id: string; data: Float32Array }[];
  /** The mask without the dropped voxels. */
  mask: BrainMask;
  /** The voxels dropped for everyone, in mask order, with why and in whom. */
  dropped: DroppedVoxel[];
}

/** Options of {@linkcode loadScreenedSubjects}. */
export interface LoadScreenedOptions extends Omit<VoxelScreenOptions, "firstVolume"> {
  /** Volumes each subject must have after dropping `discarded`. */
  volumes: number;
  /** Volumes to drop at the start of every file. Default: 0. */
  discarded?: number;
  /**
   * Where a subject's runs are separate files: the volumes each must have
   * after dropping `discarded` (they add up to `volumes`).
   */
  runVolumes?: readonly number[];
  /**
   * Takes each usable subject's series (volumes × V on the mask given, not
   * yet reduced) as soon as it is screened, instead of keeping it: the
   * returned `series` then hold empty data, so that memory holds one
   * subject at a time (a caller that spills the series to disk). Default:
   * the series are kept.
   */
  onSeries?: (id: string, data: Float32Array) => Promise<void>;
}

/**
 * A subject's masked series (volumes × V), its runs' files end to end, or
 * why it cannot be used (a file with the wrong number of volumes).
 */
async function readRuns(
  mask: BrainMask,
  s: { id: string; path: string | readonly string[] },
  options: LoadScreenedOptions,
): Promise<Float32Array | string> {
  const drop = options.discarded ?? 0, V = mask.indices.length;
  const paths = typeof s.path === "string" ? [s.path] : s.path;
  const expected = typeof s.path === "string" ? [options.volumes] : options.runVolumes;
  if (!expected || expected.length !== paths.length) {
    throw new RangeError(
      `${s.id}: ${paths.length} files, but runVolumes gives ${expected?.length}`,
    );
  }
  const parts: Float32Array[] = [];
  for (const [i, path] of paths.entries()) {
    // Volume by volume: the whole 4-D image is never held (nifti_masked.ts).
    const { data: all, volumes: found } = await readMaskedSeries(path, mask);
    const T = expected[i];
    if (found - drop !== T) {
      const which = paths.length > 1 ? `${path}: ` : "";
      return `${which}${found} volumes, but the stimulus needs ${
        T + drop
      } (${T} after dropping ${drop})`;
    }
    parts.push(all.subarray(drop * V));
  }
  if (parts.length === 1) return parts[0];
  const out = new Float32Array(options.volumes * V);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * Read every subject's 4-D image, keep the mask's voxels and screen them.
 *
 * @param mask the analysis mask
 * @param subjects each subject's id and image file (on the mask's grid)
 * @param options volumes required, volumes discarded, the screening's shares
 *   (see {@linkcode LoadScreenedOptions})
 * @returns the verdicts, the usable subjects' (volumes × V') series on the
 *   reduced mask, and the voxels dropped with why
 * @throws {InputError} for a file that cannot be read or is off the mask's grid
 *
 * @example
 * ```ts
 * import { loadScreenedSubjects, maskFromImage, readNifti } from "@brainorg/neuro";
 * const mask = maskFromImage(await readNifti("mask.nii.gz"), "mask.nii.gz");
 * const s = await loadScreenedSubjects(mask, [{ id: "sub-01", path: "sub-01.nii.gz" }], {
 *   volumes: 362,
 * });
 * console.log(s.verdicts, s.dropped.length);
 * ```
 */
export async function loadScreenedSubjects(
  mask: BrainMask,
  subjects: { id: string; path: string | readonly string[] }[],
  options: LoadScreenedOptions,
): Promise<ScreenedSubjects> {
  const drop = options.discarded ?? 0, T = options.volumes, V = mask.indices.length;
  const verdicts: VoxelSubjectVerdict[] = [];
  const kept: { id: string; data: Float32Array; problem: Uint8Array }[] = [];
  for (const s of subjects) {
    const read = await readRuns(mask, s, options);
    if (typeof read === "string") {
      verdicts.push({
        id: s.id,
        usable: false,
        reason: read,
        nonFinite: 0,
        constant: 0,
        lostVolumes: [],
      });
      continue;
    }
    const data = read;
    const screen = screenVoxelSeries(data, T, { ...options, firstVolume: drop });
    verdicts.push({
      id: s.id,
      usable: screen.usable,
      reason: screen.reason,
      nonFinite: screen.nonFinite,
      constant: screen.constant,
      lostVolumes: screen.lostVolumes,
    });
    if (screen.usable && options.onSeries) {
      await options.onSeries(s.id, data);
      kept.push({ id: s.id, data: new Float32Array(0), problem: screen.problem });
    } else if (screen.usable) kept.push({ id: s.id, data, problem: screen.problem });
  }
  const problem = new Uint8Array(V), who: string[][] = Array.from({ length: V }, () => []);
  for (const k of kept) {
    for (let v = 0; v < V; v++) {
      if (!k.problem[v]) continue;
      problem[v] ||= k.problem[v];
      who[v].push(k.id);
    }
  }
  const keep = problem.map((p) => (p ? 0 : 1));
  const reduced = subsetMask(mask, keep);
  const dropped: DroppedVoxel[] = [];
  problem.forEach((p, v) => {
    if (!p) return;
    const index = mask.indices[v];
    dropped.push({
      index,
      ijk: voxelCoordinates(index, mask.grid.shape),
      problem: VOXEL_PROBLEMS[p],
      subjects: who[v],
    });
  });
  // One subject at a time, so that at most one extra copy is ever held.
  if (!options.onSeries) { for (const k of kept) k.data = keepColumns(k.data, T, keep); }
  return { verdicts, series: kept.map(({ id, data }) => ({ id, data })), mask: reduced, dropped };
}

/**
 * The columns of a (rows × V) matrix whose `keep` entry is non-zero.
 *
 * @param data shape (rows, V), row-major
 * @param rows number of rows
 * @param keep per column (V), non-zero to keep it
 * @returns shape (rows, kept), row-major; `data` itself when all are kept
 *
 * @example
 * ```ts
 * import { keepColumns } from "@brainorg/neuro";
 * const x = Float32Array.of(1, 2, 3, 4, 5, 6); // 2 rows × 3 columns
 * const kept = keepColumns(x, 2, [1, 0, 1]); // [1, 3, 4, 6]
 * ```
 */
export function keepColumns(
  data: Float32Array,
  rows: number,
  keep: ArrayLike<number>,
): Float32Array {
  const V = keep.length;
  let n = 0;
  for (let v = 0; v < V; v++) if (keep[v]) n++;
  if (n === V) return data;
  const out = new Float32Array(rows * n);
  for (let t = 0; t < rows; t++) {
    for (let v = 0, j = 0; v < V; v++) if (keep[v]) out[t * n + j++] = data[t * V + v];
  }
  return out;
}
