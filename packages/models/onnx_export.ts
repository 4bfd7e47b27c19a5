/**
 * A Llama model as an ONNX graph (opset 17, float32, batch 1, any sequence
 * length up to the context): what onnxruntime runs. Nodes are named as
 * Hugging Face Optimum names them (`/model/layers.3/mlp/down_proj/MatMul`),
 * so the graph rewriter finds the FFN units in it exactly as in published
 * exports. The only outputs are the logits: hidden units are exposed by
 * rewriting, as for any other model.
 *
 * RoPE is the interleaved-pair form of llama2.c and GGUF (whose Q/K
 * weights are stored permuted for it), so this graph computes what
 * {@linkcode createLlamaSession} computes.
 *
 * @module
 */

import onnxProto from "onnx-proto";
import type { LlamaModel } from "./gguf_model.ts";

// deno-lint-ignore no-explicit-any
const { onnx } = onnxProto as any;

const FLOAT = 1, INT64 = 7;

/** Builds nodes and initializers with unique names. */
class GraphBuilder {
  // deno-lint-ignore no-explicit-any
  nodes: any[] = [];
  // deno-lint-ignore no-explicit-any
  initializers: any[] = [];

  node(op: string, inputs: string[], name: string, attrs: Record<string, unknown> = {}): string {
    const output = `${name}_output_0`;
    this.nodes.push({
      opType: op,
      input: inputs,
      output: [output],
      name,
      attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
    });
    return output;
  }

  floats(name: string, data: Float32Array, dims: number[]): string {
    this.initializers.push({
      name,
      dims,
      dataType: FLOAT,
      rawData: new Uint8Array(
        data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength),
      ),
    });
    return name;
  }

  ints(name: string, data: number[]): string {
    this.initializers.push({
      name,
      dims: [data.length],
      dataType: INT64,
      rawData: new Uint8Array(BigInt64Array.from(data.map(BigInt)).buffer),
    });
    return name;
  }
}

function attribute(name: string, v: unknown) {
  if (typeof v === "number" && Number.isInteger(v)) return { name, type: 2, i: v }; // INT
  if (typeof v === "number") return { name, type: 1, f: v }; // FLOAT
  if (Array.isArray(v)) return { name, type: 7, ints: v }; // INTS
  throw new TypeError(`attribute ${name}: unsupported value ${v}`);
}

/** (out × in) row-major → (in × out), for x · Wᵀ as a MatMul. */
function transposed(w: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(w.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = w[r * cols + c];
  return out;
}

/**
 * Export a Llama model to ONNX bytes: the same forward pass as
 * {@linkcode createLlamaSession}, over a whole sequence at once, its nodes
 * named as Hugging Face Optimum names a Llama's (so
 * {@linkcode findUnitTensors} finds the FFN units).
 *
 * @param model a loaded model
 * @returns a serialized ModelProto: input `input_ids` (int64, 1 × S), output `logits` (1 × S × vocab)
 *
 * @example
 * ```ts
 * import { exportLlamaOnnx, readGgufLlama } from "@brainorg/models";
 * const bytes = exportLlamaOnnx(await readGgufLlama("stories260K.gguf"));
 * await Deno.writeFile("/tmp/stories260K.onnx", bytes);
 * ```
 */
export function exportLlamaOnnx(model: LlamaModel): Uint8Array {
  const { dim, hiddenDim, layers, heads, kvHeads, vocabSize, contextLength, normEps, ropeTheta } =
    model.config;
  const hd = dim / heads, kvDim = hd * kvHeads, group = heads / kvHeads, half = hd / 2;
  const g = new GraphBuilder();

  // Tables: RoPE angles per position and pair, and the causal mask.
  const cos = new Float32Array(contextLength * half), sin = new Float32Array(contextLength * half);
  for (let p = 0; p < contextLength; p++) {
    for (let j = 0; j < half; j++) {
      const a = p / ropeTheta ** ((2 * j) / hd);
      cos[p * half + j] = Math.cos(a);
      sin[p * half + j] = Math.sin(a);
    }
  }
  const mask = new Float32Array(contextLength * contextLength);
  for (let i = 0; i < contextLength; i++) {
    for (let j = i + 1; j < contextLength; j++) mask[i * contextLength + j] = -1e9;
  }
  g.floats("rope_cos_table", cos, [contextLength, half]);
  g.floats("rope_sin_table", sin, [contextLength, half]);
  g.floats("causal_mask_table", mask, [contextLength, contextLength]);
  g.floats("eps", Float32Array.of(normEps), []);
  g.floats("inv_sqrt_head_dim", Float32Array.of(1 / Math.sqrt(hd)), []);

  // The sequence length S as a 1-element tensor, for slicing the tables.
  const shape = g.node("Shape", ["input_ids"], "/model/Shape");
  const seq = g.node("Slice", [shape, g.ints("one", [1]), g.ints("two", [2])], "/model/seq_len");
  const zero = g.ints("zero", [0]), zeros2 = g.ints("zeros2", [0, 0]);
  const seq2 = g.node("Concat", [seq, seq], "/model/seq_len_2", { axis: 0 });
  const ropeShape = g.ints("rope_shape", [1, -1, 1, half, 1]);
  const cosS = g.node(
    "Reshape",
    [g.node("Slice", ["rope_cos_table", zero, seq], "/model/rope/cos_slice"), ropeShape],
    "/model/rope/cos",
  );
  const sinS = g.node(
    "Reshape",
    [g.node("Slice", ["rope_sin_table", zero, seq], "/model/rope/sin_slice"), ropeShape],
    "/model/rope/sin",
  );
  const causal = g.node("Slice", ["causal_mask_table", zeros2, seq2], "/model/causal_mask");

  const rmsnorm = (x: string, weight: Float32Array, prefix: string) => {
    const sq = g.node("Mul", [x, x], `${prefix}/Mul`);
    const mean = g.node("ReduceMean", [sq], `${prefix}/ReduceMean`, { axes: [-1], keepdims: 1 });
    const std = g.node("Sqrt", [g.node("Add", [mean, "eps"], `${prefix}/Add`)], `${prefix}/Sqrt`);
    const normed = g.node("Div", [x, std], `${prefix}/Div`);
    return g.node("Mul", [normed, g.floats(`${prefix}.weight`, weight, [dim])], `${prefix}/Mul_1`);
  };
  const linear = (x: string, w: Float32Array, out: number, inp: number, prefix: string) =>
    g.node(
      "MatMul",
      [x, g.floats(`${prefix}.weight`, transposed(w, out, inp), [inp, out])],
      `${prefix}/MatMul`,
    );
  // Interleaved RoPE on (1, S, n, hd): pairs (2j, 2j+1) rotated by position × θ^(−2j/hd).
  const rope = (x: string, n: number, prefix: string) => {
    const pairs = g.node(
      "Reshape",
      [x, g.ints(`${prefix}/pair_shape`, [1, -1, n, half, 2])],
      `${prefix}/Reshape`,
    );
    const x0 = g.node("Slice", [
      pairs,
      zero,
      g.ints(`${prefix}/e1`, [1]),
      g.ints(`${prefix}/ax`, [4]),
    ], `${prefix}/x0`);
    const x1 = g.node("Slice", [
      pairs,
      g.ints(`${prefix}/s1`, [1]),
      g.ints(`${prefix}/e2`, [2]),
      `${prefix}/ax`,
    ], `${prefix}/x1`);
    const r0 = g.node(
      "Sub",
      [g.node("Mul", [x0, cosS], `${prefix}/x0cos`), g.node("Mul", [x1, sinS], `${prefix}/x1sin`)],
      `${prefix}/r0`,
    );
    const r1 = g.node(
      "Add",
      [g.node("Mul", [x0, sinS], `${prefix}/x0sin`), g.node("Mul", [x1, cosS], `${prefix}/x1cos`)],
      `${prefix}/r1`,
    );
    const joined = g.node("Concat", [r0, r1], `${prefix}/Concat`, { axis: 4 });
    return g.node(
      "Reshape",
      [joined, g.ints(`${prefix}/head_shape`, [1, -1, n, hd])],
      `${prefix}/Reshape_1`,
    );
  };

  let x = g.node(
    "Gather",
    [g.floats("model.embed_tokens.weight", model.embedding, [vocabSize, dim]), "input_ids"],
    "/model/embed_tokens/Gather",
  );
  for (let l = 0; l < layers; l++) {
    const w = model.layers[l], p = `/model/layers.${l}`;
    const xn = rmsnorm(x, w.attnNorm, `${p}/input_layernorm`);
    const q = rope(
      linear(xn, w.wq, dim, dim, `${p}/self_attn/q_proj`),
      heads,
      `${p}/self_attn/rope_q`,
    );
    const k = rope(
      linear(xn, w.wk, kvDim, dim, `${p}/self_attn/k_proj`),
      kvHeads,
      `${p}/self_attn/rope_k`,
    );
    const v = g.node(
      "Reshape",
      [
        linear(xn, w.wv, kvDim, dim, `${p}/self_attn/v_proj`),
        g.ints(`${p}/self_attn/v_shape`, [1, -1, kvHeads, hd]),
      ],
      `${p}/self_attn/v_reshape`,
    );
    // (1, S, n, hd) → (1, kvH, group, S, hd): query heads grouped under their key/value head.
    const qg = g.node(
      "Reshape",
      [
        g.node("Transpose", [q], `${p}/self_attn/q_t`, { perm: [0, 2, 1, 3] }),
        g.ints(`${p}/self_attn/qg_shape`, [1, kvHeads, group, -1, hd]),
      ],
      `${p}/self_attn/q_group`,
    );
    const kt = g.node("Transpose", [k], `${p}/self_attn/k_t`, { perm: [0, 2, 3, 1] }); // (1, kvH, hd, S)
    const vt = g.node("Transpose", [v], `${p}/self_attn/v_t`, { perm: [0, 2, 1, 3] }); // (1, kvH, S, hd)
    const kg = g.node(
      "Unsqueeze",
      [kt, g.ints(`${p}/self_attn/ax2`, [2])],
      `${p}/self_attn/k_group`,
    );
    const vg = g.node("Unsqueeze", [vt, `${p}/self_attn/ax2`], `${p}/self_attn/v_group`);
    const scores = g.node(
      "Add",
      [
        g.node(
          "Mul",
          [g.node("MatMul", [qg, kg], `${p}/self_attn/MatMul`), "inv_sqrt_head_dim"],
          `${p}/self_attn/scale`,
        ),
        causal,
      ],
      `${p}/self_attn/masked`,
    );
    const att = g.node("Softmax", [scores], `${p}/self_attn/Softmax`, { axis: -1 });
    const ctx = g.node("MatMul", [att, vg], `${p}/self_attn/MatMul_1`); // (1, kvH, group, S, hd)
    const merged = g.node(
      "Reshape",
      [
        g.node(
          "Transpose",
          [g.node(
            "Reshape",
            [ctx, g.ints(`${p}/self_attn/ctx_shape`, [1, heads, -1, hd])],
            `${p}/self_attn/ctx_heads`,
          )],
          `${p}/self_attn/ctx_t`,
          { perm: [0, 2, 1, 3] },
        ),
        g.ints(`${p}/self_attn/out_shape`, [1, -1, dim]),
      ],
      `${p}/self_attn/ctx_merge`,
    );
    x = g.node("Add", [x, linear(merged, w.wo, dim, dim, `${p}/self_attn/o_proj`)], `${p}/Add`);
    const hn = rmsnorm(x, w.ffnNorm, `${p}/post_attention_layernorm`);
    const gate = linear(hn, w.gate, hiddenDim, dim, `${p}/mlp/gate_proj`);
    const act = g.node(
      "Mul",
      [gate, g.node("Sigmoid", [gate], `${p}/mlp/act_fn/Sigmoid`)],
      `${p}/mlp/act_fn/Mul`,
    );
    const up = linear(hn, w.up, hiddenDim, dim, `${p}/mlp/up_proj`);
    const h = g.node("Mul", [act, up], `${p}/mlp/Mul`);
    const down = linear(h, w.down, dim, hiddenDim, `${p}/mlp/down_proj`);
    x = g.node("Add", [x, down], `${p}/Add_1`);
  }
  const xn = rmsnorm(x, model.finalNorm, "/model/norm");
  const logits = g.node(
    "MatMul",
    [xn, g.floats("lm_head.weight", transposed(model.output, vocabSize, dim), [dim, vocabSize])],
    "/lm_head/MatMul",
  );
  g.nodes.push({
    opType: "Identity",
    input: [logits],
    output: ["logits"],
    name: "/lm_head/Identity",
  });
  const dimsOf = (d: (number | string)[]) => ({
    dim: d.map((v) => (typeof v === "number" ? { dimValue: v } : { dimParam: v })),
  });
  const proto = onnx.ModelProto.create({
    irVersion: 8,
    opsetImport: [{ domain: "", version: 17 }],
    producerName: "brainorg",
    docString: `${model.source}, exported by brainorg`,
    graph: {
      name: "llama",
      node: g.nodes,
      initializer: g.initializers,
      input: [{
        name: "input_ids",
        type: { tensorType: { elemType: INT64, shape: dimsOf([1, "sequence_length"]) } },
      }],
      output: [{
        name: "logits",
        type: { tensorType: { elemType: FLOAT, shape: dimsOf([1, "sequence_length", vocabSize]) } },
      }],
    },
  });
  return onnx.ModelProto.encode(proto).finish();
}
