/**
 * `summary.json` as the dashboard reads it: every field a page shows is
 * checked once, here, and handed on with a known type; a field of the
 * wrong kind becomes a {@linkcode Problem} naming it and a neutral value
 * (NaN, "", []) instead of a page that fails. `null` where a number is
 * expected is JSON's NaN (the writer's `JSON.stringify(NaN)`) and no
 * problem. Counts that size arrays are bounded, so that a hostile or broken
 * summary cannot make the server allocate without end.
 *
 * @module
 */

import { RESULTS_SCHEMA } from "@brainorg/core/results";
import { type Problem, shown } from "./problems.ts";

/** Result schemas this dashboard reads: the one this brainorg writes. */
export const SCHEMAS = [RESULTS_SCHEMA] as const;

/** The most atoms per model the dashboard draws (the paper learns 64; the demo 16). */
export const MAX_ATOMS = 4096;

/** Organization metrics of one model × template set (NaN where absent). */
export interface MetricsView {
  linkedAtoms: number;
  links: number;
  networksEngaged: number;
  assignmentEntropy: number;
  normalizedEntropy: number;
  layerSpread: number;
  /** Consistency across atoms of the same network: time courses, map overlap. */
  timeCourse: number;
  mapOverlap: number;
}

/** One model's atoms and their gains over the baseline per ROI. */
export interface ModelView {
  name: string;
  /** Atoms learned; bounded by {@linkcode MAX_ATOMS}. */
  atoms: number;
  group: { variant: string; roi: string; gainOverBaseline: number; tGain: number }[];
}

/** A bootstrap interval of one metric (`metric` as the summary names it, e.g. `consistency.timeCourse`). */
export interface IntervalView {
  metric: string;
  low: number;
  high: number;
}

/** A link of the full sample and the share of bootstrap resamples that find it again. */
export interface ReappearanceView {
  atom: number;
  sign: number;
  networkName: string;
  reappearance: number;
}

/** One model at the voxel level. */
export interface VoxelModelView {
  name: string;
  templates: {
    name: string;
    links: number;
    metrics: MetricsView;
    /** The metrics' bootstrap intervals, where the run computed them. */
    intervals?: IntervalView[];
    /** Each link's reappearance, where the run computed it. */
    reappearance?: ReappearanceView[];
    /** The metrics' min–max across dictionary seeds (as `low`, `high`), where the run computed them. */
    seedRanges?: IntervalView[];
  }[];
  /** Against the phantom's planted links, when there is a phantom. */
  recovery?: { precision: number; recall: number };
  /** Median fraction of the noise ceiling its mean r reaches (NaN when the summary has none). */
  fractionOfCeiling: number;
  /** Variance partitioning atoms vs low level: medians over voxels, where the run computed it. */
  variancePartition?: VariancePartitionView;
}

/** A model's variance partitioning over voxels (medians of the subject-mean maps). */
export interface VariancePartitionView {
  lowLevel: string[];
  medianUniqueAtoms: number;
  medianUniqueLowLevel: number;
  medianShared: number;
  topVoxels: number;
  topMedianUniqueAtoms: number;
}

/** What the pages show of a run's `summary.json`. */
export interface SummaryView {
  schema: string;
  brainorg: string;
  backend: string;
  stimulus: { tr: number; transcript: string };
  /** Subjects of the ROI level (0 without one). */
  roiSubjects: number;
  models: ModelView[];
  voxel?: {
    subjects: number;
    voxels: number;
    phantom?: { subjects: number; voxels: number };
    /** |t| threshold of the group maps (NaN when the summary has none). */
    threshold: number;
    permutations: number;
    /** The data's noise ceiling, where the summary has one. */
    noiseCeiling?: { median: number; medianIsc: number; minCeiling: number };
    /** The bootstrap over subjects, where the run has one. */
    bootstrap?: { resamples: number; level: number };
    models: VoxelModelView[];
  };
}

type Json = Record<string, unknown>;

/** Reads fields by path and records what does not fit. */
class Fields {
  readonly problems: Problem[] = [];
  constructor(readonly file: string) {}

  bad(path: string, expected: string, value: unknown): void {
    this.problems.push({
      file: this.file,
      field: `field "${path}"`,
      expected,
      found: shown(value),
    });
  }

  /** An object, or undefined (a problem unless absent and optional). */
  object(v: unknown, path: string, optional = false): Json | undefined {
    if (v !== null && typeof v === "object" && !Array.isArray(v)) return v as Json;
    if (!(optional && v === undefined)) this.bad(path, "an object", v);
    return undefined;
  }

  array(v: unknown, path: string): unknown[] {
    if (Array.isArray(v)) return v;
    this.bad(path, "an array", v);
    return [];
  }

  /** A string; absent is "" without a problem (display-only fields). */
  string(v: unknown, path: string): string {
    if (typeof v === "string") return v;
    if (v !== undefined) this.bad(path, "a string", v);
    return "";
  }

  /** A name used in file paths and URLs: a non-empty string of at most 200 characters. */
  name(v: unknown, path: string, fallback: string): string {
    if (typeof v === "string" && v.length > 0 && v.length <= 200 && !v.includes("\0")) return v;
    this.bad(path, "a name (1 to 200 characters)", v);
    return fallback;
  }

  /** A number; null and absent are NaN without a problem (JSON has no NaN). */
  number(v: unknown, path: string): number {
    if (typeof v === "number") return v;
    if (v !== null && v !== undefined) this.bad(path, "a number", v);
    return NaN;
  }

  /** A whole number in [0, max]; 0 with a problem otherwise. */
  count(v: unknown, path: string, max: number): number {
    if (typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= max) return v;
    if (v !== null && v !== undefined) this.bad(path, `a whole number from 0 to ${max}`, v);
    return 0;
  }
}

function metrics(f: Fields, v: unknown, path: string): MetricsView {
  const m = f.object(v, path) ?? {};
  const c = f.object(m.consistency, `${path}.consistency`, true) ?? {};
  const n = (k: string) => f.number(m[k], `${path}.${k}`);
  return {
    linkedAtoms: n("linkedAtoms"),
    links: n("links"),
    networksEngaged: n("networksEngaged"),
    assignmentEntropy: n("assignmentEntropy"),
    normalizedEntropy: n("normalizedEntropy"),
    layerSpread: n("layerSpread"),
    timeCourse: f.number(c.timeCourse, `${path}.consistency.timeCourse`),
    mapOverlap: f.number(c.mapOverlap, `${path}.consistency.mapOverlap`),
  };
}

/** A template entry's bootstrap intervals and links' reappearance (nothing where absent). */
function bootstrapOf(f: Fields, t: Json, links: unknown[], q: string) {
  if (t.metricIntervals === undefined) return {};
  const intervals = f.array(t.metricIntervals, `${q}.metricIntervals`).map((iv, k) => {
    const r = `${q}.metricIntervals[${k}]`, i = f.object(iv, r) ?? {};
    return {
      metric: f.string(i.metric, `${r}.metric`),
      low: f.number(i.ciLow, `${r}.ciLow`),
      high: f.number(i.ciHigh, `${r}.ciHigh`),
    };
  });
  const reappearance = links.map((lv, k) => {
    const r = `${q}.links[${k}]`, l = f.object(lv, r) ?? {};
    return {
      atom: f.count(l.atom, `${r}.atom`, MAX_ATOMS),
      sign: f.number(l.sign, `${r}.sign`),
      networkName: f.string(l.networkName, `${r}.networkName`),
      reappearance: f.number(l.reappearance, `${r}.reappearance`),
    };
  });
  return { intervals, reappearance };
}

/** A template entry's metrics' min–max across dictionary seeds (nothing where absent). */
function seedRangesOf(f: Fields, t: Json, q: string): { seedRanges?: IntervalView[] } {
  if (t.seedMetrics === undefined) return {};
  const seedRanges = f.array(t.seedMetrics, `${q}.seedMetrics`).map((sv, k) => {
    const r = `${q}.seedMetrics[${k}]`, m = f.object(sv, r) ?? {};
    return {
      metric: f.string(m.metric, `${r}.metric`),
      low: f.number(m.min, `${r}.min`),
      high: f.number(m.max, `${r}.max`),
    };
  });
  return { seedRanges };
}

/** A model's `variancePartition`, where the summary has one. */
function variancePartitionOf(
  f: Fields,
  v: unknown,
  path: string,
): { variancePartition?: VariancePartitionView } {
  const vp = f.object(v, path, true);
  if (!vp) return {};
  return {
    variancePartition: {
      lowLevel: f.array(vp.lowLevel, `${path}.lowLevel`).map(String),
      medianUniqueAtoms: f.number(vp.medianUniqueAtoms, `${path}.medianUniqueAtoms`),
      medianUniqueLowLevel: f.number(vp.medianUniqueLowLevel, `${path}.medianUniqueLowLevel`),
      medianShared: f.number(vp.medianShared, `${path}.medianShared`),
      topVoxels: f.number(vp.topVoxels, `${path}.topVoxels`),
      topMedianUniqueAtoms: f.number(vp.topMedianUniqueAtoms, `${path}.topMedianUniqueAtoms`),
    },
  };
}

function voxelView(f: Fields, v: unknown): SummaryView["voxel"] {
  const voxel = f.object(v, "voxel", true);
  if (!voxel) return undefined;
  const phantom = f.object(voxel.phantom, "voxel.phantom", true);
  const ceiling = f.object(voxel.noiseCeiling, "voxel.noiseCeiling", true);
  const boot = f.object(voxel.bootstrap, "voxel.bootstrap", true);
  return {
    subjects: f.number(voxel.subjects, "voxel.subjects"),
    voxels: f.number(voxel.voxels, "voxel.voxels"),
    ...(phantom
      ? {
        phantom: {
          subjects: f.number(phantom.subjects, "voxel.phantom.subjects"),
          voxels: f.number(phantom.voxels, "voxel.phantom.voxels"),
        },
      }
      : {}),
    threshold: f.number(voxel.threshold, "voxel.threshold"),
    ...(boot
      ? {
        bootstrap: {
          resamples: f.number(boot.resamples, "voxel.bootstrap.resamples"),
          level: f.number(boot.level, "voxel.bootstrap.level"),
        },
      }
      : {}),
    permutations: f.number(voxel.permutations, "voxel.permutations"),
    ...(ceiling
      ? {
        noiseCeiling: {
          median: f.number(ceiling.median, "voxel.noiseCeiling.median"),
          medianIsc: f.number(ceiling.medianIsc, "voxel.noiseCeiling.medianIsc"),
          minCeiling: f.number(ceiling.minCeiling, "voxel.noiseCeiling.minCeiling"),
        },
      }
      : {}),
    models: f.array(voxel.models, "voxel.models").map((mv, i) => {
      const p = `voxel.models[${i}]`, m = f.object(mv, p) ?? {};
      const recovery = m.recovery === undefined || m.recovery === null
        ? undefined
        : f.object(m.recovery, `${p}.recovery`);
      return {
        name: f.name(m.name, `${p}.name`, `model ${i}`),
        fractionOfCeiling: f.number(m.medianFractionOfCeiling, `${p}.medianFractionOfCeiling`),
        ...variancePartitionOf(f, m.variancePartition, `${p}.variancePartition`),
        templates: f.array(m.templates, `${p}.templates`).map((tv, j) => {
          const q = `${p}.templates[${j}]`, t = f.object(tv, q) ?? {};
          const links = f.array(t.links, `${q}.links`);
          return {
            name: f.name(t.name, `${q}.name`, `template ${j}`),
            links: links.length,
            metrics: metrics(f, t.metrics, `${q}.metrics`),
            ...bootstrapOf(f, t, links, q),
            ...seedRangesOf(f, t, q),
          };
        }),
        ...(recovery
          ? {
            recovery: {
              precision: f.number(recovery.precision, `${p}.recovery.precision`),
              recall: f.number(recovery.recall, `${p}.recovery.recall`),
            },
          }
          : {}),
      };
    }),
  };
}

/**
 * Check a parsed `summary.json`.
 *
 * @param raw what `JSON.parse` returned
 * @param file the name to put in problems (relative to the run's folder)
 * @returns `fatal` when the file is not a results summary this dashboard
 *   reads (then no view); otherwise the view and the problems of its fields
 *
 * @example
 * ```ts
 * const { summary, problems } = readSummary({ schema: "brainorg.results/2", models: [] }, "summary.json");
 * ```
 */
export function readSummary(
  raw: unknown,
  file = "summary.json",
): { summary?: SummaryView; problems: Problem[]; fatal?: Problem } {
  const f = new Fields(file);
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    return {
      problems: [],
      fatal: {
        file,
        message: "not a results summary",
        expected: "a JSON object",
        found: shown(raw),
      },
    };
  }
  const s = raw as Json;
  if (!SCHEMAS.includes(s.schema as (typeof SCHEMAS)[number])) {
    return {
      problems: [],
      fatal: {
        file,
        field: 'field "schema"',
        message: "not a results schema this dashboard reads",
        expected: SCHEMAS.map((x) => JSON.stringify(x)).join(" or "),
        found: shown(s.schema),
      },
    };
  }
  const stimulus = f.object(s.stimulus, "stimulus", true) ?? {};
  let tr = f.number(stimulus.tr, "stimulus.tr");
  if (!(tr > 0 && tr < 1000)) {
    if (!Number.isNaN(tr)) f.bad("stimulus.tr", "a repetition time in seconds (0 to 1000)", tr);
    tr = NaN;
  }
  const rois = f.object(s.rois, "rois", true);
  const groups = rois ? f.array(rois.models, "rois.models") : [];
  const summary: SummaryView = {
    schema: s.schema as string,
    brainorg: f.string(s.brainorg, "brainorg"),
    backend: f.string((f.object(s.backend, "backend", true) ?? {}).name, "backend.name"),
    stimulus: { tr, transcript: f.string(stimulus.transcript, "stimulus.transcript") },
    roiSubjects: rois ? f.array(rois.subjects, "rois.subjects").length : 0,
    models: f.array(s.models, "models").map((mv, i) => {
      const p = `models[${i}]`, m = f.object(mv, p) ?? {};
      const name = f.name(m.name, `${p}.name`, `model ${i}`);
      return {
        name,
        atoms: f.count(m.atoms, `${p}.atoms`, MAX_ATOMS),
        group: groups.flatMap((gv, j) => {
          const q = `rois.models[${j}]`, g = f.object(gv, q) ?? {};
          if (g.model !== name) return [];
          return [{
            variant: f.string(g.variant, `${q}.variant`),
            roi: f.string(g.roi, `${q}.roi`),
            gainOverBaseline: f.number(g.gainOverBaseline, `${q}.gainOverBaseline`),
            tGain: f.number(g.tGain, `${q}.tGain`),
          }];
        }),
      };
    }),
    voxel: voxelView(f, s.voxel),
  };
  return { summary, problems: f.problems };
}
