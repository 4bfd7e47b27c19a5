/**
 * The voxel-level part of the method, steps 4–7: subjects' 4-D NIfTI on a
 * mask → cleaned series → atom encoding per voxel with its null → group
 * maps → network matching against template sets → organization metrics;
 * and the NIfTI maps and tables it writes into a results folder.
 *
 * @module
 */

import { join } from "node:path";
import { BRAINORG_VERSION, InputError, writeTextFileAtomic } from "@brainorg/common";
import type { Backend, Matrix } from "@brainorg/kernels";
import { resolveDataFile, type ResolveOptions } from "@brainorg/datasets";
import {
  applyMask,
  type BrainMask,
  type NetworkTemplate,
  readNifti,
  resampleToGrid,
  unmask,
  volumeCount,
  writeNifti,
} from "@brainorg/neuro";
import { cleanSeries } from "./clean.ts";
import { toCsv } from "./csv.ts";
import { type NetworkMatch, NetworkMatcher, networkSets } from "./networks.ts";
import { type OrganizationMetrics, organizationMetrics } from "./organization.ts";
import { median, studentTQuantileUpper } from "./stats.ts";
import { encodeVoxels, type GroupMaps, type SubjectMaps } from "./voxel_encoding.ts";
import { cacheKey, loadVoxelResult, saveVoxelResult } from "./voxel_cache.ts";

/** Subjects' voxel data on one mask. */
export interface VoxelDataset {
  mask: BrainMask;
  subjects: { id: string; path: string }[];
  /** Repetition time (s). */
  tr: number;
  /** Volumes to drop at the start of every subject's series. Default: 0. */
  discarded?: number;
  /** High-pass cutoff (s). Default: 128. */
  highPassSeconds?: number;
  /** Volumes of each run (kept volumes, runs end to end in every file). Default: one run. */
  runs?: number[];
}

/** A set of network templates on the mask. */
export interface TemplateSet {
  name: string;
  kind: "labels" | "continuous";
  networks: NetworkTemplate[];
}

/** A model's atoms and where its sub-groups sit. */
export interface AtomSource {
  name: string;
  /** (T × K) atom time courses on the TR grid, T = the subjects' kept volumes. */
  atoms: Matrix;
  /** Per atom, its sub-group's AN count per layer (K × layers). */
  layerCounts: number[][];
}

/** Options of {@linkcode analyzeVoxels}. */
export interface VoxelAnalysisOptions {
  permutations?: number;
  seed?: number;
  folds?: number;
  /** One-sided voxel p (per sign) that puts a voxel in an atom's map. Default: 0.01. */
  voxelP?: number;
  /** Level of the network links (per-cell p and FDR q). Default: 0.05. */
  alpha?: number;
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
   * Keep each model's finished result here (`voxels/<key>/`, keyed by the
   * atoms, the data, the templates and every option), and reuse it: an
   * interrupted run resumes from the models it finished. Default: no cache.
   */
  cacheDir?: string;
  /** Lines of the run's narrative. */
  log?: (line: string) => void;
  onProgress?: (label: string, done: number, total: number) => void;
}

/** One model's voxel results. */
export interface ModelVoxelResult {
  model: string;
  subjects: SubjectMaps[];
  group: GroupMaps;
  /** |t| threshold of the atoms' maps. */
  threshold: number;
  /** Per template set: every atom × sign × network cell, and the metrics. */
  templates: { name: string; matches: NetworkMatch[]; metrics: OrganizationMetrics }[];
}

/**
 * Read, mask and clean every subject (T × V each).
 * @throws {InputError} naming the file whose grid or length is wrong
 */
export async function loadVoxelData(
  backend: Backend,
  dataset: VoxelDataset,
  volumes: number,
): Promise<{ id: string; data: Matrix }[]> {
  const out = [];
  const drop = dataset.discarded ?? 0;
  for (const s of dataset.subjects) {
    const img = await readNifti(s.path);
    const T = volumeCount(img) - drop;
    if (T !== volumes) {
      throw new InputError("the series does not match the stimulus", {
        file: s.path,
        field: "dim[4] (volumes)",
        expected: `${volumes + drop} volumes (${volumes} after dropping ${drop})`,
        found: String(volumeCount(img)),
      });
    }
    const V = dataset.mask.indices.length;
    const all = applyMask(img, dataset.mask, s.path);
    const data = { rows: T, cols: V, data: all.subarray(drop * V) };
    out.push({
      id: s.id,
      data: await cleanSeries(backend, data, {
        tr: dataset.tr,
        highPassSeconds: dataset.highPassSeconds ?? 128,
        ...(dataset.runs ? { runs: dataset.runs } : {}),
      }),
    });
  }
  return out;
}

/**
 * Encode every subject from each model's atoms and match the group maps
 * with every template set.
 */
export async function analyzeVoxels(
  backend: Backend,
  subjects: { id: string; data: Matrix }[],
  models: AtomSource[],
  templateSets: TemplateSet[],
  options: VoxelAnalysisOptions,
): Promise<ModelVoxelResult[]> {
  const results: ModelVoxelResult[] = [];
  const df = subjects.length - 1;
  const threshold = studentTQuantileUpper(options.voxelP ?? 0.01, df);
  const { onProgress: _p, log: _l, cacheDir, ...settings } = options;
  const dataKey = options.cacheDir
    ? cacheKey([
      // A change of method must not reuse results: bump with the computation.
      `brainorg ${BRAINORG_VERSION} voxel-results/2`,
      JSON.stringify(settings),
      ...subjects.flatMap((s) => [s.id, s.data.data]),
      ...templateSets.flatMap((t) => [t.name, t.kind, ...t.networks.map((n) => n.values)]),
    ])
    : "";
  for (const model of models) {
    const dir = cacheDir
      ? join(cacheDir, "voxels", cacheKey([dataKey, model.name, model.atoms.data]).slice(0, 32))
      : "";
    const cached = dir ? await loadVoxelResult(dir) : null;
    if (cached) {
      options.log?.(`${model.name}: voxel results read from the cache`);
      results.push(cached);
      continue;
    }
    const x = await cleanSeries(backend, model.atoms, {
      tr: options.tr,
      highPassSeconds: options.highPassSeconds ?? 128,
      ...(options.runs ? { runs: options.runs } : {}),
    });
    const sets = templateSets.map((t) => ({
      template: t,
      sets: networkSets(t.networks, t.kind),
    }));
    const matchers = sets.map((s) => new NetworkMatcher(s.sets, threshold));
    const encoded = await encodeVoxels(
      backend,
      x,
      subjects,
      {
        permutations: options.permutations ?? 100,
        seed: options.seed ?? 0,
        folds: options.folds ?? 5,
        ...(options.mapAlpha !== undefined ? { mapAlpha: options.mapAlpha } : {}),
        ...(options.maps ? { maps: options.maps } : {}),
        ...(options.method ? { method: options.method } : {}),
        ...(options.runs ? { runs: options.runs } : {}),
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
    if (dir) await saveVoxelResult(dir, result);
    results.push(result);
  }
  return results;
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

/** Write a model's maps and tables under `dir` (e.g. `<results>/voxels/<model>`). */
export async function writeVoxelResults(
  dir: string,
  mask: BrainMask,
  result: ModelVoxelResult,
): Promise<void> {
  const map = (name: string, values: ArrayLike<number>, description: string, intent?: number) =>
    writeNifti(join(dir, name), { ...unmask(values, mask), description }, {
      ...(intent ? { intent: { code: intent } } : {}),
    });
  const g = result.group;
  await map("group_t.nii.gz", g.t.data, `${result.model}: one-sample t per atom`, 3);
  await map("group_mean_r.nii.gz", g.meanR, `${result.model}: mean held-out r`);
  await map(
    "group_r_neglog10q.nii.gz",
    Float32Array.from(g.qR, (q) => -Math.log10(q)),
    `${result.model}: -log10 FDR q of mean r`,
  );
  await map("atom_labels.nii.gz", linkLabelMap(result), `${result.model}: linked atom + 1`, 1002);
  for (const s of result.subjects) {
    await map(join("subjects", `${s.id}_r.nii.gz`), s.r, `${s.id}: held-out r`);
    await map(join("subjects", `${s.id}_r2.nii.gz`), s.r2, `${s.id}: CV R2`);
    await map(join("subjects", `${s.id}_z.nii.gz`), s.z.data, `${s.id}: coefficient z`, 5);
  }
  await writeTextFileAtomic(
    join(dir, "subjects.csv"),
    toCsv(["subject", "medianR", "medianR2", "voxelsQ05"], subjectSummaries(result)),
  );
  for (const t of result.templates) {
    await writeTextFileAtomic(
      join(dir, `networks_${t.name}.csv`),
      toCsv(
        [
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
        ],
        t.matches,
      ),
    );
  }
}

/**
 * What the dashboard's brain viewer draws under and around the maps: the
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
  await writeNifti(join(dir, "anatomy.nii.gz"), {
    ...anatomy,
    description: "MNI152 T1 on the analysis grid",
  });
  for (const t of templates.filter((t) => t.kind === "labels")) {
    const labels = new Float32Array(mask.indices.length);
    for (const n of t.networks) n.values.forEach((v, i) => v > 0 && (labels[i] = n.index));
    await writeNifti(join(dir, `networks_${t.name}.nii.gz`), {
      ...unmask(labels, mask),
      description: `${t.name} on the analysis grid`,
    }, { datatype: "int16", intent: { code: 1002 } });
    await writeTextFileAtomic(
      join(dir, `networks_${t.name}.csv`),
      toCsv(["index", "name"], t.networks.map((n) => ({ index: n.index, name: n.name }))),
    );
  }
}
