/**
 * The voxel level's variance partition of one model on disk, so that a
 * repeated run (the demo's second run, a run that only changes the report)
 * reads its four maps instead of fitting the banded ridge again: a cache
 * entry of {@linkcode writeCacheEntry} (written whole or not at all, each
 * file's size and SHA-256 checked when read) holding `maps.json` and one
 * raw little-endian float32 file per map.
 *
 * @module
 */

import { join } from "node:path";
import {
  checkCacheEntry,
  readCacheEntryFile,
  readRawArray,
  writeCacheEntry,
  writeRawArray,
  writeTextFileAtomic,
} from "@brainorg/common";
import type { VoxelVarianceMaps } from "./variance_partition_types.ts";

const SCHEMA = "brainorg.voxel-variance/1";
const MAPS = ["r2Joint", "uniqueAtoms", "uniqueLowLevel", "shared"] as const;

/** Store a model's maps as the cache entry `dir` (an entry already whole is kept). */
export async function saveVarianceMaps(dir: string, maps: VoxelVarianceMaps): Promise<void> {
  await writeCacheEntry(dir, async (tmp) => {
    for (const name of MAPS) await writeRawArray(tmp, name, maps[name]);
    await writeTextFileAtomic(
      join(tmp, "maps.json"),
      JSON.stringify({
        schema: SCHEMA,
        model: maps.model,
        lowLevel: maps.lowLevel,
        subjects: maps.subjects,
        voxels: maps.r2Joint.length,
      }) + "\n",
    );
  });
}

/**
 * A model's stored maps, or null where there are none usable (absent,
 * damaged, another schema, or not `voxels` long): then they are fitted
 * again, and an entry that exists but cannot be used is reported through
 * `warn` (a damaged cache costs time, never the run).
 *
 * @param dir the cache entry
 * @param voxels V, the length every map must have
 * @param warn told why an existing entry is not used
 */
export async function loadVarianceMaps(
  dir: string,
  voxels: number,
  warn: (line: string) => void,
): Promise<VoxelVarianceMaps | null> {
  const entry = await checkCacheEntry(dir);
  if (entry.state === "absent") return null;
  const fail = (why: string) => {
    warn(`variance partition cache ${dir} not used (${why}): fitted again`);
    return null;
  };
  if (entry.state === "damaged") return fail(entry.reason);
  try {
    const meta = JSON.parse(
      new TextDecoder().decode(await readCacheEntryFile(dir, entry.manifest, "maps.json")),
    );
    if (meta.schema !== SCHEMA) return fail(`schema ${meta.schema}, not ${SCHEMA}`);
    if (meta.voxels !== voxels) return fail(`${meta.voxels} voxels, not ${voxels}`);
    const read = (name: string) => readRawArray(dir, entry.manifest, name, "f32", voxels);
    return {
      model: meta.model,
      lowLevel: meta.lowLevel,
      subjects: meta.subjects,
      r2Joint: await read("r2Joint"),
      uniqueAtoms: await read("uniqueAtoms"),
      uniqueLowLevel: await read("uniqueLowLevel"),
      shared: await read("shared"),
    };
  } catch (err) {
    return fail((err as Error).message);
  }
}
