/**
 * The scale benchmark's report: a table of every run's stages, the linear
 * costs per subject and per surrogate measured from them, and what those
 * predict for larger studies.
 *
 * @module
 */

import type { ScaleSizes } from "./scale_inputs.ts";

/** One stage of a run: its time and the memory after it. */
export interface StageRecord {
  /** The stage's name. */
  stage: string;
  /** Wall-clock seconds of the stage. */
  seconds: number;
  /** Resident memory after the stage, MiB. */
  rssMiB: number;
  /** The process's peak resident memory so far (VmHWM), MiB. */
  peakMiB: number;
  /** Sizes the stage saw. */
  detail: string;
}

/** One run of bench/scale.ts. */
export interface ScaleRun {
  /** ISO 8601 time of the run. */
  date: string;
  /** Free text from `--label`. */
  label: string;
  /** The backend and its implementation. */
  backend: string;
  /** The sizes of the run: its inputs', and the null's and dictionary's. */
  sizes: ScaleSizes & { surrogates: number; k: number; passes: number };
  /** What writing the inputs reported. */
  inputs: Record<string, unknown>;
  /** The stages, in order. */
  stages: StageRecord[];
  /** Sum of the stages' seconds. */
  totalSeconds: number;
  /** Largest peak over the stages, MiB. */
  peakMiB: number;
  /** Where it ran. */
  machine: Record<string, unknown>;
}

/** Linear costs from runs at one voxel count, and the projections they give. */
export interface ScaleProjection {
  /** The runs' voxels and ANs. */
  voxels: number;
  /** ANs of the runs. */
  ans: number;
  /** Seconds per subject of reading, cleaning, noise ceiling, CV fits and its maps written. */
  perSubject: number;
  /** Seconds per subject and surrogate of the null. */
  perSubjectSurrogate: number;
  /** Seconds that do not grow with subjects or surrogates (capture, TR grid, dictionary, networks). */
  fixed: number;
  /** MiB of peak memory per subject: the slope between runs with different subject counts (NaN with one). */
  peakMiBPerSubject: number;
  /** Peak memory of the largest run, MiB. */
  peakMiB: number;
  /** Predicted seconds and peak MiB at each study size. */
  studies: { subjects: number; surrogates: number; seconds: number; peakMiB: number }[];
}

const PER_SUBJECT = [
  "voxel data read",
  "noise ceiling",
  "voxel encoding (CV fits)",
  // Most of the report is each subject's maps.
  "report (maps and tables written)",
];
const FIXED = ["capture-cache read", "TR grid", "dictionary learning", "group maps + networks"];
const secondsOf = (run: ScaleRun, names: string[]) =>
  run.stages.filter((s) => names.includes(s.stage)).reduce((a, s) => a + s.seconds, 0);

/**
 * Fit the linear costs from the runs at the largest voxel count (and, among
 * those, the largest AN count) and project the paper's study (20 subjects,
 * 1,000 surrogates) and 345 subjects. Per-subject costs are averaged over
 * the runs; the memory slope is the least-squares slope of peak memory on
 * subjects (NaN where every run has the same count).
 *
 * @returns undefined where there is no run
 */
export function projectScale(runs: ScaleRun[]): ScaleProjection | undefined {
  if (runs.length === 0) return undefined;
  const voxels = Math.max(...runs.map((r) => r.sizes.voxels));
  const atV = runs.filter((r) => r.sizes.voxels === voxels);
  const ans = Math.max(...atV.map((r) => r.sizes.ans));
  const use = atV.filter((r) => r.sizes.ans === ans);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const perSubject = mean(use.map((r) => secondsOf(r, PER_SUBJECT) / r.sizes.subjects));
  const perSubjectSurrogate = mean(
    use.map((r) => secondsOf(r, ["null"]) / (r.sizes.subjects * r.sizes.surrogates)),
  );
  const fixed = mean(use.map((r) => secondsOf(r, FIXED)));
  const xs = use.map((r) => r.sizes.subjects), ys = use.map((r) => r.peakMiB);
  const mx = mean(xs), my = mean(ys);
  const sxx = xs.reduce((a, x) => a + (x - mx) ** 2, 0);
  const slope = sxx > 0 ? xs.reduce((a, x, i) => a + (x - mx) * (ys[i] - my), 0) / sxx : NaN;
  const largest = use.reduce((a, r) => (r.sizes.subjects > a.sizes.subjects ? r : a));
  const studies = [[20, 100], [20, 1000], [345, 1000]].map(([subjects, surrogates]) => ({
    subjects,
    surrogates,
    seconds: fixed + subjects * perSubject + subjects * surrogates * perSubjectSurrogate,
    peakMiB: largest.peakMiB + (subjects - largest.sizes.subjects) * slope,
  }));
  return {
    voxels,
    ans,
    perSubject,
    perSubjectSurrogate,
    fixed,
    peakMiBPerSubject: slope,
    peakMiB: largest.peakMiB,
    studies,
  };
}

const n = (x: number) => x.toLocaleString("en-US");
const hms = (s: number) =>
  s >= 3600
    ? `${(s / 3600).toFixed(1)} h`
    : s >= 60
    ? `${(s / 60).toFixed(1)} min`
    : `${s.toFixed(1)} s`;

/**
 * Markdown: one table per run (stage, seconds, resident memory after it,
 * peak so far), then the linear costs and the projection.
 */
export function renderScaleTable(runs: ScaleRun[], projection?: ScaleProjection): string {
  const out: string[] = ["# Scale benchmark (bench/scale.ts)", ""];
  for (const r of runs) {
    const z = r.sizes;
    out.push(
      `## ${n(z.ans)} ANs × ${n(z.words)} words, ${n(z.voxels)} voxels, ${z.subjects} subjects × ` +
        `${z.volumes} volumes, ${n(z.surrogates)} surrogates, K = ${z.k}` +
        (r.label ? ` (${r.label})` : ""),
      "",
      `${r.date}, ${r.backend}, ${r.machine.cores} cores, ${r.machine.cpu}; ${r.machine.shared}.`,
      "",
      "| stage | time (s) | RSS after (MiB) | peak so far (MiB) | sizes |",
      "| --- | ---: | ---: | ---: | --- |",
      ...r.stages.map((s) =>
        `| ${s.stage} | ${s.seconds.toFixed(1)} | ${Math.round(s.rssMiB)} | ${
          Math.round(s.peakMiB)
        } | ${s.detail} |`
      ),
      `| **total** | **${r.totalSeconds.toFixed(1)}** | | **${Math.round(r.peakMiB)}** | |`,
      "",
    );
  }
  if (projection) {
    const p = projection;
    out.push(
      `## Linear costs and projection (${n(p.ans)} ANs, ${n(p.voxels)} voxels)`,
      "",
      `- per subject (read, clean, noise ceiling, CV fits, maps written): ${
        p.perSubject.toFixed(2)
      } s`,
      `- per subject and surrogate (null): ${(p.perSubjectSurrogate * 1000).toFixed(1)} ms`,
      `- fixed (capture read, TR grid, dictionary learning, networks): ${p.fixed.toFixed(1)} s`,
      `- peak memory per subject: ${
        Number.isFinite(p.peakMiBPerSubject) ? `${Math.round(p.peakMiBPerSubject)} MiB` : "n/a"
      }`,
      "",
      "| subjects | surrogates | projected time | projected peak memory |",
      "| ---: | ---: | ---: | ---: |",
      ...p.studies.map((s) =>
        `| ${s.subjects} | ${n(s.surrogates)} | ${hms(s.seconds)} | ${
          Number.isFinite(s.peakMiB) ? `${(s.peakMiB / 1024).toFixed(1)} GiB` : "n/a"
        } |`
      ),
      "",
    );
  }
  return out.join("\n");
}
