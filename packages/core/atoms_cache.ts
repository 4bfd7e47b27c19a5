/**
 * A model's learned atoms (and their stability fits) on disk, keyed by the
 * AN time series they were learned from and how they were learned, so that
 * dictionary learning runs once per input: a repeated run, every shard of
 * a sharded run and its merge read the plan step's atoms back (at
 * 131,072 ANs a fit takes minutes, and a shard with atoms of its own
 * rounding would not match the plan's study key). The series is hashed,
 * not the capture's settings: whatever changes it (activations, design,
 * TR, dead ANs) changes the key.
 *
 * Each entry is a cache entry of `writeCacheEntry` (written whole or not at
 * all, every file's size and SHA-256 in a manifest, checked when read): a
 * `meta.json` and one raw little-endian file per array.
 *
 * @module
 */

import { join } from "node:path";
import {
  BRAINORG_VERSION,
  type CacheEntryManifest,
  checkCacheEntry,
  type RawArray,
  type RawKind,
  readCacheEntryFile,
  readRawArray,
  writeCacheEntry,
  writeRawArray,
  writeTextFileAtomic,
} from "@brainorg/common";
import type { Matrix } from "@brainorg/kernels";
import type { AnTimeSeries, ModelAtoms } from "./model_atoms.ts";
import type { AtomStability, StabilityFit } from "./stability.ts";
import { cacheKey, parseResultJson, resultJson } from "./voxel_cache.ts";

const SCHEMA = "brainorg.atoms/1";

/** What dictionary learning gives a model: its atoms, and their stability where asked. */
export interface LearnedAtoms {
  /** The reference dictionary and its codes. */
  atoms: ModelAtoms;
  /** The stability fits (other seeds, parts of the story), where asked. */
  stability?: AtomStability;
}

/**
 * The entry's key: SHA-256 over the series (T × N), the kept ANs' indices
 * and layers, and every setting of the fits.
 *
 * @param ts the z-scored AN series (T × kept ANs) and their full indices
 * @param layerOf the layer of each full AN index
 * @param settings how the atoms and the stability fits are learned (JSON-able)
 * @returns hex SHA-256
 */
export function atomsKey(
  ts: AnTimeSeries,
  layerOf: (an: number) => number,
  settings: unknown,
): string {
  return cacheKey([
    // A change of the learning must not reuse atoms: bump with the computation.
    `brainorg ${BRAINORG_VERSION} ${SCHEMA}`,
    JSON.stringify(settings),
    `${ts.series.rows} × ${ts.series.cols}, ${ts.dead} dead`,
    ts.series.data,
    ts.kept,
    Uint32Array.from(ts.kept, layerOf),
  ]);
}

/**
 * Store learned atoms as the cache entry `dir` (a whole entry already in
 * place is kept).
 *
 * @throws {OutputError} when the entry cannot be written
 */
export async function saveLearnedAtoms(
  dir: string,
  learned: LearnedAtoms,
  options: { replace?: boolean } = {},
): Promise<void> {
  const { atoms: a, stability: s } = learned;
  const arrays: Record<string, RawArray> = {
    atoms: a.atoms.data,
    codes: a.codes.data,
    kept: a.kept,
  };
  s?.fits.forEach((f, i) => {
    arrays[`fit${i}_r`] = f.r;
    if (f.matched) arrays[`fit${i}_matched`] = f.matched;
    if (f.dictionary) arrays[`fit${i}_dictionary`] = f.dictionary.data;
  });
  await writeCacheEntry(dir, async (tmp) => {
    for (const [name, x] of Object.entries(arrays)) await writeRawArray(tmp, name, x);
    await writeTextFileAtomic(
      join(tmp, "meta.json"),
      resultJson({
        schema: SCHEMA,
        T: a.atoms.rows,
        K: a.atoms.cols,
        N: a.codes.cols,
        layerSizes: a.layerSizes,
        alpha: a.alpha,
        density: a.density,
        layerR2: a.layerR2,
        subgroups: a.subgroups,
        ...(s
          ? {
            stability: {
              atoms: s.atoms,
              median: s.median,
              skipped: s.skipped,
              fits: s.fits.map((f) => ({
                kind: f.kind,
                seed: f.seed,
                volumes: f.volumes,
                matched: f.matched !== undefined,
                dictionary: f.dictionary ? [f.dictionary.rows, f.dictionary.cols] : null,
              })),
            },
          }
          : {}),
      }),
    );
  }, options);
}

/**
 * Stored atoms, or null when absent or unusable (then they are learned
 * again). An entry that exists but cannot be used (damaged files, a
 * `meta.json` that does not describe them) is reported through `warn`: a
 * damaged cache costs time, never the run.
 *
 * @param dir the entry's folder
 * @param options `warn` (default `console.warn`)
 */
export async function loadLearnedAtoms(
  dir: string,
  options: { warn?: (line: string) => void } = {},
): Promise<LearnedAtoms | null> {
  const entry = await checkCacheEntry(dir, { hashes: false });
  if (entry.state === "absent") return null;
  try {
    if (entry.state === "damaged") throw new Error(entry.reason);
    return await readLearned(dir, entry.manifest);
  } catch (err) {
    (options.warn ?? console.warn)(
      `warning: the cached atoms in ${dir} are not usable (${
        (err as Error).message
      }); learning them again`,
    );
    return null;
  }
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);
const isCount = (n: unknown): n is number => typeof n === "number" && Number.isInteger(n) && n > 0;

/** Learned atoms from an entry's files. @throws {Error} saying what is wrong */
async function readLearned(dir: string, manifest: CacheEntryManifest): Promise<LearnedAtoms> {
  const text = new TextDecoder().decode(await readCacheEntryFile(dir, manifest, "meta.json"));
  const meta = parseResultJson(text);
  if (!isObject(meta) || meta.schema !== SCHEMA) throw new Error(`meta.json is not ${SCHEMA}`);
  const { T, K, N } = meta;
  if (!isCount(T) || !isCount(K) || !isCount(N)) throw new Error("meta.json: T, K, N not counts");
  // Each array's length is checked, so a meta.json at odds with its files is refused.
  const read = <R extends RawKind>(name: string, kind: R, length: number) =>
    readRawArray(dir, manifest, name, kind, length);
  const matrix = async (name: string, rows: number, cols: number): Promise<Matrix> => ({
    rows,
    cols,
    data: await read(name, "f32", rows * cols),
  });
  const numbers = (v: unknown): v is number[] =>
    Array.isArray(v) && v.every((x) => typeof x === "number");
  if (!numbers(meta.layerSizes) || !numbers(meta.layerR2) || !Array.isArray(meta.subgroups)) {
    throw new Error("meta.json: layerSizes, layerR2 or subgroups missing");
  }
  if (typeof meta.alpha !== "number" || typeof meta.density !== "number") {
    throw new Error("meta.json: alpha or density missing");
  }
  const atoms: ModelAtoms = {
    atoms: await matrix("atoms", T, K),
    codes: await matrix("codes", K, N),
    kept: await read("kept", "u32", N),
    layerSizes: meta.layerSizes,
    alpha: meta.alpha,
    density: meta.density,
    layerR2: meta.layerR2,
    subgroups: meta.subgroups as ModelAtoms["subgroups"],
  };
  const s = meta.stability;
  if (s === undefined) return { atoms };
  if (!isObject(s) || !Array.isArray(s.fits) || !Array.isArray(s.atoms)) {
    throw new Error("meta.json: stability is not {atoms, fits, median, skipped}");
  }
  const fits: StabilityFit[] = [];
  for (const [i, f] of s.fits.entries()) {
    if (!isObject(f) || (f.kind !== "seed" && f.kind !== "part") || !numbers(f.volumes)) {
      throw new Error(`meta.json: stability fit ${i} is malformed`);
    }
    const fit: StabilityFit = {
      kind: f.kind,
      seed: Number(f.seed),
      volumes: [f.volumes[0], f.volumes[1]],
      r: await read(`fit${i}_r`, "f64", K),
    };
    if (f.matched) fit.matched = await read(`fit${i}_matched`, "i32", K);
    if (Array.isArray(f.dictionary)) {
      const [rows, cols] = f.dictionary;
      if (!isCount(rows) || !isCount(cols)) throw new Error(`fit ${i}: dictionary shape`);
      fit.dictionary = await matrix(`fit${i}_dictionary`, rows, cols);
    }
    fits.push(fit);
  }
  return {
    atoms,
    stability: {
      atoms: s.atoms as AtomStability["atoms"],
      fits,
      median: Number(s.median),
      skipped: (s.skipped ?? []) as [number, number][],
    },
  };
}

/**
 * Learned atoms from the cache entry under `cacheDir` for these inputs, or
 * learned by `learn` and stored there.
 *
 * @param cacheDir the cache's root (entries under `atoms/`)
 * @param key {@linkcode atomsKey} of the inputs
 * @param learn learns the atoms (and stability) when no usable entry exists
 * @returns the atoms, and whether they came from the cache
 */
export async function cachedLearnedAtoms(
  cacheDir: string,
  key: string,
  learn: () => Promise<LearnedAtoms>,
  options: { warn?: (line: string) => void } = {},
): Promise<LearnedAtoms & { cached: boolean }> {
  const dir = join(cacheDir, "atoms", key.slice(0, 32));
  let unusable = false;
  const found = await loadLearnedAtoms(dir, {
    warn: (line) => {
      unusable = true;
      (options.warn ?? console.warn)(line);
    },
  });
  if (found) return { ...found, cached: true };
  const learned = await learn();
  // An entry in place that could not be used is replaced, even one whose manifest is whole.
  await saveLearnedAtoms(dir, learned, { replace: unusable });
  return { ...learned, cached: false };
}
