/**
 * ONNX Runtime returns only a graph's outputs, so the units we record must
 * become outputs: this module finds, per transformer block, the FFN's
 * second linear layer (and on request the FFN hidden units after the
 * activation, or the residual stream after the block's FFN) in the naming
 * conventions of Hugging Face Optimum exports (Xenova, onnx-community) of
 * BERT, RoBERTa, GPT-2, Llama, Mistral and Qwen, and adds them as outputs.
 *
 * @module
 */

import onnxProto from "onnx-proto";
import { InputError } from "@brainorg/common";
import { rng } from "@brainorg/kernels";
import { redrawNormal } from "./capture.ts";

// deno-lint-ignore no-explicit-any
const { onnx } = onnxProto as any;

/** Which units to expose. */
export type UnitKind = "ffn_out" | "ffn_hidden" | "residual";

/** One exposed tensor. */
export interface ExposedTensor {
  /** The transformer block, from 0. */
  layer: number;
  /** Which units the tensor holds. */
  kind: UnitKind;
  /** The tensor's name in the graph (and the output's name). */
  tensor: string;
}

/**
 * Node names of the FFN's second linear layer in known exports: the layer
 * number is the first group. The last node of the module (the bias Add
 * when there is one) gives the units.
 */
export const FFN_PATTERNS: { family: string; pattern: RegExp }[] = [
  {
    family: "llama/mistral/qwen",
    pattern: /^\/model\/layers\.(\d+)\/mlp\/down_proj\/(MatMul|Add)$/,
  },
  { family: "bert", pattern: /^\/bert\/encoder\/layer\.(\d+)\/output\/dense\/(MatMul|Add)$/ },
  { family: "roberta", pattern: /^\/roberta\/encoder\/layer\.(\d+)\/output\/dense\/(MatMul|Add)$/ },
  { family: "gpt2", pattern: /^\/transformer\/h\.(\d+)\/mlp\/c_proj\/(MatMul|Gemm|Add)$/ },
];

type Node = { name: string; opType: string; input: string[]; output: string[] };

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

/**
 * Find the tensors to expose, per layer, in ascending layer order, by the
 * node names of {@linkcode FFN_PATTERNS}.
 *
 * @param model a decoded model (see {@linkcode decodeOnnx})
 * @param kind which units. Default: `"ffn_out"`.
 * @param file the model's name, for errors. Default: `"model.onnx"`.
 * @returns one tensor per layer
 * @throws {InputError} listing the graph's node-name prefixes when no known pattern matches
 *
 * @example
 * ```ts
 * import { decodeOnnx, findUnitTensors } from "@brainorg/models";
 * const model = decodeOnnx(await Deno.readFile("model.onnx"), "model.onnx");
 * for (const t of findUnitTensors(model, "ffn_out")) console.log(t.layer, t.tensor);
 * ```
 */
export function findUnitTensors(
  // deno-lint-ignore no-explicit-any
  model: any,
  kind: UnitKind = "ffn_out",
  file = "model.onnx",
): ExposedTensor[] {
  const nodes = model.graph.node as Node[];
  for (const { pattern } of FFN_PATTERNS) {
    const byLayer = new Map<number, Node[]>();
    for (const n of nodes) {
      const m = pattern.exec(n.name ?? "");
      if (m) byLayer.set(Number(m[1]), [...(byLayer.get(Number(m[1])) ?? []), n]);
    }
    if (byLayer.size === 0) continue;
    return [...byLayer.keys()].sort((a, b) => a - b).map((layer) => {
      const group = byLayer.get(layer)!;
      const linear = group.find((n) => n.opType !== "Add") ?? group[0];
      const last = group.find((n) => n.opType === "Add" && n.input.includes(linear.output[0])) ??
        linear;
      let tensor = last.output[0];
      if (kind === "ffn_hidden") tensor = linear.input[0];
      if (kind === "residual") {
        const add = nodes.find((n) => n.opType === "Add" && n.input.includes(last.output[0]));
        if (!add) {
          throw new InputError("no residual Add after the FFN output", {
            file,
            field: `layer ${layer}`,
            expected: `an Add node taking ${last.output[0]}`,
            found: "none",
          });
        }
        tensor = add.output[0];
      }
      return { layer, kind, tensor };
    });
  }
  const prefixes = [...new Set(nodes.map((n) => (n.name ?? "").split("/").slice(0, 4).join("/")))];
  throw new InputError("no FFN second linear layer found in the graph", {
    file,
    field: "graph.node[].name",
    expected: `names like ${FFN_PATTERNS.map((p) => p.pattern.source).join(" or ")}; ` +
      `or name the tensors yourself (tensors: [...])`,
    found: `${nodes.length} nodes, e.g. ${prefixes.slice(0, 12).join(", ")}`,
  });
}

/**
 * Add tensors as graph outputs (float32, shape left to the runtime).
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
    if (!outputs.has(t.tensor)) {
      model.graph.output.push({ name: t.tensor, type: { tensorType: { elemType: 1 } } });
    }
  }
  return onnx.ModelProto.encode(model).finish();
}

/**
 * The random-weights control of an ONNX model: every weight matrix (a
 * float initializer that a MatMul or Gemm multiplies by, or that a Gather
 * reads embeddings from) redrawn from a normal distribution with its own
 * mean and standard deviation; norms, biases and tables are kept.
 *
 * @param bytes a serialized ONNX model
 * @param seed seed of the draws
 * @param file the model's name, for errors. Default: `"model.onnx"`.
 * @returns the control's bytes
 * @throws {InputError} when the bytes are not an ONNX model
 *
 * @example
 * ```ts
 * import { randomizeOnnxWeights } from "@brainorg/models";
 * const control = randomizeOnnxWeights(await Deno.readFile("model.onnx"), 0, "model.onnx");
 * await Deno.writeFile("model_random.onnx", control);
 * ```
 */
export function randomizeOnnxWeights(
  bytes: Uint8Array,
  seed: number,
  file = "model.onnx",
): Uint8Array {
  const model = decodeOnnx(bytes, file);
  const weights = new Set<string>();
  for (const n of model.graph.node as Node[]) {
    if (n.opType === "MatMul" || n.opType === "Gemm") weights.add(n.input[1]);
    if (n.opType === "Gather") weights.add(n.input[0]);
  }
  const uniform = rng(seed);
  // deno-lint-ignore no-explicit-any
  for (const init of model.graph.initializer as any[]) {
    if (init.dataType !== 1 || !weights.has(init.name) || (init.dims?.length ?? 0) < 2) continue;
    const raw: Uint8Array | undefined = init.rawData?.length ? init.rawData : undefined;
    const w = raw
      ? new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength))
      : Float32Array.from(init.floatData as number[]);
    init.rawData = new Uint8Array(redrawNormal(w, uniform).buffer);
    init.floatData = [];
  }
  return onnx.ModelProto.encode(model).finish();
}
