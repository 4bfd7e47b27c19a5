/**
 * A disk cache of word activations, so a second run (or a resumed one)
 * skips the model: one folder per (model, words, options) key, holding one
 * raw little-endian float32 file per layer (words × units of that layer,
 * row-major) and `meta.json` describing them. Written atomically.
 *
 * Layout: `<dir>/<sha256 of the key>/meta.json`, `layer_00.f32`, `layer_01.f32`, …
 *
 * @module
 */

import { join } from "node:path";
import { sha256, writeDirAtomic, writeJsonAtomic } from "@brainorg/common";
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
  schema: "brainorg.activations/1";
  model: string;
  wordsSha256: string;
  options: Record<string, unknown>;
  words: number;
  layers: number;
  /** Units per layer. */
  unitsPerLayer: number;
  created: string;
}

function keyHash(key: ActivationKey): { id: string; wordsSha256: string } {
  const wordsSha256 = sha256(key.words.join("\n"));
  const id = sha256(JSON.stringify({ model: key.model, wordsSha256, options: key.options }));
  return { id, wordsSha256 };
}

/**
 * Return the cached activations for `key`, or compute and store them.
 *
 * @param dir cache folder (e.g. `~/.cache/brainorg/activations`)
 * @param compute runs the model when the cache misses
 * @returns the activations and whether they came from the cache
 */
export async function cachedCapture(
  dir: string,
  key: ActivationKey,
  layers: number,
  compute: () => WordActivations | Promise<WordActivations>,
): Promise<{ activations: WordActivations; cached: boolean }> {
  const { id, wordsSha256 } = keyHash(key);
  const folder = join(dir, id);
  const hit = await readCache(folder, key, wordsSha256, layers);
  if (hit) return { activations: hit, cached: true };
  const acts = await compute();
  const per = acts.units / layers;
  await writeDirAtomic(folder, async (tmp) => {
    for (let l = 0; l < layers; l++) {
      const block = new Float32Array(acts.words * per);
      for (let w = 0; w < acts.words; w++) {
        block.set(
          acts.data.subarray(w * acts.units + l * per, w * acts.units + (l + 1) * per),
          w * per,
        );
      }
      await Deno.writeFile(join(tmp, layerFile(l)), new Uint8Array(block.buffer));
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
  });
  return { activations: acts, cached: false };
}

function layerFile(l: number): string {
  return `layer_${String(l).padStart(2, "0")}.f32`;
}

async function readCache(
  folder: string,
  key: ActivationKey,
  wordsSha256: string,
  layers: number,
): Promise<WordActivations | undefined> {
  let meta: ActivationMeta & { tokens: number[][] };
  try {
    meta = JSON.parse(await Deno.readTextFile(join(folder, "meta.json")));
  } catch {
    return undefined;
  }
  // A folder that does not describe exactly this key, or whose files do not
  // have the sizes it states, is ignored and rewritten.
  if (
    meta.schema !== "brainorg.activations/1" || meta.model !== key.model ||
    meta.wordsSha256 !== wordsSha256 || meta.layers !== layers || meta.words !== key.words.length
  ) return undefined;
  const per = meta.unitsPerLayer, units = per * layers;
  const data = new Float32Array(meta.words * units);
  for (let l = 0; l < layers; l++) {
    let bytes: Uint8Array;
    try {
      bytes = await Deno.readFile(join(folder, layerFile(l)));
    } catch {
      return undefined;
    }
    if (bytes.byteLength !== 4 * meta.words * per) return undefined;
    const block = new Float32Array(bytes.buffer, bytes.byteOffset, meta.words * per);
    for (let w = 0; w < meta.words; w++) {
      data.set(block.subarray(w * per, (w + 1) * per), w * units + l * per);
    }
  }
  return {
    data,
    words: meta.words,
    units,
    index: Array.from({ length: units }, (_, c) => ({ layer: Math.floor(c / per), unit: c % per })),
    tokens: meta.tokens,
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
 * @param run feeds every word's row to the sink, in order; returns each word's tokens
 */
export async function cachedCaptureStream(
  dir: string,
  key: ActivationKey,
  layers: number,
  run: (sink: RowSink) => Promise<{ tokens: number[][] }>,
): Promise<{ activations: WordActivations; cached: boolean }> {
  const { id, wordsSha256 } = keyHash(key);
  const folder = join(dir, id);
  const hit = await readCache(folder, key, wordsSha256, layers);
  if (hit) return { activations: hit, cached: true };
  await writeDirAtomic(folder, async (tmp) => {
    const files = await Promise.all(
      Array.from(
        { length: layers },
        (_, l) => Deno.open(join(tmp, layerFile(l)), { write: true, createNew: true }),
      ),
    );
    let words = 0, per = 0;
    try {
      const { tokens } = await run(async (rows, count, units) => {
        per = units / layers;
        for (let l = 0; l < layers; l++) {
          const block = new Float32Array(count * per);
          for (let w = 0; w < count; w++) {
            block.set(rows.subarray(w * units + l * per, w * units + (l + 1) * per), w * per);
          }
          const bytes = new Uint8Array(block.buffer);
          let off = 0;
          while (off < bytes.byteLength) off += await files[l].write(bytes.subarray(off));
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
  });
  const written = await readCache(folder, key, wordsSha256, layers);
  if (!written) throw new Error(`the capture streamed to ${folder} is incomplete`);
  return { activations: written, cached: false };
}
