/**
 * Language models brainorg reads and runs itself: Llama-architecture GGUF
 * files (e.g. stories260K), their SentencePiece tokenizer, and a plain
 * TypeScript forward pass that reports every block's FFN `down_proj` units.
 *
 * @example
 * ```ts
 * import { createTokenizer, greedyDecode, readGgufLlama } from "@brainorg/models";
 * const model = await readGgufLlama("stories260K.gguf");
 * const tok = createTokenizer(model.vocab);
 * console.log(tok.decode(greedyDecode(model, [model.vocab.bos], 50)));
 * ```
 *
 * @module
 */

export * from "./gguf_model.ts";
export * from "./tokenizer.ts";
export * from "./llama.ts";
export * from "./capture.ts";
export * from "./activation_cache.ts";
export * from "./onnx_export.ts";
export * from "./onnx_rewrite.ts";
export * from "./onnx_capture.ts";
export * from "./hf_layout.ts";
export * from "./hf_hub.ts";
