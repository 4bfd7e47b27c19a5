/**
 * Test fixtures for byte-level BPE models: a tiny BPE trainer (merges the
 * most frequent adjacent pair, as GPT-2's vocabularies were made) and small
 * random Llama-3-like and Qwen2-like models over its vocabulary. Test-only.
 *
 * @module
 */

import { rng } from "@brainorg/kernels";
import { byteToUnicode, preTokenize, type PreTokenizer } from "./bpe.ts";
import type { LlamaConfig, LlamaLayer, LlamaModel } from "./gguf_model.ts";
import type { Vocabulary } from "./tokenizer.ts";

/** Text the test vocabularies are trained on (Carroll, 1865: public domain). */
export const CORPUS = `Alice was beginning to get very tired of sitting by her sister on the
bank, and of having nothing to do: once or twice she had peeped into the book her sister was
reading, but it had no pictures or conversations in it, "and what is the use of a book," thought
Alice "without pictures or conversations?" So she was considering in her own mind (as well as
she could, for the hot day made her feel very sleepy and stupid), whether the pleasure of making
a daisy-chain would be worth the trouble of getting up and picking the daisies, when suddenly a
White Rabbit with pink eyes ran close by her. There was nothing so VERY remarkable in that; nor
did Alice think it so VERY much out of the way to hear the Rabbit say to itself, "Oh dear! Oh
dear! I shall be late!" It's 1865, and she'd never seen 12 rabbits with 24 eyes.`;

/** Special tokens appended after the merges (GGUF type 3, control), as Llama 3 has them. */
export const SPECIALS = ["<|begin_of_text|>", "<|end_of_text|>", "<|eot_id|>"];

/**
 * A byte-level BPE vocabulary learned from `text`: the 256 byte pieces
 * (id = byte), then one piece per merge (the most frequent adjacent pair of
 * the pre-tokenized words; ties to the smaller pair string), then
 * {@linkcode SPECIALS}; BOS is `<|begin_of_text|>`, EOS `<|end_of_text|>`.
 *
 * @param text the training text
 * @param merges how many merges to learn at most
 * @param pre the GGUF pre-tokenizer name (`tokenizer.ggml.pre`). Default: "llama-bpe".
 * @returns the vocabulary (kind "bpe", with token types)
 */
export function trainBpe(text: string, merges: number, pre = "llama-bpe"): Vocabulary {
  const family: PreTokenizer = pre === "qwen2" ? "qwen2" : pre === "llama-bpe" ? "llama3" : "gpt2";
  const chars = byteToUnicode(), encoder = new TextEncoder();
  const counts = new Map<string, number>();
  for (const piece of preTokenize(text, family)) {
    let s = "";
    for (const b of encoder.encode(piece)) s += chars[b];
    counts.set(s, (counts.get(s) ?? 0) + 1);
  }
  const words = [...counts].map(([w, n]) => ({ symbols: Array.from(w), n }));
  const pieces = [...chars], seen = new Set(pieces), learned: string[] = [];
  for (let m = 0; m < merges; m++) {
    const pairs = new Map<string, number>();
    for (const { symbols, n } of words) {
      for (let i = 0; i + 1 < symbols.length; i++) {
        const key = `${symbols[i]} ${symbols[i + 1]}`;
        pairs.set(key, (pairs.get(key) ?? 0) + n);
      }
    }
    let best = "", most = 1;
    for (const [key, n] of pairs) {
      if (n > most || (n === most && most > 1 && key < best)) {
        best = key;
        most = n;
      }
    }
    if (!best) break;
    learned.push(best);
    const [a, b] = best.split(" ");
    if (!seen.has(a + b)) {
      seen.add(a + b);
      pieces.push(a + b);
    }
    for (const w of words) {
      const out: string[] = [];
      for (let i = 0; i < w.symbols.length; i++) {
        if (i + 1 < w.symbols.length && w.symbols[i] === a && w.symbols[i + 1] === b) {
          out.push(a + b);
          i++;
        } else out.push(w.symbols[i]);
      }
      w.symbols = out;
    }
  }
  const first = pieces.length;
  pieces.push(...SPECIALS);
  const types = new Int32Array(pieces.length).fill(1);
  types.fill(3, first);
  return {
    pieces,
    scores: new Float32Array(pieces.length),
    bos: first,
    eos: first + 1,
    unk: 0,
    kind: "bpe",
    merges: learned,
    pre,
    types,
  };
}

/** Shape of a {@linkcode randomModel}. */
export interface RandomModelShape {
  /** Residual width. Default: 256 (one K-quant block per row). */
  dim?: number;
  /** FFN hidden width. Default: 512. */
  hiddenDim?: number;
  /** Blocks. Default: 2. */
  layers?: number;
  /** Attention heads. Default: 8. */
  heads?: number;
  /** Key/value heads. Default: 2 (grouped-query attention, as Llama 3 and Qwen2). */
  kvHeads?: number;
  /** RoPE base. Default: 500000 (Llama 3). */
  ropeTheta?: number;
  /** `general.architecture` when not llama. */
  architecture?: string;
  /** "neox" for Qwen2. Default: norm. */
  ropeType?: "norm" | "neox";
  /** Whether the blocks have q/k/v biases (Qwen2). Default: false. */
  biases?: boolean;
  /** Seed of the weights. Default: 1. */
  seed?: number;
}

/** Qwen2's architecture in a {@linkcode RandomModelShape}: q/k/v biases, NeoX RoPE, base 1e6. */
export const QWEN2_SHAPE = {
  architecture: "qwen2",
  ropeType: "neox",
  ropeTheta: 1e6,
  biases: true,
} as const satisfies RandomModelShape;

/**
 * A model with random weights (each matrix N(0, 1/in), norms 1 + N(0, 0.1²),
 * biases N(0, 0.5²)) over `vocab`, with an untied output.
 *
 * @param vocab the vocabulary
 * @param shape the model's shape (see {@linkcode RandomModelShape})
 * @returns the model, float32
 */
export function randomModel(vocab: Vocabulary, shape: RandomModelShape = {}): LlamaModel {
  const uniform = rng(shape.seed ?? 1);
  const normal = () =>
    Math.sqrt(-2 * Math.log(Math.max(uniform(), 1e-12))) * Math.cos(2 * Math.PI * uniform());
  const draw = (n: number, sd: number, mean = 0) =>
    Float32Array.from({ length: n }, () => mean + sd * normal());
  const dim = shape.dim ?? 256, heads = shape.heads ?? 8, kvHeads = shape.kvHeads ?? 2;
  const H = shape.hiddenDim ?? 512, kvDim = (dim / heads) * kvHeads, V = vocab.pieces.length;
  const config: LlamaConfig = {
    dim,
    hiddenDim: H,
    layers: shape.layers ?? 2,
    heads,
    kvHeads,
    vocabSize: V,
    contextLength: 512,
    normEps: Math.fround(1e-5), // as a GGUF f32 holds it
    ropeTheta: shape.ropeTheta ?? 500000,
    ...(shape.architecture ? { architecture: shape.architecture } : {}),
    ...(shape.ropeType === "neox" ? { ropeType: "neox" as const } : {}),
  };
  const layers = Array.from({ length: config.layers }, (): LlamaLayer => ({
    attnNorm: draw(dim, 0.1, 1),
    wq: draw(dim * dim, 1 / Math.sqrt(dim)),
    wk: draw(kvDim * dim, 1 / Math.sqrt(dim)),
    wv: draw(kvDim * dim, 1 / Math.sqrt(dim)),
    wo: draw(dim * dim, 1 / Math.sqrt(dim)),
    ffnNorm: draw(dim, 0.1, 1),
    gate: draw(H * dim, 1 / Math.sqrt(dim)),
    up: draw(H * dim, 1 / Math.sqrt(dim)),
    down: draw(dim * H, 1 / Math.sqrt(H)),
    ...(shape.biases ? { bq: draw(dim, 0.5), bk: draw(kvDim, 0.5), bv: draw(kvDim, 0.5) } : {}),
  }));
  return {
    config,
    embedding: draw(V * dim, 1),
    layers,
    finalNorm: draw(dim, 0.1, 1),
    output: draw(V * dim, 1 / Math.sqrt(dim)),
    vocab,
    source: "random test model",
    tensorTypes: { F32: 0 },
  };
}
