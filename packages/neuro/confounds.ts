/**
 * fMRIPrep's confounds (`*_desc-confounds_timeseries.tsv`) and the choice of
 * which to regress out, with the semantics of nilearn's
 * `interfaces.fmriprep.load_confounds` (nilearn 0.13.0, current in 2025):
 * noise components (motion, WM/CSF, global signal, CompCor, cosines) grouped
 * into strategies, scrubbing of high-motion volumes, and fMRIPrep's
 * non-steady-state volumes always censored.
 *
 * @module
 */

import { InputError } from "@brainorg/common";
import type { ConfoundsSidecar, ConfoundsTable } from "./confounds_table.ts";

export * from "./confounds_table.ts";

/** A float32 row-major matrix (the shape of `@brainorg/kernels`' `Matrix`). */
export interface ConfoundMatrix {
  /** Number of rows (volumes). */
  rows: number;
  /** Number of columns (confounds). */
  cols: number;
  /** Shape (rows, cols), row-major. */
  data: Float32Array;
}

/**
 * How a time series enters: "basic" (the series), "derivatives" (and its
 * `_derivative1`), "power2" (and its `_power2`), "full" (both, and
 * `_derivative1_power2`): 1, 2, 2 or 4 columns per series.
 */
export type ConfoundModel = "basic" | "power2" | "derivatives" | "full";

/**
 * Which CompCor components (nilearn's names): `a_comp_cor` of the combined
 * WM+CSF mask, `w_comp_cor` + `c_comp_cor` of the separate masks,
 * `t_comp_cor` (temporal), or temporal with either anatomical kind.
 */
export type CompcorKind =
  | "anat_combined"
  | "anat_separated"
  | "temporal"
  | "temporal_anat_combined"
  | "temporal_anat_separated";

/** Scrubbing: volumes of high motion are censored (nilearn's `scrub`). */
export interface ScrubOptions {
  /** Framewise displacement (mm) above which a volume is censored. nilearn ≥ 0.13.0: 0.5 (0.9–0.12: 0.2). */
  fdThreshold: number;
  /** Standardized DVARS above which a volume is censored. nilearn ≥ 0.13.0: 1.5 (0.9–0.12: 3). */
  stdDvarsThreshold: number;
  /** Runs of kept volumes shorter than this, between or beside censored ones, are censored too; 0 keeps them. nilearn: 5. */
  minSegment: number;
}

/** The confounds to regress out (nilearn's `strategy` and its parameters); an absent field is not used. */
export interface ConfoundStrategy {
  /** The 6 rigid-body parameters trans_x … rot_z, in {@linkcode ConfoundModel} expansion (6/12/12/24 columns). */
  motion?: ConfoundModel;
  /** Mean signals of CSF and white matter (2/4/4/8 columns). */
  wmCsf?: ConfoundModel;
  /** Global signal (1/2/2/4 columns). */
  globalSignal?: ConfoundModel;
  /** CompCor components: the first `components` of each kind, or all that fMRIPrep retained. Needs `highPass`. */
  compcor?: { kind: CompcorKind; components: number | "all" };
  /** fMRIPrep's discrete cosine regressors `cosineXX` (none when the table has none, as nilearn). */
  highPass?: boolean;
  /** Censor high-motion volumes (see {@linkcode ScrubOptions}). */
  scrub?: ScrubOptions;
}

/**
 * nilearn's `load_confounds_strategy` presets, from nilearn 0.13.0 (the
 * scrubbing thresholds were 0.2 mm and 3 from 0.9.0 to 0.12.1; nilearn's own
 * table of presets in that docstring still shows those). "none" selects no
 * confounds (non-steady-state volumes are still censored). nilearn's
 * "ica_aroma" preset needs fMRIPrep's AROMA-denoised images and is left out.
 */
export const CONFOUND_PRESETS: Readonly<
  Record<"none" | "simple" | "scrubbing" | "compcor", ConfoundStrategy>
> = Object.freeze({
  none: {},
  simple: { highPass: true, motion: "full", wmCsf: "basic" },
  scrubbing: {
    highPass: true,
    motion: "full",
    wmCsf: "full",
    scrub: { fdThreshold: 0.5, stdDvarsThreshold: 1.5, minSegment: 5 },
  },
  compcor: {
    highPass: true,
    motion: "full",
    compcor: { kind: "anat_combined", components: "all" },
  },
});

/** Options of {@linkcode selectConfounds}. */
export interface SelectConfoundsOptions {
  /**
   * The table's JSON sidecar. Needed only for tables of fMRIPrep < 21, whose
   * `a_comp_cor_XX` mix the combined, WM and CSF masks (told apart by the
   * sidecar's `Mask`); without it every `a_comp_cor_XX` counts as the
   * combined mask, as fMRIPrep ≥ 21 writes them. Default: none.
   */
  sidecar?: ConfoundsSidecar;
  /** Subtract each column's mean over the kept volumes (nilearn's `demean`). Default: true. */
  demean?: boolean;
}

/** Confounds chosen from a table, and which volumes to keep. */
export interface ConfoundSelection {
  /** The columns used, in the matrix's order (nilearn sorts them by name; the set is the same). */
  columns: string[];
  /** (T × C) float32, row-major; first-row `n/a` replaced by the second row's value, as nilearn. */
  matrix: ConfoundMatrix;
  /** Length T: 1 = kept, 0 = censored (non-steady-state, scrubbed). */
  sampleMask: Uint8Array;
  /** Number of censored volumes. */
  censored: number;
}

const MODELS: readonly ConfoundModel[] = ["basic", "power2", "derivatives", "full"];
const KINDS: readonly CompcorKind[] = [
  "anat_combined",
  "anat_separated",
  "temporal",
  "temporal_anat_combined",
  "temporal_anat_separated",
];
const SUFFIXES: Record<ConfoundModel, string[]> = {
  basic: [],
  derivatives: ["_derivative1"],
  power2: ["_power2"],
  full: ["_derivative1", "_power2", "_derivative1_power2"],
};
const MOTION = ["trans_x", "trans_y", "trans_z", "rot_x", "rot_y", "rot_z"];

/** The series, then each one's expansions (nilearn's `add_suffix`). */
function expand(bases: string[], model: ConfoundModel): string[] {
  return [...bases, ...bases.flatMap((b) => SUFFIXES[model].map((s) => b + s))];
}

/** Column names like `a_comp_cor_03`, `cosine00` that have the prefix, by their number. */
function numbered(columns: string[], prefix: string): string[] {
  const re = new RegExp(`^${prefix}(\\d+)$`);
  return columns.filter((c) => re.test(c)).sort((a, b) =>
    Number(re.exec(a)![1]) - Number(re.exec(b)![1])
  );
}

/** The table's columns in a few words: numbered series collapsed to `first … last (n)`. */
function summarize(columns: string[]): string {
  const groups = new Map<string, string[]>();
  for (const c of columns) {
    const key = c.replace(/\d+$/, "#");
    groups.set(key, [...(groups.get(key) ?? []), c]);
  }
  const parts = [...groups.values()].map((g) =>
    g.length > 2 ? `${g[0]} … ${g[g.length - 1]} (${g.length})` : g.join(", ")
  );
  return `${columns.length} columns: ${parts.join(", ")}`;
}

function checkStrategy(s: ConfoundStrategy): void {
  const fail = (field: string, expected: string, found: unknown) => {
    throw new InputError("confound strategy is not valid", {
      field: `strategy.${field}`,
      expected,
      found: JSON.stringify(found),
    });
  };
  for (const k of ["motion", "wmCsf", "globalSignal"] as const) {
    if (s[k] !== undefined && !MODELS.includes(s[k])) fail(k, MODELS.join(" | "), s[k]);
  }
  if (s.compcor) {
    if (!KINDS.includes(s.compcor.kind)) fail("compcor.kind", KINDS.join(" | "), s.compcor.kind);
    const n = s.compcor.components;
    if (n !== "all" && !(Number.isInteger(n) && n >= 1)) {
      fail("compcor.components", `a whole number ≥ 1 or "all"`, n);
    }
    // fMRIPrep computes CompCor after its cosine high-pass, so nilearn requires both.
    if (!s.highPass) {
      fail("highPass", "true with compcor (CompCor components are high-passed)", s.highPass);
    }
  }
  if (s.scrub) {
    const { fdThreshold, stdDvarsThreshold, minSegment } = s.scrub;
    if (!(fdThreshold >= 0 && Number.isFinite(fdThreshold))) {
      fail("scrub.fdThreshold", "a number ≥ 0 (mm)", fdThreshold);
    }
    if (!(stdDvarsThreshold >= 0 && Number.isFinite(stdDvarsThreshold))) {
      fail("scrub.stdDvarsThreshold", "a number ≥ 0", stdDvarsThreshold);
    }
    if (!(Number.isInteger(minSegment) && minSegment >= 0)) {
      fail("scrub.minSegment", "a whole number ≥ 0", minSegment);
    }
  }
}

/** The CompCor columns of one kind of component, or an error naming what is missing. */
function compcorColumns(
  table: ConfoundsTable,
  compcor: NonNullable<ConfoundStrategy["compcor"]>,
  sidecar: ConfoundsSidecar | undefined,
): { component: string; columns: string[] }[] {
  const first = (cols: string[]) =>
    compcor.components === "all" ? cols : cols.slice(0, compcor.components);
  const byMask = (mask: string) => {
    const cols = numbered(table.columns, "a_comp_cor_");
    if (!sidecar) return mask === "combined" ? cols : [];
    return cols.filter((c) => sidecar.entries[c]?.Mask === mask);
  };
  const out: { component: string; columns: string[] }[] = [];
  const { kind } = compcor;
  if (kind.startsWith("temporal")) {
    out.push({ component: "t_comp_cor", columns: first(numbered(table.columns, "t_comp_cor_")) });
  }
  if (kind.endsWith("combined")) {
    out.push({ component: "a_comp_cor (combined mask)", columns: first(byMask("combined")) });
  }
  if (kind.endsWith("separated")) {
    // fMRIPrep < 21 keeps the WM and CSF components among a_comp_cor (sidecar's Mask); ≥ 21 as w_/c_comp_cor.
    const wm = [...byMask("WM"), ...numbered(table.columns, "w_comp_cor_")];
    const csf = [...byMask("CSF"), ...numbered(table.columns, "c_comp_cor_")];
    out.push({ component: "w_comp_cor (WM mask)", columns: first(wm) });
    out.push({ component: "c_comp_cor (CSF mask)", columns: first(csf) });
  }
  return out;
}

/**
 * Volumes of motion outliers (FD or standardized DVARS above threshold), and
 * with `minSegment` the kept runs too short between them (nilearn's
 * `optimize_scrub`: only runs bounded by an outlier or the run's edge next
 * to one count; nothing is added when no volume is an outlier).
 */
function scrubbed(fd: Float64Array, dvars: Float64Array, scrub: ScrubOptions): Uint8Array {
  const n = fd.length, out = new Uint8Array(n);
  // NaN (the first row's n/a) compares false: never an outlier, as in nilearn.
  for (let t = 0; t < n; t++) {
    if (fd[t] > scrub.fdThreshold || dvars[t] > scrub.stdDvarsThreshold) out[t] = 1;
  }
  const idx = [...out.keys()].filter((t) => out[t]);
  if (scrub.minSegment === 0 || idx.length === 0) return out;
  const fill = (a: number, b: number) => out.fill(1, a, b);
  if (idx[0] < scrub.minSegment) fill(0, idx[0]);
  if (n - (idx[idx.length - 1] + 1) < scrub.minSegment) fill(idx[idx.length - 1], n);
  for (let i = 0; i + 1 < idx.length; i++) {
    const gap = idx[i + 1] - idx[i] - 1;
    if (gap > 0 && gap < scrub.minSegment) fill(idx[i] + 1, idx[i + 1]);
  }
  return out;
}

/**
 * Choose confounds from a table as nilearn's `load_confounds` does, and the
 * volumes to keep. fMRIPrep's `non_steady_state_outlierXX` volumes are
 * always censored (nilearn too); with `scrub`, high-motion volumes as well.
 * `n/a` in the first row of a chosen column (derivatives) becomes the second
 * row's value, as nilearn does; `n/a` elsewhere in a chosen column is an
 * error. With `demean` (default) each column's mean over the kept volumes
 * is subtracted.
 *
 * Not supported: nilearn's "ica_aroma" and "tedana" strategies, and
 * choosing CompCor components by explained variance (`"all"` takes every
 * component fMRIPrep wrote, by default those explaining 50% of the variance).
 *
 * @param table the confounds table (one run)
 * @param strategy the confounds to use (see {@linkcode ConfoundStrategy}, {@linkcode CONFOUND_PRESETS})
 * @param options the sidecar for old tables, demeaning (see {@linkcode SelectConfoundsOptions})
 * @returns the columns used, the (T × C) float32 matrix, the sample mask (T) and the censored count
 * @throws {InputError} naming the file and column for a column the strategy
 *   needs that the table lacks (listing what it has), an `n/a` after the
 *   first row, or an invalid strategy (field `strategy.…`)
 *
 * @example
 * ```ts
 * import { CONFOUND_PRESETS, readConfoundsTable, selectConfounds } from "@brainorg/neuro";
 * const table = await readConfoundsTable("sub-01_task-alice_desc-confounds_timeseries.tsv");
 * const { columns, matrix, sampleMask, censored } = selectConfounds(table, CONFOUND_PRESETS.scrubbing);
 * console.log(columns.length, matrix.rows, censored, sampleMask.length);
 * ```
 */
export function selectConfounds(
  table: ConfoundsTable,
  strategy: ConfoundStrategy,
  options: SelectConfoundsOptions = {},
): ConfoundSelection {
  checkStrategy(strategy);
  const { file, columns: have, rows: T, data } = table, W = have.length;
  const index = new Map(have.map((c, k) => [c, k]));
  const lack = (component: string, cols: string[], hint = "") => {
    const missing = cols.filter((c) => !index.has(c));
    if (missing.length === 0) return;
    throw new InputError(`the ${component} needs ${missing.join(", ")}${hint}`, {
      file,
      field: `column ${missing[0]}`,
      expected: `columns ${cols.join(", ")}`,
      found: summarize(have),
    });
  };
  const chosen: string[] = [];
  if (strategy.highPass) chosen.push(...numbered(have, "cosine"));
  const models = [
    ["motion", MOTION, strategy.motion],
    ["wmCsf", ["csf", "white_matter"], strategy.wmCsf],
    ["globalSignal", ["global_signal"], strategy.globalSignal],
  ] as const;
  for (const [name, bases, model] of models) {
    if (!model) continue;
    const cols = expand([...bases], model);
    lack(`${name} strategy '${model}'`, cols);
    chosen.push(...cols);
  }
  if (strategy.compcor) {
    for (const { component, columns } of compcorColumns(table, strategy.compcor, options.sidecar)) {
      if (columns.length === 0) {
        const stem = component.split(" ")[0];
        const separate = stem === "w_comp_cor" || stem === "c_comp_cor";
        const hint = separate && !options.sidecar
          ? " (as fMRIPrep ≥ 21 writes them; for older tables pass the JSON sidecar)"
          : "";
        lack(`compcor strategy '${strategy.compcor.kind}'`, [`${stem}_00`], hint);
        // The columns exist, but the sidecar puts none in this mask.
        throw new InputError(
          `the compcor strategy '${strategy.compcor.kind}' finds no ${component} component`,
          {
            file: options.sidecar?.file ?? file,
            field: "Mask",
            expected: `a_comp_cor entries with the mask of ${component}`,
            found: "none",
          },
        );
      }
      chosen.push(...columns);
    }
  }
  const mask = new Uint8Array(T).fill(1);
  for (const c of have.filter((c) => c.includes("non_steady_state"))) {
    const k = index.get(c)!;
    for (let t = 0; t < T; t++) {
      if (data[t * W + k] !== 0 && !Number.isNaN(data[t * W + k])) mask[t] = 0;
    }
  }
  if (strategy.scrub) {
    lack("scrub strategy", ["framewise_displacement", "std_dvars"]);
    const col = (c: string) =>
      Float64Array.from({ length: T }, (_, t) => data[t * W + index.get(c)!]);
    const out = scrubbed(col("framewise_displacement"), col("std_dvars"), strategy.scrub);
    for (let t = 0; t < T; t++) if (out[t]) mask[t] = 0;
  }
  const C = chosen.length, matrix = new Float32Array(T * C);
  const kept = mask.reduce((a, b) => a + b, 0);
  chosen.forEach((name, j) => {
    const k = index.get(name)!, x = Float64Array.from({ length: T }, (_, t) => data[t * W + k]);
    // Derivatives have no value at the first volume: nilearn copies the second's.
    if (Number.isNaN(x[0]) && T > 1) x[0] = x[1];
    const nan = x.findIndex(Number.isNaN);
    if (nan >= 0) {
      throw new InputError(`confound ${name} has a missing value`, {
        file,
        field: `line ${nan + 2}, column ${name}`,
        expected: "a number (n/a only in the first row)",
        found: "n/a",
      });
    }
    let mean = 0;
    if (options.demean ?? true) {
      for (let t = 0; t < T; t++) if (mask[t]) mean += x[t];
      mean = kept > 0 ? mean / kept : 0;
    }
    for (let t = 0; t < T; t++) matrix[t * C + j] = x[t] - mean;
  });
  return {
    columns: chosen,
    matrix: { rows: T, cols: C, data: matrix },
    sampleMask: mask,
    censored: T - kept,
  };
}

/**
 * Several runs' selections end to end, for {@linkcode selectConfounds}'s
 * output of each run of a subject: the columns are the union in order of
 * first appearance, and a run without a column (CompCor "all" keeps a
 * different number per run) has zeros there. Zeros are a constant within
 * that run, which cleaning run by run drops.
 *
 * @param runs each run's selection, in time order
 * @returns one selection: (ΣT × C) matrix, ΣT sample mask, total censored
 *
 * @example
 * ```ts
 * import { CONFOUND_PRESETS, readConfoundsTable, selectConfounds, stackConfoundRuns } from "@brainorg/neuro";
 * const runs = await Promise.all(["run-1.tsv", "run-2.tsv"].map(readConfoundsTable));
 * const all = stackConfoundRuns(runs.map((t) => selectConfounds(t, CONFOUND_PRESETS.compcor)));
 * console.log(all.matrix.rows, all.columns);
 * ```
 */
export function stackConfoundRuns(runs: readonly ConfoundSelection[]): ConfoundSelection {
  const columns = [...new Set(runs.flatMap((r) => r.columns))];
  const col = new Map(columns.map((c, j) => [c, j]));
  const T = runs.reduce((a, r) => a + r.matrix.rows, 0), C = columns.length;
  const data = new Float32Array(T * C), sampleMask = new Uint8Array(T);
  let start = 0;
  for (const r of runs) {
    const { rows, cols } = r.matrix;
    const to = r.columns.map((c) => col.get(c)!);
    for (let t = 0; t < rows; t++) {
      for (let j = 0; j < cols; j++) data[(start + t) * C + to[j]] = r.matrix.data[t * cols + j];
    }
    sampleMask.set(r.sampleMask, start);
    start += rows;
  }
  return {
    columns,
    matrix: { rows: T, cols: C, data },
    sampleMask,
    censored: runs.reduce((a, r) => a + r.censored, 0),
  };
}
