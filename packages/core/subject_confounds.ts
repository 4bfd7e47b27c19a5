/**
 * A subject's nuisance regressors: fMRIPrep's confounds table of each run,
 * selected by a nilearn `load_confounds` preset, the runs end to end as the
 * BOLD rows are, with the volumes scrubbing censors.
 *
 * @module
 */

import { InputError } from "@brainorg/common";
import type { Matrix } from "@brainorg/kernels";
import {
  CONFOUND_PRESETS,
  readConfoundsTable,
  selectConfounds,
  stackConfoundRuns,
} from "@brainorg/neuro";

/** A confounds preset's name (nilearn's `load_confounds_strategy`), or `none`. */
export type ConfoundPresetName = keyof typeof CONFOUND_PRESETS;

/** A subject's confounds, ready for the cleaning. */
export interface SubjectConfounds {
  /** The subject. */
  id: string;
  /** The columns used (in any run; zeros in a run without one). */
  columns: string[];
  /** (T × C), runs end to end. */
  matrix: Matrix;
  /** (T): 1 kept, 0 censored by scrubbing. */
  sampleMask: Uint8Array;
  /** Volumes censored. */
  censored: number;
}

/**
 * Read and select a subject's confounds: one table per BOLD file, each with
 * a row per acquired volume (the first `discarded` are dropped, as from the
 * BOLD).
 *
 * @returns undefined where the preset is `none` or the subject has no confounds files
 * @throws {InputError} for a table whose rows do not match its run, or a
 *   column the preset needs and the table lacks
 */
export async function subjectConfounds(
  subject: { id: string; bold: string | string[]; confounds?: string | string[] },
  preset: ConfoundPresetName,
  options: { volumes: number; discarded: number; runs: number[] },
): Promise<SubjectConfounds | undefined> {
  if (preset === "none" || subject.confounds === undefined) return undefined;
  const files = typeof subject.confounds === "string" ? [subject.confounds] : subject.confounds;
  const { runs, discarded, volumes } = options;
  if (files.length !== runs.length) {
    throw new InputError("confounds tables do not match the runs", {
      file: files[0],
      field: `voxels.subjects (${subject.id}).confounds`,
      expected: `${runs.length} tables, one per run`,
      found: `${files.length}`,
    });
  }
  const selections = [];
  for (const [i, file] of files.entries()) {
    const table = await readConfoundsTable(file);
    if (table.rows !== runs[i] + discarded) {
      throw new InputError("confounds table has the wrong number of rows", {
        file,
        field: "rows",
        expected: `${runs[i] + discarded} (one per acquired volume of the run)`,
        found: `${table.rows}`,
      });
    }
    // The discarded volumes go first, so that demeaning and scrubbing see the run as analysed.
    const C = table.columns.length;
    const kept = { ...table, rows: runs[i], data: table.data.subarray(discarded * C) };
    selections.push(selectConfounds(kept, CONFOUND_PRESETS[preset]));
  }
  // Runs may differ in columns (CompCor keeps a number per run): zeros where one lacks a column.
  const all = stackConfoundRuns(selections);
  return {
    id: subject.id,
    columns: all.columns,
    matrix: { rows: volumes, cols: all.columns.length, data: all.matrix.data },
    sampleMask: all.sampleMask,
    censored: all.censored,
  };
}
