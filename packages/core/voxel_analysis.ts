/**
 * The voxel-level part of the method, steps 4–7: subjects' 4-D NIfTI on a
 * mask → cleaned series → atom encoding per voxel with its null → group
 * maps → network matching against template sets → organization metrics;
 * and the NIfTI maps and tables it writes into a results folder.
 *
 * @module
 */

import { join } from "node:path";
import { BRAINORG_VERSION } from "@brainorg/common";
import type { Backend, Matrix } from "@brainorg/kernels";
import { resolveDataFile, type ResolveOptions } from "@brainorg/datasets";
import { type BrainMask, readNifti, resampleToGrid, unmask, writeNifti } from "@brainorg/neuro";
import { modelBootstrap } from "./bootstrap.ts";
import { modelSeedSpread, type SeedAtoms } from "./seed_spread.ts";
import { cleanSeries, prepareRegressorCleaning } from "./clean.ts";
import { keepMatrixRows } from "./voxel_data.ts";
import { NetworkMatcher, networkSets } from "./networks.ts";
import {
  fractionOfCeiling,
  type FractionOptions,
  MIN_CEILING,
  NOISE_CEILING_DEFINITION,
  type NoiseCeiling,
  noiseCeiling,
} from "./noise_ceiling.ts";
import { organizationMetrics } from "./organization.ts";
import { median, studentTQuantileUpper } from "./stats.ts";
import {
  type EncodedSubject,
  encodeVoxels,
  type ModelVoxelResult,
  type VoxelEncodingOptions,
} from "./voxel_encoding.ts";
import type { TemplateSet } from "./templates.ts";
import { cacheKey, loadVoxelResult, saveVoxelResult } from "./voxel_cache.ts";
import {
  type NoiseCeilingSummary,
  RESULT_FILES,
  type ResultTable,
  templateFiles,
  voxelFiles,
} from "./results.ts";
import { writeTable } from "./results_writer.ts";

/** A model's atoms and where its sub-groups sit. */
export interface AtomSource {
  /** The model's name in the results. */
  name: string;
  /** (T × K) atom time courses on the TR grid, T = the subjects' kept volumes. */
  atoms: Matrix;
  /** Per atom, its sub-group's AN count per layer (K × layers). */
  layerCounts: number[][];
  /**
   * The stability step's dictionaries of other seeds, aligned to `atoms`
   * (`seedAtomsOf`), for the spread across seeds. Default: none.
   */
  seedAtoms?: SeedAtoms[];
}

/** Options of {@linkcode analyzeVoxels}. */
export interface VoxelAnalysisOptions {
  /** Surrogates of the atoms in the null. Default: 100. */
  permutations?: number;
  /** Seed of the surrogates. Default: 0. */
  seed?: number;
  /** Contiguous cross-validation folds, or `[start, end)` row ranges (one per story). Default: 5. */
  folds?: number | readonly (readonly [number, number])[];
  /** One-sided voxel p (per sign) that puts a voxel in an atom's map. Default: 0.01. */
  voxelP?: number;
  /** Level of the network links (per-cell p and FDR q). Default: 0.05. */
  alpha?: number;
  /**
   * Bootstrap resamples of the subjects for the links' reappearance, the
   * metrics' intervals and the maps' reliability (`bootstrap.ts`); 0: none.
   * Default: 0.
   */
  bootstrap?: number;
  /**
   * The organization metrics and links with every model's `seedAtoms` too,
   * and their spread across seeds (`seed_spread.ts`); skipped, with a
   * logged reason, by a sharded or blocked run. Default: false.
   */
  seedSpread?: boolean;
  /** Ridge penalty of the coefficient maps, or `"cv"` for each voxel's CV-chosen α. Default: 1. */
  mapAlpha?: number | "cv";
  /** Coefficient maps by ridge (default) or LASSO with α per voxel by CV. */
  maps?: "ridge" | "lasso";
  /** Surrogates: circular shifts (default) or phase randomization. */
  method?: "shift" | "phase";
  /** Repetition time (s), for the regressors' high-pass filter. */
  tr: number;
  /** High-pass cutoff (s), the same as the data's. Default: 128. */
  highPassSeconds?: number;
  /** Volumes of each run, as for the data: cleaning and shifts stay within runs. */
  runs?: number[];
  /**
   * Volumes kept (1) where scrubbing censored some (0) in any subject: the
   * subjects' data hold the kept rows only; the regressors are cleaned on
   * the kept rows and cut alike, and runs and folds count kept rows.
   * (T) over the stimulus's volumes. Default: all kept.
   */
  keepRows?: Uint8Array;
  /**
   * Keep each model's finished result here (`voxels/<key>/`, keyed by the
   * atoms, the data, the templates and every option), and reuse it: an
   * interrupted run resumes from the models it finished. Default: no cache.
   */
  cacheDir?: string;
  /** Lines of the run's narrative. */
  log?: (line: string) => void;
  /** Progress of each model's fits and null, labelled with the model's name. */
  onProgress?: (label: string, done: number, total: number) => void;
  /**
   * Run instead of {@linkcode analyzeVoxels}, with its arguments: how a
   * sharded run (`shard_voxels.ts`) plans, computes a block or merges the
   * blocks. Default: none.
   */
  analyzer?: VoxelAnalyzer;
}

/** {@linkcode analyzeVoxels}'s signature: a replacement for it (sharded runs). */
export type VoxelAnalyzer = (
  backend: Backend,
  subjects: { id: string; data: Matrix; confounds?: Matrix }[],
  models: AtomSource[],
  templateSets: TemplateSet[],
  options: VoxelAnalysisOptions,
) => Promise<VoxelAnalysis>;

/** What {@linkcode analyzeVoxels} finds. */
export interface VoxelAnalysis {
  /** Every model's maps, links and metrics, in the order given. */
  models: ModelVoxelResult[];
  /** The subjects' noise ceiling: of the data alone, so computed once, whatever the models. */
  noiseCeiling: NoiseCeiling;
}

/**
 * Compute the subjects' noise ceiling, encode every subject from each
 * model's atoms and match the group maps with every template set.
 */
export async function analyzeVoxels(
  backend: Backend,
  subjects: { id: string; data: Matrix; confounds?: Matrix }[],
  models: AtomSource[],
  templateSets: TemplateSet[],
  options: VoxelAnalysisOptions,
): Promise<VoxelAnalysis> {
  if (options.analyzer) {
    if (options.seedSpread) {
      options.log?.(
        "seed spread: skipped (a sharded or blocked run encodes by blocks of voxels; the " +
          "seeds' group maps would need every block again per seed)",
      );
    }
    const { analyzer, seedSpread: _s, ...rest } = options;
    return await analyzer(backend, subjects, models, templateSets, rest);
  }
  const results: ModelVoxelResult[] = [];
  const ceiling = await noiseCeiling(backend, subjects);
  const medians = noiseCeilingSummary(ceiling);
  options.log?.(
    `noise ceiling: median ${medians.median.toFixed(3)} over ${ceiling.isc.length} voxels ` +
      `(leave-one-subject-out ISC: median ${medians.medianIsc.toFixed(3)})`,
  );
  const df = subjects.length - 1;
  const threshold = studentTQuantileUpper(options.voxelP ?? 0.01, df);
  const { onProgress: _p, log: _l, cacheDir, ...settings } = options;
  const dataKey = options.cacheDir
    ? cacheKey([
      // A change of method must not reuse results: bump with the computation.
      `brainorg ${BRAINORG_VERSION} voxel-results/2`,
      JSON.stringify(settings),
      ...subjects.flatMap((s) => [s.id, s.data.data, s.confounds?.data ?? "no confounds"]),
      ...templateSets.flatMap((t) => [t.name, t.kind, ...t.networks.map((n) => n.values)]),
    ])
    : "";
  // Each subject's confounds, regressed out of its data, are regressed out
  // of the regressors it is fit with too (prepared once, for every model).
  const encodedSubjects = encodingSubjects(subjects, options);
  for (const model of models) {
    const seedAtoms = options.seedSpread ? model.seedAtoms ?? [] : [];
    const dir = cacheDir
      ? join(
        cacheDir,
        "voxels",
        cacheKey([
          dataKey,
          model.name,
          model.atoms.data,
          // The seeds' atoms only where used: a run without them keeps its key.
          ...seedAtoms.flatMap((s) => [String(s.seed), s.atoms.data]),
        ]).slice(0, 32),
      )
      : "";
    const cached = dir ? await loadVoxelResult(dir) : null;
    if (cached) {
      options.log?.(`${model.name}: voxel results read from the cache`);
      results.push(cached);
      continue;
    }
    const { x, encoding } = await modelEncoding(backend, model, options, encodedSubjects);
    const sets = templateSets.map((t) => ({
      template: t,
      sets: networkSets(t.networks, t.kind),
    }));
    const matchers = sets.map((s) => new NetworkMatcher(s.sets, threshold));
    const encoded = await encodeVoxels(
      backend,
      x,
      encodedSubjects,
      {
        ...encoding,
        onProgress: (label, done, total) =>
          options.onProgress?.(`${model.name} ${label}`, done, total),
      },
      matchers.map((m) => m.observe),
    );
    const t = encoded.group.t, V = t.cols;
    const partOf = (atom: number, sign: 1 | -1) =>
      Uint8Array.from(
        { length: V },
        (_, v) =>
          (sign > 0 ? t.data[atom * V + v] > threshold : t.data[atom * V + v] < -threshold) ? 1 : 0,
      );
    const result: ModelVoxelResult = {
      model: model.name,
      subjects: encoded.subjects,
      group: encoded.group,
      threshold,
      templates: sets.map((s, i) => {
        const matches = matchers[i].match(t, options.alpha ?? 0.05);
        return {
          name: s.template.name,
          matches,
          metrics: organizationMetrics(
            matches,
            s.template.networks.map((n) => n.name),
            model.atoms,
            model.layerCounts,
            partOf,
          ),
        };
      }),
    };
    if (options.bootstrap) {
      const started = performance.now();
      result.bootstrap = modelBootstrap(result, matchers, model, {
        resamples: options.bootstrap,
        seed: options.seed ?? 0,
        alpha: options.alpha ?? 0.05,
        networkNames: templateSets.map((s) => s.networks.map((n) => n.name)),
      });
      options.log?.(
        `${model.name}: ${options.bootstrap} bootstrap resamples of the subjects in ${
          ((performance.now() - started) / 1000).toFixed(1)
        } s`,
      );
    }
    if (seedAtoms.length) {
      const started = performance.now();
      result.seedSpread = await modelSeedSpread(
        seedAtoms,
        async (atoms) => {
          const seed = await modelEncoding(backend, { ...model, atoms }, options, encodedSubjects);
          // No null: its surrogates would cost the main encoding's null again per seed.
          const out = await encodeVoxels(backend, seed.x, encodedSubjects, {
            ...seed.encoding,
            permutations: 0,
          });
          return out.group.t;
        },
        {
          t,
          threshold,
          templates: result.templates.map((tr, j) => ({
            name: tr.name,
            matcher: matchers[j],
            networkNames: templateSets[j].networks.map((n) => n.name),
            matches: tr.matches,
            metrics: tr.metrics,
          })),
          layerCounts: model.layerCounts,
        },
        { alpha: options.alpha ?? 0.05 },
      );
      options.log?.(
        `${model.name}: organization with ${seedAtoms.length} other dictionary seeds in ${
          ((performance.now() - started) / 1000).toFixed(1)
        } s`,
      );
    } else if (options.seedSpread) {
      options.log?.(`${model.name}: seed spread: skipped (no other seeds' dictionaries)`);
    }
    if (dir) await saveVoxelResult(dir, result);
    results.push(result);
  }
  return { models: results, noiseCeiling: ceiling };
}

/**
 * Each subject's encoding input: its data (time x voxels) and, where it has
 * confounds, the cleaning design that regresses them out of the model's
 * regressors too (prepared once, for every model).
 */
export function encodingSubjects(
  subjects: { id: string; data: Matrix; confounds?: Matrix }[],
  options: VoxelAnalysisOptions,
): EncodedSubject[] {
  return subjects.map((s) => ({
    id: s.id,
    data: s.data,
    ...(s.confounds
      ? {
        design: prepareRegressorCleaning({
          tr: options.tr,
          highPassSeconds: options.highPassSeconds ?? 128,
          runs: options.runs ?? [s.confounds.rows],
          confounds: s.confounds,
          ...(options.keepRows ? { keepRows: options.keepRows } : {}),
        }),
      }
      : {}),
  }));
}

/**
 * One model's cleaned regressors `x` (kept time x atoms) and the encoding
 * options (permutations, folds, runs...) the voxel stage's options give;
 * shared by analyzeVoxels and the sharded path so both fit the same thing.
 */
export async function modelEncoding(
  backend: Backend,
  model: AtomSource,
  options: VoxelAnalysisOptions,
  subjects: EncodedSubject[],
): Promise<{ x: Matrix; subjects: EncodedSubject[]; encoding: VoxelEncodingOptions }> {
  const keep = options.keepRows;
  const cleaned = await cleanSeries(backend, model.atoms, {
    tr: options.tr,
    highPassSeconds: options.highPassSeconds ?? 128,
    ...(options.runs ? { runs: options.runs } : {}),
    ...(keep ? { sampleMask: keep } : {}),
  });
  const x = keep ? keepMatrixRows(cleaned, keep) : cleaned;
  const layout = keptLayout(model.atoms.rows, options.runs, options.folds ?? 5, keep);
  return {
    x,
    subjects,
    encoding: {
      permutations: options.permutations ?? 100,
      seed: options.seed ?? 0,
      folds: layout.folds,
      ...(options.mapAlpha !== undefined ? { mapAlpha: options.mapAlpha } : {}),
      ...(options.maps ? { maps: options.maps } : {}),
      ...(options.method ? { method: options.method } : {}),
      ...(layout.runs ? { runs: layout.runs } : {}),
    },
  };
}

/**
 * Runs and folds counted in kept rows: where scrubbing left rows out, each
 * run and each fold range shrinks by its censored rows.
 *
 * @param rows the stimulus's volumes
 * @param runs volumes of each run
 * @param folds a count, or row ranges over the stimulus's volumes
 * @param keep (rows) 1 kept, 0 censored
 */
export function keptLayout(
  rows: number,
  runs: number[] | undefined,
  folds: number | readonly (readonly [number, number])[],
  keep: Uint8Array | undefined,
): { runs?: number[]; folds: number | [number, number][] } {
  if (!keep) {
    return {
      ...(runs ? { runs } : {}),
      folds: typeof folds === "number" ? folds : folds.map(([a, b]) => [a, b]),
    };
  }
  const before = new Int32Array(rows + 1);
  for (let t = 0; t < rows; t++) before[t + 1] = before[t] + (keep[t] ? 1 : 0);
  const count = (a: number, b: number) => before[b] - before[a];
  let start = 0;
  const kept = (runs ?? [rows]).map((n) => count(start, start += n));
  return {
    ...(runs ? { runs: kept } : {}),
    folds: typeof folds === "number"
      ? folds
      : folds.map(([a, b]) => [before[a], before[a] + count(a, b)] as [number, number]),
  };
}

/** The median of the finite values; NaN when there is none. */
function finiteMedian(values: ArrayLike<number>): number {
  const finite = Array.from(values).filter(Number.isFinite);
  return finite.length ? median(finite) : NaN;
}

/**
 * What `summary.json` records of the noise ceiling: medians over the voxels
 * and the definition.
 *
 * @param ceiling the analysis's {@linkcode VoxelAnalysis.noiseCeiling}
 * @param options the smallest ceiling of a fraction. Default: {@linkcode MIN_CEILING}.
 */
export function noiseCeilingSummary(
  ceiling: NoiseCeiling,
  options: FractionOptions = {},
): NoiseCeilingSummary {
  const min = options.minCeiling ?? MIN_CEILING;
  return {
    median: finiteMedian(ceiling.ceiling),
    medianIsc: finiteMedian(ceiling.isc),
    minCeiling: min,
    voxelsAboveMin: ceiling.ceiling.reduce((a, c) => a + (c > min ? 1 : 0), 0),
    definition: NOISE_CEILING_DEFINITION,
  };
}

/**
 * A model's mean r over subjects as a fraction of the noise ceiling, median
 * over the voxels where the ceiling exceeds `minCeiling` (NaN where none does).
 *
 * @param result the model's voxel results
 * @param ceiling the analysis's noise ceiling, over the same voxels
 * @param options the smallest ceiling of a fraction. Default: {@linkcode MIN_CEILING}.
 */
export function medianFractionOfCeiling(
  result: ModelVoxelResult,
  ceiling: NoiseCeiling,
  options: FractionOptions = {},
): number {
  return finiteMedian(fractionOfCeiling(result.group.meanR, ceiling.ceiling, options));
}

/**
 * The noise ceiling per template network: for every template set, network
 * (its voxels as network matching counts them) and model, the medians of the
 * ISC, the ceiling, the model's mean r and its fraction of the ceiling
 * (over the network's voxels where the ceiling exceeds `minCeiling`).
 *
 * @param analysis the models and the noise ceiling of {@linkcode analyzeVoxels}
 * @param templates the template sets the models were matched with
 * @param options the smallest ceiling of a fraction. Default: {@linkcode MIN_CEILING}.
 * @returns the rows of `voxels/noise_ceiling_networks.csv`
 */
export function noiseCeilingTable(
  analysis: VoxelAnalysis,
  templates: TemplateSet[],
  options: FractionOptions = {},
): ResultTable {
  const { isc, ceiling } = analysis.noiseCeiling;
  const fractions = analysis.models.map((m) => fractionOfCeiling(m.group.meanR, ceiling, options));
  const rows = templates.flatMap((t) =>
    networkSets(t.networks, t.kind).flatMap((n, network) => {
      const voxels: number[] = [];
      n.member.forEach((m, v) => m && voxels.push(v));
      const within = (values: ArrayLike<number>) => finiteMedian(voxels.map((v) => values[v]));
      const shared = {
        set: t.name,
        network,
        networkName: n.name,
        voxels: n.voxels,
        medianIsc: within(isc),
        medianCeiling: within(ceiling),
      };
      return analysis.models.map((m, i) => ({
        ...shared,
        model: m.model,
        medianR: within(m.group.meanR),
        medianFraction: within(fractions[i]),
      }));
    })
  );
  return { ...RESULT_FILES.noiseCeilingNetworks, rows };
}

/** What {@linkcode writeNoiseCeilingFiles} writes from. */
export interface NoiseCeilingFiles {
  /** The analysis mask the voxels are on. */
  mask: BrainMask;
  /** The template sets the models were matched with. */
  templates: TemplateSet[];
  /** The models and the noise ceiling of {@linkcode analyzeVoxels}. */
  analysis: VoxelAnalysis;
}

/**
 * Write the noise ceiling into the results folder `dir`, once per analysis:
 * its map (`voxels/noise_ceiling.nii.gz`) and its table per template network
 * and model (`voxels/noise_ceiling_networks.csv`).
 */
export async function writeNoiseCeilingFiles(dir: string, files: NoiseCeilingFiles): Promise<void> {
  const { mask, templates, analysis } = files;
  await writeNifti(join(dir, RESULT_FILES.noiseCeiling), {
    ...unmask(analysis.noiseCeiling.ceiling, mask),
    description: "noise ceiling of a subject's r (sqrt rho from LOSO ISC)",
  });
  await writeTable(dir, noiseCeilingTable(analysis, templates));
}

/**
 * A 3-D label map of the links: each voxel in a linked atom part gets the
 * atom's number + 1 (the strongest |t| where parts overlap), 0 elsewhere.
 */
export function linkLabelMap(result: ModelVoxelResult, templateIndex = 0): Float32Array {
  const t = result.group.t, V = t.cols, out = new Float32Array(V), best = new Float32Array(V);
  for (const m of result.templates[templateIndex].matches.filter((m) => m.linked)) {
    for (let v = 0; v < V; v++) {
      const x = m.sign * t.data[m.atom * V + v];
      if (x > result.threshold && x > best[v]) (best[v] = x), (out[v] = m.atom + 1);
    }
  }
  return out;
}

/** Per subject: median held-out r and CV R², and voxels with FDR q ≤ 0.05. */
export function subjectSummaries(
  result: ModelVoxelResult,
): { subject: string; medianR: number; medianR2: number; voxelsQ05: number }[] {
  return result.subjects.map((s) => ({
    subject: s.id,
    medianR: median(s.r),
    medianR2: median(s.r2),
    voxelsQ05: s.q.reduce((a, q) => a + (q <= 0.05 ? 1 : 0), 0),
  }));
}

/** Write a model's maps and tables into the results folder `dir`, where `results.ts` puts them. */
export async function writeVoxelResults(
  dir: string,
  mask: BrainMask,
  result: ModelVoxelResult,
): Promise<void> {
  const files = voxelFiles(result.model);
  const map = (path: string, values: ArrayLike<number>, description: string, intent?: number) =>
    writeNifti(join(dir, path), { ...unmask(values, mask), description }, {
      ...(intent ? { intent: { code: intent } } : {}),
    });
  const g = result.group;
  await map(files.groupT, g.t.data, `${result.model}: one-sample t per atom`, 3);
  await map(files.groupMeanR, g.meanR, `${result.model}: mean held-out r`);
  await map(
    files.groupNegLog10Q,
    Float32Array.from(g.qR, (q) => -Math.log10(q)),
    `${result.model}: -log10 FDR q of mean r`,
  );
  await map(files.atomLabels, linkLabelMap(result), `${result.model}: linked atom + 1`, 1002);
  for (const s of result.subjects) {
    await map(files.subjectMap(s.id, "r"), s.r, `${s.id}: held-out r`);
    await map(files.subjectMap(s.id, "r2"), s.r2, `${s.id}: CV R2`);
    await map(files.subjectMap(s.id, "z"), s.z.data, `${s.id}: coefficient z`, 5);
  }
  await writeTable(dir, { ...files.subjects, rows: subjectSummaries(result) });
  for (const t of result.templates) {
    await writeTable(dir, { ...files.networks(t.name), rows: t.matches });
  }
}

/**
 * What the dashboard's brain viewer draws under and around the maps, written into the
 * results folder `dir`: the
 * MNI T1 resampled onto the analysis grid, and each label template as a
 * label image with its names.
 */
export async function writeTemplateFiles(
  dir: string,
  mask: BrainMask,
  templates: TemplateSet[],
  data: ResolveOptions = {},
): Promise<void> {
  const t1 = await resolveDataFile("atlases/MNI152NLin6_res-2x2x2_T1w_descr-brain.nii.gz", data);
  const anatomy = resampleToGrid(await readNifti(t1.path), mask.grid, {
    interpolation: "linear",
    sourceName: t1.path,
  });
  await writeNifti(join(dir, RESULT_FILES.anatomy), {
    ...anatomy,
    description: "MNI152 T1 on the analysis grid",
  });
  for (const t of templates.filter((t) => t.kind === "labels")) {
    const labels = new Float32Array(mask.indices.length);
    for (const n of t.networks) n.values.forEach((v, i) => v > 0 && (labels[i] = n.index));
    const files = templateFiles(t.name);
    await writeNifti(join(dir, files.labels), {
      ...unmask(labels, mask),
      description: `${t.name} on the analysis grid`,
    }, { datatype: "int16", intent: { code: 1002 } });
    await writeTable(dir, {
      ...files.names,
      rows: t.networks.map((n) => ({ index: n.index, name: n.name })),
    });
  }
}
