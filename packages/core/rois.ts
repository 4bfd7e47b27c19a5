/**
 * The ROI level: each subject's ROI table (volumes × regions) predicted
 * from each model's atoms, and, where the analysis names a baseline model
 * (e.g. the Alice authors' word rate and sound power), from the baseline
 * alone and from the atoms with it, whose gain over the baseline is
 * tested. Held-out r with circular-shift p-values, Benjamini–Hochberg FDR
 * within each regressor set (one family: all usable subjects × ROIs), and
 * across-subject statistics per ROI. Subjects whose tables or baseline
 * regressors fail the checks are excluded, with the reason.
 *
 * @module
 */

import { InputError } from "@brainorg/common";
import type { Backend, Matrix } from "@brainorg/kernels";
import { checkSeries, readRoiTable } from "@brainorg/neuro";
import type { AnalysisConfig } from "./analysis_config.ts";
import { bootstrapSummary, withRoiIntervals } from "./bootstrap_files.ts";
import { encodeTargets, groupScores, roiRows } from "./roi_encoding.ts";
import type {
  ModelRoiGroup,
  RoiGroupScore,
  RoiScore,
  RoiSummary,
  SubjectVerdict,
} from "./results.ts";
import { benjaminiHochberg, fisherZ, pairedT, zscoreColumns } from "./stats.ts";
import { readRegressor } from "./stimulus.ts";
import { roiVariancePartition, type RoiVarianceRow } from "./variance_partition.ts";

/** Contiguous folds of every ROI fit. */
export const ROI_FOLDS = 5;

/** What the ROI level found: the summary and the per-subject rows behind it. */
export interface RoiResults {
  /** What `summary.json` records of the ROI level. */
  summary: RoiSummary;
  /** The baseline's rows (subject × ROI), where there is a baseline. */
  baselineRows: RoiScore[];
  /** Every model's rows, per regressor set. */
  modelRows: (RoiScore & { model: string; variant: ModelRoiGroup["variant"] })[];
  /** Variance partitioning atoms vs baseline per model × subject × ROI, where there is a baseline. */
  variancePartitionRows: RoiVarianceRow[];
}

/** A usable subject's z-scored ROI data and baseline regressors. */
export interface UsableSubject {
  /** Subject id, as in the analysis file. */
  id: string;
  /** ROI time series, z-scored per ROI: [volumes × ROIs], discarded volumes dropped. */
  y: Matrix;
  /** Baseline regressors, z-scored: [volumes × regressors]; absent without a baseline. */
  baseline?: Matrix;
}

/**
 * Read and check every subject's ROI table (and baseline regressors).
 *
 * @returns the verdicts, the usable subjects' data, and the regions
 */
export async function readRoiSubjects(
  rois: NonNullable<AnalysisConfig["rois"]>,
  volumes: number,
): Promise<{ verdicts: SubjectVerdict[]; usable: UsableSubject[]; regions: string[] }> {
  const verdicts: SubjectVerdict[] = [], usable: UsableSubject[] = [];
  let regions: string[] = [];
  for (const s of rois.subjects) {
    const table = await readRoiTable(s.table, rois.columns ? { columns: rois.columns } : {});
    const R = table.columns.length, T = table.rows - rois.discarded;
    const kept = { ...table, rows: Math.max(0, T), data: table.data.subarray(rois.discarded * R) };
    const problems = checkSeries(kept, { expectedRows: volumes }).map((p) =>
      `${p.column}: ${p.problem} (${p.detail})`
    );
    // Regions are compared across subjects by name: every table must name the same ones.
    if (regions.length && table.columns.join("\u0000") !== regions.join("\u0000")) {
      problems.push(`regions ${table.columns.join(" ")} differ from the first usable subject's`);
    }
    const columns: Float32Array[] = [];
    for (const file of s.baseline ?? []) {
      try {
        columns.push(await readRegressor(file, volumes));
      } catch (err) {
        if (!(err instanceof InputError)) throw err;
        problems.push(`baseline ${file}: ${err.message}`);
      }
    }
    verdicts.push({ id: s.id, usable: problems.length === 0, reason: problems.join("; ") });
    if (problems.length) continue;
    if (!regions.length) regions = table.columns;
    const B = columns.length;
    usable.push({
      id: s.id,
      y: zscoreColumns({ rows: T, cols: R, data: Float32Array.from(kept.data) }),
      ...(B
        ? {
          baseline: zscoreColumns({
            rows: volumes,
            cols: B,
            data: Float32Array.from({ length: volumes * B }, (_, i) => columns[i % B][(i / B) | 0]),
          }),
        }
        : {}),
    });
  }
  return { verdicts, usable, regions };
}

/** Columns of a and b side by side: (T × (Ka + Kb)). */
function besides(a: Matrix, b: Matrix): Matrix {
  const T = a.rows, K = a.cols + b.cols, data = new Float32Array(T * K);
  for (let t = 0; t < T; t++) {
    data.set(a.data.subarray(t * a.cols, (t + 1) * a.cols), t * K);
    data.set(b.data.subarray(t * b.cols, (t + 1) * b.cols), t * K + a.cols);
  }
  return { rows: T, cols: K, data };
}

/** One regressor set fit on every usable subject, q over the family. */
async function encodeFamily(
  backend: Backend,
  usable: UsableSubject[],
  regions: string[],
  regressors: (u: UsableSubject) => Matrix,
  options: { permutations: number; seed: number },
): Promise<RoiScore[]> {
  const rows: RoiScore[] = [];
  for (const u of usable) {
    const fit = await encodeTargets(backend, regressors(u), u.y, {
      folds: ROI_FOLDS,
      permutations: options.permutations,
      seed: options.seed,
    });
    rows.push(...roiRows(fit, regions, u.id));
  }
  const q = benjaminiHochberg(rows.map((r) => r.p));
  rows.forEach((r, i) => (r.q = q[i]));
  return rows;
}

/** Mean r gain over the baseline in the same subjects, and its paired t of Fisher z. */
function gainOver(
  rows: RoiScore[],
  baseline: RoiScore[],
): { gainOverBaseline: number; tGain: number } {
  const pairs = rows.map((m) => [m, baseline.find((b) => b.subject === m.subject)!] as const);
  if (!pairs.length) return { gainOverBaseline: NaN, tGain: NaN };
  const { t } = pairedT(pairs.map(([m]) => [fisherZ(m.r)]), pairs.map(([, b]) => [fisherZ(b.r)]));
  return {
    gainOverBaseline: pairs.reduce((a, [m, b]) => a + m.r - b.r, 0) / pairs.length,
    tGain: t[0] ?? NaN,
  };
}

/**
 * Encode every usable subject's ROIs from the baseline (if any) and from
 * each model's atoms (with the baseline too, if any).
 *
 * @param subjects from {@linkcode readRoiSubjects}
 * @param models per model, its atoms (T × K) on the TR grid
 * @param onModel called after each model's fits, e.g. to log its group rows
 */
export async function analyzeRois(
  backend: Backend,
  subjects: Awaited<ReturnType<typeof readRoiSubjects>>,
  models: { name: string; atoms: Matrix }[],
  options: {
    baseline?: string[];
    permutations: number;
    seed: number;
    /** Resamples of the subjects for the group scores' 95% intervals (0 or absent: none). */
    bootstrap?: number;
    onModel?: (groups: ModelRoiGroup[]) => void;
  },
): Promise<RoiResults> {
  const { verdicts, usable, regions } = subjects;
  const hasBaseline = usable.some((u) => u.baseline);
  const baselineRows = hasBaseline
    ? await encodeFamily(backend, usable, regions, (u) => u.baseline!, options)
    : [];
  const ids = usable.map((u) => u.id), B = options.bootstrap ?? 0;
  // The same draws for every set, so a gain pairs each subject with itself.
  const intervals = <G extends RoiGroupScore>(rows: RoiScore[], g: G[], paired: boolean) =>
    B > 0
      ? withRoiIntervals(ids, rows, g, {
        resamples: B,
        seed: options.seed,
        ...(paired ? { baseline: baselineRows } : {}),
      })
      : g;
  const baselineGroup: RoiGroupScore[] = hasBaseline
    ? intervals(baselineRows, groupScores(baselineRows, regions), false)
    : [];
  const modelRows: RoiResults["modelRows"] = [];
  const groups: ModelRoiGroup[] = [];
  for (const m of models) {
    const atoms = zscoreColumns(m.atoms);
    const variants: [ModelRoiGroup["variant"], (u: UsableSubject) => Matrix][] = [
      ["atoms", () => atoms],
      ...(hasBaseline
        ? [["atoms+baseline", (u: UsableSubject) => besides(atoms, u.baseline!)] as [
          ModelRoiGroup["variant"],
          (u: UsableSubject) => Matrix,
        ]]
        : []),
    ];
    const mine: ModelRoiGroup[] = [];
    for (const [variant, regressors] of variants) {
      const rows = await encodeFamily(backend, usable, regions, regressors, options);
      modelRows.push(...rows.map((r) => ({ ...r, model: m.name, variant })));
      const scored: ModelRoiGroup[] = [];
      for (const g of groupScores(rows, regions)) {
        scored.push({
          ...g,
          model: m.name,
          variant,
          ...(hasBaseline
            ? gainOver(
              rows.filter((r) => r.roi === g.roi),
              baselineRows.filter((b) => b.roi === g.roi),
            )
            : { gainOverBaseline: NaN, tGain: NaN }),
        });
      }
      mine.push(...intervals(rows, scored, hasBaseline));
    }
    options.onModel?.(mine);
    groups.push(...mine);
  }
  // The baseline as the low-level band of a banded ridge with the atoms.
  const partition = hasBaseline
    ? await roiVariancePartition(
      backend,
      usable.map((u) => ({ id: u.id, y: u.y, lowLevel: u.baseline! })),
      regions,
      models,
      { folds: ROI_FOLDS, lowLevel: options.baseline ?? [] },
    )
    : undefined;
  return {
    summary: {
      rois: regions,
      subjects: verdicts,
      folds: ROI_FOLDS,
      permutations: options.permutations,
      ...(hasBaseline
        ? { baseline: { regressors: options.baseline ?? [], group: baselineGroup } }
        : {}),
      models: groups,
      ...(partition ? { variancePartition: partition.summary } : {}),
      ...(B > 0
        ? {
          bootstrap: bootstrapSummary(
            B,
            options.seed,
            "subjects drawn with replacement, the same draws for every ROI and regressor set " +
              "(a gain pairs each subject's r with its own baseline r); percentile intervals",
          ),
        }
        : {}),
    },
    baselineRows,
    modelRows,
    variancePartitionRows: partition?.rows ?? [],
  };
}
