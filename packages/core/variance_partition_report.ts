/**
 * The report's section on variance partitioning (`report.ts` places it):
 * the ROI level's group table and the voxel level's medians per model.
 *
 * @module
 */

import type { ResultsSummary } from "./results.ts";

const esc = (v: unknown): string =>
  String(v).replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!,
  );

const num = (v: number, digits = 4): string => (Number.isFinite(v) ? v.toFixed(digits) : "–");

function table(head: string[], rows: string[][]): string {
  return `<table><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join("")}</tr></thead><tbody>${
    rows.map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join("")}</tr>`).join("")
  }</tbody></table>`;
}

/**
 * The HTML section, or "" where neither level partitioned the variance.
 *
 * @param summary the run's summary
 * @returns an `<h2>` section with one table per level
 */
export function variancePartitionSection(summary: ResultsSummary): string {
  const roi = summary.rois?.variancePartition;
  const voxels = (summary.voxel?.models ?? []).filter((m) => m.variancePartition);
  if (!roi && !voxels.length) return "";
  const parts = [`<h2>Variance partitioning: atoms vs low-level regressors</h2>
<p>Banded ridge, one penalty per band chosen by cross-validation over the product grid; R² is
held out (mean over folds). Unique atoms = R²(atoms + low level) − R²(low level alone); unique
low level = R²(atoms + low level) − R²(atoms alone); shared = the sum of the two alone − the
joint.</p>`];
  if (roi) {
    parts.push(`<p>ROIs, low level: ${esc(roi.lowLevel.join(" + "))}; ${roi.folds} folds, each
scored on its own variation (predictions and data centered on the fold's means: the tables' means
drift between folds); mean over subjects, one-sample t (<code>encoding/variance_partition_group.csv</code>, per subject in
<code>encoding/variance_partition_roi.csv</code>).</p>${
      table(
        ["model", "ROI", "R² joint", "unique atoms", "t", "unique low level", "t", "shared"],
        roi.group.map((g) => [
          g.model,
          g.roi,
          num(g.r2Joint),
          num(g.uniqueAtoms),
          num(g.tUniqueAtoms, 2),
          num(g.uniqueLowLevel),
          num(g.tUniqueLowLevel, 2),
          num(g.shared),
        ]),
      )
    }`);
  }
  if (voxels.length) {
    const first = voxels[0].variancePartition!;
    parts.push(
      `<p>Voxels, low level: ${
        esc(first.lowLevel.join(" + "))
      }; maps averaged over ${first.subjects} subjects (<code>voxels/&lt;model&gt;/unique_atoms_r2.nii.gz</code>,
<code>unique_lowlevel_r2.nii.gz</code>, <code>shared_r2.nii.gz</code>); medians over all voxels
and over the ${first.topVoxels} with the best joint R².</p>${
        table(
          [
            "model",
            "R² joint",
            "unique atoms",
            "unique low level",
            "shared",
            "voxels unique atoms > 0",
            "top: unique atoms",
            "top: unique low level",
            "top: shared",
          ],
          voxels.map((m) => {
            const v = m.variancePartition!;
            return [
              m.name,
              num(v.medianR2Joint),
              num(v.medianUniqueAtoms),
              num(v.medianUniqueLowLevel),
              num(v.medianShared),
              `${(100 * v.positiveUniqueAtoms).toFixed(1)}%`,
              num(v.topMedianUniqueAtoms),
              num(v.topMedianUniqueLowLevel),
              num(v.topMedianShared),
            ];
          }),
        )
      }`,
    );
  }
  return parts.join("\n");
}
