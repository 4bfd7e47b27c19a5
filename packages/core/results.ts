/**
 * The results folder, one schema for everything that writes or reads it:
 * the shape of `summary.json` (versioned), every file's path, and the
 * columns of every table. The pipeline writes through
 * {@linkcode writeResults}, the report renders a {@linkcode ResultsSummary},
 * and the dashboard reads paths and columns from here; a change of shape
 * changes {@linkcode RESULTS_SCHEMA}.
 *
 * Only types and constants live at the top of this module's imports, so
 * the dashboard can import it without the compute packages.
 *
 * @module
 */

import type { BackendInfo } from "@brainorg/kernels";
import type { VoxelSubjectVerdict } from "@brainorg/neuro";
import type { MapReliability, MetricInterval } from "./bootstrap_types.ts";
import type { SeedMetricSpread } from "./seed_spread_types.ts";
import type { NetworkMatch } from "./networks.ts";
import type { RoiVariancePartition, VoxelVarianceSummary } from "./variance_partition_types.ts";
export type {
  RoiVarianceGroup,
  RoiVariancePartition,
  VoxelVarianceSummary,
} from "./variance_partition_types.ts";
import type { OrganizationMetrics } from "./organization.ts";
import type { PhantomTruth, Recovery } from "./phantom.ts";

export { networkDisplayName, YEO17_NETWORKS, YEO7_NAMES } from "./network_names.ts";

/** The schema of `summary.json` this version writes and reads. */
export const RESULTS_SCHEMA = "brainorg.results/2";

/** A step of the pipeline that ran, with what it measured. */
export interface StepRecord {
  /** Which step, in data-flow order. */
  step:
    | "stimulus"
    | "stimulus-check"
    | "roi-checks"
    | "baseline-encoding"
    | "capture"
    | "atoms"
    | "roi-encoding"
    | "voxel-data"
    | "voxel-encoding"
    | "networks"
    | "ablation";
  /** One line, from the run's own counts (e.g. "27 of 28 subjects usable"). */
  detail: string;
}

/** The story on the scanner's grid, and its check against reference regressors. */
export interface StimulusSummary {
  /** The transcript read (path, or `data:` reference). */
  transcript: string;
  /** Words kept, placed on the TR grid. */
  words: number;
  /** Silence marks and empty words dropped from the transcript. */
  dropped: number;
  /** Volumes analysed (all runs). */
  volumes: number;
  /** Repetition time, in seconds. */
  tr: number;
  /** Volumes acquired and discarded before each run. */
  discarded: number[];
  /** The word rate correlated with each subject's reference regressor. */
  check?: { name: string; subjects: { subject: string; r: number }[]; minR: number };
}

/** One model: its ANs and the atoms learned from them. */
export interface ModelSummary {
  /** The model's name; a random-weights control ends in `-random`. */
  name: string;
  /** Where the model came from, in words (file, folder, engine, redrawn weights' seed). */
  source: string;
  /** ANs recorded, over all layers. */
  ans: number;
  /** Constant ANs, dropped. */
  deadAns: number;
  /** Atoms learned (K). */
  atoms: number;
  /** The sparsity penalty used (calibrated or given). */
  alpha: number;
  /** Share of the codes that are non-zero, in [0, 1]. */
  codeDensity: number;
  /** Reconstruction R² of each layer's ANs. */
  layerR2: number[];
  /** The atoms' stability, where the analysis asked for it (`stability.csv`). */
  stability?: {
    /** Median over the atoms of each atom's stability (median |r| with its matches). */
    median: number;
    /** Dictionaries learned again: with other seeds, and on parts of the story. */
    fits: { seeds: number; parts: number };
    /** Atoms at least as stable as `minStability`. */
    stableAtoms: number;
    /** Links of less stable atoms are left out of the voxel summary's links. */
    minStability: number;
  };
}

/** One subject × ROI encoding result. */
export interface RoiScore {
  /** The subject's id. */
  subject: string;
  /** The ROI's name (its column in the ROI table). */
  roi: string;
  /** Held-out r (within folds, Fisher-averaged). */
  r: number;
  /** Circular-shift p of r. */
  p: number;
  /** Benjamini–Hochberg q over the family (one regressor set: all subjects × ROIs). */
  q: number;
  /** Ridge penalty chosen by cross-validation. */
  alpha: number;
}

/** Across usable subjects, per ROI. */
export interface RoiGroupScore {
  /** The ROI's name. */
  roi: string;
  /** Usable subjects scored. */
  subjects: number;
  /** Mean held-out r over subjects. */
  meanR: number;
  /** One-sample t of Fisher-z r over subjects (df = subjects − 1). */
  t: number;
  /** Subjects with q ≤ 0.05. */
  significant: number;
  /** Bootstrap 95% interval of `meanR` over subjects, where the analysis asked for it. */
  meanRLow?: number;
  /** Upper end of the interval of `meanR`. */
  meanRHigh?: number;
}

/** A model's ROI group scores, per regressor set, with the gain over the baseline. */
export interface ModelRoiGroup extends RoiGroupScore {
  /** The model's name. */
  model: string;
  /** `atoms`, or `atoms+baseline` where there is a baseline. */
  variant: "atoms" | "atoms+baseline";
  /** Mean r over the baseline's in the same subjects (NaN without a baseline). */
  gainOverBaseline: number;
  /** Paired t of Fisher z against the baseline (NaN without a baseline). */
  tGain: number;
  /** Bootstrap 95% interval of `gainOverBaseline` (the same subjects drawn for both), where asked. */
  gainLow?: number;
  /** Upper end of the interval of `gainOverBaseline`. */
  gainHigh?: number;
}

/** A subject's verdict (usable, or excluded with the reason). */
export interface SubjectVerdict {
  /** The subject's id, as in the analysis file. */
  id: string;
  /** False when the subject is excluded. */
  usable: boolean;
  /** Why the subject is excluded (its problems, `; `-separated); "" when usable. */
  reason: string;
}

/** The ROI level. */
export interface RoiSummary {
  /** The ROIs' names, in the tables' column order. */
  rois: string[];
  /** Every subject given, usable or not, in order. */
  subjects: SubjectVerdict[];
  /** Contiguous cross-validation folds. */
  folds: number;
  /** Circular shifts of the p-values. */
  permutations: number;
  /** The baseline model, where there is one. */
  baseline?: { regressors: string[]; group: RoiGroupScore[] };
  /** Every model's group scores, per ROI and regressor set. */
  models: ModelRoiGroup[];
  /** The bootstrap over subjects behind the group scores' intervals, where asked. */
  bootstrap?: BootstrapSummary;
  /** Variance partitioning of each model's atoms against the baseline, where there is one. */
  variancePartition?: RoiVariancePartition;
}

/** A bootstrap over subjects: resamples, seed, coverage and, in words, what it approximates. */
export interface BootstrapSummary {
  /** Resamples of the subjects (with replacement). */
  resamples: number;
  /** Seed of the draws. */
  seed: number;
  /** Coverage of the percentile intervals (0.95). */
  level: number;
  /** How the resamples are analysed, in words. */
  note: string;
}

/** A model's network links and organization for one template set. */
export interface TemplateResult {
  /** The template set's name (`Yeo-7`, `Yeo-17`, `Giles-39`). */
  name: string;
  /** How the model's atoms organize against the set's networks. */
  metrics: OrganizationMetrics;
  /**
   * The linked atom × sign × network cells only; with the atom's stability
   * where it was computed (and, with a `minStability`, only stable atoms').
   */
  links: (NetworkMatch & {
    stability?: number;
    reappearance?: number;
    /** Share of the other dictionary seeds with which the link is found again, where computed. */
    seedReappearance?: number;
  })[];
  /**
   * Each organization metric with its bootstrap percentile interval over
   * subjects, where the analysis asked for it (`linkedAtoms`, …,
   * `consistency.timeCourse`, `consistency.mapOverlap`).
   */
  metricIntervals?: MetricInterval[];
  /**
   * Each organization metric with every other dictionary seed, and its
   * min–max and SD across seeds (`seed_spread.ts`), where computed.
   */
  seedMetrics?: SeedMetricSpread[];
}

/**
 * The voxel data's noise ceiling: the r a perfect model of the response
 * shared across subjects would reach with one subject's series (see
 * `noise_ceiling.ts`). Absent from summaries written before it was computed.
 */
export interface NoiseCeilingSummary {
  /** Median over the voxels of the ceiling. */
  median: number;
  /** Median over the voxels of the leave-one-subject-out ISC (Fisher-averaged over subjects). */
  medianIsc: number;
  /** The smallest ceiling an encoding r is read as a fraction of. */
  minCeiling: number;
  /** Voxels whose ceiling exceeds `minCeiling`. */
  voxelsAboveMin: number;
  /** How the ceiling is defined, in words. */
  definition: string;
}

/** The voxel level. */
export interface VoxelSummary {
  /** The user's fMRI, or a generated phantom whose truth is known. */
  dataset: "user" | "phantom";
  /** Usable subjects. */
  subjects: number;
  /** Voxels analysed. */
  voxels: number;
  /** What the data checks found (the user's data). */
  qc?: {
    subjects: VoxelSubjectVerdict[];
    maskVoxels: number;
    droppedVoxels: number;
    /** The confounds regressed out (where given): preset, columns, volumes censored. */
    confounds?: {
      preset: string;
      columns: string[];
      subjects: { id: string; censored: number }[];
      /** Volumes censored in some subject, left out of every fit and fold. */
      censoredVolumes: number;
    };
  };
  /**
   * The spaces met: the data's (a BIDS space label, where known) and the
   * templates' (MNI152NLin6Asym, resampled onto the data's grid through the
   * images' affines).
   */
  space?: { data: string; templates: string; note: string };
  /** The phantom's planted truth. */
  phantom?:
    & Pick<
      PhantomTruth,
      "links" | "undrivenAtoms" | "subjects" | "r2" | "medianR2" | "voxels" | "noise" | "seed"
    >
    & { networks: string; resolutionMm: number; model: string };
  /** Surrogates of the atoms in the voxel null. */
  permutations: number;
  /** One-sided voxel p (per sign) that puts a voxel in an atom's map. */
  voxelP: number;
  /** |t| a voxel must exceed to be in an atom's map. */
  threshold: number;
  /** The data's noise ceiling (absent in summaries written before it was computed). */
  noiseCeiling?: NoiseCeilingSummary;
  /** The spatial (variogram-matched surrogate) null of the links, where `voxels.spatialNull` asked for it. */
  spatialNull?: SpatialNullSummary;
  /** Per model: its subjects' scores, its group map's count and its network links. */
  models: {
    /** The model's name. */
    name: string;
    /** Per subject: median held-out r and CV R² over voxels, and voxels with q ≤ 0.05. */
    subjects: { subject: string; medianR: number; medianR2: number; voxelsQ05: number }[];
    /** Voxels whose mean r over subjects has q ≤ 0.05. */
    voxelsMeanRQ05: number;
    /**
     * Median over the voxels whose ceiling exceeds `noiseCeiling.minCeiling`
     * of the mean r over subjects divided by the ceiling (NaN where none
     * does; absent in summaries written before the ceiling was computed).
     */
    medianFractionOfCeiling?: number;
    /** Per template set: the links and organization metrics. */
    templates: TemplateResult[];
    /** Against the phantom's planted links (its network set). */
    recovery?: Recovery;
    /** Per atom × sign with a map part: how reliably its voxels come back under the bootstrap. */
    mapReliability?: MapReliability[];
    /** Atoms vs low-level regressors (word rate, voxels.lowLevel), where `voxels.variancePartition` asked. */
    variancePartition?: VoxelVarianceSummary;
  }[];
  /** The bootstrap over subjects (links' reappearance, metrics' intervals), where asked. */
  bootstrap?: BootstrapSummary;
  /** The organization's spread across dictionary seeds, where computed: the seeds and, in words, how. */
  seedSpread?: { seeds: number[]; note: string };
}

/** An atom whose ablation matters (q ≤ 0.05 on the story or the held-out text). */
export interface AblationNeed {
  /** The atom, from 0. */
  atom: number;
  /** ANs of its sub-group. */
  ans: number;
  /** Loss change on the story (nats/token). */
  storyLossChange: number;
  /** BH q over the model's atoms of the story's p. */
  storyQ: number;
  /** Loss change on the held-out text (NaN where there is none). */
  heldOutLossChange: number;
  /** BH q of the held-out text's p. */
  heldOutQ: number;
}

/** The causal test of the sub-groups: each atom's ANs zeroed, the loss change against random ablations. */
export interface AblationSummary {
  /** Random size- and layer-matched ablations per atom. */
  randomAblations: number;
  /** Story tokens the loss is measured on. */
  storyTokens: number;
  /** Held-out tokens (0: none). */
  heldOutTokens: number;
  /** The held-out text, in words. */
  heldOutText: string;
  /** Per model ablated: whole-model losses (nats/token) and the atoms that matter. */
  models: {
    /** The model's name. */
    name: string;
    /** The whole model's loss on the story (nats/token). */
    storyLoss: number;
    /** The whole model's loss on the held-out text (NaN where there is none). */
    heldOutLoss: number;
    /** Atoms whose ablation matters at BH q ≤ 0.05 on the story. */
    atomsMatterStory: number;
    /** Atoms whose ablation matters at BH q ≤ 0.05 on the held-out text. */
    atomsMatterHeldOut: number;
    /** Those atoms (either text), in order. */
    needed: AblationNeed[];
  }[];
  /** Models not ablated, with the reason (e.g. run by onnxruntime). */
  skipped: { name: string; reason: string }[];
}

/** What `summary.json` holds. */
export interface ResultsSummary {
  /** The shape's version: {@linkcode RESULTS_SCHEMA}. */
  schema: typeof RESULTS_SCHEMA;
  /** The brainorg version that wrote it. */
  brainorg: string;
  /** The steps that ran, in data-flow order. */
  steps: StepRecord[];
  /** The compute backend that ran the analysis. */
  backend: BackendInfo;
  /** The story on the scanner's grid. */
  stimulus: StimulusSummary;
  /** Every model and control, in the order analysed. */
  models: ModelSummary[];
  /** The ROI level, where the analysis has one. */
  rois?: RoiSummary;
  /** The voxel level, where the analysis has one. */
  voxel?: VoxelSummary;
  /** The causal test of the sub-groups, where the analysis asks for it. */
  ablation?: AblationSummary;
}

/** A table of the results folder: its path and columns, in order. */
export interface TableSpec<C extends string = string> {
  /** CSV path within the results folder. */
  path: string;
  /** Column names, in order. */
  columns: readonly C[];
}

/** A table's rows, ready to be written (columns in the spec's order). */
export interface ResultTable extends TableSpec {
  /**
   * One object per row, keyed by column name: an array, or a generator for
   * a table too long to hold as objects (it is read once, as it is written).
   */
  rows: Iterable<object>;
}

const table = <const C extends string>(path: string, columns: readonly C[]): TableSpec<C> => ({
  path,
  columns,
});

/** The fixed files of a results folder: JSON and HTML by path, tables with their columns. */
export interface ResultFiles {
  /** `summary.json`: a {@linkcode ResultsSummary}. */
  summary: string;
  /** `report.html`: the static report. */
  report: string;
  /** `provenance.json`: inputs, parameters, seed, backend and command. */
  provenance: string;
  /** The transcript's words with onset, offset (seconds) and run. */
  words: TableSpec;
  /** The word-rate regressor per volume, with the volume's time (seconds). */
  wordRate: TableSpec;
  /** The word rate's r with each subject's reference regressor. */
  stimulusCheck: TableSpec;
  /** Every ROI subject's verdict. */
  roiSubjects: TableSpec;
  /** Every voxel subject's verdict and data checks. */
  voxelSubjects: TableSpec;
  /** Voxels dropped for every subject: coordinates, problem, subjects. */
  voxelsDropped: TableSpec;
  /** A BIDS dataset's runs and subjects, each with its verdict (used, or why not). */
  bidsUnits: TableSpec;
  /** The baseline's scores per subject × ROI. */
  baselineRoi: TableSpec;
  /** The baseline's group scores per ROI. */
  baselineGroup: TableSpec;
  /** Every model's scores per subject × ROI and regressor set. */
  modelsRoi: TableSpec;
  /** Every model's group scores per ROI and regressor set. */
  modelsGroup: TableSpec;
  /** Variance partitioning (atoms vs baseline) per model × subject × ROI. */
  variancePartitionRoi: TableSpec;
  /** Variance partitioning per model × ROI: means over subjects and one-sample t. */
  variancePartitionGroup: TableSpec;
  /** The phantom's planted truth (JSON), where the voxel data is a phantom. */
  phantomTruth: string;
  /** Per model: the planted links' recovery, where the voxel data is a phantom. */
  recovery: TableSpec;
  /** The MNI152 T1 on the analysis grid (NIfTI), for the viewer. */
  anatomy: string;
  /** The noise ceiling of one subject's encoding r per voxel (NIfTI), once per analysis. */
  noiseCeiling: string;
  /** Per template set × network × model: medians of the ceiling, the mean r and their ratio. */
  noiseCeilingNetworks: TableSpec;
}

/**
 * Every fixed file of the results folder.
 *
 * @example
 * ```ts
 * import { join } from "node:path";
 * import { RESULT_FILES, type ResultsSummary } from "@brainorg/core/results";
 * const dir = "results/study";
 * const summary: ResultsSummary = JSON.parse(
 *   await Deno.readTextFile(join(dir, RESULT_FILES.summary)),
 * );
 * console.log(summary.schema, summary.steps.map((s) => s.detail));
 * ```
 */
export const RESULT_FILES: ResultFiles = {
  summary: "summary.json",
  report: "report.html",
  provenance: "provenance.json",
  words: table("stimulus/words.csv", ["word", "onset", "offset", "run"]),
  wordRate: table("stimulus/word_rate.csv", ["volume", "time", "word_rate"]),
  stimulusCheck: table("qc/stimulus_check.csv", ["subject", "r"]),
  roiSubjects: table("qc/subjects.csv", ["id", "usable", "reason"]),
  voxelSubjects: table("qc/voxel_subjects.csv", [
    "id",
    "usable",
    "reason",
    "nonFinite",
    "constant",
    "lostVolumes",
  ]),
  voxelsDropped: table("qc/voxels_dropped.csv", ["i", "j", "k", "problem", "subjects"]),
  bidsUnits: table("qc/bids_units.csv", ["unit", "subject", "task", "usable", "reason"]),
  baselineRoi: table("encoding/baseline_roi.csv", ["subject", "roi", "r", "p", "q", "alpha"]),
  baselineGroup: table("encoding/baseline_group.csv", [
    "roi",
    "subjects",
    "meanR",
    "t",
    "significant",
    "meanRLow",
    "meanRHigh",
  ]),
  modelsRoi: table("encoding/models_roi.csv", [
    "model",
    "variant",
    "subject",
    "roi",
    "r",
    "p",
    "q",
    "alpha",
  ]),
  modelsGroup: table("encoding/models_group.csv", [
    "model",
    "variant",
    "roi",
    "subjects",
    "meanR",
    "t",
    "significant",
    "gainOverBaseline",
    "tGain",
    "meanRLow",
    "meanRHigh",
    "gainLow",
    "gainHigh",
  ]),
  variancePartitionRoi: table("encoding/variance_partition_roi.csv", [
    "model",
    "subject",
    "roi",
    "r2Joint",
    "r2Atoms",
    "r2LowLevel",
    "uniqueAtoms",
    "uniqueLowLevel",
    "shared",
  ]),
  variancePartitionGroup: table("encoding/variance_partition_group.csv", [
    "model",
    "roi",
    "subjects",
    "r2Joint",
    "r2Atoms",
    "r2LowLevel",
    "uniqueAtoms",
    "tUniqueAtoms",
    "uniqueLowLevel",
    "tUniqueLowLevel",
    "shared",
    "tShared",
  ]),
  phantomTruth: "phantom/truth.json",
  recovery: table("voxels/recovery.csv", [
    "model",
    "truePositives",
    "falsePositives",
    "falseNegatives",
    "precision",
    "recall",
  ]),
  anatomy: "voxels/anatomy.nii.gz",
  noiseCeiling: "voxels/noise_ceiling.nii.gz",
  noiseCeilingNetworks: table("voxels/noise_ceiling_networks.csv", [
    "set",
    "network",
    "networkName",
    "voxels",
    "medianIsc",
    "medianCeiling",
    "model",
    "medianR",
    "medianFraction",
  ]),
};

/** A model's files: its atoms, sub-groups (counts and members), codes and reconstruction. */
export interface ModelFiles {
  /** The atoms' time courses, one column per atom. */
  atoms: string;
  /** Per atom and layer: ANs with positive and negative codes. */
  subgroups: TableSpec;
  /**
   * Every AN of every atom's sub-group: one row per non-zero code, sorted by
   * atom, then |code| descending (then AN index). `layer` and `unit` place
   * the AN (unit within its layer); `code` is the float32 code, written with
   * the fewest digits that read back as the same float32.
   */
  members: TableSpec<"layer" | "unit" | "atom" | "code">;
  /**
   * The full code matrix as NumPy `.npy` (float32, C order), shape
   * (K atoms, N ANs): every AN recorded in the model's order, so column j
   * is AN j (layers one after another, units within each); dead (constant)
   * ANs are columns of zeros. Read with `numpy.load` or `decodeNpy`.
   */
  codes: string;
  /** Reconstruction R² of each layer's ANs. */
  layerR2: TableSpec;
  /** Per atom: its sub-group zeroed, loss change, p, z and BH q on the story and held-out text. */
  ablation: TableSpec;
  /**
   * Per atom: stability (median |r| with its Hungarian matches over every
   * re-learned dictionary), the medians over seeds and over parts of the
   * story, and whether it reaches `minStability`. Where computed.
   */
  stability: TableSpec<"atom" | "stability" | "seedMedianR" | "halvesMedianR" | "stable">;
  /** Each atom paired with one of another model's (its control) by the Hungarian algorithm on |r|. */
  matched: (other: string) => TableSpec<"atom" | "matchedAtom" | "r">;
}

/**
 * The files of one model: its atoms, sub-groups (counts and members), codes and reconstruction.
 *
 * @example
 * ```ts
 * import { modelFiles } from "@brainorg/core/results";
 * modelFiles("stories260K").codes; // "models/stories260K/codes.npy"
 * ```
 */
export const modelFiles = (model: string): ModelFiles => ({
  atoms: `models/${model}/atoms.csv`,
  subgroups: table(`models/${model}/subgroups.csv`, ["atom", "layer", "positive", "negative"]),
  members: table(`models/${model}/members.csv`, ["layer", "unit", "atom", "code"]),
  codes: `models/${model}/codes.npy`,
  layerR2: table(`models/${model}/layer_r2.csv`, ["layer", "r2"]),
  ablation: table(`models/${model}/ablation.csv`, [
    "atom",
    "ans",
    "storyLossChange",
    "storyP",
    "storyZ",
    "storyQ",
    "heldOutLossChange",
    "heldOutP",
    "heldOutZ",
    "heldOutQ",
  ]),
  stability: table(`models/${model}/stability.csv`, [
    "atom",
    "stability",
    "seedMedianR",
    "halvesMedianR",
    "stable",
  ]),
  matched: (other: string) =>
    table(`models/${model}/matched_${other}.csv`, ["atom", "matchedAtom", "r"]),
});

const NETWORK_SUBJECT_COLUMNS = ["subject", "medianR", "medianR2", "voxelsQ05"] as const;
const NETWORK_CELL_COLUMNS = [
  "atom",
  "sign",
  "network",
  "networkName",
  "voxels",
  "dice",
  "overlap",
  "p",
  "z",
  "q",
  "pFWE",
  "linked",
] as const;

const SPATIAL_NULL_COLUMNS = [
  "atom",
  "sign",
  "network",
  "networkName",
  "voxels",
  "dice",
  "p",
  "q",
  "linked",
  "spatialP",
  "spatialQ",
  "spatialLinked",
  "linkedBoth",
] as const;

/**
 * What `summary.json` records of the spatial null (`spatial_null.ts`):
 * variogram-matched surrogates of each atom's group t map.
 */
export interface SpatialNullSummary {
  /** Surrogate maps per atom. */
  surrogates: number;
  /** The null, in words. */
  method: string;
  /** Per model and template set: links under the shift null, the spatial null, and both. */
  models: {
    /** The model's name. */
    name: string;
    /** Smoothing bandwidth (mm) fitted per atom (null for an atom with no voxel past the threshold). */
    bandwidthsMm: (number | null)[];
    /** Per template set, its links under each null. */
    templates: { name: string; shiftLinks: number; spatialLinks: number; bothLinks: number }[];
  }[];
}

/** A model's voxel-level files. */
export interface VoxelFiles {
  /** One-sample t over subjects per atom (4-D NIfTI, one volume per atom). */
  groupT: string;
  /** Mean held-out r over subjects (NIfTI). */
  groupMeanR: string;
  /** −log₁₀ q of the mean r (NIfTI). */
  groupNegLog10Q: string;
  /** Each voxel of a linked atom part labelled with the atom's number + 1 (NIfTI). */
  atomLabels: string;
  /** Variance partitioning, subject-mean maps (NIfTI): unique atoms, unique low level, shared, joint R². */
  variance: { uniqueAtoms: string; uniqueLowLevel: string; shared: string; r2Joint: string };
  /** Per subject: median r, median R² and voxels with q ≤ 0.05. */
  subjects: TableSpec;
  /** Every atom × sign × network cell against a template set: overlap, null statistics, link. */
  networks: (set: string) => TableSpec;
  /** A subject's map of held-out r, CV R² or coefficient z (NIfTI). */
  subjectMap: (id: string, map: "r" | "r2" | "z") => string;
  /** Spatial null: every cell with the shift null's and the spatial null's p, q and verdicts. */
  spatialNull: (set: string) => TableSpec;
  /** Bootstrap: per cell linked in the full sample or some resample, its reappearance. */
  bootstrapLinks: (set: string) => TableSpec;
  /** Bootstrap: each organization metric's value and 95% interval. */
  bootstrapMetrics: (set: string) => TableSpec;
  /** Bootstrap: per atom × sign part, its voxels and their median reappearance. */
  bootstrapMaps: TableSpec;
  /** Bootstrap: per atom, each voxel's share of resamples in its map (4-D NIfTI). */
  bootstrapFrequency: string;
  /** Seed spread: per cell linked with the reference or another seed, its reappearance over seeds. */
  seedSpreadLinks: (set: string) => TableSpec;
  /** Seed spread: each organization metric's reference value, min, max and SD across seeds. */
  seedSpreadMetrics: (set: string) => TableSpec;
  /** Seed spread: each organization metric's value per seed (the reference's seed included). */
  seedSpreadValues: (set: string) => TableSpec;
}

/**
 * The voxel-level files of one model.
 *
 * @example
 * ```ts
 * import { voxelFiles } from "@brainorg/core/results";
 * const files = voxelFiles("stories260K");
 * files.subjectMap("sub-01", "r"); // "voxels/stories260K/subjects/sub-01_r.nii.gz"
 * ```
 */
export const voxelFiles = (model: string): VoxelFiles => ({
  groupT: `voxels/${model}/group_t.nii.gz`,
  groupMeanR: `voxels/${model}/group_mean_r.nii.gz`,
  groupNegLog10Q: `voxels/${model}/group_r_neglog10q.nii.gz`,
  atomLabels: `voxels/${model}/atom_labels.nii.gz`,
  variance: {
    uniqueAtoms: `voxels/${model}/unique_atoms_r2.nii.gz`,
    uniqueLowLevel: `voxels/${model}/unique_lowlevel_r2.nii.gz`,
    shared: `voxels/${model}/shared_r2.nii.gz`,
    r2Joint: `voxels/${model}/joint_r2.nii.gz`,
  },
  subjects: table(`voxels/${model}/subjects.csv`, NETWORK_SUBJECT_COLUMNS),
  networks: (set: string) => table(`voxels/${model}/networks_${set}.csv`, NETWORK_CELL_COLUMNS),
  subjectMap: (id: string, map: "r" | "r2" | "z") => `voxels/${model}/subjects/${id}_${map}.nii.gz`,
  spatialNull: (set: string) =>
    table(`voxels/${model}/spatial_null_${set}.csv`, SPATIAL_NULL_COLUMNS),
  bootstrapLinks: (set: string) =>
    table(`voxels/${model}/bootstrap_links_${set}.csv`, [
      "atom",
      "sign",
      "network",
      "networkName",
      "linked",
      "reappearance",
    ]),
  bootstrapMetrics: (set: string) =>
    table(`voxels/${model}/bootstrap_metrics_${set}.csv`, [
      "metric",
      "value",
      "ciLow",
      "ciHigh",
      "finite",
    ]),
  bootstrapMaps: table(`voxels/${model}/bootstrap_maps.csv`, [
    "atom",
    "sign",
    "voxels",
    "medianFrequency",
  ]),
  bootstrapFrequency: `voxels/${model}/bootstrap_frequency.nii.gz`,
  seedSpreadLinks: (set: string) =>
    table(`voxels/${model}/seed_spread_links_${set}.csv`, [
      "atom",
      "sign",
      "network",
      "networkName",
      "linked",
      "reappearance",
    ]),
  seedSpreadMetrics: (set: string) =>
    table(`voxels/${model}/seed_spread_metrics_${set}.csv`, [
      "metric",
      "value",
      "min",
      "max",
      "sd",
      "finite",
    ]),
  seedSpreadValues: (set: string) =>
    table(`voxels/${model}/seed_spread_values_${set}.csv`, [
      "metric",
      "seed",
      "reference",
      "value",
    ]),
});

/** The files of a label template set on the analysis grid, for the viewer. */
export interface TemplateFiles {
  /** Each voxel's network label (NIfTI, label intent). */
  labels: string;
  /** The networks' labels and names. */
  names: TableSpec;
}

/** The files of a label template set on the analysis grid, for the viewer. */
export const templateFiles = (set: string): TemplateFiles => ({
  labels: `voxels/networks_${set}.nii.gz`,
  names: table(`voxels/networks_${set}.csv`, ["index", "name"]),
});
