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
import { RESULT_FILES, type ResultTable } from "./results.ts";

/** Subjects' 4-D images on a mask, and how to screen and clean them. */
export interface VoxelSource {
  /** The file that named them (the analysis file), for errors. */
  file: string;
  /** The brain mask (NIfTI). */
  mask: string;
  /** Each subject's id and 4-D BOLD image (NIfTI) on the mask's grid. */
  subjects: { id: string; bold: string }[];
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
  /** The usable subjects, cleaned: (volumes × voxels) each. */
  subjects: { id: string; data: Matrix }[];
  /** The data checks' verdict on every subject given, usable or not, in order. */
  verdicts: VoxelSubjectVerdict[];
  /** Voxels dropped for every subject (unusable in some subject, before or after cleaning). */
  dropped: DroppedVoxel[];
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
  },
): Promise<LoadedVoxels> {
  const { volumes, runs, log } = options;
  const vx = source, config = { file: source.file };
  const full = maskFromImage(await readNifti(vx.mask), vx.mask);
  const screened = await loadScreenedSubjects(
    full,
    vx.subjects.map((s) => ({ id: s.id, path: s.bold })),
    { volumes, discarded: vx.discarded, maxBadVoxelShare: vx.maxBadVoxelShare },
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
  if (V === 0) throw noVoxel();
  const cleaned: { id: string; data: Matrix }[] = [];
  const after = new Uint8Array(V), afterWho: string[][] = Array.from({ length: V }, () => []);
  for (const s of screened.series) {
    const data = await cleanSeries(backend, { rows: volumes, cols: V, data: s.data }, {
      tr: options.tr,
      highPassSeconds: vx.highPassSeconds,
      ...(runs ? { runs } : {}),
    });
    const check = screenVoxelSeries(data.data, volumes, {
      maxBadVoxelShare: 1,
      lostVolumeShare: 1,
    });
    check.problem.forEach((p, v) => p && ((after[v] ||= p), afterWho[v].push(s.id)));
    cleaned.push({ id: s.id, data });
    // The raw series is no longer needed: let it go before the next is cleaned.
    s.data = new Float32Array(0);
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
        rows: volumes,
        cols: mask.indices.length,
        data: keepColumns(c.data.data, volumes, keep),
      };
    }
  }
  if (mask.indices.length === 0) throw noVoxel();
  if (dropped.length) {
    log(
      `voxels: ${dropped.length} of ${full.indices.length} dropped for every subject ` +
        `(non-finite or constant in some subject; qc/voxels_dropped.csv)`,
    );
  }
  return {
    mask,
    maskVoxels: full.indices.length,
    subjects: cleaned,
    verdicts: screened.verdicts,
    dropped,
  };
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
