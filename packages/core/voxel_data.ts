/**
 * The voxel data of an analysis, from the user's files or a generated
 * phantom alike: each subject's 4-D image read, screened (see
 * `loadScreenedSubjects` in `@brainorg/neuro` for the policy) and cleaned,
 * and the data checks' verdicts for the results' `qc/` folder.
 *
 * @module
 */

import { InputError } from "@brainorg/common";
import type { Backend, Matrix } from "@brainorg/kernels";
import {
  type BrainMask,
  type DroppedVoxel,
  formatRanges,
  keepColumns,
  loadScreenedSubjects,
  maskFromImage,
  readNifti,
  screenVoxelSeries,
  subsetMask,
  VOXEL_PROBLEMS,
  voxelCoordinates,
  type VoxelSubjectVerdict,
} from "@brainorg/neuro";
import { cleanSeries } from "./clean.ts";
import {
  type ConfoundPresetName,
  type SubjectConfounds,
  subjectConfounds,
} from "./subject_confounds.ts";
import { RESULT_FILES, type ResultTable } from "./results.ts";
import type { VoxelSpill } from "./voxel_spill.ts";

/** Subjects' 4-D images on a mask, and how to screen and clean them. */
export interface VoxelSource {
  /** The file that named them (the analysis file), for errors. */
  file: string;
  /** The brain mask (NIfTI). */
  mask: string;
  /**
   * Each subject's id, 4-D BOLD image (NIfTI) on the mask's grid — or one
   * per run, in order — and fMRIPrep confounds (one table per file).
   */
  subjects: { id: string; bold: string | string[]; confounds?: string | string[] }[];
  /** The confounds strategy (a nilearn preset) applied where confounds are given. */
  confounds?: ConfoundPresetName;
  /** Volumes dropped at the start of every file. */
  discarded: number;
  /** Largest share of the mask's voxels a kept subject may lose. */
  maxBadVoxelShare: number;
  /** Cut-off (s) of the DCT high-pass. */
  highPassSeconds: number;
}

/** The voxel data of an analysis, checked and cleaned. */
export interface LoadedVoxels {
  /** The analysis mask, less the dropped voxels. */
  mask: BrainMask;
  /** Voxels of the mask as given. */
  maskVoxels: number;
  /**
   * The usable subjects, cleaned: (volumes × voxels) each, and the
   * confounds regressed out of them ((T × C) over the stimulus's volumes),
   * which the regressors get too.
   */
  subjects: { id: string; data: Matrix; confounds?: Matrix }[];
  /** The data checks' verdict on every subject given, usable or not, in order. */
  verdicts: VoxelSubjectVerdict[];
  /** Voxels dropped for every subject (unusable in some subject, before or after cleaning). */
  dropped: DroppedVoxel[];
  /**
   * Volumes kept (1) and censored in some subject (0), where scrubbing
   * censored any: the subjects' rows are already these; the regressors'
   * must be cut alike. (T) over the stimulus's volumes.
   */
  keepRows?: Uint8Array;
  /** The confounds regressed out: the preset, its columns, the volumes censored per subject. */
  confounds?: {
    preset: ConfoundPresetName;
    columns: string[];
    subjects: { id: string; censored: number }[];
  };
  /**
   * Where the subjects' cleaned series are, when the loader was given a
   * spill: `subjects[i].data` then holds their shape but no values, and
   * blocks of voxels are read from here (`voxel_blocks.ts`).
   */
  spill?: VoxelSpill;
}

/**
 * Read, screen and clean the subjects' images (see `loadScreenedSubjects`
 * for the policy). Voxels that the cleaning leaves non-finite or constant
 * (values near float32's limit; a series that is all drift) are dropped
 * for every subject too.
 *
 * @throws {InputError} for an unreadable file, and when fewer than 2
 *   subjects or no voxel remain (naming each exclusion's reason)
 */
export async function loadVoxelSubjects(
  backend: Backend,
  source: VoxelSource,
  options: {
    /** Kept volumes of the stimulus. */
    volumes: number;
    /** Repetition time (s), for the high-pass filter. */
    tr: number;
    /** Volumes of each run, when there are several. */
    runs?: number[];
    log: (line: string) => void;
    /**
     * Keep the series on disk, one subject in memory at a time: the result's
     * `spill`. Default: in memory.
     */
    spill?: VoxelSpill;
  },
): Promise<LoadedVoxels> {
  const { volumes, runs, log, spill } = options;
  const vx = source, config = { file: source.file };
  const full = maskFromImage(await readNifti(vx.mask), vx.mask);
  const screened = await loadScreenedSubjects(
    full,
    vx.subjects.map((s) => ({ id: s.id, path: s.bold })),
    {
      volumes,
      discarded: vx.discarded,
      maxBadVoxelShare: vx.maxBadVoxelShare,
      ...(runs ? { runVolumes: runs } : {}),
      ...(spill ? { onSeries: (id: string, data: Float32Array) => spill.putRaw(id, data) } : {}),
    },
  );
  for (const v of screened.verdicts.filter((v) => v.reason)) {
    log(v.usable ? `${v.id}: ${v.reason}` : `excluded ${v.id}: ${v.reason}`);
  }
  const usable = screened.series.length;
  if (usable < 2) {
    throw new InputError("fewer than 2 usable subjects remain for group maps", {
      file: config.file,
      field: "voxels.subjects",
      expected: "at least 2 subjects whose data pass the checks",
      found: `${usable} usable; ` +
        screened.verdicts.filter((v) => !v.usable).map((v) => `${v.id}: ${v.reason}`).join("; "),
    });
  }
  const noVoxel = () =>
    new InputError("no voxel of the mask is usable in every subject", {
      file: config.file,
      field: "voxels.mask",
      expected: "voxels with finite, varying values in every usable subject",
      found: `all ${full.indices.length} dropped (see each subject's data)`,
    });
  let mask = screened.mask;
  const V = mask.indices.length;
  // Spilled series are on the full mask: the screening's voxels are kept as they are read back.
  const screenedKeep = spill ? keptVoxels(full.indices, mask.indices) : undefined;
  if (V === 0) throw noVoxel();
  const cleaned: LoadedVoxels["subjects"] = [];
  const after = new Uint8Array(V), afterWho: string[][] = Array.from({ length: V }, () => []);
  const confounded: SubjectConfounds[] = [];
  const setAside = (id: string, reason: string) => {
    const v = screened.verdicts.find((v) => v.id === id)!;
    v.usable = false;
    v.reason = reason;
    log(`excluded ${id}: ${reason}`);
  };
  for (const s of screened.series) {
    const given = vx.subjects.find((x) => x.id === s.id)!;
    let nuisance: SubjectConfounds | undefined;
    try {
      nuisance = await subjectConfounds(given, vx.confounds ?? "none", {
        volumes,
        discarded: vx.discarded,
        runs: runs ?? [volumes],
      });
    } catch (err) {
      // A bad confounds table sets its subject aside; the others are analysed.
      if (!(err instanceof InputError)) throw err;
      setAside(s.id, `confounds: ${err.message}`);
      continue;
    }
    if (nuisance && nuisance.censored > MAX_CENSORED_SHARE * volumes) {
      setAside(
        s.id,
        `${nuisance.censored} of ${volumes} volumes censored by scrubbing (more than ` +
          `${MAX_CENSORED_SHARE * 100}%, the exclusion rule of Parkes et al. 2018)`,
      );
      continue;
    }
    if (nuisance) confounded.push(nuisance);
    const raw = spill ? keepColumns(await spill.takeRaw(s.id), volumes, screenedKeep!) : s.data;
    const data = await cleanSeries(backend, { rows: volumes, cols: V, data: raw }, {
      tr: options.tr,
      highPassSeconds: vx.highPassSeconds,
      ...(runs ? { runs } : {}),
      ...(nuisance ? { confounds: nuisance.matrix, sampleMask: nuisance.sampleMask } : {}),
    });
    const check = screenVoxelSeries(data.data, volumes, {
      maxBadVoxelShare: 1,
      lostVolumeShare: 1,
    });
    check.problem.forEach((p, v) => p && ((after[v] ||= p), afterWho[v].push(s.id)));
    cleaned.push({
      id: s.id,
      data: spill ? await spill.putCleaned(s.id, data) : data,
      ...(nuisance ? { confounds: nuisance.matrix } : {}),
    });
    // The raw series is no longer needed: let it go before the next is cleaned.
    s.data = new Float32Array(0);
  }
  if (cleaned.length < 2) {
    throw new InputError("fewer than 2 usable subjects remain for group maps", {
      file: config.file,
      field: "voxels.subjects",
      expected: "at least 2 subjects whose data and confounds pass the checks",
      found: screened.verdicts.filter((v) => !v.usable).map((v) => `${v.id}: ${v.reason}`)
        .join("; "),
    });
  }
  const keepRows = censoredRows(confounded, volumes);
  if (keepRows) {
    const kept = keepRows.reduce((n, k) => n + k, 0);
    log(
      `scrubbing: ${volumes - kept} of ${volumes} volumes censored in some subject are left ` +
        "out of every fit and fold (one design serves all subjects)",
    );
    for (const c of cleaned) {
      c.data = spill
        ? { rows: kept, cols: c.data.cols, data: c.data.data }
        : keepMatrixRows(c.data, keepRows);
    }
  }
  const dropped = [...screened.dropped];
  if (after.some((p) => p)) {
    const keep = after.map((p) => (p ? 0 : 1));
    after.forEach((p, v) => {
      if (!p) return;
      const index = mask.indices[v];
      dropped.push({
        index,
        ijk: voxelCoordinates(index, mask.grid.shape),
        problem: `${VOXEL_PROBLEMS[p]} after high-pass filtering`,
        subjects: afterWho[v],
      });
    });
    mask = subsetMask(mask, keep);
    for (const c of cleaned) {
      c.data = {
        rows: c.data.rows,
        cols: mask.indices.length,
        data: spill ? c.data.data : keepColumns(c.data.data, c.data.rows, keep),
      };
    }
    spill?.finish({ voxels: V, ...(keepRows ? { keepRows } : {}), keepColumns: keep });
  } else spill?.finish({ voxels: V, ...(keepRows ? { keepRows } : {}) });
  if (mask.indices.length === 0) throw noVoxel();
  if (dropped.length) {
    log(
      `voxels: ${dropped.length} of ${full.indices.length} dropped for every subject ` +
        `(non-finite or constant in some subject; qc/voxels_dropped.csv)`,
    );
  }
  if (confounded.length) {
    const total = confounded.reduce((n, c) => n + c.censored, 0);
    log(
      `confounds (${vx.confounds}): ${confounded[0].columns.length} columns regressed out of ` +
        `${confounded.length} subjects` + (total ? `, ${total} volumes censored` : ""),
    );
  }
  return {
    mask,
    maskVoxels: full.indices.length,
    subjects: cleaned,
    verdicts: screened.verdicts,
    dropped,
    ...(keepRows ? { keepRows } : {}),
    ...(spill ? { spill } : {}),
    ...(confounded.length
      ? {
        confounds: {
          preset: vx.confounds!,
          columns: confounded[0].columns,
          subjects: confounded.map((c) => ({ id: c.id, censored: c.censored })),
        },
      }
      : {}),
  };
}

/**
 * Which of a mask's voxels a reduced mask kept.
 *
 * @param full the mask's voxel indices (ascending, as masks hold them)
 * @param kept the reduced mask's (a subset, ascending)
 * @returns (full's length) 1 kept, 0 dropped
 */
function keptVoxels(full: Int32Array | ArrayLike<number>, kept: ArrayLike<number>): Uint8Array {
  const keep = new Uint8Array(full.length);
  for (let v = 0, k = 0; v < full.length && k < kept.length; v++) {
    if (full[v] === kept[k]) (keep[v] = 1), k++;
  }
  return keep;
}

/**
 * Largest share of a subject's volumes scrubbing may censor before the
 * subject is set aside (Parkes et al. 2018, NeuroImage 171: 415–436, exclude
 * subjects with more than 20% of volumes censored).
 */
export const MAX_CENSORED_SHARE = 0.2;

/**
 * The volumes every subject kept, where scrubbing censored any: one design
 * (atoms, folds, null) serves all subjects, so a volume censored in one is
 * left out for all.
 *
 * @returns (T) 1 kept, 0 censored; undefined when nothing is censored
 */
function censoredRows(confounded: SubjectConfounds[], volumes: number): Uint8Array | undefined {
  if (!confounded.some((c) => c.censored > 0)) return undefined;
  const keep = new Uint8Array(volumes).fill(1);
  for (const c of confounded) for (let t = 0; t < volumes; t++) keep[t] &= c.sampleMask[t];
  return keep;
}

/**
 * The rows of a matrix whose `keep` entry is non-zero.
 *
 * @param m (T × C)
 * @param keep (T)
 * @returns (kept × C), a copy
 */
export function keepMatrixRows(m: Matrix, keep: Uint8Array): Matrix {
  const rows = keep.reduce((n, k) => n + (k ? 1 : 0), 0);
  const data = new Float32Array(rows * m.cols);
  let r = 0;
  for (let t = 0; t < m.rows; t++) {
    if (keep[t]) data.set(m.data.subarray(t * m.cols, (t + 1) * m.cols), (r++) * m.cols);
  }
  return { rows, cols: m.cols, data };
}

/** The data checks' tables: every subject's verdict, and the voxels dropped for all. */
export function voxelQcTables(loaded: LoadedVoxels): ResultTable[] {
  return [
    {
      ...RESULT_FILES.voxelSubjects,
      rows: loaded.verdicts.map((v) => ({ ...v, lostVolumes: formatRanges(v.lostVolumes) })),
    },
    {
      ...RESULT_FILES.voxelsDropped,
      rows: loaded.dropped.map((d) => ({
        i: d.ijk[0],
        j: d.ijk[1],
        k: d.ijk[2],
        problem: d.problem,
        subjects: d.subjects.join(" "),
      })),
    },
  ];
}
