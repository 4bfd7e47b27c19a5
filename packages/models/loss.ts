/**
 * The model's next-token loss on a text, whole or with FFN units ablated:
 * the causal test of a sub-group (does the model need these units?). Runs
 * on the TypeScript forward pass; many ablations can be shared out among
 * worker threads.
 *
 * @module
 */

import type { LlamaModel } from "./gguf_model.ts";
import { type AblationMask, createLlamaSession, type StepOutput } from "./llama.ts";

/** Options of {@linkcode nextTokenLoss}. */
export interface LossOptions {
  /**
   * Units to zero: full AN indices (`layer * dim + unit`) or a per-layer
   * {@linkcode AblationMask}. Default: none.
   */
  ablate?: ArrayLike<number> | AblationMask;
  /**
   * Tokens a window may hold, BOS included. A longer text is read in
   * windows as the capture reads a story: each window scores
   * ⌊(context − 1) / 2⌋ new tokens after re-reading as many before them.
   * Default and maximum: the model's `contextLength`.
   */
  context?: number;
  /**
   * The whole model's pass over the same tokens and context
   * ({@linkcode lossTrace}): an ablated pass resumes from it after the
   * first ablated block, with the same result bit for bit. Default: none.
   */
  trace?: LossTrace;
}

/** The whole model's pass over a text, per window: what an ablated pass resumes from. */
export interface LossTrace {
  /** The text's tokens. */
  tokens: number;
  /** Tokens a window held. */
  context: number;
  /**
   * Per window, per token fed (BOS first): each block's residual stream after
   * attention and its FFN output, each (fed × layers × dim), row-major.
   */
  windows: { attn: Float32Array; ffn: Float32Array }[];
}

/** The windows of a text of n tokens read with context C (tokens, BOS included). */
function windowsOf(n: number, C: number): { warm: number; start: number; end: number }[] {
  if (!(C >= 3)) {
    throw new RangeError(`\`context\` must be at least 3 tokens: current value is ${C}`);
  }
  // One window when the text fits; else the capture's scheme in tokens.
  const stride = n + 1 <= C ? n : Math.floor((C - 1) / 2), out = [];
  for (let start = 0; start < n; start += stride) {
    out.push({ warm: Math.max(0, start - stride), start, end: Math.min(n, start + stride) });
  }
  return out;
}

const contextOf = (model: LlamaModel, context?: number) =>
  Math.min(context ?? model.config.contextLength, model.config.contextLength);

/**
 * Record the whole model's pass over a text for {@linkcode nextTokenLoss}'s `trace`.
 *
 * @param model the model
 * @param tokens the text's token ids, without BOS
 * @param options the window size (see {@linkcode LossOptions}); no ablation
 * @returns per window, each fed token's residual streams after attention and FFN outputs
 * @throws {RangeError} when `context` is below 3
 *
 * @example
 * ```ts
 * import { lossTrace, nextTokenLoss, readGgufLlama } from "@brainorg/models";
 * const model = await readGgufLlama("stories260K.gguf");
 * const ids = [403, 407, 261, 378], trace = lossTrace(model, ids);
 * nextTokenLoss(model, ids, { ablate: [300], trace }); // runs block 4 only
 * ```
 */
export function lossTrace(
  model: LlamaModel,
  tokens: ArrayLike<number>,
  options: { context?: number } = {},
): LossTrace {
  const C = contextOf(model, options.context), D = model.config.layers * model.config.dim;
  const windows = windowsOf(tokens.length, C).map(({ warm, end }) => {
    const fed = end - warm, attn = new Float32Array(fed * D), ffn = new Float32Array(fed * D);
    const session = createLlamaSession(model, { trace: true });
    for (let f = 0; f < fed; f++) {
      const out = session.step(f === 0 ? model.vocab.bos : tokens[warm + f - 1]);
      attn.set(out.attnResidual!, f * D);
      ffn.set(out.ffnOut, f * D);
    }
    return { attn, ffn };
  });
  return { tokens: tokens.length, context: C, windows };
}

/**
 * A per-layer mask from full AN indices (`layer * dim + unit`).
 *
 * @param model the model whose layers and dim index the ANs
 * @param ans full AN indices, each below layers · dim
 * @returns one Uint8Array of `dim` per layer (1: zeroed), none for a layer without ablated units
 * @throws {RangeError} when an index is outside the model's ANs
 *
 * @example
 * ```ts
 * import { ablationMask, readGgufLlama } from "@brainorg/models";
 * const model = await readGgufLlama("stories260K.gguf");
 * ablationMask(model, [3, 64 + 5]); // layer 0 unit 3, layer 1 unit 5
 * ```
 */
export function ablationMask(model: LlamaModel, ans: ArrayLike<number>): AblationMask {
  const { layers, dim } = model.config;
  const mask: (Uint8Array | undefined)[] = new Array(layers).fill(undefined);
  for (let i = 0; i < ans.length; i++) {
    const j = ans[i];
    if (!(Number.isInteger(j) && j >= 0 && j < layers * dim)) {
      throw new RangeError(
        `AN indices must be whole numbers below ${layers * dim} (layers × dim): ` +
          `current value at ${i} is ${j}`,
      );
    }
    const l = Math.floor(j / dim);
    (mask[l] ??= new Uint8Array(dim))[j % dim] = 1;
  }
  return mask;
}

const isMask = (a: LossOptions["ablate"]): a is AblationMask =>
  Array.isArray(a) && a.every((m) => m === undefined || m instanceof Uint8Array);

/**
 * Mean next-token cross-entropy of a text: −(1/n) Σᵢ log p(tokens[i] |
 * BOS, tokens[<i] in its window), in nats per token, every token scored
 * (the first after BOS alone).
 *
 * @param model the model
 * @param tokens the text's token ids, without BOS
 * @param options units to ablate, window size (see {@linkcode LossOptions})
 * @returns the mean loss (nats/token); NaN for an empty text
 * @throws {RangeError} when `context` is below 3 or an ablated index is outside the model
 *
 * @example
 * ```ts
 * import { createTokenizer, nextTokenLoss, readGgufLlama } from "@brainorg/models";
 * const model = await readGgufLlama("stories260K.gguf");
 * const ids = createTokenizer(model.vocab).encode("Once upon a time", { bos: false });
 * const whole = nextTokenLoss(model, ids);
 * const without = nextTokenLoss(model, ids, { ablate: [0, 1, 2] }); // layer 0, units 0–2
 * ```
 */
export function nextTokenLoss(
  model: LlamaModel,
  tokens: ArrayLike<number>,
  options: LossOptions = {},
): number {
  const C = contextOf(model, options.context);
  const a = options.ablate;
  const ablate = a === undefined ? undefined : isMask(a) ? a : ablationMask(model, a);
  const n = tokens.length, { layers, dim } = model.config, D = layers * dim;
  const trace = options.trace;
  if (trace && (trace.tokens !== n || trace.context !== C)) {
    throw new RangeError(
      `\`trace\` must be of the same text and context (${n} tokens, context ${C}): ` +
        `current value is of ${trace.tokens} tokens, context ${trace.context}`,
    );
  }
  // Blocks before the first ablated one, and its attention, are the whole model's.
  const first = ablate ? ablate.findIndex((m) => m?.some((v) => v !== 0)) : -1;
  const resume = trace && first >= 0 ? first : -1;
  let sum = 0;
  windowsOf(n, C).forEach(({ warm, start, end }, w) => {
    const session = createLlamaSession(model, ablate ? { ablate } : {});
    const x = new Float32Array(dim), mask = resume >= 0 ? ablate![resume]! : undefined;
    const step = (token: number, f: number): StepOutput => {
      if (!mask) return session.step(token);
      const { attn, ffn } = trace!.windows[w], at = f * D + resume * dim;
      // The block's residual add as the whole pass does it, with the units zeroed.
      for (let i = 0; i < dim; i++) x[i] = attn[at + i] + (mask[i] ? 0 : ffn[at + i]);
      return session.step(token, { layer: resume + 1, x });
    };
    let logits = step(model.vocab.bos, 0).logits;
    for (let i = warm; i < end; i++) {
      if (i >= start) sum += crossEntropy(logits, tokens[i]);
      if (i + 1 < end) logits = step(tokens[i], i - warm + 1).logits;
    }
  });
  return n ? sum / n : NaN;
}

/** −log softmax(logits)[target], in float64. */
function crossEntropy(logits: Float32Array, target: number): number {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) if (logits[i] > max) max = logits[i];
  let s = 0;
  for (let i = 0; i < logits.length; i++) s += Math.exp(logits[i] - max);
  return Math.log(s) + max - logits[target];
}

/** Options of {@linkcode nextTokenLosses}. */
export interface LossesOptions {
  /** Tokens a window may hold (see {@linkcode LossOptions}). Default: the model's context. */
  context?: number;
  /** Worker threads. Default: the number of cores; 1 runs in the calling thread. */
  threads?: number;
  /** Called as ablations finish, with (done, total). */
  onProgress?: (done: number, total: number) => void;
}

/**
 * The loss of each text under each ablation, the ablations shared out
 * among worker threads (each is computed on its own, so the result does not
 * depend on the threads).
 *
 * @param model the model
 * @param texts token ids of each text, without BOS
 * @param ablations per ablation, the full AN indices to zero (empty: none)
 * @param options window, threads, progress
 * @returns losses (ablations × texts), row-major, nats/token
 * @throws {Error} when a worker fails
 *
 * @example
 * ```ts
 * import { nextTokenLosses, readGgufLlama } from "@brainorg/models";
 * const model = await readGgufLlama("stories260K.gguf");
 * const losses = await nextTokenLosses(model, [[403, 407, 261]], [[], [0, 1]], { threads: 2 });
 * losses[1] - losses[0]; // the loss change of zeroing units 0 and 1 of layer 0
 * ```
 */
export async function nextTokenLosses(
  model: LlamaModel,
  texts: readonly (readonly number[])[],
  ablations: readonly ArrayLike<number>[],
  options: LossesOptions = {},
): Promise<Float64Array> {
  const A = ablations.length, T = texts.length, out = new Float64Array(A * T);
  const threads = Math.min(A, Math.max(1, options.threads ?? navigator.hardwareConcurrency ?? 1));
  let done = 0;
  const context = options.context;
  if (threads < 2) {
    lossesOf(model, texts, ablations, context, (a, losses) => {
      out.set(losses, a * T);
      options.onProgress?.(++done, A);
    });
    return out;
  }
  const workers: Worker[] = [];
  try {
    await Promise.all(Array.from({ length: threads }, (_, h) => {
      const from = Math.round((h * A) / threads), to = Math.round(((h + 1) * A) / threads);
      const worker = new Worker(new URL("./loss_worker.ts", import.meta.url), { type: "module" });
      workers.push(worker);
      return new Promise<void>((resolve, reject) => {
        worker.onmessage = (e: MessageEvent<LossReply>) => {
          const m = e.data;
          if ("done" in m) options.onProgress?.(done += m.done, A);
          else if ("error" in m) reject(new Error(`loss worker: ${m.error}`));
          else {
            out.set(m.losses, from * T);
            resolve();
          }
        };
        worker.onerror = (e) => {
          e.preventDefault();
          reject(new Error(`loss worker failed: ${e.message}`));
        };
        worker.postMessage(
          {
            model,
            texts: texts.map((t) => [...t]),
            ablations: ablations.slice(from, to).map((a) => Uint32Array.from(a)),
            ...(context ? { context } : {}),
          } satisfies LossTask,
        );
      });
    }));
  } finally {
    for (const w of workers) w.terminate();
  }
  return out;
}

/**
 * The losses of each text under each ablation in this thread, the whole
 * model's pass traced once per text and resumed from by every ablation.
 *
 * @param onAblation called with each ablation's index and its losses (one per text)
 */
export function lossesOf(
  model: LlamaModel,
  texts: readonly ArrayLike<number>[],
  ablations: readonly ArrayLike<number>[],
  context: number | undefined,
  onAblation: (a: number, losses: Float64Array) => void,
): void {
  const c = context ? { context } : {};
  const traces = texts.map((t) => lossTrace(model, t, c));
  ablations.forEach((ablate, a) =>
    onAblation(
      a,
      Float64Array.from(
        texts,
        (t, i) => nextTokenLoss(model, t, { ablate, trace: traces[i], ...c }),
      ),
    )
  );
}

/** What a loss worker is sent: its share of the ablations. */
export interface LossTask {
  /** The model (structured-cloned into the worker). */
  model: LlamaModel;
  /** Token ids of each text, without BOS. */
  texts: number[][];
  /** Per ablation, the full AN indices to zero. */
  ablations: Uint32Array[];
  /** Tokens a window may hold. */
  context?: number;
}

/** A loss worker's messages: progress, then its losses (ablations × texts), or an error. */
export type LossReply = { done: number } | { losses: Float64Array } | { error: string };
