/**
 * A plain TypeScript Llama forward pass (RMSNorm, RoPE, grouped-query
 * attention, SwiGLU; Qwen2's q/k/v biases and NeoX RoPE where the model has
 * them), one token at a time with a key/value cache, as
 * llama2.c computes it. It reports the units of each block's FFN second
 * linear layer (`down_proj`): the artificial neurons of Sun et al. 2024.
 *
 * It is the reference the ONNX capture path is checked against, and fast
 * enough to run small models (stories260K) on its own.
 *
 * @module
 */

import type { LlamaModel } from "./gguf_model.ts";

/** What one step returns. */
export interface StepOutput {
  /** Next-token logits (vocabSize). */
  logits: Float32Array;
  /** FFN `down_proj` outputs of every block, (layers × dim), layer-major. */
  ffnOut: Float32Array;
  /**
   * The residual stream after each block's attention (before its FFN),
   * (layers × dim), layer-major: only with `SessionOptions.trace`.
   */
  attnResidual?: Float32Array;
}

/**
 * Where a step starts instead of at the embedding: the residual stream
 * entering block `layer` (dim values). Blocks before it are skipped, so their
 * key/value caches stay empty: every step of such a session starts at the
 * same block or later.
 */
export interface StepStart {
  /** The first block to run, 0 … layers (layers: only the final norm and the logits). */
  layer: number;
  /** The residual stream entering it (dim). */
  x: Float32Array;
}

/**
 * Units of the FFN `down_proj` output to zero, per layer: `ablate[l][u]`
 * non-zero zeroes unit u of block l (a Uint8Array of `dim` entries), before
 * the block's residual add; an absent layer is left whole.
 */
export type AblationMask = readonly (Uint8Array | undefined)[];

/** Options of {@linkcode createLlamaSession}. */
export interface SessionOptions {
  /** FFN output units to zero (see {@linkcode AblationMask}). Default: none. */
  ablate?: AblationMask;
  /** Report each block's residual stream after attention (`StepOutput.attnResidual`). Default: false. */
  trace?: boolean;
}

/** A running sequence with its key/value cache. */
export interface LlamaSession {
  /**
   * Feed one token at the next position; with `start`, from that block's
   * input (a run resumed from a traced one, see {@linkcode StepStart}).
   */
  step(token: number, start?: StepStart): StepOutput;
  /** Tokens fed so far. */
  readonly position: number;
}

function matvec(
  w: Float32Array,
  x: Float32Array,
  out: Float32Array,
  rows: number,
  cols: number,
): void {
  for (let r = 0; r < rows; r++) {
    let s = 0;
    const base = r * cols;
    for (let c = 0; c < cols; c++) s += w[base + c] * x[c];
    out[r] = s;
  }
}

function rmsnorm(out: Float32Array, x: Float32Array, w: Float32Array, eps: number): void {
  let ss = 0;
  for (let i = 0; i < x.length; i++) ss += x[i] * x[i];
  const scale = 1 / Math.sqrt(ss / x.length + eps);
  for (let i = 0; i < x.length; i++) out[i] = w[i] * x[i] * scale;
}

/**
 * Start a session (an empty key/value cache) on a model.
 *
 * @param model a loaded model (e.g. from {@linkcode readGgufLlama})
 * @param options units to ablate (zeroed in every step, also in the reported
 *   `ffnOut`). Default: none.
 * @returns the session, at position 0; its cache holds `contextLength` positions
 * @throws {RangeError} when a mask's length is not the model's `dim`
 *
 * @example
 * ```ts
 * import { createLlamaSession, readGgufLlama } from "@brainorg/models";
 * const model = await readGgufLlama("stories260K.gguf");
 * const s = createLlamaSession(model);
 * const { logits, ffnOut } = s.step(model.vocab.bos);
 * ```
 */
export function createLlamaSession(
  model: LlamaModel,
  options: SessionOptions = {},
): LlamaSession {
  const { dim, hiddenDim, layers, heads, kvHeads, contextLength, normEps, ropeTheta } =
    model.config;
  const ablate = options.ablate ?? [];
  ablate.forEach((m, l) => {
    if (m && m.length !== dim) {
      throw new RangeError(
        `\`ablate[${l}]\` must have the model's dim (${dim}) entries: current length is ${m.length}`,
      );
    }
  });
  const headDim = dim / heads, kvDim = headDim * kvHeads, group = heads / kvHeads;
  const keys = Array.from({ length: layers }, () => new Float32Array(contextLength * kvDim));
  const values = Array.from({ length: layers }, () => new Float32Array(contextLength * kvDim));
  const x = new Float32Array(dim), xb = new Float32Array(dim), xb2 = new Float32Array(dim);
  const q = new Float32Array(dim), k = new Float32Array(kvDim), v = new Float32Array(kvDim);
  const h1 = new Float32Array(hiddenDim), h3 = new Float32Array(hiddenDim);
  const att = new Float32Array(contextLength);
  const V = model.config.vocabSize;
  let pos = 0;

  // The same expression as per element, computed once: the pow dominated RoPE.
  const freqs = Float64Array.from(
    { length: headDim },
    (_, i) => 1 / ropeTheta ** (i / headDim),
  );
  const neox = model.config.ropeType === "neox", half = headDim / 2;
  const rope = (vec: Float32Array, n: number, p: number) => {
    if (neox) {
      // Pair j of a head is (j, j + headDim/2), at the frequency of adjacent pair 2j.
      for (let h = 0; h < n; h += headDim) {
        for (let j = 0; j < half; j++) {
          const a = p * freqs[2 * j], c = Math.cos(a), s = Math.sin(a);
          const v0 = vec[h + j], v1 = vec[h + j + half];
          vec[h + j] = v0 * c - v1 * s;
          vec[h + j + half] = v0 * s + v1 * c;
        }
      }
      return;
    }
    for (let i = 0; i < n; i += 2) {
      const freq = freqs[i % headDim];
      const a = p * freq, c = Math.cos(a), s = Math.sin(a);
      const v0 = vec[i], v1 = vec[i + 1];
      vec[i] = v0 * c - v1 * s;
      vec[i + 1] = v0 * s + v1 * c;
    }
  };

  return {
    get position() {
      return pos;
    },
    step(token, start) {
      if (pos >= contextLength) {
        throw new RangeError(`the context of ${contextLength} tokens is full`);
      }
      if (!(token >= 0 && token < V)) {
        throw new RangeError(`token ${token} is outside the vocabulary of ${V}`);
      }
      if (start && !(start.layer >= 0 && start.layer <= layers && start.x.length === dim)) {
        throw new RangeError(
          `\`start\` must name a block 0 … ${layers} and hold ${dim} values: current value is ` +
            `block ${start.layer}, ${start.x.length} values`,
        );
      }
      if (start) x.set(start.x);
      else x.set(model.embedding.subarray(token * dim, (token + 1) * dim));
      const ffnOut = new Float32Array(layers * dim);
      const attnResidual = options.trace ? new Float32Array(layers * dim) : undefined;
      for (let l = start?.layer ?? 0; l < layers; l++) {
        const w = model.layers[l];
        rmsnorm(xb, x, w.attnNorm, normEps);
        matvec(w.wq, xb, q, dim, dim);
        matvec(w.wk, xb, k, kvDim, dim);
        matvec(w.wv, xb, v, kvDim, dim);
        // Qwen2's q/k/v biases, before RoPE as in llama.cpp; Llama has none.
        if (w.bq) { for (let i = 0; i < dim; i++) q[i] += w.bq[i]; }
        if (w.bk) { for (let i = 0; i < kvDim; i++) k[i] += w.bk[i]; }
        if (w.bv) { for (let i = 0; i < kvDim; i++) v[i] += w.bv[i]; }
        rope(q, dim, pos);
        rope(k, kvDim, pos);
        keys[l].set(k, pos * kvDim);
        values[l].set(v, pos * kvDim);
        xb2.fill(0);
        for (let h = 0; h < heads; h++) {
          const qo = h * headDim, ko = Math.floor(h / group) * headDim;
          let max = -Infinity;
          for (let t = 0; t <= pos; t++) {
            let s = 0;
            for (let i = 0; i < headDim; i++) s += q[qo + i] * keys[l][t * kvDim + ko + i];
            att[t] = s / Math.sqrt(headDim);
            if (att[t] > max) max = att[t];
          }
          let sum = 0;
          for (let t = 0; t <= pos; t++) sum += att[t] = Math.exp(att[t] - max);
          for (let t = 0; t <= pos; t++) {
            const a = att[t] / sum;
            for (let i = 0; i < headDim; i++) xb2[qo + i] += a * values[l][t * kvDim + ko + i];
          }
        }
        matvec(w.wo, xb2, xb, dim, dim);
        for (let i = 0; i < dim; i++) x[i] += xb[i];
        attnResidual?.set(x, l * dim);
        rmsnorm(xb, x, w.ffnNorm, normEps);
        matvec(w.gate, xb, h1, hiddenDim, dim);
        matvec(w.up, xb, h3, hiddenDim, dim);
        for (let i = 0; i < hiddenDim; i++) h1[i] = (h1[i] / (1 + Math.exp(-h1[i]))) * h3[i];
        const out = ffnOut.subarray(l * dim, (l + 1) * dim);
        matvec(w.down, h1, out, dim, hiddenDim);
        const mask = ablate[l];
        if (mask) { for (let i = 0; i < dim; i++) if (mask[i]) out[i] = 0; }
        for (let i = 0; i < dim; i++) x[i] += out[i];
      }
      rmsnorm(xb, x, model.finalNorm, normEps);
      const logits = new Float32Array(V);
      matvec(model.output, xb, logits, V, dim);
      pos++;
      return attnResidual ? { logits, ffnOut, attnResidual } : { logits, ffnOut };
    },
  };
}

/**
 * Greedy decoding: feed `prompt` (token ids, BOS included), then append the
 * most likely token until `maxTokens` tokens have been produced or EOS.
 *
 * @param model a loaded model
 * @param prompt token ids to feed first, BOS included
 * @param maxTokens most tokens to produce
 * @returns the produced token ids (the prompt not included)
 *
 * @example
 * ```ts
 * import { createTokenizer, greedyDecode, readGgufLlama } from "@brainorg/models";
 * const model = await readGgufLlama("stories260K.gguf");
 * const tok = createTokenizer(model.vocab);
 * const ids = greedyDecode(model, tok.encode("Once upon a time"), 30);
 * console.log(tok.decode(ids)); // the story goes on
 * ```
 */
export function greedyDecode(model: LlamaModel, prompt: number[], maxTokens: number): number[] {
  const session = createLlamaSession(model);
  let out: StepOutput | undefined;
  for (const t of prompt) out = session.step(t);
  const produced: number[] = [];
  while (produced.length < maxTokens && out) {
    let best = 0;
    for (let i = 1; i < out.logits.length; i++) if (out.logits[i] > out.logits[best]) best = i;
    if (best === model.vocab.eos) break;
    produced.push(best);
    out = session.step(best);
  }
  return produced;
}
