/**
 * The voxel stage run block of voxels by block of voxels in one process,
 * when every subject's data and per-voxel state would not fit a memory
 * budget: the subjects' cleaned series wait on disk (`voxel_spill.ts`), and
 * each block is read back from every subject at its turn, encoded with the
 * whole null (as a shard of a sharded run is, `shard_voxels.ts`), and only
 * its outputs are kept: its slices of the maps, its noise ceiling and, per
 * surrogate, the counts that network matching's Dice is made of. What spans
 * all voxels (FDR, network matching, metrics) is then computed as the merge
 * of shards computes it. Per-voxel results do not depend on the other
 * voxels and every block draws the same surrogates, so the results equal
 * the whole-study run's within float rounding of the products.
 *
 * Memory then grows with the block (subjects × block voxels × per-voxel
 * state), not with the study; what stays per subject is its finished maps
 * (r, R², α, p and two K × V maps: 8K + 24 bytes per voxel).
 *
 * @module
 */

import type { Matrix } from "@brainorg/kernels";
import { maskFromImage, readNifti } from "@brainorg/neuro";
import type { AnalysisConfig } from "./analysis_config.ts";
import { networkSets } from "./networks.ts";
import { noiseCeiling } from "./noise_ceiling.ts";
import { studentTQuantileUpper } from "./stats.ts";
import { encodeBlock, modelFromBlocks } from "./shard_voxels.ts";
import { addBlock, type BlockResult, emptyAssembly, writeBlockResult } from "./block_result.ts";
import { blockEntryDir, blockNetworks, blockStudyKey, loadBlock } from "./block_cache.ts";
import {
  encodingSubjects,
  modelEncoding,
  noiseCeilingSummary,
  type VoxelAnalyzer,
} from "./voxel_analysis.ts";
import type { ModelVoxelResult } from "./voxel_encoding.ts";

/** Where a blocked run reads its blocks: a {@linkcode VoxelSpill}, or any store of subjects' series. */
export interface VoxelBlockSource {
  /** Voxels of every subject (V). */
  readonly voxels: number;
  /**
   * Voxels `[v0, v1)` of subject `subject` (in the analysis's order).
   *
   * @returns (T × (v1 − v0)) float32, row-major
   */
  readBlock(subject: number, v0: number, v1: number): Promise<Matrix>;
}

/** Bytes per subject and voxel a block needs, beside the maps kept (see {@linkcode voxelBlocks}). */
export function blockBytesPerVoxel(volumes: number, atoms: number): number {
  // The series and a working copy (8T), the null's float64 running sums and
  // the block's maps before they are copied out (32K), the per-voxel scalars.
  return 8 * volumes + 32 * atoms + 64;
}

/**
 * The memory budget when the analysis file sets none: 3 GiB, or a quarter
 * of the machine's memory where that is less. Beside the budget a run holds
 * the stages before the voxels (2.4 GiB for a Llama-sized capture and its
 * atoms) and every subject's finished maps (0.12 GiB each at 2 mm, K = 64),
 * so that 20 subjects at paper scale stay within 8 GiB.
 */
export function defaultVoxelMemoryGiB(): number {
  try {
    return Math.min(3, Deno.systemMemoryInfo().total / 2 ** 32);
  } catch {
    return 3; // no permission to read the machine's memory
  }
}

/** How the voxel stage is split: {@linkcode voxelBlocks}'s answer. */
export interface VoxelBlockChoice {
  /** Voxels per block (the last holds the rest). */
  blockVoxels: number;
  /** Blocks of the mask's voxels. */
  blocks: number;
  /** What the whole study's data and per-voxel state would take at once, bytes. */
  wholeBytes: number;
  /** The budget, bytes. */
  budgetBytes: number;
}

/**
 * Whether the voxel stage runs by blocks, and their size: by blocks when
 * `blockVoxels` is given and smaller than the mask, or when the subjects'
 * data and per-voxel state (subjects × voxels × {@linkcode blockBytesPerVoxel})
 * exceed the budget; then blocks as large as the budget allows.
 *
 * @param study subjects S, volumes T, voxels V of the mask, the largest K of the models
 * @param options `memoryGiB` (default {@linkcode defaultVoxelMemoryGiB}); `blockVoxels` forces a size
 * @returns the split, or undefined when the whole study fits at once
 * @throws {RangeError} for a budget or block size that is not positive
 *
 * @example
 * ```ts
 * import { voxelBlocks } from "@brainorg/core";
 * // 20 subjects × 228,483 voxels × 400 volumes, K = 64, in 8 GiB: 3 blocks of 80,854.
 * voxelBlocks({ subjects: 20, volumes: 400, voxels: 228483, atoms: 64 }, { memoryGiB: 8 });
 * ```
 */
export function voxelBlocks(
  study: { subjects: number; volumes: number; voxels: number; atoms: number },
  options: { memoryGiB?: number; blockVoxels?: number } = {},
): VoxelBlockChoice | undefined {
  const { subjects: S, volumes: T, voxels: V, atoms: K } = study;
  const gib = options.memoryGiB ?? defaultVoxelMemoryGiB();
  if (!(gib > 0)) throw new RangeError(`memoryGiB must be positive: current value ${gib}`);
  const given = options.blockVoxels;
  if (given !== undefined && !(Number.isInteger(given) && given >= 1)) {
    throw new RangeError(`blockVoxels must be a positive integer: current value ${given}`);
  }
  const perVoxel = S * blockBytesPerVoxel(T, K), budgetBytes = gib * 2 ** 30;
  const wholeBytes = perVoxel * V;
  const size = given ?? (wholeBytes > budgetBytes ? Math.floor(budgetBytes / perVoxel) : V);
  if (size >= V) return undefined;
  const blockVoxels = Math.max(1, size);
  return { blockVoxels, blocks: Math.ceil(V / blockVoxels), wholeBytes, budgetBytes };
}

/**
 * {@linkcode voxelBlocks} for an analysis file's user data, before it is
 * read: the mask's voxels (before screening drops any), every subject
 * given, the stimulus's volumes, the file's atoms, `voxels.memoryGiB` and
 * `voxels.blockVoxels`.
 *
 * @param config the analysis (with `voxels.mask` and `voxels.subjects`)
 * @param volumes the stimulus's kept volumes
 */
export async function studyVoxelBlocks(
  config: AnalysisConfig,
  volumes: number,
): Promise<VoxelBlockChoice | undefined> {
  const vx = config.voxels!;
  const mask = maskFromImage(await readNifti(vx.mask!), vx.mask!);
  return voxelBlocks({
    subjects: vx.subjects!.length,
    volumes,
    voxels: mask.indices.length,
    atoms: config.atoms,
  }, {
    ...(vx.memoryGiB !== undefined ? { memoryGiB: vx.memoryGiB } : {}),
    ...(vx.blockVoxels !== undefined ? { blockVoxels: vx.blockVoxels } : {}),
  });
}

/** Options of {@linkcode blockedAnalyzer}. */
export interface BlockedAnalyzerOptions {
  /** Voxels per block (the last holds the rest). */
  blockVoxels: number;
  /** Told why a cached block is not used, before it is recomputed. Default: `console.warn`. */
  warn?: (line: string) => void;
}

/**
 * The voxel stage by blocks of voxels, in this process: a replacement of
 * `analyzeVoxels` (its `analyzer` option) that reads each block of every
 * subject from `source` (the subjects it is called with hold their ids,
 * confounds and shapes; their data is not read), computes the block's noise
 * ceiling, and encodes it with each model's whole null; then puts the
 * models' results together as the merge of a sharded run does.
 *
 * With `cacheDir` among the voxel stage's options, each (block × model)
 * result is kept as a cache entry (`block_cache.ts`) and reused: an
 * interrupted run resumes from the blocks it finished, a warm rerun reads
 * every block back. The noise ceiling is recomputed from the block (read
 * anyway for the key; it costs little beside the encoding).
 *
 * @param source the subjects' series, by blocks
 * @param options `blockVoxels`: voxels per block; `warn`: where a damaged entry is reported
 * @returns an analyzer whose results equal `analyzeVoxels`' within float rounding
 *
 * @example
 * ```ts ignore
 * import { analyzeVoxels, blockedAnalyzer } from "@brainorg/core";
 * const analyzer = blockedAnalyzer(spill, { blockVoxels: 50_000 });
 * await analyzeVoxels(backend, subjects, models, templates, { tr: 2, cacheDir, analyzer });
 * ```
 */
export function blockedAnalyzer(
  source: VoxelBlockSource,
  options: BlockedAnalyzerOptions,
): VoxelAnalyzer {
  const B = options.blockVoxels, warn = options.warn ?? console.warn;
  if (!(Number.isInteger(B) && B >= 1)) {
    throw new RangeError(`blockVoxels must be a positive integer: current value ${B}`);
  }
  return async (backend, subjects, models, templateSets, opts) => {
    const V = source.voxels, S = subjects.length, P = opts.permutations ?? 100;
    const threshold = studentTQuantileUpper(opts.voxelP ?? 0.01, S - 1);
    const blocks = Math.ceil(V / B), cacheDir = opts.cacheDir;
    opts.log?.(`voxels: ${blocks} blocks of ≤ ${B} of ${V} voxels, read from disk one at a time`);
    // Regressors and each subject's nuisance design do not depend on the voxels: made once.
    const designs = encodingSubjects(subjects, opts);
    // Made when first needed: a warm rerun encodes nothing.
    const inputs: ReturnType<typeof modelEncoding>[] = [];
    const inputOf = (m: number) => (inputs[m] ??= modelEncoding(backend, models[m], opts, designs));
    const sets = templateSets.map((t) => networkSets(t.networks, t.kind));
    const study = cacheDir ? blockStudyKey(subjects, V, opts) : "";
    const assembled = models.map((m) => emptyAssembly(S, m.atoms.cols, V));
    const isc = new Float32Array(V), ceiling = new Float32Array(V);
    for (let b = 0; b < blocks; b++) {
      const started = performance.now();
      const v0 = b * B, v1 = Math.min(V, v0 + B);
      const where = `voxels ${v0}–${v1} (block ${b + 1} of ${blocks})`;
      const data: Matrix[] = [];
      for (let i = 0; i < S; i++) data.push(await source.readBlock(i, v0, v1));
      const nc = await noiseCeiling(backend, subjects.map((s, i) => ({ id: s.id, data: data[i] })));
      isc.set(nc.isc, v0);
      ceiling.set(nc.ceiling, v0);
      const members = blockNetworks(sets, v0, v1);
      let cached = 0;
      for (const [m, model] of models.entries()) {
        const K = model.atoms.cols;
        const dir = cacheDir
          ? blockEntryDir(cacheDir, { study, v0, v1, data, networks: members }, model)
          : "";
        const shape = { subjects: S, atoms: K, voxels: v1 - v0, permutations: P };
        const found = dir
          ? await loadBlock(dir, { ...shape, networks: members.map((n) => n.length) }, warn)
          : { result: null, replace: false };
        let block: BlockResult;
        if (found.result) {
          block = found.result;
          cached++;
        } else {
          block = await encodeBlock(
            backend,
            { ...(await inputOf(m)), subjects: designs.map((d, i) => ({ ...d, data: data[i] })) },
            {
              networks: members,
              threshold,
              model: model.name,
              ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
            },
          );
          if (dir) {
            await writeBlockResult(dir, block, {
              model: model.name,
              voxels: [v0, v1],
              of: V,
              subjects: subjects.map((s) => s.id),
              atoms: K,
              permutations: P,
              templates: templateSets.map((t) => t.name),
            }, { replace: found.replace });
          }
        }
        addBlock(assembled[m], v0, block);
      }
      if (cached === models.length) opts.log?.(`${where}: read from the cache`);
      else {
        const seconds = ((performance.now() - started) / 1000).toFixed(1);
        const some = cached ? ` (${cached} of ${models.length} models read from the cache)` : "";
        opts.log?.(`${where} done in ${seconds} s${some}`);
      }
    }
    const whole = { isc, ceiling, subjects: S };
    const medians = noiseCeilingSummary(whole);
    opts.log?.(
      `noise ceiling: median ${medians.median.toFixed(3)} over ${V} voxels ` +
        `(leave-one-subject-out ISC: median ${medians.medianIsc.toFixed(3)})`,
    );
    const results: ModelVoxelResult[] = models.map((model, m) =>
      modelFromBlocks(model, subjects, templateSets, opts, assembled[m])
    );
    return { models: results, noiseCeiling: whole };
  };
}
