/**
 * A graph's declared inputs, and the empty key/value caches that decoder
 * exports with `past_key_values.*` inputs (Optimum, onnxruntime-genai) need
 * on a first step: batch × kv-heads × 0 × head size, the heads and head
 * size read from the input's declared shape.
 *
 * @module
 */

import * as ort from "onnxruntime-node";
import { InputError } from "@brainorg/common";

/** One graph input as declared: a symbolic dimension is its name. */
export interface GraphInput {
  /** The input's name, e.g. `past_key_values.0.key`. */
  name: string;
  /** TensorProto.DataType: 1 float32, 7 int64, 10 float16, 16 bfloat16… */
  elemType: number;
  /** Declared dimensions: a number when fixed, the symbol's name (or `"?"`) when not. */
  dims: (number | string)[];
}

// protobufjs gives int64 as number or Long.
const num = (v: unknown): number =>
  typeof v === "object" && v !== null && "toNumber" in v
    ? (v as { toNumber(): number }).toNumber()
    : Number(v);

/**
 * The inputs a decoded graph declares.
 *
 * @param model a decoded model (see {@linkcode decodeOnnx})
 * @returns name, element type and dimensions of each input, in order
 *
 * @example
 * ```ts
 * import { decodeOnnx, graphInputs } from "@brainorg/models";
 * const inputs = graphInputs(decodeOnnx(await Deno.readFile("model.onnx")));
 * // e.g. { name: "past_key_values.0.key", elemType: 1, dims: ["batch_size", 8, "past_sequence_length", 64] }
 * ```
 */
// deno-lint-ignore no-explicit-any
export function graphInputs(model: any): GraphInput[] {
  // deno-lint-ignore no-explicit-any
  return (model.graph?.input ?? []).map((i: any) => ({
    name: i.name,
    elemType: i.type?.tensorType?.elemType ?? 0,
    // deno-lint-ignore no-explicit-any
    dims: (i.type?.tensorType?.shape?.dim ?? []).map((d: any) =>
      d.dimValue !== undefined && d.dimValue !== null && num(d.dimValue) > 0
        ? num(d.dimValue)
        : d.dimParam || "?"
    ),
  }));
}

const EMPTY: Record<number, () => ort.Tensor["data"]> = {
  1: () => new Float32Array(0),
  10: () => new Uint16Array(0),
};
const TYPE: Record<number, ort.Tensor.Type> = { 1: "float32", 10: "float16" };

/**
 * An empty key/value cache for a graph input: its declared shape with the
 * batch (first dimension) 1 and the past length (the other symbolic
 * dimension) 0, e.g. 1 × 8 × 0 × 64.
 *
 * @param inputs the graph's inputs (see {@linkcode graphInputs})
 * @param name the cache input, e.g. `past_key_values.0.key`
 * @param file the model's name, for errors
 * @returns a float32 or float16 tensor with no values
 * @throws {InputError} when the input is not declared, not float32/float16,
 *   or its heads or head size are not fixed numbers
 */
export function emptyCacheTensor(inputs: GraphInput[], name: string, file: string): ort.Tensor {
  const spec = inputs.find((i) => i.name === name);
  const symbolic = spec?.dims.slice(1).filter((d) => typeof d === "string") ?? [];
  if (!spec || !TYPE[spec.elemType] || spec.dims.length < 3 || symbolic.length !== 1) {
    throw new InputError("cannot make an empty key/value cache for a graph input", {
      file,
      field: `graph input ${name}`,
      expected: "float32 or float16, shape (batch, heads, past_sequence_length, head_size) " +
        "with heads and head size fixed",
      found: spec ? `type ${spec.elemType}, shape (${spec.dims.join(", ")})` : "not declared",
    });
  }
  const dims = spec.dims.map((d, k) => (k === 0 ? 1 : typeof d === "string" ? 0 : d));
  return new ort.Tensor(TYPE[spec.elemType], EMPTY[spec.elemType](), dims);
}
