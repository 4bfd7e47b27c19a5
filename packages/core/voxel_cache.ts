/**
 * A model's voxel results on disk, so that an interrupted or repeated run
 * resumes from the models it has finished: `result.json` (everything but
 * the maps) and one raw little-endian file per map (`*.f32`, `*.f64`), in a
 * folder named by the key. Each folder is a cache entry of
 * {@linkcode writeCacheEntry} (written whole or not at all, with a
 * `manifest.json` of every file's size and SHA-256, checked when read).
 *
 * @module
 */

import { createHash } from "node:crypto";
import { join } from "node:path";
import {
  type CacheEntryManifest,
  checkCacheEntry,
  readCacheEntryFile,
  readRawArray,
  writeCacheEntry,
  writeRawArray,
  writeTextFileAtomic,
} from "@brainorg/common";
import type { Matrix } from "@brainorg/kernels";
import type { VoxelBootstrap } from "./bootstrap_types.ts";
import type { SeedSpread } from "./seed_spread_types.ts";
import type { ModelVoxelResult } from "./voxel_encoding.ts";

const SCHEMA = "brainorg.voxel-result/2";

/**
 * JSON turns NaN and ±Inf into null, which would make a cached run differ
 * from a fresh one (a metric of a model with no links is NaN); they are
 * written as `{"nonFinite": "NaN"}` and read back as numbers.
 */
const keepNonFinite = (_key: string, v: unknown): unknown =>
  typeof v === "number" && !Number.isFinite(v) ? { nonFinite: String(v) } : v;
const NON_FINITE: Record<string, number> = {
  "NaN": NaN,
  "Infinity": Infinity,
  "-Infinity": -Infinity,
};
const readNonFinite = (_key: string, v: unknown): unknown =>
  isObject(v) && Object.keys(v).length === 1 && typeof v.nonFinite === "string" &&
    v.nonFinite in NON_FINITE
    ? NON_FINITE[v.nonFinite]
    : v;

/** `result.json` as written: non-finite numbers kept (see {@linkcode keepNonFinite}). */
export function resultJson(value: unknown): string {
  return JSON.stringify(value, keepNonFinite, 2) + "\n";
}

/** `result.json` as read: the inverse of {@linkcode resultJson}. */
export function parseResultJson(text: string): unknown {
  return JSON.parse(text, readNonFinite);
}

/** SHA-256 over JSON-able parts and typed arrays, in order. */
export function cacheKey(parts: (string | ArrayBufferView)[]): string {
  const h = createHash("sha256");
  for (const p of parts) {
    if (typeof p === "string") h.update(p);
    else h.update(new Uint8Array(p.buffer, p.byteOffset, p.byteLength));
    h.update("\u0000");
  }
  return h.digest("hex");
}

type Arrays = Record<string, Float32Array | Float64Array>;

function arraysOf(r: ModelVoxelResult): Arrays {
  const out: Arrays = {
    "group_t": r.group.t.data,
    "group_p": r.group.p,
    "group_meanR": r.group.meanR,
    "group_pR": r.group.pR,
    "group_qR": r.group.qR,
  };
  if (r.bootstrap) out["bootstrap_frequency"] = r.bootstrap.frequency;
  r.subjects.forEach((s, i) => {
    Object.assign(out, {
      [`s${i}_r`]: s.r,
      [`s${i}_r2`]: s.r2,
      [`s${i}_alpha`]: s.alpha,
      [`s${i}_p`]: s.p,
      [`s${i}_q`]: s.q,
      [`s${i}_weights`]: s.weights.data,
      [`s${i}_z`]: s.z.data,
    });
  });
  return out;
}

/**
 * Store a model's result as the cache entry `dir`. A whole entry already in
 * place (another run's, of the same key) is kept; a damaged one is replaced.
 *
 * @throws {OutputError} when the entry cannot be written
 */
export async function saveVoxelResult(dir: string, r: ModelVoxelResult): Promise<void> {
  await writeCacheEntry(dir, async (tmp) => {
    const arrays = arraysOf(r);
    for (const [name, a] of Object.entries(arrays)) await writeRawArray(tmp, name, a);
    await writeTextFileAtomic(
      join(tmp, "result.json"),
      resultJson({
        schema: SCHEMA,
        model: r.model,
        threshold: r.threshold,
        templates: r.templates,
        group: { subjects: r.group.subjects, K: r.group.t.rows, V: r.group.t.cols },
        subjects: r.subjects.map((s) => ({ id: s.id })),
        // The bootstrap's tables; its frequency map is bootstrap_frequency.f32.
        ...(r.bootstrap ? { bootstrap: { ...r.bootstrap, frequency: undefined } } : {}),
        ...(r.seedSpread ? { seedSpread: r.seedSpread } : {}),
      }),
    );
  });
}

/** Options of {@linkcode loadVoxelResult}. */
export interface LoadVoxelResultOptions {
  /** Told why an existing entry was not used, before it is recomputed. Default: `console.warn`. */
  warn?: (line: string) => void;
}

/**
 * A stored result, or null when absent or unusable (then it is recomputed).
 * An entry that exists but cannot be used (no manifest, unreadable or
 * inconsistent `result.json`, a map file missing or of the wrong size or
 * SHA-256) is reported
 * through `warn`: a damaged cache costs time, never the run.
 */
export async function loadVoxelResult(
  dir: string,
  options: LoadVoxelResultOptions = {},
): Promise<ModelVoxelResult | null> {
  // Sizes here; each file's digest as it is read.
  const entry = await checkCacheEntry(dir, { hashes: false });
  if (entry.state === "absent") return null;
  if (entry.state === "damaged") {
    damaged(dir, entry.reason, options);
    return null;
  }
  try {
    const text = new TextDecoder().decode(
      await readCacheEntryFile(dir, entry.manifest, "result.json"),
    );
    return await readResult(dir, entry.manifest, parseResultJson(text));
  } catch (err) {
    damaged(dir, (err as Error).message, options);
    return null;
  }
}

function damaged(dir: string, why: string, options: LoadVoxelResultOptions): void {
  (options.warn ?? console.warn)(
    `warning: the cached voxel results in ${dir} are not usable (${why}); computing them again`,
  );
}

const isCount = (n: unknown, max: number): n is number =>
  typeof n === "number" && Number.isInteger(n) && n >= 1 && n <= max;
const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** A result from its parsed `result.json` and map files. @throws {Error} saying what is wrong */
async function readResult(
  dir: string,
  manifest: CacheEntryManifest,
  meta: unknown,
): Promise<ModelVoxelResult> {
  const fail = (why: string): never => {
    throw new Error(why);
  };
  if (!isObject(meta)) return fail("result.json is not an object");
  if (meta.schema !== SCHEMA) return fail(`schema ${JSON.stringify(meta.schema)}, not ${SCHEMA}`);
  const group = meta.group;
  if (!isObject(group) || !isCount(group.K, 1 << 16) || !isCount(group.V, 1 << 26)) {
    return fail("group.K and group.V are not counts");
  }
  if (typeof meta.model !== "string" || typeof meta.threshold !== "number") {
    return fail("model or threshold is missing");
  }
  const list = meta.subjects;
  if (!Array.isArray(list) || !list.every((s) => isObject(s) && typeof s.id === "string")) {
    return fail("subjects are not a list of {id}");
  }
  const templates = meta.templates;
  if (
    !Array.isArray(templates) ||
    !templates.every((t) =>
      isObject(t) && typeof t.name === "string" && isObject(t.metrics) &&
      Array.isArray(t.matches) &&
      t.matches.every((m) =>
        isObject(m) && typeof m.atom === "number" && typeof m.network === "number" &&
        (m.sign === 1 || m.sign === -1) && typeof m.linked === "boolean"
      )
    )
  ) return fail("templates are not a list of {name, matches, metrics}");
  const K = group.K, V = group.V;
  const f32 = (name: string, n: number) => readRawArray(dir, manifest, name, "f32", n);
  const f64 = (name: string, n: number) => readRawArray(dir, manifest, name, "f64", n);
  const mat = (data: Float32Array): Matrix => ({ rows: K, cols: V, data });
  const subjects = [];
  for (const [i, s] of (list as { id: string }[]).entries()) {
    subjects.push({
      id: s.id,
      r: await f32(`s${i}_r`, V),
      r2: await f32(`s${i}_r2`, V),
      alpha: await f64(`s${i}_alpha`, V),
      p: await f64(`s${i}_p`, V),
      q: await f64(`s${i}_q`, V),
      weights: mat(await f32(`s${i}_weights`, K * V)),
      z: mat(await f32(`s${i}_z`, K * V)),
    });
  }
  const boot = meta.bootstrap;
  if (
    boot !== undefined &&
    !(isObject(boot) && Array.isArray(boot.templates) && Array.isArray(boot.maps))
  ) return fail("bootstrap is not {templates, maps, ...}");
  const bootstrap: VoxelBootstrap | undefined = boot
    ? {
      ...(boot as Omit<VoxelBootstrap, "frequency">),
      frequency: await f32("bootstrap_frequency", K * V),
    }
    : undefined;
  const spread = meta.seedSpread;
  if (
    spread !== undefined &&
    !(isObject(spread) && Array.isArray(spread.seeds) && Array.isArray(spread.templates))
  ) return fail("seedSpread is not {seeds, templates}");
  return {
    model: meta.model,
    threshold: meta.threshold,
    templates: templates as ModelVoxelResult["templates"],
    subjects,
    group: {
      subjects: typeof group.subjects === "number" ? group.subjects : subjects.length,
      t: mat(await f32("group_t", K * V)),
      p: await f64("group_p", K * V),
      meanR: await f32("group_meanR", V),
      pR: await f64("group_pR", V),
      qR: await f64("group_qR", V),
    },
    ...(bootstrap ? { bootstrap } : {}),
    ...(spread ? { seedSpread: spread as unknown as SeedSpread } : {}),
  };
}
