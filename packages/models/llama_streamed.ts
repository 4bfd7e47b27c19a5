/**
 * Word capture for models larger than memory: the weights streamed block by
 * block from the GGUF file, layer-major. One block's tensors are read by
 * positioned reads (the next block's bytes are read while this one
 * computes), dequantized to float32, and every window of the story goes
 * through that block before the next is read; the residual stream of every
 * window's tokens is kept between blocks. Products run on a kernels
 * {@linkcode Backend} (OpenBLAS or MLAS on the CPU), token rows of several
 * windows at a time, attention one window and head at a time.
 *
 * The result equals {@linkcode captureWords}'s (same windows, same word
 * rows, same aggregation) up to float32 rounding: the products sum in
 * another order (tests: within 2e-5 · (1 + max |unit|) on stories260K).
 *
 * Peak memory, in bytes, with P the weights of one block
 * (2·dim² + 2·kvDim·dim + 3·dim·hiddenDim), b the file's bytes per weight
 * (F16: 2), N the tokens read (BOS and re-read context included, ≈ 2 ×
 * words × tokens per word), R the token rows per product and T the longest
 * window in tokens:
 *
 *     4·P                          one block's float32 weights
 *   + 2·b·P                        its file bytes while dequantized, and the next block's, read ahead
 *   + 4·N·dim                      the residual stream of every token
 *   + 4·R·(4·dim + 2·kvDim + 2·hiddenDim) + 4·T·(T + dim / heads)   the products' temporaries
 *   + 4·words·layers·dim           the captured units
 *
 * For Llama-3-8B in F16 that is 0.87 + 0.87 GB of weights, plus 0.5 MB per
 * word of units (and 16 kB per token read): measured, 3.57 GiB of peak
 * resident memory for 2,000 words (bench/capture_8b.ts).
 *
 * @module
 */

import { type Backend, createCpuBackend } from "@brainorg/kernels";
import type { GgufLlamaHeader, LlamaLayer } from "./gguf_model.ts";
import {
  dequantizeRaw,
  type GgufTensorFile,
  openGgufTensors,
  type RawTensor,
} from "./gguf_tensors.ts";
import type { Tokenizer } from "./tokenizer.ts";
import {
  type CaptureOptions,
  type CaptureWindows,
  captureWindows,
  finished,
  type WordActivations,
} from "./capture.ts";
import { normalStats, redrawRows, redrawTensor } from "./random_weights.ts";

/** What {@linkcode StreamedCaptureOptions.onBlock} is told after each block. */
export interface BlockTiming {
  /** The block (0 … layers − 1). */
  layer: number;
  /** Seconds spent waiting for its bytes (0 when read ahead in time). */
  readSeconds: number;
  /** Seconds dequantizing them. */
  dequantizeSeconds: number;
  /** Seconds running every window through it. */
  computeSeconds: number;
}

/** Options of {@linkcode captureWordsStreamed}. */
export interface StreamedCaptureOptions extends CaptureOptions {
  /**
   * Where the products run. Default: a CPU backend created for the capture
   * and disposed after it (OpenBLAS, else MLAS, else TypeScript).
   */
  backend?: Backend;
  /** Token rows per product: windows are grouped until they hold this many. Default: 512. */
  rowsPerProduct?: number;
  /** Read the next block's bytes while this one computes (2 blocks of file bytes held). Default: true. */
  readAhead?: boolean;
  /** Called after each block with its timing. */
  onBlock?: (timing: BlockTiming) => void;
  /**
   * The random-weights control: each tensor redrawn as it is read, with the
   * seed and rule of `randomizeWeights` (the same weights). Default: the trained weights.
   */
  randomSeed?: number;
}

/** The token sequences of a capture: every window's BOS and tokens, end to end. */
interface Sequences {
  /** Token ids, all windows end to end. */
  ids: Int32Array;
  /** First row of each window, and one past the last (windows + 1 entries). */
  bounds: number[];
  /** Word each row records into, or −1 (BOS, re-read context). */
  word: Int32Array;
  /** Tokens of each recording row's word for a mean (its units divided by it and added), 0 to set them. */
  divisor: Float32Array;
}

function sequences(
  windows: CaptureWindows,
  bos: number,
  aggregate: "mean" | "first" | "last",
): Sequences {
  const { tokens, starts, context } = windows;
  const ids: number[] = [], word: number[] = [], divisor: number[] = [], bounds: number[] = [];
  for (const start of starts) {
    bounds.push(ids.length);
    ids.push(bos), word.push(-1), divisor.push(0);
    const warm = Math.max(0, start - context), end = Math.min(tokens.length, start + context);
    for (let w = warm; w < end; w++) {
      const n = tokens[w].length;
      tokens[w].forEach((t, k) => {
        ids.push(t);
        const keep = w >= start &&
          (aggregate === "mean" || (aggregate === "first" ? k === 0 : k === n - 1));
        word.push(keep ? w : -1);
        divisor.push(aggregate === "mean" ? n : 0);
      });
    }
  }
  bounds.push(ids.length);
  return {
    ids: Int32Array.from(ids),
    bounds,
    word: Int32Array.from(word),
    divisor: Float32Array.from(divisor),
  };
}

/** One block's tensors: name, values, and where they go in a {@linkcode LlamaLayer}. */
function blockTensors(
  header: GgufLlamaHeader,
  l: number,
): [keyof LlamaLayer, string, number][] {
  const { dim, heads, kvHeads, hiddenDim: H } = header.config;
  const kvDim = (dim / heads) * kvHeads;
  // Qwen2's q/k/v biases, where the file has them.
  const has = (name: string) => header.tensorInfos.some((t) => t.name === name);
  const biases: [keyof LlamaLayer, string, number][] = [
    ["bq", `blk.${l}.attn_q.bias`, dim],
    ["bk", `blk.${l}.attn_k.bias`, kvDim],
    ["bv", `blk.${l}.attn_v.bias`, kvDim],
  ];
  return [
    ...biases.filter(([, name]) => has(name)),
    ["attnNorm", `blk.${l}.attn_norm.weight`, dim],
    ["wq", `blk.${l}.attn_q.weight`, dim * dim],
    ["wk", `blk.${l}.attn_k.weight`, kvDim * dim],
    ["wv", `blk.${l}.attn_v.weight`, kvDim * dim],
    ["wo", `blk.${l}.attn_output.weight`, dim * dim],
    ["ffnNorm", `blk.${l}.ffn_norm.weight`, dim],
    ["gate", `blk.${l}.ffn_gate.weight`, H * dim],
    ["up", `blk.${l}.ffn_up.weight`, H * dim],
    ["down", `blk.${l}.ffn_down.weight`, dim * H],
  ];
}

async function readBlock(file: GgufTensorFile, l: number): Promise<RawTensor[]> {
  const out: RawTensor[] = [];
  // One at a time: the reads share the disk, and a failure names its tensor.
  for (const [, name, length] of blockTensors(file.header, l)) {
    out.push(await file.readRaw(name, length));
  }
  return out;
}

/**
 * {@linkcode captureWords} for a model read block by block from its GGUF
 * file (see the module's doc for the memory it takes): the same windows,
 * word rows and aggregation, up to float32 rounding.
 *
 * @param header the file's header (see {@linkcode readGgufLlamaHeader})
 * @param tokenizer its tokenizer (e.g. `createTokenizer(header.vocab)`)
 * @param words the transcript's words in order
 * @param options left context, aggregation, progress, backend, rows per product (see
 *   {@linkcode StreamedCaptureOptions}). Default: 64 words, mean, a CPU backend, 512 rows.
 * @returns (words × layers·dim) responses and their (layer, unit) index
 * @throws {InputError} when a window needs more tokens than the model's
 *   context, a tensor is missing or damaged, or a unit is not finite on the story
 *
 * @example
 * ```ts
 * import { captureWordsStreamed, createTokenizer, readGgufLlamaHeader } from "@brainorg/models";
 * const header = await readGgufLlamaHeader("Meta-Llama-3-8B.F16.gguf");
 * const acts = await captureWordsStreamed(header, createTokenizer(header.vocab), ["Once", "upon"]);
 * console.log(acts.units); // 32 × 4096
 * ```
 */
export async function captureWordsStreamed(
  header: GgufLlamaHeader,
  tokenizer: Tokenizer,
  words: string[],
  options: StreamedCaptureOptions = {},
): Promise<WordActivations> {
  const rowsPerProduct = options.rowsPerProduct ?? 512;
  if (!(Number.isInteger(rowsPerProduct) && rowsPerProduct >= 1)) {
    throw new RangeError(
      `\`rowsPerProduct\` must be a whole number ≥ 1: current value is ${rowsPerProduct}`,
    );
  }
  const { config } = header, { dim, layers } = config;
  const windows = captureWindows(header, tokenizer, words, Math.max(1, options.context ?? 64));
  const seq = sequences(windows, header.vocab.bos, options.aggregate ?? "mean");
  const file = await openGgufTensors(header);
  const units = layers * dim, data = new Float32Array(words.length * units);
  // The residual stream of every token: only the rows of the tokens a story uses are read.
  const used = [...new Set(seq.ids)].sort((a, b) => a - b);
  const seed = options.randomSeed;
  const rows = seed === undefined
    ? await file.readRows("token_embd.weight", dim, config.vocabSize, used)
    : redrawRows(await embeddingStats(file), dim, used, seed);
  const rowOf = new Map(used.map((t, i) => [t, i]));
  const x = new Float32Array(seq.ids.length * dim);
  seq.ids.forEach((t, i) =>
    x.set(rows.subarray(rowOf.get(t)! * dim, (rowOf.get(t)! + 1) * dim), i * dim)
  );

  const backend = options.backend ?? await createCpuBackend();
  const runner = blockRunner(header, backend, seq, rowsPerProduct);
  const readAhead = options.readAhead ?? true;
  let next: Promise<RawTensor[]> | undefined = readBlock(file, 0);
  try {
    for (let l = 0; l < layers; l++) {
      let t0 = performance.now();
      const raw: (RawTensor | undefined)[] = await next!;
      next = l + 1 < layers && readAhead ? readBlock(file, l + 1) : undefined;
      // A read that fails while this block computes is reported when awaited, not as unhandled.
      next?.catch(() => {});
      const readSeconds = (performance.now() - t0) / 1000;
      t0 = performance.now();
      const layer = {} as LlamaLayer;
      blockTensors(header, l).forEach(([key, name], i) => {
        const w = dequantizeRaw(header, raw[i]!);
        // Norm gains are kept, as randomizeWeights keeps them.
        layer[key] = seed === undefined || key === "attnNorm" || key === "ffnNorm"
          ? w
          : redrawTensor(w, seed, name);
        raw[i] = undefined; // its bytes may go as soon as it is float32
      });
      const dequantizeSeconds = (performance.now() - t0) / 1000;
      t0 = performance.now();
      await runner(layer, l, x, data);
      const computeSeconds = (performance.now() - t0) / 1000;
      options.onBlock?.({ layer: l, readSeconds, dequantizeSeconds, computeSeconds });
      options.onProgress?.(Math.round((words.length * (l + 1)) / layers), words.length);
      if (!readAhead && l + 1 < layers) next = readBlock(file, l + 1);
    }
  } finally {
    if (!options.backend) backend.dispose();
  }
  return finished(header, windows, data);
}

/**
 * Moments of the whole token embedding, read in pieces of rows (two passes):
 * the random control's embedding rows are drawn with them.
 */
function embeddingStats(file: GgufTensorFile) {
  const { dim, vocabSize } = file.header.config, piece = 2048;
  async function* pieces() {
    for (let r = 0; r < vocabSize; r += piece) {
      const rows = Array.from({ length: Math.min(piece, vocabSize - r) }, (_, i) => r + i);
      yield await file.readRows("token_embd.weight", dim, vocabSize, rows);
    }
  }
  return normalStats(pieces, dim * vocabSize);
}

/**
 * The computation of one block over every window: returns a function that
 * updates the residual stream `x` (tokens × dim) in place and adds the
 * block's FFN units into `data` (words × layers·dim).
 */
function blockRunner(
  header: GgufLlamaHeader,
  backend: Backend,
  seq: Sequences,
  rowsPerProduct: number,
): (w: LlamaLayer, l: number, x: Float32Array, data: Float32Array) => Promise<void> {
  const { dim, hiddenDim: H, heads, kvHeads, layers, normEps, ropeTheta } = header.config;
  const headDim = dim / heads, kvDim = headDim * kvHeads, group = heads / kvHeads;
  const units = layers * dim;
  // Groups of whole windows with about rowsPerProduct rows each.
  const groups: [number, number][] = [];
  for (let s = 0; s < seq.bounds.length - 1;) {
    let e = s + 1;
    while (e < seq.bounds.length - 1 && seq.bounds[e + 1] - seq.bounds[s] <= rowsPerProduct) e++;
    groups.push([s, e]);
    s = e;
  }
  let maxRows = 0, maxT = 0;
  for (const [s, e] of groups) maxRows = Math.max(maxRows, seq.bounds[e] - seq.bounds[s]);
  for (let s = 0; s + 1 < seq.bounds.length; s++) {
    maxT = Math.max(maxT, seq.bounds[s + 1] - seq.bounds[s]);
  }
  // RoPE's angles per position: the same doubles llama.ts computes per step.
  const half = headDim / 2;
  const cos = new Float64Array(maxT * half), sin = new Float64Array(maxT * half);
  for (let p = 0; p < maxT; p++) {
    for (let j = 0; j < half; j++) {
      const a = p * (1 / ropeTheta ** ((2 * j) / headDim));
      cos[p * half + j] = Math.cos(a);
      sin[p * half + j] = Math.sin(a);
    }
  }
  const R = maxRows;
  const xb = new Float32Array(R * dim), q = new Float32Array(R * dim);
  const k = new Float32Array(R * kvDim), v = new Float32Array(R * kvDim);
  const att = new Float32Array(R * dim), o = new Float32Array(R * dim);
  const g = new Float32Array(R * H), u = new Float32Array(R * H);
  const scores = new Float32Array(maxT * maxT), ho = new Float32Array(maxT * headDim);
  const scale = 1 / Math.sqrt(headDim);

  const rmsnorm = (from: Float32Array, r0: number, n: number, w: Float32Array) => {
    for (let r = 0; r < n; r++) {
      const xo = (r0 + r) * dim, bo = r * dim;
      let ss = 0;
      for (let i = 0; i < dim; i++) ss += from[xo + i] * from[xo + i];
      const f = 1 / Math.sqrt(ss / dim + normEps);
      for (let i = 0; i < dim; i++) xb[bo + i] = w[i] * from[xo + i] * f;
    }
  };
  const neox = header.config.ropeType === "neox";
  const rope = (vec: Float32Array, row: number, width: number, p: number) => {
    const base = row * width, c0 = p * half;
    if (neox) {
      // Pair j of a head is (j, j + headDim/2), at the frequency of adjacent pair 2j.
      for (let h = base; h < base + width; h += headDim) {
        for (let j = 0; j < half; j++) {
          const c = cos[c0 + j], s = sin[c0 + j], v0 = vec[h + j], v1 = vec[h + j + half];
          vec[h + j] = v0 * c - v1 * s;
          vec[h + j + half] = v0 * s + v1 * c;
        }
      }
      return;
    }
    for (let i = 0; i < width; i += 2) {
      const j = (i % headDim) >> 1, c = cos[c0 + j], s = sin[c0 + j];
      const v0 = vec[base + i], v1 = vec[base + i + 1];
      vec[base + i] = v0 * c - v1 * s;
      vec[base + i + 1] = v0 * s + v1 * c;
    }
  };
  // C = A · Wᵀ: A (n × in) rows of a buffer, W (out × in) as the file stores it.
  const project = (
    a: Float32Array,
    n: number,
    inDim: number,
    w: Float32Array,
    outDim: number,
    out: Float32Array,
  ) =>
    backend.gemm(
      { rows: n, cols: inDim, data: a },
      { rows: outDim, cols: inDim, data: w },
      { transB: true, out },
    );

  return async (w, l, x, data) => {
    for (const [s0, s1] of groups) {
      const r0 = seq.bounds[s0], n = seq.bounds[s1] - r0;
      rmsnorm(x, r0, n, w.attnNorm);
      await project(xb, n, dim, w.wq, dim, q);
      await project(xb, n, dim, w.wk, kvDim, k);
      await project(xb, n, dim, w.wv, kvDim, v);
      // Qwen2's biases, before RoPE as in llama.ts; Llama has none.
      for (
        const [bias, out, width] of [[w.bq, q, dim], [w.bk, k, kvDim], [w.bv, v, kvDim]] as const
      ) {
        if (!bias) continue;
        for (let r = 0; r < n; r++) for (let i = 0; i < width; i++) out[r * width + i] += bias[i];
      }
      for (let s = s0; s < s1; s++) {
        // The next block's reads finish in the event loop: let it run between windows
        // (the products resolve without a turn of it).
        await new Promise<void>((resolve) => setTimeout(resolve, 0));
        const a = seq.bounds[s] - r0, T = seq.bounds[s + 1] - seq.bounds[s];
        for (let t = 0; t < T; t++) {
          rope(q, a + t, dim, t);
          rope(k, a + t, kvDim, t);
        }
        for (let h = 0; h < heads; h++) {
          const kvh = Math.floor(h / group);
          await backend.gemm(
            { rows: T, cols: headDim, data: q, rowStride: dim, offset: a * dim + h * headDim },
            {
              rows: T,
              cols: headDim,
              data: k,
              rowStride: kvDim,
              offset: a * kvDim + kvh * headDim,
            },
            { transB: true, out: scores },
          );
          // Causal softmax per row; what lies after the row's token weighs 0.
          for (let t = 0; t < T; t++) {
            const row = t * T;
            let max = -Infinity;
            for (let c = 0; c <= t; c++) {
              const e = scores[row + c] = scores[row + c] * scale;
              if (e > max) max = e;
            }
            let sum = 0;
            for (let c = 0; c <= t; c++) sum += scores[row + c] = Math.exp(scores[row + c] - max);
            for (let c = 0; c <= t; c++) scores[row + c] /= sum;
            for (let c = t + 1; c < T; c++) scores[row + c] = 0;
          }
          await backend.gemm(
            { rows: T, cols: T, data: scores },
            {
              rows: T,
              cols: headDim,
              data: v,
              rowStride: kvDim,
              offset: a * kvDim + kvh * headDim,
            },
            { out: ho },
          );
          for (let t = 0; t < T; t++) {
            att.set(ho.subarray(t * headDim, (t + 1) * headDim), (a + t) * dim + h * headDim);
          }
        }
      }
      await project(att, n, dim, w.wo, dim, o);
      for (let i = 0; i < n * dim; i++) x[r0 * dim + i] += o[i];
      rmsnorm(x, r0, n, w.ffnNorm);
      await project(xb, n, dim, w.gate, H, g);
      await project(xb, n, dim, w.up, H, u);
      for (let i = 0; i < n * H; i++) g[i] = (g[i] / (1 + Math.exp(-g[i]))) * u[i];
      await project(g, n, H, w.down, dim, o);
      for (let r = 0; r < n; r++) {
        const wd = seq.word[r0 + r];
        if (wd >= 0) {
          // As runWindows adds them: each token's units divided by the word's tokens.
          const div = seq.divisor[r0 + r], out = wd * units + l * dim, from = r * dim;
          if (div === 0) { for (let i = 0; i < dim; i++) data[out + i] = o[from + i]; }
          else for (let i = 0; i < dim; i++) data[out + i] += o[from + i] / div;
        }
      }
      for (let i = 0; i < n * dim; i++) x[r0 * dim + i] += o[i];
    }
  };
}
