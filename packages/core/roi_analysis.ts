/**
 * ROI-level encoding of a user's data: each subject's ROI table (volumes ×
 * regions) predicted from each model's atoms, held-out r with circular-shift
 * p-values, FDR over all tests, and across-subject statistics per ROI.
 * Subjects whose tables fail the checks are excluded, with the reason.
 *
 * @module
 */

import type { Backend, Matrix } from "@brainorg/kernels";
import { checkSeries, readRoiTable } from "@brainorg/neuro";
import {
  encodeTargets,
  groupScores,
  type RoiGroupScore,
  roiRows,
  type RoiScore,
} from "./roi_encoding.ts";
import { benjaminiHochberg, zscoreColumns } from "./stats.ts";

/** What the ROI analysis found. */
export interface RoiAnalysis {
  rois: string[];
  subjects: { id: string; usable: boolean; reason: string }[];
  rows: (RoiScore & { model: string })[];
  group: (RoiGroupScore & { model: string })[];
}

/**
 * Encode every usable subject's ROIs from each model's atoms.
 *
 * @param atoms per model, its atoms (T × K) on the TR grid
 */
export async function analyzeRois(
  backend: Backend,
  subjects: { id: string; table: string }[],
  atoms: { name: string; atoms: Matrix }[],
  options: {
    volumes: number;
    discarded: number;
    columns?: string[];
    permutations: number;
    seed: number;
  },
): Promise<RoiAnalysis> {
  const verdicts: RoiAnalysis["subjects"] = [];
  const usable: { id: string; y: Matrix }[] = [];
  let rois: string[] = [];
  for (const s of subjects) {
    const table = await readRoiTable(s.table, options.columns ? { columns: options.columns } : {});
    const R = table.columns.length, T = table.rows - options.discarded;
    const kept = {
      ...table,
      rows: Math.max(0, T),
      data: table.data.subarray(options.discarded * R),
    };
    const problems = checkSeries(kept, { expectedRows: options.volumes }).map((p) =>
      `${p.column}: ${p.problem} (${p.detail})`
    );
    // Regions are compared across subjects by name: every table must name the same ones.
    if (rois.length && table.columns.join("\u0000") !== rois.join("\u0000")) {
      problems.push(`regions ${table.columns.join(" ")} differ from the first usable subject's`);
    }
    verdicts.push({ id: s.id, usable: problems.length === 0, reason: problems.join("; ") });
    if (problems.length) continue;
    if (!rois.length) rois = table.columns;
    usable.push({
      id: s.id,
      y: zscoreColumns({ rows: T, cols: R, data: Float32Array.from(kept.data) }),
    });
  }
  const rows: RoiAnalysis["rows"] = [];
  for (const m of atoms) {
    const x = zscoreColumns(m.atoms);
    for (const u of usable) {
      const fit = await encodeTargets(backend, x, u.y, {
        permutations: options.permutations,
        seed: options.seed,
      });
      rows.push(...roiRows(fit, rois, u.id).map((r) => ({ ...r, model: m.name })));
    }
  }
  const q = benjaminiHochberg(rows.map((r) => r.p));
  rows.forEach((r, i) => (r.q = q[i]));
  const group = atoms.flatMap((m) =>
    groupScores(rows.filter((r) => r.model === m.name), rois).map((g) => ({ ...g, model: m.name }))
  );
  return { rois, subjects: verdicts, rows, group };
}
