/**
 * The blocked run's cache (`voxel_blocks.ts`): each (block × model) result
 * kept as a cache entry `<cacheDir>/voxel-blocks/<key>/`
 * ({@linkcode writeBlockResult}'s folder), so that an interrupted blocked
 * run resumes from the blocks it finished and a warm rerun reads every
 * block back instead of encoding it.
 *
 * The key is made of everything a block's maps and null counts depend on:
 * brainorg's version and a schema tag, the voxel stage's settings (every
 * option but the functions and the cache folder, as `analyzeVoxels`' own
 * cache keys them), the block's range and the study's voxels, every
 * subject's id, confounds and data on the block (hashed as read: the block
 * is read anyway), the templates' networks on the block (as thresholded for
 * matching), the subjects S and surrogates P, and the model's name and
 * atoms.
 *
 * @module
 */

import { join } from "node:path";
import { BRAINORG_VERSION } from "@brainorg/common";
import type { Matrix } from "@brainorg/kernels";
import { type BlockResult, type BlockShape, readBlockResult } from "./block_result.ts";
import type { NetworkSet } from "./networks.ts";
import { cacheKey } from "./voxel_cache.ts";
import type { AtomSource, VoxelAnalysisOptions } from "./voxel_analysis.ts";

/** Bump with any change of what a block entry holds or how it is computed. */
const SCHEMA = "voxel-block/1";

/**
 * The part of every block's key that does not depend on the block: the
 * version, settings, study size and subjects' ids and confounds.
 *
 * @param subjects per subject its id and confounds (T × C); data is not read
 * @param voxels the study's voxels V
 * @param options the voxel stage's options (functions and `cacheDir` left out)
 * @returns hex SHA-256
 *
 * @example
 * ```ts
 * import { blockStudyKey } from "@brainorg/core";
 * const key = blockStudyKey([{ id: "s1" }, { id: "s2" }], 1000, { tr: 2, permutations: 10 });
 * console.log(key.length); // 64
 * ```
 */
export function blockStudyKey(
  subjects: { id: string; confounds?: Matrix }[],
  voxels: number,
  options: VoxelAnalysisOptions,
): string {
  const { onProgress: _p, log: _l, cacheDir: _c, analyzer: _a, ...settings } = options;
  return cacheKey([
    `brainorg ${BRAINORG_VERSION} ${SCHEMA}`,
    JSON.stringify(settings),
    `V ${voxels} S ${subjects.length} P ${options.permutations ?? 100}`,
    ...subjects.flatMap((s) => [s.id, s.confounds?.data ?? "no confounds"]),
  ]);
}

/**
 * The folder of one model's results on one block.
 *
 * @param cacheDir the run's cache folder
 * @param block the study's key ({@linkcode blockStudyKey}), the block's
 *   range `[v0, v1)`, every subject's data on it (T × w) and the template
 *   sets' networks on it (0/1 over its voxels, as matched)
 * @param model the model's name and atoms (T × K)
 * @returns `<cacheDir>/voxel-blocks/<key>`
 *
 * @example
 * ```ts
 * import { blockEntryDir } from "@brainorg/core";
 * const data = { rows: 2, cols: 1, data: Float32Array.of(1, 2) };
 * const dir = blockEntryDir("/tmp/cache", {
 *   study: "abc", v0: 0, v1: 1, data: [data, data], networks: [[Uint8Array.of(1)]],
 * }, { name: "m", atoms: { rows: 2, cols: 1, data: Float32Array.of(3, 4) } });
 * console.log(dir.startsWith("/tmp/cache/voxel-blocks/")); // true
 * ```
 */
export function blockEntryDir(
  cacheDir: string,
  block: { study: string; v0: number; v1: number; data: Matrix[]; networks: Uint8Array[][] },
  model: Pick<AtomSource, "name" | "atoms">,
): string {
  const key = cacheKey([
    block.study,
    `voxels ${block.v0} ${block.v1}`,
    ...block.data.flatMap((d) => [`${d.rows} × ${d.cols}`, d.data]),
    ...block.networks.flatMap((set) => [`${set.length} networks`, ...set]),
    model.name,
    `${model.atoms.rows} × ${model.atoms.cols}`,
    model.atoms.data,
  ]);
  return join(cacheDir, "voxel-blocks", key.slice(0, 32));
}

/**
 * The block's networks as matched: each set's members restricted to `[v0, v1)`.
 *
 * @param sets per template set, its networks over all voxels
 * @param v0 the block's first voxel
 * @param v1 one past its last
 * @returns per set, per network, its members on the block (views, not copies)
 *
 * @example
 * ```ts
 * import { blockNetworks } from "@brainorg/core";
 * const n = { index: 1, name: "n1", member: Uint8Array.of(1, 0, 1, 1), voxels: 3 };
 * console.log(blockNetworks([[n]], 1, 3)); // [[Uint8Array [0, 1]]]
 * ```
 */
export function blockNetworks(sets: NetworkSet[][], v0: number, v1: number): Uint8Array[][] {
  return sets.map((n) => n.map((x) => x.member.subarray(v0, v1)));
}

/**
 * A cached block's result, or null when there is none or it cannot be
 * used; a damaged entry (files not matching the manifest, a wrong size) is
 * reported through `warn` and never trusted.
 *
 * @param dir the entry's folder ({@linkcode blockEntryDir})
 * @param shape what the block must hold
 * @param warn told why an entry in place is not used
 * @returns the result and whether an unusable entry is in place (to be replaced)
 *
 * @example
 * ```ts
 * import { loadBlock } from "@brainorg/core";
 * const shape = { subjects: 2, atoms: 3, voxels: 10, permutations: 5, networks: [7] };
 * const found = await loadBlock("/tmp/brainorg-no-such-entry", shape, console.warn);
 * console.log(found); // { result: null, replace: false }
 * ```
 */
export async function loadBlock(
  dir: string,
  shape: BlockShape,
  warn: (line: string) => void,
): Promise<{ result: BlockResult | null; replace: boolean }> {
  const found = await readBlockResult(dir, shape);
  if (found.state === "whole") return { result: found.result, replace: false };
  if (found.state === "damaged") {
    warn(
      `warning: the cached block results in ${dir} are not usable (${found.reason}); ` +
        "computing them again",
    );
  }
  return { result: null, replace: found.state === "damaged" };
}
