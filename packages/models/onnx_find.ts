/**
 * Finding the FFN's second linear layer in an ONNX graph, per transformer
 * block: first by the module names exporters write into node names
 * (Optimum, onnxruntime-genai, torch.onnx, sentence-transformers: slashed
 * or dotted, with or without the `bert.` prefix), then, in graphs without
 * such names, by structure. Quantized layers (`MatMulInteger` after
 * `DynamicQuantizeLinear`, `MatMulNBits`, weights through
 * `DequantizeLinear`) are followed to the float tensor after
 * dequantization, so the units are the same as a float graph's.
 *
 * @module
 */

import { InputError } from "@brainorg/common";

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
 * Module names of the FFN's second linear layer in known exports, matched
 * against node names with `/` turned into `.` and no leading separator
 * (`/model/layers.3/mlp/down_proj/MatMul` → `model.layers.3.mlp.down_proj.MatMul`);
 * the `layer` group is the block. Any prefix is allowed before the module
 * path, so `bert.encoder…`, `encoder…` (a `BertModel` export) and
 * `0.auto_model.encoder…` (a sentence-transformers pipeline) all match.
 */
export const FFN_PATTERNS: { family: string; pattern: RegExp }[] = [
  {
    family: "llama/mistral/qwen",
    pattern: /(?:^|\.)layers\.(?<layer>\d+)\.mlp\.down_proj(?:\.|$)/,
  },
  {
    family: "bert/roberta",
    pattern: /(?:^|\.)encoder\.layer\.(?<layer>\d+)\.output\.dense(?:\.|$)/,
  },
  { family: "gpt2", pattern: /(?:^|\.)h\.(?<layer>\d+)\.mlp\.c_proj(?:\.|$)/ },
  { family: "phi", pattern: /(?:^|\.)layers\.(?<layer>\d+)\.mlp\.fc2(?:\.|$)/ },
  {
    family: "distilbert",
    pattern: /(?:^|\.)transformer\.layer\.(?<layer>\d+)\.ffn\.lin2(?:\.|$)/,
  },
];

/** A graph node as onnx-proto decodes it (the fields read here). */
export interface GraphNode {
  name?: string;
  opType: string;
  domain?: string;
  input: string[];
  output: string[];
  attribute?: { name: string; i?: unknown }[];
}

/** Ops that multiply by a weight matrix (float, integer or 4-bit). */
const LINEAR = new Set([
  "MatMul",
  "Gemm",
  "MatMulInteger",
  "MatMulNBits",
  "FusedMatMul",
  "MatMulIntegerToFloat",
  "DynamicQuantizeMatMul",
]);

/** Ops that end an FFN's activation (SwiGLU and erf-GELU end in a Mul). */
const ACTIVATION = new Set(["Mul", "Gelu", "FastGelu", "BiasGelu", "QuickGelu", "Relu"]);

/** Ops that add a block's output to the residual stream. */
const RESIDUAL = new Set(["Add", "SkipLayerNormalization", "SkipSimplifiedLayerNormalization"]);

/** Ops that carry a constant to a weight input unchanged in meaning. */
const CONST_CARRIERS = new Set([
  "DequantizeLinear",
  "Transpose",
  "Reshape",
  "Cast",
  "Identity",
  "Unsqueeze",
]);

// protobufjs gives int64 as number or Long.
const num = (v: unknown): number =>
  typeof v === "object" && v !== null && "toNumber" in v
    ? (v as { toNumber(): number }).toNumber()
    : Number(v);

/** The graph's producers, consumers, initializers, in one place. */
class GraphIndex {
  readonly nodes: GraphNode[];
  readonly producer = new Map<string, GraphNode>();
  readonly consumers = new Map<string, GraphNode[]>();
  readonly initDims = new Map<string, number[]>();
  readonly graphOutputs: Set<string>;

  // deno-lint-ignore no-explicit-any
  constructor(model: any) {
    this.nodes = model.graph.node as GraphNode[];
    for (const n of this.nodes) {
      for (const o of n.output) this.producer.set(o, n);
      for (const i of n.input) {
        if (i) this.consumers.set(i, [...(this.consumers.get(i) ?? []), n]);
      }
    }
    for (const init of model.graph.initializer ?? []) {
      this.initDims.set(init.name, (init.dims ?? []).map(num));
    }
    this.graphOutputs = new Set((model.graph.output ?? []).map((o: { name: string }) => o.name));
  }

  isConstant(t: string, depth = 0): boolean {
    if (this.initDims.has(t)) return true;
    const p = this.producer.get(t);
    if (!p || depth > 4) return false;
    if (p.opType === "Constant") return true;
    return CONST_CARRIERS.has(p.opType) && this.isConstant(p.input[0], depth + 1);
  }

  /** (K, N) of a weight matrix reached through dequantization and transposes. */
  matrixDims(t: string, depth = 0): number[] | undefined {
    const dims = this.initDims.get(t);
    if (dims) return dims;
    const p = this.producer.get(t);
    if (!p || depth > 4) return undefined;
    const inner = this.matrixDims(p.input[0], depth + 1);
    if (p.opType === "Transpose" && inner?.length === 2) return [inner[1], inner[0]];
    return p.opType === "DequantizeLinear" || p.opType === "Cast" || p.opType === "Identity"
      ? inner
      : undefined;
  }

  /** In and out sizes (K, N) of a linear node's weight, when known. */
  linearShape(n: GraphNode): { k: number; n: number } | undefined {
    const attr = (name: string) => n.attribute?.find((a) => a.name === name)?.i;
    if (n.opType === "MatMulNBits") {
      return { k: num(attr("K")), n: num(attr("N")) };
    }
    const d = this.matrixDims(n.input[1]);
    if (d?.length !== 2) return undefined;
    return n.opType === "Gemm" && num(attr("transB") ?? 0) === 1
      ? { k: d[1], n: d[0] }
      : { k: d[0], n: d[1] };
  }

  /** The float tensor a linear node reads: before `DynamicQuantizeLinear` when quantized. */
  floatInput(n: GraphNode): string {
    const p = this.producer.get(n.input[0]);
    return p?.opType === "DynamicQuantizeLinear" ? p.input[0] : n.input[0];
  }
}

/**
 * From a linear node, the float tensor after dequantization: an integer
 * product is cast and scaled (`Cast`, then `Mul` by the scales); a bias
 * `Add` with a constant follows. `inModule` adds the layer's own nodes,
 * when names tell them.
 */
function dequantizedOutput(
  g: GraphIndex,
  linear: GraphNode,
  inModule?: (n: GraphNode) => boolean,
): string {
  let t = linear.output[0];
  for (let step = 0; step < 6; step++) {
    const next = g.consumers.get(t) ?? [];
    if (next.length !== 1 || g.graphOutputs.has(t)) break;
    const c = next[0];
    const other = c.input.find((i) => i !== t) ?? "";
    // Dequantization is followed even when an exporter named its nodes outside the module.
    const follows = inModule?.(c) || c.opType === "Cast" ||
      (c.opType === "Mul" && g.producer.get(t)?.opType === "Cast") ||
      (c.opType === "Add" && g.isConstant(other));
    if (!follows) break;
    t = c.output[0];
  }
  return t;
}

/** A block's FFN second linear layer and the float tensor it gives. */
type Found = { layer: number; linear: GraphNode; out: string };

/** The FFN's second linear layers found by node names, or none. */
function byNames(g: GraphIndex): Found[] {
  for (const { pattern } of FFN_PATTERNS) {
    const byLayer = new Map<number, GraphNode[]>();
    for (const n of g.nodes) {
      const m = pattern.exec((n.name ?? "").replace(/^\//, "").replaceAll("/", "."));
      if (m) {
        byLayer.set(Number(m.groups!.layer), [...(byLayer.get(Number(m.groups!.layer)) ?? []), n]);
      }
    }
    if (byLayer.size === 0) continue;
    const found = [...byLayer.keys()].sort((a, b) => a - b).map((layer) => {
      const group = new Set(byLayer.get(layer)!);
      const linear = [...group].find((n) => LINEAR.has(n.opType));
      return linear && { layer, linear, out: dequantizedOutput(g, linear, (n) => group.has(n)) };
    });
    if (found.every((f) => f)) return found as Found[];
  }
  return [];
}

/**
 * The FFN's second linear layers found by structure: a product with a
 * constant weight that narrows (K > N) the output of an activation (not
 * of a reshape, as attention's output projection reads, nor of a norm's
 * gain, as key and value projections read) and is added to the residual
 * stream; all with the same N, the model's width; blocks in graph order.
 */
function byStructure(g: GraphIndex): Found[] {
  const candidates = g.nodes.flatMap((n) => {
    if (!LINEAR.has(n.opType) || !n.input[1] || !g.isConstant(n.input[1])) return [];
    const shape = g.linearShape(n);
    const act = g.producer.get(g.floatInput(n));
    // A norm's gain is a Mul by a constant; an activation's Mul takes two data tensors.
    const activated = act && ACTIVATION.has(act.opType) &&
      !(act.opType === "Mul" && act.input.some((i) => g.isConstant(i)));
    const residual = (g.consumers.get(dequantizedOutput(g, n)) ?? [])
      .some((c) => RESIDUAL.has(c.opType));
    return shape && shape.k > shape.n && activated && residual ? [{ n, width: shape.n }] : [];
  });
  const counts = new Map<number, number>();
  for (const c of candidates) counts.set(c.width, (counts.get(c.width) ?? 0) + 1);
  const width = [...counts].sort((a, b) => b[1] - a[1])[0]?.[0];
  return candidates.filter((c) => c.width === width).map(({ n }, layer) => ({
    layer,
    linear: n,
    out: dequantizedOutput(g, n),
  }));
}

/**
 * Find the tensors to expose, per layer, in ascending layer order: by the
 * node names of {@linkcode FFN_PATTERNS}, else by structure (for graphs
 * whose nodes carry no module names). Quantized layers give the float
 * tensor after dequantization.
 *
 * @param model a decoded model (see {@linkcode decodeOnnx})
 * @param kind which units: `"ffn_out"` the second linear layer's output
 *   (after its bias), `"ffn_hidden"` its float input, `"residual"` the
 *   residual stream after the block's FFN. Default: `"ffn_out"`.
 * @param file the model's name, for errors. Default: `"model.onnx"`.
 * @returns one tensor per layer
 * @throws {InputError} listing the graph's node-name prefixes and linear
 *   ops when no FFN layer is recognized
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
  const g = new GraphIndex(model);
  let found = byNames(g);
  if (found.length === 0) found = byStructure(g);
  if (found.length === 0) {
    const prefixes = [
      ...new Set(g.nodes.map((n) => (n.name ?? "").split("/").slice(0, 4).join("/"))),
    ];
    const ops = new Map<string, number>();
    for (const n of g.nodes) {
      if (LINEAR.has(n.opType)) ops.set(n.opType, (ops.get(n.opType) ?? 0) + 1);
    }
    throw new InputError("no FFN second linear layer found in the graph", {
      file,
      field: "graph.node[].name",
      expected: `names like ${FFN_PATTERNS.map((p) => p.pattern.source).join(" or ")}, ` +
        `or a narrowing product after an activation; or name the tensors yourself (tensors: [...])`,
      found: `${g.nodes.length} nodes, e.g. ${prefixes.slice(0, 12).join(", ")}; linear ops: ` +
        ([...ops].map(([op, c]) => `${op} ×${c}`).join(", ") || "none"),
    });
  }
  return found.map(({ layer, linear, out }) => {
    if (kind === "ffn_hidden") return { layer, kind, tensor: g.floatInput(linear) };
    if (kind === "ffn_out") return { layer, kind, tensor: out };
    const add = (g.consumers.get(out) ?? []).find((n) => n.opType === "Add");
    if (!add) {
      throw new InputError("no residual Add after the FFN output", {
        file,
        field: `layer ${layer}`,
        expected: `an Add node taking ${out}`,
        found: (g.consumers.get(out) ?? []).map((n) => n.opType).join(", ") || "none",
      });
    }
    return { layer, kind, tensor: add.output[0] };
  });
}
