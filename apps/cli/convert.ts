/**
 * `brainorg convert`: a GGUF Llama model to the Hugging Face layout
 * (`config.json`, `tokenizer.json`, `onnx/model.onnx`).
 *
 * @module
 */

import { parseArgs } from "node:util";
import { openHfModel, readGgufLlama, writeHfLlama } from "@brainorg/models";
import { UsageError } from "./usage_error.ts";

export const CONVERT_HELP = `brainorg convert — a GGUF Llama model to the Hugging Face layout

Usage:
  deno task convert MODEL.gguf OUT_DIR

Writes OUT_DIR/config.json, tokenizer.json (SentencePiece BPE with byte fallback, in the
tokenizers format that transformers.js reads), tokenizer_config.json and onnx/model.onnx (an
ONNX graph run by onnxruntime: input input_ids, output logits; no key/value cache), then
reopens the folder and checks that its tokenizer agrees with the GGUF vocabulary.
`;

/** Run `convert` with the arguments after the subcommand. */
export async function convertCommand(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: { help: { type: "boolean", short: "h", default: false } },
      allowPositionals: true,
    });
  } catch (err) {
    throw new UsageError((err as Error).message, CONVERT_HELP);
  }
  if (parsed.values.help) {
    console.log(CONVERT_HELP);
    return 0;
  }
  const [gguf, out] = parsed.positionals;
  if (!gguf || !out || parsed.positionals.length > 2) {
    throw new UsageError("convert takes a GGUF file and an output folder", CONVERT_HELP);
  }
  const model = await readGgufLlama(gguf);
  await writeHfLlama(out, model);
  const hf = await openHfModel(out);
  const probe = "Once upon a time";
  console.error(
    `${gguf} → ${out}: ${model.config.layers} layers, "${probe}" → [${hf.encode(probe)}]`,
  );
  return 0;
}
