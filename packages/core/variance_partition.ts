/**
 * Variance partitioning between the atoms and low-level regressors (word
 * rate, sound power, the user's columns): banded ridge with one penalty per
 * band chosen by cross-validation (`bandedRidgeCV` in @brainorg/kernels),
 * and per target the held-out R² the atoms explain uniquely (joint model
 * minus the low level alone), the low level uniquely (joint minus the atoms
 * alone), and the two share (sum of the bands alone minus the joint). At
 * the ROI level per subject × ROI with one-sample t over subjects; at the
 * voxel level per subject, averaged over subjects into maps.
 *
 * @module
 */

import { basename, join } from "node:path";
import { BRAINORG_VERSION } from "@brainorg/common";
import { type Backend, logspace, type Matrix, variancePartition } from "@brainorg/kernels";
import { type BrainMask, unmask, writeNifti } from "@brainorg/neuro";
import type { EncodedSubject } from "./voxel_encoding.ts";
import {
  type AtomSource,
  encodingSubjects,
  modelEncoding,
  type VoxelAnalysisOptions,
} from "./voxel_analysis.ts";
import { median, oneSampleT, zscoreColumns } from "./stats.ts";
import { voxelFiles } from "./results.ts";
import { readRegressor } from "./stimulus.ts";
import { cacheKey } from "./voxel_cache.ts";
import { loadVarianceMaps, saveVarianceMaps } from "./variance_partition_cache.ts";
import type {
  RoiVarianceGroup,
  RoiVariancePartition,
  RoiVarianceRow,
  VoxelVarianceMaps,
  VoxelVarianceSummary,
} from "./variance_partition_types.ts";
export type {
  RoiVarianceGroup,
  RoiVariancePartition,
  RoiVarianceRow,
  VoxelVarianceMaps,
  VoxelVarianceSummary,
} from "./variance_partition_types.ts";

/** Per-band penalties of the ROI level's banded ridge (the grid is their square). */
export const ROI_VARPART_ALPHAS: readonly number[] = logspace(-1, 4, 10);

/**
 * Per-band penalties of the voxel level's banded ridge: coarser than the
 * encoding's 10, as every pair is scored for every voxel of every subject.
 */
export const VOXEL_VARPART_ALPHAS: readonly number[] = logspace(-1, 4, 5);

/** How the partition is defined, in words (for the summary and report). */
export const VARPART_DEFINITION: string =
  "held-out R² (mean over folds) of banded ridge with one penalty per band chosen by CV over " +
  "the product grid; unique atoms = R²(atoms + low level) − R²(low level alone); unique low " +
  "level = R²(atoms + low level) − R²(atoms alone); shared = R²(atoms) + R²(low level) − " +
  "R²(atoms + low level)";

/** Columns of a and b side by side: (T × (Ka + Kb)). */
export function sideBySide(a: Matrix, b: Matrix): Matrix {
  const T = a.rows, K = a.cols + b.cols, data = new Float32Array(T * K);
  for (let t = 0; t < T; t++) {
    data.set(a.data.subarray(t * a.cols, (t + 1) * a.cols), t * K);
    data.set(b.data.subarray(t * b.cols, (t + 1) * b.cols), t * K + a.cols);
  }
  return { rows: T, cols: K, data };
}

/**
 * The ROI level's partition: for every model and usable subject, banded
 * ridge of the subject's ROI table (T × R) on [atoms | low level], atoms
 * z-scored, with the grid {@linkcode ROI_VARPART_ALPHAS} and contiguous
 * folds, each fold scored on its own variation (`centerFolds`: the tables'
 * means drift between folds); group means with one-sample t over subjects.
 *
 * @param subjects per subject its id, ROI data (T × R) and low-level regressors (T × L)
 * @param rois the ROIs' names (R)
 * @param models per model its atoms (T × K)
 * @param options folds, and the low level's names
 */
export async function roiVariancePartition(
  backend: Backend,
  subjects: { id: string; y: Matrix; lowLevel: Matrix }[],
  rois: readonly string[],
  models: { name: string; atoms: Matrix }[],
  options: { folds: number; lowLevel: string[] },
): Promise<{ summary: RoiVariancePartition; rows: RoiVarianceRow[] }> {
  const rows: RoiVarianceRow[] = [], group: RoiVarianceGroup[] = [];
  for (const m of models) {
    const atoms = zscoreColumns(m.atoms), K = atoms.cols;
    const mine: RoiVarianceRow[] = [];
    for (const s of subjects) {
      const x = sideBySide(atoms, s.lowLevel);
      const vp = await variancePartition(backend, x, s.y, {
        bands: [[0, K], [K, x.cols]],
        alphas: [...ROI_VARPART_ALPHAS],
        folds: options.folds,
        // ROI tables are not high-passed: their means drift between folds,
        // which would swamp every model's held-out R² (and the shared part).
        centerFolds: true,
      });
      rois.forEach((roi, r) =>
        mine.push({
          model: m.name,
          subject: s.id,
          roi,
          r2Joint: vp.r2Joint[r],
          r2Atoms: vp.r2Alone[0][r],
          r2LowLevel: vp.r2Alone[1][r],
          uniqueAtoms: vp.unique[0][r],
          uniqueLowLevel: vp.unique[1][r],
          shared: vp.shared[r],
        })
      );
    }
    for (const roi of rois) {
      const at = mine.filter((r) => r.roi === roi), n = at.length;
      const mean = (f: (r: RoiVarianceRow) => number) => at.reduce((a, r) => a + f(r), 0) / n;
      const t = (f: (r: RoiVarianceRow) => number) => oneSampleT(at.map((r) => [f(r)])).t[0] ?? NaN;
      group.push({
        model: m.name,
        roi,
        subjects: n,
        r2Joint: mean((r) => r.r2Joint),
        r2Atoms: mean((r) => r.r2Atoms),
        r2LowLevel: mean((r) => r.r2LowLevel),
        uniqueAtoms: mean((r) => r.uniqueAtoms),
        tUniqueAtoms: t((r) => r.uniqueAtoms),
        uniqueLowLevel: mean((r) => r.uniqueLowLevel),
        tUniqueLowLevel: t((r) => r.uniqueLowLevel),
        shared: mean((r) => r.shared),
        tShared: t((r) => r.shared),
      });
    }
    rows.push(...mine);
  }
  return {
    summary: {
      lowLevel: options.lowLevel,
      alphas: [...ROI_VARPART_ALPHAS],
      folds: options.folds,
      definition: VARPART_DEFINITION +
        "; ROIs: each fold's predictions and data centered on the fold's own means",
      group,
    },
    rows,
  };
}

/**
 * The voxel level's partition for one model: each subject's data (T × V)
 * on [atoms | low level], both cleaned as the encoding cleans its
 * regressors (and, where the subject has confounds, with them regressed
 * out), the maps averaged over subjects.
 *
 * @param x the model's cleaned atoms (T × K), as the encoding fits them
 * @param lowLevel the cleaned low-level regressors (T × L)
 * @param subjects the encoding's subjects (data T × V, nuisance design)
 * @param options folds (as the encoding's), the low level's names
 */
export async function voxelVariancePartition(
  backend: Backend,
  model: string,
  x: Matrix,
  lowLevel: Matrix,
  subjects: EncodedSubject[],
  options: { folds: number | readonly (readonly [number, number])[]; lowLevel: string[] },
): Promise<VoxelVarianceMaps> {
  const K = x.cols, both = sideBySide(x, lowLevel), V = subjects[0].data.cols;
  const S = subjects.length;
  const out = {
    r2Joint: new Float32Array(V),
    uniqueAtoms: new Float32Array(V),
    uniqueLowLevel: new Float32Array(V),
    shared: new Float32Array(V),
  };
  for (const s of subjects) {
    const xs = s.design ? await s.design.apply(backend, both) : both;
    const vp = await variancePartition(backend, xs, s.data, {
      bands: [[0, K], [K, both.cols]],
      alphas: [...VOXEL_VARPART_ALPHAS],
      folds: options.folds,
      checkFinite: false,
    });
    for (let v = 0; v < V; v++) {
      out.r2Joint[v] += vp.r2Joint[v] / S;
      out.uniqueAtoms[v] += vp.unique[0][v] / S;
      out.uniqueLowLevel[v] += vp.unique[1][v] / S;
      out.shared[v] += vp.shared[v] / S;
    }
  }
  return { model, lowLevel: options.lowLevel, subjects: S, ...out };
}

/**
 * The voxel level's partition for every model: the low-level regressors
 * cleaned, cut to the kept volumes and folded exactly as each model's atoms
 * ({@linkcode modelEncoding}), then {@linkcode voxelVariancePartition}.
 * With `options.cacheDir`, each model's maps are kept there
 * (`variance/<key>`, keyed by the data, confounds, low level, atoms and
 * settings) and read back by a repeated run.
 *
 * @param subjects every subject's series (T × V), all in memory, and confounds
 * @param models the models' atoms (T × K on the stimulus's volumes)
 * @param lowLevel the low-level regressors' names and values (T × L on the stimulus's volumes)
 * @param options the voxel stage's options, as given to `analyzeVoxels`
 */
export async function analyzeVoxelVariance(
  backend: Backend,
  subjects: { id: string; data: Matrix; confounds?: Matrix }[],
  models: AtomSource[],
  lowLevel: { names: string[]; values: Matrix },
  options: VoxelAnalysisOptions,
): Promise<VoxelVarianceMaps[]> {
  const { onProgress: _p, log: _l, cacheDir, analyzer: _a, ...settings } = options;
  const dataKey = cacheDir
    ? cacheKey([
      // A change of method must not reuse results: bump with the computation.
      `brainorg ${BRAINORG_VERSION} voxel-variance/1`,
      JSON.stringify({ settings, alphas: VOXEL_VARPART_ALPHAS, lowLevel: lowLevel.names }),
      lowLevel.values.data,
      ...subjects.flatMap((s) => [s.id, s.data.data, s.confounds?.data ?? "no confounds"]),
    ])
    : "";
  const entry = (m: AtomSource) =>
    join(cacheDir!, "variance", cacheKey([dataKey, m.name, m.atoms.data]).slice(0, 32));
  const V = subjects[0].data.cols;
  const cached = new Map<string, VoxelVarianceMaps>();
  for (const m of cacheDir ? models : []) {
    const maps = await loadVarianceMaps(entry(m), V, (line) => options.log?.(line));
    if (maps) cached.set(m.name, maps);
  }
  if (cached.size === models.length) {
    options.log?.("variance partitioning read from the cache");
    return models.map((m) => cached.get(m.name)!);
  }
  const encoded = encodingSubjects(subjects, options);
  const low = await modelEncoding(
    backend,
    { name: "low level", atoms: lowLevel.values, layerCounts: [] },
    options,
    encoded,
  );
  const out: VoxelVarianceMaps[] = [];
  for (const m of models) {
    const hit = cached.get(m.name);
    if (hit) {
      out.push(hit);
      continue;
    }
    const { x, encoding } = await modelEncoding(backend, m, options, encoded);
    const maps = await voxelVariancePartition(backend, m.name, x, low.x, encoded, {
      folds: encoding.folds ?? 5,
      lowLevel: lowLevel.names,
    });
    if (cacheDir) await saveVarianceMaps(entry(m), maps);
    out.push(maps);
  }
  return out;
}

/** The summary of a model's maps: medians over voxels and over its best-fit voxels. */
export function voxelVarianceSummary(maps: VoxelVarianceMaps): VoxelVarianceSummary {
  const V = maps.r2Joint.length;
  const order = Array.from({ length: V }, (_, v) => v).sort((a, b) =>
    maps.r2Joint[b] - maps.r2Joint[a]
  );
  const top = order.slice(0, Math.max(1, Math.round(V * 0.05)));
  const at = (m: Float32Array) => top.map((v) => m[v]);
  return {
    lowLevel: maps.lowLevel,
    alphas: [...VOXEL_VARPART_ALPHAS],
    subjects: maps.subjects,
    medianR2Joint: median(maps.r2Joint),
    medianUniqueAtoms: median(maps.uniqueAtoms),
    medianUniqueLowLevel: median(maps.uniqueLowLevel),
    medianShared: median(maps.shared),
    positiveUniqueAtoms: maps.uniqueAtoms.reduce((a, u) => a + (u > 0 ? 1 : 0), 0) / V,
    topVoxels: top.length,
    topMedianUniqueAtoms: median(at(maps.uniqueAtoms)),
    topMedianUniqueLowLevel: median(at(maps.uniqueLowLevel)),
    topMedianShared: median(at(maps.shared)),
  };
}

/** Write a model's partition maps into the results folder `dir` (`voxelFiles(model).variance`). */
export async function writeVoxelVarianceMaps(
  dir: string,
  mask: BrainMask,
  maps: VoxelVarianceMaps,
): Promise<void> {
  const files = voxelFiles(maps.model).variance;
  const low = maps.lowLevel.join(" + ");
  const write = (path: string, values: Float32Array, description: string) =>
    writeNifti(join(dir, path), { ...unmask(values, mask), description: description.slice(0, 79) });
  await write(files.uniqueAtoms, maps.uniqueAtoms, `${maps.model}: unique R2 of the atoms`);
  await write(files.uniqueLowLevel, maps.uniqueLowLevel, `${maps.model}: unique R2 of ${low}`);
  await write(files.shared, maps.shared, `${maps.model}: R2 shared by atoms and ${low}`);
  await write(files.r2Joint, maps.r2Joint, `${maps.model}: R2 of atoms + ${low}`);
}

/** One model × ROI as a log line: unique and shared R² with their t. */
export function varianceLine(g: RoiVarianceGroup): string {
  const f = (v: number) => (v >= 0 ? " " : "") + v.toFixed(4);
  return `${g.model} ${g.roi.padEnd(5)} R² joint ${f(g.r2Joint)}, unique atoms ${
    f(g.uniqueAtoms)
  } (t ${g.tUniqueAtoms.toFixed(2)}), unique low level ${f(g.uniqueLowLevel)} (t ${
    g.tUniqueLowLevel.toFixed(2)
  }), shared ${f(g.shared)}`;
}

/**
 * The voxel stage's partition, where the analysis asks for it: the low
 * level is the stimulus's word rate and the `voxels.lowLevel` files; every
 * model's maps and summary. Skipped, with a line in the log, where the
 * subjects' series are not all in memory (sharded or blocked runs).
 *
 * @param input the subjects, models, word rate (volumes), the low-level files and what to log
 * @param options the voxel stage's options (cleaning, runs, kept rows, folds)
 * @returns per model its maps, or undefined where skipped
 */
export async function partitionVoxelLevel(
  backend: Backend,
  input: {
    subjects: { id: string; data: Matrix; confounds?: Matrix }[];
    models: AtomSource[];
    wordRate: Float32Array;
    lowLevelFiles: string[];
    inMemory: boolean;
    log: (line: string) => void;
  },
  options: VoxelAnalysisOptions,
): Promise<VoxelVarianceMaps[] | undefined> {
  if (!input.inMemory) {
    input.log(
      "variance partitioning skipped: it needs every subject's series in memory " +
        "(not in sharded or blocked runs)",
    );
    return undefined;
  }
  const T = input.wordRate.length, columns = [input.wordRate];
  for (const file of input.lowLevelFiles) columns.push(await readRegressor(file, T));
  const L = columns.length;
  const values = {
    rows: T,
    cols: L,
    data: Float32Array.from({ length: T * L }, (_, i) => columns[i % L][(i / L) | 0]),
  };
  const names = ["word rate", ...input.lowLevelFiles.map((f) => basename(f))];
  const started = performance.now();
  const maps = await analyzeVoxelVariance(
    backend,
    input.subjects,
    input.models,
    { names, values: zscoreColumns(values) },
    { ...options, log: options.log ?? input.log },
  );
  for (const m of maps) {
    const s = voxelVarianceSummary(m);
    input.log(
      `${m.model}: variance partitioning vs ${names.join(" + ")}: median unique atoms R² ${
        s.medianUniqueAtoms.toFixed(4)
      } (top ${s.topVoxels} voxels: ${s.topMedianUniqueAtoms.toFixed(4)}), unique low level ${
        s.medianUniqueLowLevel.toFixed(4)
      } (${s.topMedianUniqueLowLevel.toFixed(4)}), shared ${s.medianShared.toFixed(4)} (${
        s.topMedianShared.toFixed(4)
      })`,
    );
  }
  input.log(
    `variance partitioning: ${maps.length} models × ${input.subjects.length} subjects in ${
      ((performance.now() - started) / 1000).toFixed(1)
    } s`,
  );
  return maps;
}
