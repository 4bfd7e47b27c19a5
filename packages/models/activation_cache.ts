/**
 * A disk cache of word activations, so a second run (or a resumed one)
 * skips the model: one folder per (model, words, options) key, holding one
 * raw little-endian float32 file per layer (words × units of that layer,
 * row-major), `meta.json` describing them and `manifest.json` with every
 * file's size and SHA-256. Each folder is a cache entry of
 * {@linkcode writeCacheEntry}: written whole or not at all, never changed
 * once in place, and checked file by file (digests included) when read.
 *
 * Layout: `<dir>/<sha256 of the key>/meta.json`, `layer_00.f32`, `layer_01.f32`, …, `manifest.json`
 *
 * @module
 */

import { join } from "node:path";
import {
  checkCacheEntry,
  OutputError,
  readCacheEntryFile,
  sha256,
  writeCacheEntry,
  writeFileAtomic,
  writeJsonAtomic,
} from "@brainorg/common";
import type { WordActivations } from "./capture.ts";

/** What identifies a capture: change any part and the cache misses. */
export interface ActivationKey {
  /** SHA-256 of the model file (or a name for a derived model plus its seed). */
  model: string;
  /** The words, in order. */
  words: string[];
  /** Capture settings (context, aggregation, …). */
  options: Record<string, unknown>;
}

/** `meta.json` of a cached capture. */
export interface ActivationMeta {
  /** The format and its version. */
  schema: "brainorg.activations/1";
  /** The key's model. */
  model: string;
  /** SHA-256 of the key's words, one per line. */
  wordsSha256: string;
  /** The key's capture settings. */
  options: Record<string, unknown>;
  /** Words (rows of each layer's file). */
  words: number;
  /** Layers, one file each. */
  layers: number;
  /** Units per layer. */
  unitsPerLayer: number;
  /** ISO 8601 time the entry was made. */
  created: string;
}

/** Options of {@linkcode cachedCapture} and {@linkcode cachedCaptureStream}. */
export interface ActivationCacheOptions {
  /**
   * Told why an existing entry was not used (damaged, truncated, another
   * capture's), before it is recomputed and rewritten. Default: `console.warn`.
   */
  warn?: (line: string) => void;
}

function keyHash(key: ActivationKey): { id: string; wordsSha256: string } {
  const wordsSha256 = sha256(key.words.join("\n"));
  const id = sha256(JSON.stringify({ model: key.model, wordsSha256, options: key.options }));
  return { id, wordsSha256 };
}

/**
 * Return the cached activations for `key`, or compute and store them. An
 * entry that cannot be trusted (unreadable or inconsistent `meta.json`,
 * files of the wrong size or digest, non-finite values) is a miss: it is
 * recomputed and replaced, with a warning. Two runs computing the same key
 * at once both compute; the entry of the first to finish is kept.
 *
 * @param dir cache folder (e.g. `~/.cache/brainorg/activations`)
 * @param key the model, the words and the capture settings
 * @param layers layers of the model (the entry stores one file per layer)
 * @param compute runs the model when the cache misses
 * @param options where warnings about unusable entries go (see {@linkcode ActivationCacheOptions})
 * @returns the activations and whether they came from the cache
 * @throws {OutputError} when the entry cannot be written (a read-only or full cache)
 *
 * @example
 * ```ts
 * import { cachedCapture, captureWords, createTokenizer, readGgufLlama } from "@brainorg/models";
 * import { sha256File } from "@brainorg/common";
 * const model = await readGgufLlama("stories260K.gguf");
 * const words = ["Once", "upon", "a", "time"];
 * const key = { model: await sha256File("stories260K.gguf"), words, options: { context: 64 } };
 * const { activations, cached } = await cachedCapture(
 *   "/tmp/brainorg-cache/activations",
 *   key,
 *   model.config.layers,
 *   () => captureWords(model, createTokenizer(model.vocab), words),
 * );
 * console.log(cached); // false the first time, true after
 * ```
 */
export async function cachedCapture(
  dir: string,
  key: ActivationKey,
  layers: number,
  compute: () => WordActivations | Promise<WordActivations>,
  options: ActivationCacheOptions = {},
): Promise<{ activations: WordActivations; cached: boolean }> {
  const { id, wordsSha256 } = keyHash(key);
  const folder = join(dir, id);
  const hit = await lookUp(folder, key, wordsSha256, layers, options);
  if (hit.activations) return { activations: hit.activations, cached: true };
  const acts = await compute();
  const per = acts.units / layers;
  // Another run may put the same entry in place meanwhile: it is kept, and
  // these activations (the same numbers) are returned.
  await writeCacheEntry(folder, async (tmp) => {
    for (let l = 0; l < layers; l++) {
      const block = new Float32Array(acts.words * per);
      for (let w = 0; w < acts.words; w++) {
        block.set(
          acts.data.subarray(w * acts.units + l * per, w * acts.units + (l + 1) * per),
          w * per,
        );
      }
      await writeFileAtomic(join(tmp, layerFile(l)), new Uint8Array(block.buffer));
    }
    const meta: ActivationMeta = {
      schema: "brainorg.activations/1",
      model: key.model,
      wordsSha256,
      options: key.options,
      words: acts.words,
      layers,
      unitsPerLayer: per,
      created: new Date().toISOString(),
    };
    await writeJsonAtomic(join(tmp, "meta.json"), { ...meta, tokens: acts.tokens });
  }, { replace: hit.damaged });
  return { activations: acts, cached: false };
}

function layerFile(l: number): string {
  return `layer_${String(l).padStart(2, "0")}.f32`;
}

/**
 * The entry's activations, or none: `damaged` when one is in place but
 * cannot be used (after a warning), so that its replacement is forced.
 */
async function lookUp(
  folder: string,
  key: ActivationKey,
  wordsSha256: string,
  layers: number,
  options: ActivationCacheOptions,
): Promise<{ activations?: WordActivations; damaged: boolean }> {
  const read = await readCache(folder, key, wordsSha256, layers);
  if ("activations" in read) return { activations: read.activations, damaged: false };
  if (read.damaged) {
    (options.warn ?? console.warn)(
      `warning: the cached activations in ${folder} are not usable (${read.damaged}); ` +
        `computing them again`,
    );
  }
  return { damaged: read.damaged !== undefined };
}

type CacheRead = { activations: WordActivations } | { damaged?: string };

async function readCache(
  folder: string,
  key: ActivationKey,
  wordsSha256: string,
  layers: number,
): Promise<CacheRead> {
  // Sizes here; each file's digest as it is read below, so nothing is read twice.
  const entry = await checkCacheEntry(folder, { hashes: false });
  if (entry.state === "absent") return {};
  if (entry.state === "damaged") return { damaged: entry.reason };
  let text: string;
  try {
    text = new TextDecoder().decode(
      await readCacheEntryFile(folder, entry.manifest, "meta.json"),
    );
  } catch (err) {
    return { damaged: (err as Error).message };
  }
  let meta: Record<string, unknown>;
  try {
    meta = JSON.parse(text);
    if (typeof meta !== "object" || meta === null || Array.isArray(meta)) {
      throw new Error("not an object");
    }
  } catch (err) {
    return { damaged: `meta.json is not a JSON object: ${(err as Error).message}` };
  }
  // A folder that does not describe exactly this key, or whose files do not
  // have the sizes it states, is ignored and rewritten.
  if (
    meta.schema !== "brainorg.activations/1" || meta.model !== key.model ||
    meta.wordsSha256 !== wordsSha256 || meta.layers !== layers || meta.words !== key.words.length
  ) return { damaged: "meta.json describes another capture" };
  const per = meta.unitsPerLayer, words = key.words.length;
  if (typeof per !== "number" || !Number.isInteger(per) || per < 1 || per > 1 << 24) {
    return { damaged: `unitsPerLayer is ${JSON.stringify(per)}` };
  }
  const tokens = meta.tokens;
  if (
    !Array.isArray(tokens) || tokens.length !== words ||
    !tokens.every((t) =>
      Array.isArray(t) && t.every((id) => Number.isInteger(id) && (id as number) >= 0)
    )
  ) return { damaged: "its tokens are not one list of token ids per word" };
  const units = per * layers;
  const data = new Float32Array(words * units);
  for (let l = 0; l < layers; l++) {
    let bytes: Uint8Array;
    try {
      bytes = await readCacheEntryFile(folder, entry.manifest, layerFile(l));
    } catch (err) {
      return { damaged: (err as Error).message };
    }
    if (bytes.byteLength !== 4 * words * per) {
      return {
        damaged: `${layerFile(l)} has ${bytes.byteLength} bytes, not ${4 * words * per}`,
      };
    }
    const block = new Float32Array(
      bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength),
    );
    for (let i = 0; i < block.length; i++) {
      if (block[i] - block[i] !== 0) return { damaged: `${layerFile(l)} holds non-finite values` };
    }
    for (let w = 0; w < words; w++) {
      data.set(block.subarray(w * per, (w + 1) * per), w * units + l * per);
    }
  }
  return {
    activations: {
      data,
      words,
      units,
      index: Array.from(
        { length: units },
        (_, c) => ({ layer: Math.floor(c / per), unit: c % per }),
      ),
      tokens: tokens as number[][],
    },
  };
}

/** Receives rows of consecutive words, in order: (count × units), row-major. */
export type RowSink = (rows: Float32Array, count: number, units: number) => Promise<void>;

/**
 * {@linkcode cachedCapture} for captures too large to hold twice: `run`
 * streams rows of consecutive words to the sink, which appends them to the
 * per-layer files as they come (in a temporary folder, renamed into place
 * when complete); the result is then read back from the cache.
 *
 * @param dir cache folder (e.g. `~/.cache/brainorg/activations`)
 * @param key the model, the words and the capture settings
 * @param layers layers of the model (the entry stores one file per layer)
 * @param run feeds every word's row to the sink, in order; returns each word's tokens
 * @param options where warnings about unusable entries go (see {@linkcode ActivationCacheOptions})
 * @returns the activations (read back from the entry) and whether they were cached already
 * @throws {OutputError} when the entry cannot be written (a read-only or full cache)
 *
 * @example
 * ```ts
 * import { cachedCaptureStream } from "@brainorg/models";
 * const key = { model: "toy", words: ["a", "b"], options: {} };
 * const { activations } = await cachedCaptureStream("/tmp/brainorg-cache/activations", key, 1, async (sink) => {
 *   await sink(Float32Array.of(1, 2, 3, 4), 2, 2); // two words × two units
 *   return { tokens: [[1], [2]] };
 * });
 * ```
 */
export async function cachedCaptureStream(
  dir: string,
  key: ActivationKey,
  layers: number,
  run: (sink: RowSink) => Promise<{ tokens: number[][] }>,
  options: ActivationCacheOptions = {},
): Promise<{ activations: WordActivations; cached: boolean }> {
  const { id, wordsSha256 } = keyHash(key);
  const folder = join(dir, id);
  const hit = await lookUp(folder, key, wordsSha256, layers, options);
  if (hit.activations) return { activations: hit.activations, cached: true };
  await writeCacheEntry(folder, async (tmp) => {
    const paths = Array.from({ length: layers }, (_, l) => join(tmp, layerFile(l)));
    const files: Deno.FsFile[] = [];
    let words = 0, per = 0;
    try {
      for (const p of paths) {
        files.push(
          await Deno.open(p, { write: true, createNew: true }).catch((err) => {
            throw new OutputError("the file", p, err);
          }),
        );
      }
      const { tokens } = await run(async (rows, count, units) => {
        per = units / layers;
        for (let l = 0; l < layers; l++) {
          const block = new Float32Array(count * per);
          for (let w = 0; w < count; w++) {
            block.set(rows.subarray(w * units + l * per, w * units + (l + 1) * per), w * per);
          }
          const bytes = new Uint8Array(block.buffer);
          try {
            let off = 0;
            while (off < bytes.byteLength) off += await files[l].write(bytes.subarray(off));
          } catch (err) {
            throw new OutputError("the file", paths[l], err);
          }
        }
        words += count;
      });
      const meta: ActivationMeta = {
        schema: "brainorg.activations/1",
        model: key.model,
        wordsSha256,
        options: key.options,
        words,
        layers,
        unitsPerLayer: per,
        created: new Date().toISOString(),
      };
      await writeJsonAtomic(join(tmp, "meta.json"), { ...meta, tokens });
    } finally {
      files.forEach((f) => f.close());
    }
  }, { replace: hit.damaged });
  const written = await readCache(folder, key, wordsSha256, layers);
  if (!("activations" in written)) {
    throw new Error(`the capture streamed to ${folder} is unusable: ${written.damaged}`);
  }
  return { activations: written.activations, cached: false };
}
