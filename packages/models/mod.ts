/**
 * Language models brainorg reads and runs itself: Llama-architecture GGUF
 * files (Llama 1–3, Mistral, Qwen2; e.g. stories260K), float32 or quantized
 * (F16, BF16, Q8_0, Q4_0, Q4_K, Q5_K, Q6_K: dequantized on load), their
 * SentencePiece or byte-level BPE tokenizer,
 * and a plain TypeScript forward pass that reports every block's FFN `down_proj` units;
 * word capture with an activation cache; and, for larger models, ONNX export,
 * graph rewriting that exposes FFN units, capture on onnxruntime-node, and
 * the Hugging Face layout (writer, loader, Hub download).
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

// Files whose exports are listed by name also hold what only this package
// uses: the capture's windows and its worker protocol, the redraw of one
// tensor, the graph check before a rewrite, the JSON files of the converter,
// a tensor's size in bytes and binary16 values.

export * from "./gguf_model.ts";
export {
  dequantizeTensor,
  GGML_TYPES,
  type GgmlType,
  ggmlType,
  type GgmlTypeName,
  ggmlTypeName,
  type TensorSource,
} from "./gguf_quants.ts";
export * from "./tokenizer.ts";
export * from "./bpe.ts";
export * from "./gguf_arch.ts";
export * from "./llama.ts";
export {
  type CaptureOptions,
  captureWords,
  captureWordsParallel,
  randomizeWeights,
  type WordActivations,
} from "./capture.ts";
export * from "./activation_cache.ts";
export * from "./gguf_tensors.ts";
export * from "./llama_streamed.ts";
export * from "./gguf_capture.ts";
export { RANDOM_WEIGHTS_RULE } from "./random_weights.ts";
// Types from kernels that the streamed capture's options take.
export type {
  Backend,
  BackendInfo,
  GemmOptions,
  LassoBatch,
  LassoBatchResult,
  Matrix,
  MatrixView,
} from "@brainorg/kernels";
export {
  ablationMask,
  type LossesOptions,
  type LossOptions,
  type LossTrace,
  lossTrace,
  nextTokenLoss,
  nextTokenLosses,
} from "./loss.ts";
export * from "./onnx_export.ts";
export * from "./onnx_rewrite.ts";
export {
  checkExternalData,
  externalDataFiles,
  type ExternalTensor,
  externalTensors,
} from "./onnx_external.ts";
export { type GraphInput, graphInputs } from "./onnx_inputs.ts";
export {
  bidirectionalWindows,
  captureWordsFramed,
  type OnnxOutputs,
  type OnnxSession,
  type OnnxUnitModel,
  type OpenOnnxOptions,
  openOnnxUnitModel,
  runUnits,
  type TokenFrame,
} from "./onnx_capture.ts";
export { type HfModel, openHfModel, writeHfLlama } from "./hf_layout.ts";
export * from "./hf_hub.ts";
