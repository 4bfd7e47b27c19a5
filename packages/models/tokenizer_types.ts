/**
 * The shapes of vocabularies and tokenizers, apart from their code: both
 * `tokenizer.ts` and `bpe.ts` need them, and `tokenizer.ts` imports `bpe.ts`.
 *
 * @module
 */

/** A vocabulary: pieces by id, their merge scores (or merges), and special ids. */
export interface Vocabulary {
  /** Each token's text, by id; spaces as "▁", raw bytes as `<0xNN>`. */
  pieces: string[];
  /** Each piece's merge score, by id: the higher merges first. */
  scores: Float32Array;
  /** Id of the beginning-of-sequence token. */
  bos: number;
  /** Id of the end-of-sequence token. */
  eos: number;
  /** Id of the unknown token. */
  unk: number;
  /**
   * Which tokenizer reads it: "spm" (SentencePiece, GGUF
   * `tokenizer.ggml.model = "llama"`; the default when absent) or "bpe"
   * (byte-level BPE, GGUF "gpt2": Llama 3, Qwen2; see `bpe.ts`).
   */
  kind?: "spm" | "bpe";
  /** Byte-level BPE only: the merges by rank, each two pieces and a space ("Ġ t"). */
  merges?: string[];
  /** Byte-level BPE only: the pre-tokenizer, GGUF `tokenizer.ggml.pre` ("llama-bpe", …). Default: "default" (GPT-2's). */
  pre?: string;
  /**
   * Each token's type, by id (GGUF `tokenizer.ggml.token_type`: 1 normal,
   * 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte); absent when the file has none.
   */
  types?: Int32Array;
}

/** A tokenizer over a vocabulary. */
export interface Tokenizer {
  /**
   * Token ids of `text`, with BOS first when `bos` (default true). With
   * `word` (default false), `text` is one word as running text has it,
   * after a space: SentencePiece's dummy prefix gives every text that space
   * already; byte-level BPE prefixes one ("Ġ").
   */
  encode(text: string, options?: { bos?: boolean; word?: boolean }): number[];
  /** The text of token ids (special tokens dropped, bytes decoded). */
  decode(ids: number[]): string;
  /** The text of one token, as it appears in running text. */
  piece(id: number): string;
}
