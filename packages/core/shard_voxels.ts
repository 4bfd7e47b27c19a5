/**
 * The voxel stage of a sharded run, as three replacements of
 * {@linkcode analyzeVoxels} (its `analyzer` option), each run inside the one
 * pipeline so that every stage before the voxels (stimulus, capture, atoms,
 * from their caches) and after them (networks, report) is the single
 * process's:
 *
 * - the plan step's probe records the study's shape and stops;
 * - a shard encodes one model on one block of voxels, every subject, with
 *   the whole null, and writes the block's maps and, per surrogate, the
 *   counts that network matching's Dice is made of (sizes of each atom's
 *   thresholded parts and their intersections with each network: sums over
 *   voxels, so blocks add up exactly); then stops;
 * - the merge puts the blocks together, computes what spans all voxels
 *   (FDR over voxels, the noise ceiling, network matching against the
 *   summed null, organization metrics) and hands the result on to be
 *   written as a single process writes it.
 *
 * Per-voxel results do not depend on the other voxels (ridge CV, refits and
 * exceedance counts are per voxel; every block draws the same surrogates
 * from the seed), so the merged folder equals the single process's within
 * float rounding of the products.
 *
 * @module
 */

import { join } from "node:path";
import { BRAINORG_VERSION, InputError } from "@brainorg/common";
import type { Backend, Matrix } from "@brainorg/kernels";
import { modelBootstrap } from "./bootstrap.ts";
import { NetworkMatcher, type NetworkSet, networkSets } from "./networks.ts";
import { noiseCeiling } from "./noise_ceiling.ts";
import { organizationMetrics } from "./organization.ts";
import { benjaminiHochberg, studentTQuantileUpper } from "./stats.ts";
import type { ShardPlan, StudyShape } from "./shard_plan.ts";
import { shardDir } from "./shard_plan.ts";
import { cacheKey } from "./voxel_cache.ts";
import {
  type AtomSource,
  encodingSubjects,
  modelEncoding,
  type VoxelAnalysisOptions,
  type VoxelAnalyzer,
} from "./voxel_analysis.ts";
import {
  type EncodedSubject,
  encodeVoxels,
  type ModelVoxelResult,
  type SubjectMaps,
  type VoxelEncodingOptions,
} from "./voxel_encoding.ts";
import type { TemplateSet } from "./templates.ts";
import {
  addBlock,
  type AssembledModel,
  type BlockResult,
  blockResultOf,
  emptyAssembly,
  readBlockResult,
  writeBlockResult,
} from "./block_result.ts";

/**
 * Thrown by the probe and by a shard once their part is done, so that the
 * pipeline stops before the stages that need every voxel.
 */
export class StopAfterVoxels extends Error {
  /** The study's shape, when the probe threw it. */
  readonly study?: StudyShape;

  /**
   * The signal to stop.
   *
   * @param study what the probe saw (absent for a shard)
   */
  constructor(study?: StudyShape) {
    super("the sharded step's voxel part is done");
    this.name = "StopAfterVoxels";
    if (study) this.study = study;
  }
}

/**
 * The voxel stage's inputs as one SHA-256: subjects' data and confounds,
 * models' atoms, templates and the options that change results.
 *
 * @param subjects per subject its id, cleaned data (T × V) and confounds (T × C)
 * @param models the models' atoms (T × K)
 * @param templateSets the template sets the maps are matched with
 * @param options the voxel stage's options (functions and the cache folder left out)
 * @returns hex SHA-256
 */
export function studyKey(
  subjects: { id: string; data: Matrix; confounds?: Matrix }[],
  models: AtomSource[],
  templateSets: TemplateSet[],
  options: VoxelAnalysisOptions,
): string {
  const { onProgress: _p, log: _l, cacheDir: _c, analyzer: _a, ...settings } = options;
  return cacheKey([
    `brainorg ${BRAINORG_VERSION} shard-study/1`,
    JSON.stringify(settings),
    ...subjects.flatMap((s) => [s.id, s.data.data, s.confounds?.data ?? "no confounds"]),
    ...models.flatMap((m) => [m.name, m.atoms.data]),
    ...templateSets.flatMap((t) => [t.name, t.kind, ...t.networks.map((n) => n.values)]),
  ]);
}

/**
 * The plan step's analyzer: records the study's shape and throws
 * {@linkcode StopAfterVoxels} carrying it.
 */
export const probeAnalyzer: VoxelAnalyzer = (_backend, subjects, models, sets, options) => {
  throw new StopAfterVoxels({
    key: studyKey(subjects, models, sets, options),
    voxels: subjects[0].data.cols,
    subjects: subjects.map((s) => s.id),
    models: models.map((m) => ({ name: m.name, atoms: m.atoms.cols })),
    templates: sets.map((t) => t.name),
    permutations: options.permutations ?? 100,
  });
};

/** Refuse a shard or merge whose inputs are not the plan's. */
function checkKey(plan: ShardPlan, key: string, file: string): void {
  if (key !== plan.study.key) {
    throw new InputError(
      "the study's inputs or options are not those the plan was made from: plan again",
      { file, field: "study.key", expected: plan.study.key, found: key },
    );
  }
}

/** Columns `[v0, v1)` of a (rows × V) matrix. */
function columns(m: Matrix, v0: number, v1: number): Matrix {
  const w = v1 - v0, out = new Float32Array(m.rows * w);
  for (let t = 0; t < m.rows; t++) {
    out.set(m.data.subarray(t * m.cols + v0, t * m.cols + v1), t * w);
  }
  return { rows: m.rows, cols: w, data: out };
}

/**
 * Per surrogate, the counts Dice is made of on a block of voxels: the size
 * of every atom's thresholded part and its intersection with each network,
 * as {@linkcode diceTable} counts them over all voxels. Counts of blocks
 * add up to the whole map's.
 *
 * @example
 * ```ts
 * import { BlockDiceCounts } from "@brainorg/core";
 * const counts = new BlockDiceCounts([Uint8Array.of(1, 0)], 2, 1, 1);
 * counts.observe({ rows: 1, cols: 2, data: Float32Array.of(3, -3) });
 * console.log(counts.sizes, counts.inter); // [1, 1] [1, 0]
 * ```
 */
export class BlockDiceCounts {
  /** Size of each atom's part: (P × K × 2), surrogate-major, sign 0 = positive. */
  readonly sizes: Uint32Array;
  /** Intersections of each part with each network: (P × K × 2 × N). */
  readonly inter: Uint32Array;
  /** The block's networks as 0/1 over its voxels (N arrays of the block's length). */
  readonly members: Uint8Array[];
  /** |statistic| a voxel must exceed to be in an atom's part. */
  readonly threshold: number;
  /** Atoms (rows of each map). */
  readonly K: number;
  #next = 0;

  /**
   * Counts with room for `P` surrogates.
   *
   * @param members the block's networks, 0/1 over its voxels
   * @param threshold |statistic| of a part
   * @param K atoms
   * @param P surrogates
   */
  constructor(members: Uint8Array[], threshold: number, K: number, P: number) {
    this.members = members;
    this.threshold = threshold;
    this.K = K;
    this.sizes = new Uint32Array(P * K * 2);
    this.inter = new Uint32Array(P * K * 2 * members.length);
  }

  /** Count the next surrogate's map on the block: (K × block voxels). */
  observe = (stat: Matrix): void => {
    const { K, threshold, members } = this, N = members.length, V = stat.cols, j = this.#next++;
    for (let k = 0; k < K; k++) {
      for (let s = 0; s < 2; s++) {
        const cell = (j * K + k) * 2 + s;
        let size = 0;
        for (let v = 0; v < V; v++) {
          const x = stat.data[k * V + v];
          if (s === 0 ? x > threshold : x < -threshold) {
            size++;
            for (let n = 0; n < N; n++) this.inter[cell * N + n] += members[n][v];
          }
        }
        this.sizes[cell] = size;
      }
    }
  };
}

/** Options the encoding of a model gets from the voxel stage's options, as analyzeVoxels sets them. */
async function encodingInputs(
  backend: Parameters<VoxelAnalyzer>[0],
  subjects: { id: string; data: Matrix; confounds?: Matrix }[],
  model: AtomSource,
  options: VoxelAnalysisOptions,
) {
  return await modelEncoding(backend, model, options, encodingSubjects(subjects, options));
}

/**
 * One model encoded on one block of voxels, every subject, with the whole
 * null, each surrogate's map counted as network matching's Dice needs it:
 * the block's part of a shard or of a blocked run.
 *
 * @param backend the compute backend
 * @param input the model's regressors (T × K), each subject's data on the
 *   block (T × w) and the encoding options (`modelEncoding`'s)
 * @param block per template set its networks on the block (0/1 over its
 *   voxels); the |t| a voxel must pass; the model's name, for progress
 * @returns the block's maps and null counts
 *
 * @example
 * ```ts ignore
 * import { encodeBlock } from "@brainorg/core";
 * const block = await encodeBlock(backend, input, { networks, threshold: 3.1, model: "m" });
 * ```
 */
export async function encodeBlock(
  backend: Backend,
  input: { x: Matrix; subjects: EncodedSubject[]; encoding: VoxelEncodingOptions },
  block: {
    networks: Uint8Array[][];
    threshold: number;
    model: string;
    onProgress?: (label: string, done: number, total: number) => void;
  },
): Promise<BlockResult> {
  const K = input.x.cols, P = input.encoding.permutations ?? 100;
  const counts = block.networks.map((n) => new BlockDiceCounts(n, block.threshold, K, P));
  const encoded = await encodeVoxels(backend, input.x, input.subjects, {
    ...input.encoding,
    onProgress: (label, done, total) => block.onProgress?.(`${block.model} ${label}`, done, total),
  }, counts.map((c) => c.observe));
  return blockResultOf(encoded, counts);
}

/**
 * A shard's analyzer: encodes its model on its block of voxels, writes the
 * block's results into the shard's folder (whole or not at all; a rerun
 * replaces them) and throws {@linkcode StopAfterVoxels}.
 *
 * @param dir the plan folder
 * @param plan its plan
 * @param index the shard to run
 */
export function shardAnalyzer(dir: string, plan: ShardPlan, index: number): VoxelAnalyzer {
  return async (backend, subjects, models, templateSets, options) => {
    checkKey(plan, studyKey(subjects, models, templateSets, options), join(dir, "plan.json"));
    const shard = plan.shards[index], [v0, v1] = shard.voxels;
    const model = models.find((m) => m.name === shard.model)!;
    const K = model.atoms.cols, S = subjects.length, P = options.permutations ?? 100;
    const threshold = studentTQuantileUpper(options.voxelP ?? 0.01, S - 1);
    const block = subjects.map((s) => ({ ...s, data: columns(s.data, v0, v1) }));
    const inputs = await encodingInputs(backend, block, model, options);
    const started = performance.now();
    const result = await encodeBlock(backend, inputs, {
      networks: templateSets.map((t) =>
        networkSets(t.networks, t.kind).map((n) => n.member.subarray(v0, v1))
      ),
      threshold,
      model: model.name,
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    });
    // A rerun shard replaces its results, whole or not.
    await writeBlockResult(shardDir(dir, index), result, {
      key: plan.study.key,
      ...shard,
      atoms: K,
      subjects: subjects.map((s) => s.id),
      permutations: P,
      templates: templateSets.map((t) => t.name),
    }, { replace: true });
    options.log?.(
      `shard ${index} (${model.name}, voxels ${v0}–${v1}) done in ${
        ((performance.now() - started) / 1000).toFixed(1)
      } s`,
    );
    throw new StopAfterVoxels();
  };
}

/** A model's result assembled from its shards: network matching is the caller's. */
async function assembleModel(
  dir: string,
  plan: ShardPlan,
  model: string,
  S: number,
  K: number,
  templateSets: TemplateSet[],
): Promise<AssembledModel> {
  const V = plan.study.voxels, into = emptyAssembly(S, K, V);
  const networks = templateSets.map((t) => t.networks.length);
  for (const s of plan.shards.filter((s) => s.model === model)) {
    const [v0, v1] = s.voxels, folder = shardDir(dir, s.index);
    const shape = { subjects: S, atoms: K, voxels: v1 - v0, permutations: plan.study.permutations };
    const found = await readBlockResult(folder, { ...shape, networks });
    if (found.state !== "whole") {
      throw new InputError(`shard ${s.index}'s results are not usable`, {
        file: folder,
        expected: "a whole shard folder",
        found: found.state === "damaged" ? found.reason : "none",
      });
    }
    addBlock(into, v0, found.result);
  }
  return into;
}

/**
 * Each surrogate's Dice table from the blocks' counts summed, by
 * {@linkcode diceTable}'s formula: 2 |A ∩ N| / (|A| + |N|).
 *
 * @param sets the template's networks over all voxels (their sizes |N|)
 * @param blocks every block's {@linkcode BlockDiceCounts} (sizes and intersections)
 * @param K atoms
 * @param P surrogates
 * @returns per surrogate, its Dice table (K × 2 × N), as `diceTable` returns it
 */
export function nullDiceTables(
  sets: NetworkSet[],
  blocks: { sizes: Uint32Array; inter: Uint32Array }[],
  K: number,
  P: number,
): Float64Array[] {
  const N = sets.length, out: Float64Array[] = [];
  for (let j = 0; j < P; j++) {
    const dice = new Float64Array(K * 2 * N);
    for (let cell = 0; cell < K * 2; cell++) {
      let size = 0;
      const inter = new Float64Array(N);
      for (const b of blocks) {
        size += b.sizes[j * K * 2 + cell];
        for (let n = 0; n < N; n++) inter[n] += b.inter[(j * K * 2 + cell) * N + n];
      }
      for (let n = 0; n < N; n++) {
        const total = size + sets[n].voxels;
        dice[cell * N + n] = total > 0 ? (2 * inter[n]) / total : 0;
      }
    }
    out.push(dice);
  }
  return out;
}

/**
 * A model's voxel result from its blocks' maps and null counts: what spans
 * all voxels (FDR over voxels, network matching against the summed null,
 * organization metrics, the bootstrap) computed as analyzeVoxels does.
 * Shared by the merge of shards and the in-process blocked run
 * (`voxel_blocks.ts`).
 *
 * @param model the model's atoms (T × K) and layer counts
 * @param subjects the subjects, in the blocks' order (ids only are read)
 * @param templateSets the template sets, in the blocks' order
 * @param options the voxel stage's options (permutations, voxelP, alpha, bootstrap, seed)
 * @param assembled the blocks put together
 */
export function modelFromBlocks(
  model: AtomSource,
  subjects: { id: string }[],
  templateSets: TemplateSet[],
  options: VoxelAnalysisOptions,
  assembled: AssembledModel,
): ModelVoxelResult {
  const S = subjects.length, P = options.permutations ?? 100, K = model.atoms.cols;
  const V = assembled.group.meanR.length, { maps, group, pR, nulls } = assembled;
  const threshold = studentTQuantileUpper(options.voxelP ?? 0.01, S - 1);
  const subjectMaps: SubjectMaps[] = maps.map((m, i) => ({
    id: subjects[i].id,
    r: m.r,
    r2: m.r2,
    alpha: m.alpha,
    p: m.p,
    q: benjaminiHochberg(m.p),
    weights: { rows: K, cols: V, data: m.weights },
    z: { rows: K, cols: V, data: m.z },
  }));
  const t: Matrix = { rows: K, cols: V, data: group.t };
  // As analyzeVoxels thresholds an atom's map for the organization metrics.
  const partOf = (atom: number, sign: 1 | -1) =>
    Uint8Array.from(
      { length: V },
      (_, v) =>
        (sign > 0 ? t.data[atom * V + v] > threshold : t.data[atom * V + v] < -threshold) ? 1 : 0,
    );
  const matchers: NetworkMatcher[] = [];
  const result: ModelVoxelResult = {
    model: model.name,
    subjects: subjectMaps,
    group: {
      subjects: S,
      t,
      p: group.p,
      meanR: group.meanR,
      pR,
      qR: benjaminiHochberg(pR),
    },
    threshold,
    templates: templateSets.map((set, j) => {
      const sets = networkSets(set.networks, set.kind);
      const matcher = new NetworkMatcher(sets, threshold);
      matchers.push(matcher);
      for (const dice of nullDiceTables(sets, nulls.map((b) => b[j]), K, P)) {
        matcher.observeDice(dice);
      }
      const matches = matcher.match(t, options.alpha ?? 0.05);
      return {
        name: set.name,
        matches,
        metrics: organizationMetrics(
          matches,
          set.networks.map((n) => n.name),
          model.atoms,
          model.layerCounts,
          partOf,
        ),
      };
    }),
  };
  // Where the full maps exist, as analyzeVoxels does: the same draws, the same folder.
  if (options.bootstrap) {
    result.bootstrap = modelBootstrap(result, matchers, model, {
      resamples: options.bootstrap,
      seed: options.seed ?? 0,
      alpha: options.alpha ?? 0.05,
      networkNames: templateSets.map((s) => s.networks.map((n) => n.name)),
    });
  }
  return result;
}

/**
 * The merge's analyzer: the voxel analysis of the whole study from its
 * shards' results (every shard must be whole: the merge command checks
 * first, with {@linkcode planProgress}).
 *
 * @param dir the plan folder
 * @param plan its plan
 */
export function mergeAnalyzer(dir: string, plan: ShardPlan): VoxelAnalyzer {
  return async (backend, subjects, models, templateSets, options) => {
    checkKey(plan, studyKey(subjects, models, templateSets, options), join(dir, "plan.json"));
    const ceiling = await noiseCeiling(backend, subjects);
    const results: ModelVoxelResult[] = [];
    for (const model of models) {
      const assembled = await assembleModel(
        dir,
        plan,
        model.name,
        subjects.length,
        model.atoms.cols,
        templateSets,
      );
      results.push(modelFromBlocks(model, subjects, templateSets, options, assembled));
      options.log?.(`${model.name}: merged from ${assembled.nulls.length} shards`);
    }
    return { models: results, noiseCeiling: ceiling };
  };
}
