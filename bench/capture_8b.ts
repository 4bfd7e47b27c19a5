/**
 * Capture throughput for an 8 B-shaped model (issue 20): a synthetic F16
 * GGUF with Llama-3-8B's shapes and random weights (16 GB, written once to a
 * cache folder outside the repository and reused), captured block by block
 * ({@linkcode captureWordsStreamed}) on N words with 64 words of context.
 * Reports tokens per second, the time per block (waiting for the file,
 * dequantizing, computing), the peak resident memory (VmHWM) and the
 * projection for Narratives' 27 stories (≈ 43,000 words), each story a
 * capture of its own: 27 passes over the weights plus the tokens of all
 * words.
 *
 * Usage:
 *   deno task bench:capture8b [--words N] [--context 64] [--cache DIR] [--shape 8b|tiny] [--out FILE]
 *
 * `--shape tiny` runs the same code on a model of a few megabytes (a check
 * of the script). The cache folder defaults to `$XDG_CACHE_HOME/brainorg/bench`
 * (else `~/.cache/brainorg/bench`).
 *
 * @module
 */

import { parseArgs } from "node:util";
import { join } from "node:path";
import { createCpuBackend } from "@brainorg/kernels";
// The package's files, not its mod.ts: the bench needs none of its ONNX side.
import { readGgufLlamaHeader } from "../packages/models/gguf_model.ts";
import { ggufFloat32Bytes } from "../packages/models/gguf_tensors.ts";
import { type BlockTiming, captureWordsStreamed } from "../packages/models/llama_streamed.ts";
import { createTokenizer } from "../packages/models/tokenizer.ts";
import {
  LLAMA3_8B,
  syntheticDataBytes,
  syntheticWords,
  type SynthShape,
  writeSyntheticGguf,
} from "./_gguf_synth.ts";

const TINY: SynthShape = {
  ...LLAMA3_8B,
  dim: 256,
  hiddenDim: 512,
  layers: 4,
  heads: 8,
  kvHeads: 2,
  vocabSize: 4300,
};
const NARRATIVES_WORDS = 43_000, NARRATIVES_STORIES = 27;

/** A line of /proc/self/status in GiB (VmHWM: peak resident set; VmRSS: now). */
async function statusGiB(key: "VmHWM" | "VmRSS"): Promise<number> {
  try {
    const m = (await Deno.readTextFile("/proc/self/status")).match(
      new RegExp(`${key}:\\s+(\\d+) kB`),
    );
    return m ? Number(m[1]) / 2 ** 20 : NaN;
  } catch {
    return NaN;
  }
}

function cacheDir(): string {
  const xdg = Deno.env.get("XDG_CACHE_HOME");
  return join(xdg || join(Deno.env.get("HOME") ?? "/tmp", ".cache"), "brainorg", "bench");
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      words: { type: "string", default: "2000" },
      context: { type: "string", default: "64" },
      cache: { type: "string" },
      shape: { type: "string", default: "8b" },
      out: { type: "string" },
    },
  });
  const n = Number(values.words), context = Number(values.context);
  if (!(Number.isInteger(n) && n >= 1 && Number.isInteger(context) && context >= 1)) {
    throw new RangeError(`--words and --context must be whole numbers ≥ 1: ${n}, ${context}`);
  }
  if (values.shape !== "8b" && values.shape !== "tiny") {
    throw new RangeError(`--shape must be 8b or tiny: current value is ${values.shape}`);
  }
  const shape = values.shape === "8b" ? LLAMA3_8B : TINY;
  const dir = values.cache ?? cacheDir();
  await Deno.mkdir(dir, { recursive: true });
  const path = join(dir, `llama3-8b-shape.${values.shape}.F16.gguf`);
  const expected = syntheticDataBytes(shape);
  const size = await Deno.stat(path).then((s) => s.size, () => 0);
  // A whole file is at least its tensor data (plus a header of a few MB).
  if (!(size > expected && size < expected + 64 * 2 ** 20)) {
    console.log(`writing ${path} (${(expected / 1e9).toFixed(1)} GB of F16 weights) …`);
    const t0 = performance.now();
    await writeSyntheticGguf(path, shape);
    console.log(`written in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  } else console.log(`reusing ${path}`);

  const header = await readGgufLlamaHeader(path);
  const tokenizer = createTokenizer(header.vocab);
  const words = syntheticWords(n);
  const backend = await createCpuBackend();
  const timings: BlockTiming[] = [];
  const t0 = performance.now();
  let tokensRead = 0;
  const acts = await captureWordsStreamed(header, tokenizer, words, {
    context,
    backend,
    onBlock: (t) => {
      timings.push(t);
      const s = (x: number) => x.toFixed(2);
      console.log(
        `block ${t.layer}: read wait ${s(t.readSeconds)} s, dequantize ${
          s(t.dequantizeSeconds)
        } s, ` +
          `compute ${s(t.computeSeconds)} s`,
      );
    },
  });
  const seconds = (performance.now() - t0) / 1000;
  backend.dispose();
  const peak = await statusGiB("VmHWM");
  // Tokens read: every window's BOS, re-read context and own words.
  for (let start = 0; start < n; start += context) {
    const warm = Math.max(0, start - context), end = Math.min(n, start + context);
    tokensRead += 1 + acts.tokens.slice(warm, end).reduce((s, t) => s + t.length, 0);
  }
  const sum = (f: (t: BlockTiming) => number) => timings.reduce((s, t) => s + f(t), 0);
  const read = sum((t) => t.readSeconds), deq = sum((t) => t.dequantizeSeconds);
  const compute = sum((t) => t.computeSeconds);
  // Linear cost: a pass over the weights (waiting + dequantizing), plus compute per token read.
  const perPass = read + deq, perToken = compute / tokensRead;
  const tokensPerWord = tokensRead / n;
  const projected = NARRATIVES_STORIES * perPass + perToken * tokensPerWord * NARRATIVES_WORDS;
  const report = {
    shape,
    file: path,
    fileGB: +(((await Deno.stat(path)).size) / 1e9).toFixed(2),
    float32GiB: +(ggufFloat32Bytes(header) / 2 ** 30).toFixed(1),
    backend: backend.info.implementation,
    words: n,
    context,
    tokensPerWord: +(acts.tokens.reduce((s, t) => s + t.length, 0) / n).toFixed(3),
    tokensRead,
    seconds: +seconds.toFixed(1),
    tokensPerSecond: +(tokensRead / seconds).toFixed(2),
    wordsPerSecond: +(n / seconds).toFixed(2),
    perBlockSeconds: {
      readWait: +(read / timings.length).toFixed(2),
      dequantize: +(deq / timings.length).toFixed(2),
      compute: +(compute / timings.length).toFixed(2),
    },
    linearCost: `${perPass.toFixed(0)} s per pass over the weights + ${
      (perToken * 1000).toFixed(1)
    } ms per token read`,
    peakRssGiB: +peak.toFixed(2),
    narrativesProjection: {
      words: NARRATIVES_WORDS,
      stories: NARRATIVES_STORIES,
      hours: +(projected / 3600).toFixed(1),
    },
  };
  console.log(JSON.stringify(report, null, 2));
  if (values.out) await Deno.writeTextFile(values.out, JSON.stringify(report, null, 2) + "\n");
}
