/**
 * ONNX Runtime returns only a graph's outputs, so the units we record must
 * become outputs: this module adds the tensors that `onnx_find.ts` finds
 * (per transformer block, the FFN's second linear layer, its hidden units
 * or the residual stream after it) as graph outputs, leaving initializers
 * that live in external data files where they are.
 *
 * @module
 */

import onnxProto from "onnx-proto";
import { InputError } from "@brainorg/common";

// deno-lint-ignore no-explicit-any
const { onnx } = onnxProto as any;

export { type ExposedTensor, FFN_PATTERNS, findUnitTensors, type UnitKind } from "./onnx_find.ts";
export { randomizeOnnxWeights } from "./onnx_random.ts";
// Its own module: onnx_random.ts needs it too, and this module re-exports that one.
export { decodeOnnx } from "./onnx_decode.ts";
import { decodeOnnx } from "./onnx_decode.ts";
import type { ExposedTensor } from "./onnx_find.ts";

type Node = { name: string; opType: string; input: string[]; output: string[] };

/**
 * The graph output under which {@linkcode exposeTensors} returns a tensor:
 * the tensor cast to float32 (a float16 or bfloat16 graph's units cross
 * into JavaScript as float32; a float32 tensor's Cast is a copy).
 *
 * @param tensor the tensor's name in the graph
 * @returns the output's name
 */
export function exposedOutput(tensor: string): string {
  return `${tensor}/brainorg_float32`;
}

/**
 * Add tensors as graph outputs, each cast to float32 under
 * {@linkcode exposedOutput}'s name; initializers in external data files
 * stay there.
 *
 * @param bytes a serialized ONNX model
 * @param tensors found by {@linkcode findUnitTensors}, or named by the user
 * @param file the model's name, for errors. Default: `"model.onnx"`.
 * @returns the rewritten model's bytes
 * @throws {InputError} for a named tensor that no node produces
 *
 * @example
 * ```ts
 * import { decodeOnnx, exposeTensors, findUnitTensors } from "@brainorg/models";
 * const bytes = await Deno.readFile("model.onnx");
 * const tensors = findUnitTensors(decodeOnnx(bytes, "model.onnx"));
 * await Deno.writeFile("model_units.onnx", exposeTensors(bytes, tensors, "model.onnx"));
 * ```
 */
export function exposeTensors(
  bytes: Uint8Array,
  tensors: ExposedTensor[],
  file = "model.onnx",
): Uint8Array {
  const model = decodeOnnx(bytes, file);
  const produced = new Set((model.graph.node as Node[]).flatMap((n) => n.output));
  const outputs = new Set((model.graph.output as { name: string }[]).map((o) => o.name));
  for (const t of tensors) {
    if (!produced.has(t.tensor)) {
      throw new InputError("no node produces the tensor to expose", {
        file,
        field: `layer ${t.layer}`,
        expected: "the name of a node output",
        found: t.tensor,
      });
    }
    const name = exposedOutput(t.tensor);
    if (outputs.has(name)) continue;
    outputs.add(name);
    model.graph.node.push({
      opType: "Cast",
      input: [t.tensor],
      output: [name],
      name,
      attribute: [{ name: "to", type: 2, i: 1 }],
    });
    model.graph.output.push({ name, type: { tensorType: { elemType: 1 } } });
  }
  return onnx.ModelProto.encode(model).finish();
}
