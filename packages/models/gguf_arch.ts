/**
 * What differs between the GGUF architectures brainorg runs with its one
 * Llama forward pass: the metadata key prefix (`<arch>.embedding_length`,
 * …), the RoPE layout, and which tokenizer the file's vocabulary needs.
 *
 * @module
 */

import { InputError } from "@brainorg/common";
import { BPE_PRE_TOKENIZERS } from "./bpe.ts";
import type { Vocabulary } from "./tokenizer.ts";

/** How an architecture's attention rotates query and key pairs. */
export interface GgufArchitecture {
  /**
   * "norm": adjacent pairs (2i, 2i + 1), as llama.cpp's converter permutes
   * Llama's and Mistral's q/k weights for; "neox": the two halves of each
   * head (i, i + headDim/2), as Qwen2's weights are stored.
   */
  readonly ropeType: "norm" | "neox";
}

/**
 * The `general.architecture` values brainorg reads. Mistral's GGUF files
 * are Llama's layout under another name; Qwen2 adds q/k/v biases (read
 * where present, for every architecture) and NeoX RoPE.
 */
export const GGUF_ARCHITECTURES: Readonly<Record<string, GgufArchitecture>> = Object.freeze({
  llama: { ropeType: "norm" },
  mistral: { ropeType: "norm" },
  qwen2: { ropeType: "neox" },
});

/**
 * A GGUF file's architecture, checked against {@linkcode GGUF_ARCHITECTURES}.
 *
 * @param metadata the file's metadata
 * @param file the file, for errors
 * @returns its name (the prefix of its hyper-parameter keys) and what differs
 * @throws {InputError} naming the file, `general.architecture`, what was found and what is supported
 *
 * @example
 * ```ts
 * import { ggufArchitecture } from "@brainorg/models";
 * ggufArchitecture({ "general.architecture": "qwen2" }, "q.gguf"); // { name: "qwen2", ropeType: "neox" }
 * ```
 */
export function ggufArchitecture(
  metadata: Record<string, unknown>,
  file: string,
): { name: string } & GgufArchitecture {
  const name = metadata["general.architecture"];
  const arch = typeof name === "string" && Object.hasOwn(GGUF_ARCHITECTURES, name)
    ? GGUF_ARCHITECTURES[name]
    : undefined;
  if (!arch) {
    throw new InputError("unsupported model architecture", {
      file,
      field: "general.architecture",
      expected: `one of ${Object.keys(GGUF_ARCHITECTURES).join(", ")}`,
      found: name === undefined ? "nothing" : String(name),
    });
  }
  return { name: name as string, ...arch };
}

/**
 * The byte-level BPE parts of a GGUF vocabulary (`tokenizer.ggml.model =
 * "gpt2"`): merges, pre-tokenizer and token types; nothing for
 * SentencePiece ("llama", or no key).
 *
 * @param metadata the file's metadata
 * @param file the file, for errors
 * @param size the vocabulary's size (token types come one per token)
 * @returns the fields to add to the {@linkcode Vocabulary}
 * @throws {InputError} naming the file and the key for an unknown tokenizer
 *   or pre-tokenizer, missing or malformed merges, or malformed token types
 *
 * @example
 * ```ts
 * import { ggufBpeFields } from "@brainorg/models";
 * ggufBpeFields({ "tokenizer.ggml.model": "llama" }, "m.gguf", 32000); // {}
 * ```
 */
export function ggufBpeFields(
  metadata: Record<string, unknown>,
  file: string,
  size: number,
): Partial<Vocabulary> {
  const model = metadata["tokenizer.ggml.model"] ?? "llama";
  if (model === "llama") return {};
  if (model !== "gpt2") {
    throw new InputError("the file's tokenizer is not one brainorg reads", {
      file,
      field: "tokenizer.ggml.model",
      expected: '"llama" (SentencePiece) or "gpt2" (byte-level BPE)',
      found: JSON.stringify(model) ?? String(model),
    });
  }
  const merges = metadata["tokenizer.ggml.merges"];
  if (!Array.isArray(merges) || !merges.every((m) => typeof m === "string" && m.includes(" "))) {
    throw new InputError("a byte-level BPE vocabulary needs its merges", {
      file,
      field: "tokenizer.ggml.merges",
      expected: 'a list of merges, each two pieces and a space ("Ġ t")',
      found: Array.isArray(merges) ? `a list of ${merges.length} with other values` : "nothing",
    });
  }
  const pre = metadata["tokenizer.ggml.pre"] ?? "default";
  if (typeof pre !== "string" || !Object.hasOwn(BPE_PRE_TOKENIZERS, pre)) {
    throw new InputError("the file's pre-tokenizer is not one brainorg reads", {
      file,
      field: "tokenizer.ggml.pre",
      expected: `one of ${Object.keys(BPE_PRE_TOKENIZERS).join(", ")}`,
      found: String(pre),
    });
  }
  const out: Partial<Vocabulary> = { kind: "bpe", merges: merges as string[], pre };
  const types = metadata["tokenizer.ggml.token_type"];
  if (types !== undefined) {
    if (
      !Array.isArray(types) || types.length !== size ||
      !types.every((t) => typeof t === "number" && Number.isInteger(t))
    ) {
      throw new InputError("GGUF metadata holds an unusable value", {
        file,
        field: "tokenizer.ggml.token_type",
        expected: `${size} whole numbers, one per token`,
        found: Array.isArray(types) ? `a list of ${types.length}` : typeof types,
      });
    }
    out.types = Int32Array.from(types as number[]);
  }
  return out;
}
