/**
 * Decoding ONNX models' bytes, shared by the graph rewrites and the random
 * control's weights.
 *
 * @module
 */

import onnxProto from "onnx-proto";
import { InputError } from "@brainorg/common";

// deno-lint-ignore no-explicit-any
const { onnx } = onnxProto as any;

/**
 * Decode a model's bytes into an `onnx.ModelProto` object (onnx-proto's).
 *
 * @param bytes a serialized ONNX model
 * @param file its name, for errors. Default: `"model.onnx"`.
 * @returns the decoded model (`graph.node`, `graph.output`, `graph.initializer`, …)
 * @throws {InputError} naming the file when the bytes do not decode
 *
 * @example
 * ```ts
 * import { decodeOnnx } from "@brainorg/models";
 * const model = decodeOnnx(await Deno.readFile("model.onnx"), "model.onnx");
 * console.log(model.graph.node.length);
 * ```
 */
// deno-lint-ignore no-explicit-any
export function decodeOnnx(bytes: Uint8Array, file = "model.onnx"): any {
  try {
    return onnx.ModelProto.decode(bytes);
  } catch (err) {
    throw new InputError("not an ONNX model", {
      file,
      expected: "a serialized onnx.ModelProto",
      found: (err as Error).message,
    });
  }
}
