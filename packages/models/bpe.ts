/**
 * Byte-level BPE as GPT-2, Llama 3 and Qwen2 tokenize (GGUF
 * `tokenizer.ggml.model = "gpt2"`): special tokens are cut out whole, the
 * rest is split by the pre-tokenizer's regex, each piece's UTF-8 bytes are
 * spelled with GPT-2's byte-to-unicode map (a space is "Ġ", a newline "Ċ"),
 * then the adjacent pair of lowest merge rank is merged until none is left.
 *
 * @module
 */

import type { Tokenizer, Vocabulary } from "./tokenizer_types.ts";

/** The pre-tokenizers brainorg knows, named as llama.cpp's regex families. */
export type PreTokenizer = "gpt2" | "llama3" | "qwen2";

// JavaScript has no inline `(?i:…)` everywhere Deno runs, so the contractions spell out their cases.
const CONTRACTIONS = "'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD]";

/** Each pre-tokenizer's regex (Unicode, global), as llama.cpp and tiktoken define it. */
const PATTERNS: Record<PreTokenizer, RegExp> = {
  gpt2: /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu,
  llama3: new RegExp(
    `${CONTRACTIONS}|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|` +
      `\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+`,
    "gu",
  ),
  qwen2: new RegExp(
    `${CONTRACTIONS}|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|` +
      `\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+`,
    "gu",
  ),
};

/**
 * GGUF's `tokenizer.ggml.pre` values brainorg reads, and the regex family
 * each uses (llama.cpp's `llama_vocab_pre_type`); an absent key is "default".
 */
export const BPE_PRE_TOKENIZERS: Readonly<Record<string, PreTokenizer>> = Object.freeze({
  default: "gpt2",
  gpt2: "gpt2",
  "gpt-2": "gpt2",
  "llama-bpe": "llama3",
  llama3: "llama3",
  "smaug-bpe": "llama3",
  dbrx: "llama3",
  qwen2: "qwen2",
});

/**
 * Split text as a byte-level BPE pre-tokenizer does, before any merge.
 *
 * @param text the text (no special tokens in it)
 * @param pre the regex family (see {@linkcode BPE_PRE_TOKENIZERS})
 * @returns the pieces, in order; joined they give `text` back
 *
 * @example
 * ```ts
 * import { preTokenize } from "@brainorg/models";
 * preTokenize("I'm 12345 apples!!", "llama3"); // ["I", "'m", " ", "123", "45", " apples", "!!"]
 * ```
 */
export function preTokenize(text: string, pre: PreTokenizer): string[] {
  const out: string[] = [];
  let at = 0;
  for (const m of text.matchAll(PATTERNS[pre])) {
    // The alternatives cover every character; kept anyway so no text is ever lost.
    if (m.index > at) out.push(text.slice(at, m.index));
    out.push(m[0]);
    at = m.index + m[0].length;
  }
  if (at < text.length) out.push(text.slice(at));
  return out;
}

let byteChars: string[] | undefined;

/**
 * GPT-2's byte-to-unicode map: printable Latin-1 bytes (33–126, 161–172,
 * 174–255) stand for themselves, the other 68 for U+0100 onwards in byte
 * order (so a space, 0x20, is "Ġ" U+0120 and a newline "Ċ" U+010A).
 *
 * @returns 256 one-character strings, indexed by byte
 *
 * @example
 * ```ts
 * import { byteToUnicode } from "@brainorg/models";
 * byteToUnicode()[0x20]; // "Ġ"
 * ```
 */
export function byteToUnicode(): string[] {
  if (byteChars) return byteChars;
  const map: string[] = new Array(256);
  let next = 256;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || b >= 174;
    map[b] = String.fromCodePoint(printable ? b : next++);
  }
  return byteChars = map;
}

/** GGUF token types (llama.cpp's `llama_token_type`). */
const CONTROL = 3, USER_DEFINED = 4;

/**
 * A byte-level BPE tokenizer over a vocabulary with merges (GGUF
 * `tokenizer.ggml.model = "gpt2"`); {@linkcode createTokenizer} dispatches
 * here for `vocab.kind === "bpe"`.
 *
 * Control and user-defined tokens (`vocab.types` 3 and 4; without types,
 * BOS and EOS) written in the text are kept whole. With the Llama 3
 * pre-tokenizer a piece that is a token as a whole is that token, whatever
 * the merges would make (llama.cpp's and Hugging Face's `ignore_merges`).
 * `encode(word, { word: true })` reads a word as running text has it, after
 * a space.
 *
 * @param vocab pieces (byte-level spelled), `merges` by rank ("Ġ t"),
 *   `pre`, optional `types`, special ids
 * @returns `encode`, `decode` and `piece` over that vocabulary
 * @throws {RangeError} when `vocab.pre` is not one of {@linkcode BPE_PRE_TOKENIZERS}
 *
 * @example
 * ```ts
 * import { createTokenizer, readGgufLlama } from "@brainorg/models";
 * const { vocab } = await readGgufLlama("Meta-Llama-3-8B.Q4_K_M.gguf");
 * createTokenizer(vocab).encode("Hello world"); // [128000, 9906, 1917]
 * ```
 */
export function createBpeTokenizer(vocab: Vocabulary): Tokenizer {
  const preName = vocab.pre ?? "default", pre = BPE_PRE_TOKENIZERS[preName];
  if (!pre) {
    throw new RangeError(
      `\`vocab.pre\` must be one of ${Object.keys(BPE_PRE_TOKENIZERS).join(", ")}: ` +
        `current value is ${preName}`,
    );
  }
  const ignoreMerges = pre === "llama3";
  const index = new Map<string, number>();
  vocab.pieces.forEach((p, i) => index.has(p) || index.set(p, i));
  const ranks = new Map<string, number>();
  (vocab.merges ?? []).forEach((m, r) => ranks.has(m) || ranks.set(m, r));
  const chars = byteToUnicode(), encoder = new TextEncoder();
  const byteOf = new Map(chars.map((c, b) => [c, b]));
  const isSpecial = (id: number) =>
    vocab.types
      ? vocab.types[id] === CONTROL || vocab.types[id] === USER_DEFINED
      : id === vocab.bos || id === vocab.eos;
  const specials = vocab.pieces.map((p, id) => ({ p, id }))
    .filter(({ p, id }) => p.length > 0 && isSpecial(id))
    .sort((a, b) => b.p.length - a.p.length);
  // Longest first, so that a special token that begins another never splits it.
  const splitter = specials.length
    ? new RegExp(specials.map(({ p }) => p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|"), "g")
    : undefined;
  const dropped = new Set(
    vocab.types
      ? vocab.pieces.flatMap((_, id) => vocab.types![id] === CONTROL ? [id] : [])
      : [vocab.bos, vocab.eos],
  );
  const cache = new Map<string, number[]>();

  const merge = (word: string): number[] => {
    const whole = index.get(word);
    if (ignoreMerges && whole !== undefined) return [whole];
    const cached = cache.get(word);
    if (cached) return cached;
    const symbols = Array.from(word);
    for (;;) {
      let best = Infinity, at = -1;
      for (let i = 0; i + 1 < symbols.length; i++) {
        const r = ranks.get(`${symbols[i]} ${symbols[i + 1]}`);
        if (r !== undefined && r < best) {
          best = r;
          at = i;
        }
      }
      if (at < 0) break;
      symbols.splice(at, 2, symbols[at] + symbols[at + 1]);
    }
    const ids: number[] = [];
    for (const s of symbols) {
      const id = index.get(s);
      if (id !== undefined) ids.push(id);
      // A symbol no merge produced as a token: its bytes one by one, as llama.cpp falls back.
      else for (const c of s) ids.push(index.get(c) ?? vocab.unk);
    }
    if (cache.size < 1 << 16) cache.set(word, ids);
    return ids;
  };
  const encodeText = (text: string, ids: number[]) => {
    for (const piece of preTokenize(text, pre)) {
      let spelled = "";
      for (const b of encoder.encode(piece)) spelled += chars[b];
      ids.push(...merge(spelled));
    }
  };
  const bytesOf = (id: number, out: number[]) => {
    const p = vocab.pieces[id] ?? "";
    if (isSpecial(id)) {
      out.push(...encoder.encode(p));
      return;
    }
    for (const c of p) {
      const b = byteOf.get(c);
      if (b !== undefined) out.push(b);
      else out.push(...encoder.encode(c));
    }
  };

  return {
    encode(text, options = {}) {
      const ids: number[] = [];
      if (options.bos ?? true) ids.push(vocab.bos);
      if (options.word && text !== "" && !/^\s/u.test(text)) text = " " + text;
      if (!splitter) {
        encodeText(text, ids);
        return ids;
      }
      let at = 0;
      for (const m of text.matchAll(splitter)) {
        if (m.index > at) encodeText(text.slice(at, m.index), ids);
        ids.push(index.get(m[0])!);
        at = m.index + m[0].length;
      }
      if (at < text.length) encodeText(text.slice(at), ids);
      return ids;
    },
    piece(id) {
      const bytes: number[] = [];
      bytesOf(id, bytes);
      return new TextDecoder().decode(Uint8Array.from(bytes));
    },
    decode(ids) {
      const bytes: number[] = [];
      for (const id of ids) if (!dropped.has(id)) bytesOf(id, bytes);
      return new TextDecoder().decode(Uint8Array.from(bytes));
    },
  };
}
