/**
 * Tokenizers of GGUF vocabularies. SentencePiece-BPE as llama2.c and
 * llama.cpp do it for Llama 1/2 vocabularies: a dummy-prefix space, spaces
 * as "▁", characters looked up (bytes as `<0xNN>` pieces when missing), then
 * repeated merges of the adjacent pair whose merged piece has the best
 * score. Byte-level BPE (Llama 3, Qwen2) is in `bpe.ts`.
 *
 * @module
 */

import { createBpeTokenizer } from "./bpe.ts";
import type { Tokenizer, Vocabulary } from "./tokenizer_types.ts";

export type { Tokenizer, Vocabulary } from "./tokenizer_types.ts";

const SPACE = "\u2581";

/**
 * Build a tokenizer for a vocabulary: SentencePiece, or byte-level BPE
 * when `vocab.kind` is "bpe" (see {@linkcode createBpeTokenizer}).
 *
 * @param vocab pieces, scores and special ids, e.g. a GGUF model's `vocab`
 * @returns `encode`, `decode` and `piece` over that vocabulary
 *
 * @example
 * ```ts
 * import { createTokenizer, readGgufLlama } from "@brainorg/models";
 * const { vocab } = await readGgufLlama("stories260K.gguf");
 * createTokenizer(vocab).encode("Once upon a time"); // [1, 403, 407, 261, 378]
 * ```
 */
export function createTokenizer(vocab: Vocabulary): Tokenizer {
  if (vocab.kind === "bpe") return createBpeTokenizer(vocab);
  const index = new Map<string, number>();
  vocab.pieces.forEach((p, i) => index.has(p) || index.set(p, i));
  const byteId = (b: number) =>
    index.get(`<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`) ?? vocab.unk;
  const bytePiece = /^<0x([0-9A-F]{2})>$/;
  const specials = new Set([vocab.bos, vocab.eos, vocab.unk]);
  return {
    encode(text, options = {}) {
      const ids: number[] = [];
      if (options.bos ?? true) ids.push(vocab.bos);
      if (text === "") return ids;
      const normalized = SPACE + text.replaceAll(" ", SPACE);
      const tokens: number[] = [];
      for (const ch of normalized) {
        const id = index.get(ch);
        if (id !== undefined) tokens.push(id);
        else for (const b of new TextEncoder().encode(ch)) tokens.push(byteId(b));
      }
      for (;;) {
        let best = -Infinity, at = -1, merged = -1;
        for (let i = 0; i + 1 < tokens.length; i++) {
          const id = index.get(vocab.pieces[tokens[i]] + vocab.pieces[tokens[i + 1]]);
          if (id !== undefined && vocab.scores[id] > best) {
            best = vocab.scores[id];
            at = i;
            merged = id;
          }
        }
        if (at < 0) break;
        tokens.splice(at, 2, merged);
      }
      return ids.concat(tokens);
    },
    piece(id) {
      const p = vocab.pieces[id] ?? "";
      const m = bytePiece.exec(p);
      if (m) return String.fromCharCode(parseInt(m[1], 16));
      return p.replaceAll(SPACE, " ");
    },
    decode(ids) {
      const bytes: number[] = [];
      for (const id of ids) {
        if (specials.has(id)) continue;
        const p = vocab.pieces[id] ?? "";
        const m = bytePiece.exec(p);
        if (m) bytes.push(parseInt(m[1], 16));
        else bytes.push(...new TextEncoder().encode(p.replaceAll(SPACE, " ")));
      }
      return new TextDecoder().decode(Uint8Array.from(bytes)).replace(/^ /, "");
    },
  };
}
