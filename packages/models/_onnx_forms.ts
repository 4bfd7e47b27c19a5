/**
 * Test writers: our small ONNX exports turned into the forms models are
 * published in: weights in external data files, dynamically quantized
 * (`DynamicQuantizeLinear` + `MatMulInteger`, as onnxruntime's
 * `quantize_dynamic` writes them), 4-bit (`MatMulNBits`), renamed (dotted
 * module names, `BertModel` without `bert.`), stripped of every name, and
 * with fused attention (`GroupQueryAttention` with `past_key_values.*`
 * inputs, `MultiHeadAttention`).
 *
 * @module
 */

import onnxProto from "onnx-proto";
import { join } from "node:path";

// deno-lint-ignore no-explicit-any
const { onnx } = onnxProto as any;
// deno-lint-ignore no-explicit-any
type Model = any;
type Node = {
  name: string;
  opType: string;
  domain?: string;
  input: string[];
  output: string[];
  attribute?: unknown[];
};

const decode = (bytes: Uint8Array): Model => onnx.ModelProto.decode(bytes);
const encode = (m: Model): Uint8Array => onnx.ModelProto.encode(m).finish();

const floatsOf = (init: Model): Float32Array => {
  const raw = Uint8Array.from(init.rawData);
  return new Float32Array(raw.buffer);
};
const bytesOf = (a: ArrayBufferView) =>
  new Uint8Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength));
const attr = (name: string, v: number | number[]) =>
  Array.isArray(v) ? { name, type: 7, ints: v } : { name, type: 2, i: v };
const tensorType = (elemType: number, dims: (number | string)[]) => ({
  tensorType: {
    elemType,
    shape: { dim: dims.map((d) => (typeof d === "number" ? { dimValue: d } : { dimParam: d })) },
  },
});

/**
 * Write a model with its large initializers in external data files, 64-byte
 * aligned, spread over `files` files (`model.onnx_data`, `model.onnx_data_1`, …);
 * the first file's tensors start at byte `base` (a hole before them: a sparse
 * file, so offsets past 2 GiB cost no disk).
 *
 * @returns the graph file's size and the data files' names
 */
export async function writeExternal(
  dir: string,
  bytes: Uint8Array,
  options: { files?: number; base?: number } = {},
): Promise<{ graphBytes: number; dataFiles: string[] }> {
  const files = options.files ?? 1, base = options.base ?? 0;
  const m = decode(bytes);
  const names = Array.from({ length: files }, (_, k) => `model.onnx_data${k ? `_${k}` : ""}`);
  const parts: Uint8Array[][] = names.map(() => []), sizes = names.map((_, k) => (k ? 0 : base));
  let k = 0;
  for (const init of m.graph.initializer) {
    if ((init.rawData?.length ?? 0) < 256) continue;
    const f = k++ % files, pad = (64 - (sizes[f] % 64)) % 64;
    parts[f].push(new Uint8Array(pad), Uint8Array.from(init.rawData));
    init.externalData = [
      { key: "location", value: names[f] },
      { key: "offset", value: String(sizes[f] + pad) },
      { key: "length", value: String(init.rawData.length) },
    ];
    sizes[f] += pad + init.rawData.length;
    init.dataLocation = 1;
    init.rawData = new Uint8Array();
  }
  for (const [f, name] of names.entries()) {
    const out = await Deno.open(join(dir, name), { write: true, create: true, truncate: true });
    try {
      await out.seek(f ? 0 : base, Deno.SeekMode.Start);
      for (const p of parts[f]) for (let o = 0; o < p.length;) o += await out.write(p.subarray(o));
    } finally {
      out.close();
    }
  }
  const graph = encode(m);
  await Deno.writeFile(join(dir, "model.onnx"), graph);
  return { graphBytes: graph.length, dataFiles: names };
}

/** The MatMuls whose weight (input 1) is a 2-D float initializer, with it. */
function weightMatMuls(m: Model) {
  const inits = new Map(m.graph.initializer.map((i: Model) => [i.name, i]));
  return (m.graph.node as Node[]).flatMap((n) => {
    const w = inits.get(n.input[1]) as Model;
    return n.opType === "MatMul" && w && w.dataType === 1 && w.dims.length === 2 ? [{ n, w }] : [];
  });
}

/**
 * onnxruntime's `quantize_dynamic` (per-tensor, int8 symmetric weights,
 * uint8 activations) applied to every weight MatMul, with its node and
 * tensor names: `<name>_quant` (MatMulInteger), a `Cast`, the
 * `_scales_mul` and `_output_scale_mul` Muls that give the original output.
 */
export function quantizeDynamic(bytes: Uint8Array): Uint8Array {
  const m = decode(bytes);
  const replaced = new Map<Node, Node[]>();
  const quantized = new Map<string, string[]>(); // float input → [q, scale, zp]
  for (const { n, w } of weightMatMuls(m)) {
    const values = floatsOf(w);
    const scale = values.reduce((a, v) => Math.max(a, Math.abs(v)), 0) / 127 || 1;
    const q = Int8Array.from(values, (v) => Math.max(-127, Math.min(127, Math.round(v / scale))));
    m.graph.initializer.push(
      { name: `${w.name}_quantized`, dims: w.dims, dataType: 3, rawData: bytesOf(q) },
      { name: `${w.name}_scale`, dims: [], dataType: 1, rawData: bytesOf(Float32Array.of(scale)) },
      { name: `${w.name}_zero_point`, dims: [], dataType: 3, rawData: new Uint8Array(1) },
    );
    const nodes: Node[] = [];
    const x = n.input[0];
    if (!quantized.has(x)) {
      quantized.set(x, [`${x}_quantized`, `${x}_scale`, `${x}_zero_point`]);
      nodes.push({
        name: `${x}_QuantizeLinear`,
        opType: "DynamicQuantizeLinear",
        input: [x],
        output: quantized.get(x)!,
      });
    }
    const [xq, xs, xz] = quantized.get(x)!, out = n.output[0], name = `${n.name}_quant`;
    nodes.push(
      {
        name,
        opType: "MatMulInteger",
        input: [xq, `${w.name}_quantized`, xz, `${w.name}_zero_point`],
        output: [`${out}_output_quantized`],
      },
      {
        name: `${out}_output_quantized_cast`,
        opType: "Cast",
        input: [`${out}_output_quantized`],
        output: [`${out}_output_quantized_cast_output`],
        attribute: [attr("to", 1)],
      },
      {
        name: `${name}_scales_mul`,
        opType: "Mul",
        input: [xs, `${w.name}_scale`],
        output: [`${name}_scales_mul:0`],
      },
      {
        name: `${name}_output_scale_mul`,
        opType: "Mul",
        input: [`${out}_output_quantized_cast_output`, `${name}_scales_mul:0`],
        output: [out],
      },
    );
    replaced.set(n, nodes);
  }
  m.graph.node = (m.graph.node as Node[]).flatMap((n) => replaced.get(n) ?? [n]);
  const used = new Set((m.graph.node as Node[]).flatMap((n) => n.input));
  m.graph.initializer = m.graph.initializer.filter((i: Model) => used.has(i.name));
  return encode(m);
}

/**
 * 4-bit block quantization of every weight MatMul into `MatMulNBits`
 * (com.microsoft; symmetric, no zero points, so each 4-bit value q stands
 * for (q − 8)·scale), named `<name>_Q4` as onnxruntime's
 * `matmul_4bits_quantizer` names it.
 *
 * @returns the graph, and per weight name its dequantized (K × N) values
 */
export function quantizeNBits(
  bytes: Uint8Array,
  blockSize = 16,
): { bytes: Uint8Array; dequantized: Map<string, Float32Array> } {
  const m = decode(bytes), dequantized = new Map<string, Float32Array>();
  const replaced = new Map<Node, Node>();
  for (const { n, w } of weightMatMuls(m)) {
    const [K, N] = w.dims.map(Number), values = floatsOf(w);
    const blocks = Math.ceil(K / blockSize), blob = blockSize / 2;
    const packed = new Uint8Array(N * blocks * blob), scales = new Float32Array(N * blocks);
    const deq = new Float32Array(K * N);
    for (let c = 0; c < N; c++) {
      for (let b = 0; b < blocks; b++) {
        let amax = 0;
        for (let k = b * blockSize; k < Math.min(K, (b + 1) * blockSize); k++) {
          amax = Math.max(amax, Math.abs(values[k * N + c]));
        }
        const s = amax / 7 || 1;
        scales[c * blocks + b] = s;
        for (let j = 0; j < blockSize; j++) {
          const k = b * blockSize + j;
          const q = k < K ? Math.max(0, Math.min(15, Math.round(values[k * N + c] / s) + 8)) : 8;
          if (k < K) deq[k * N + c] = (q - 8) * s;
          packed[(c * blocks + b) * blob + (j >> 1)] |= q << ((j & 1) * 4);
        }
      }
    }
    dequantized.set(w.name, deq);
    m.graph.initializer.push(
      { name: `${w.name}_Q4`, dims: [N, blocks, blob], dataType: 2, rawData: packed },
      { name: `${w.name}_scales`, dims: [N * blocks], dataType: 1, rawData: bytesOf(scales) },
    );
    replaced.set(n, {
      name: `${n.name}_Q4`,
      opType: "MatMulNBits",
      domain: "com.microsoft",
      input: [n.input[0], `${w.name}_Q4`, `${w.name}_scales`],
      output: n.output,
      attribute: [attr("K", K), attr("N", N), attr("bits", 4), attr("block_size", blockSize)],
    });
  }
  m.graph.node = (m.graph.node as Node[]).map((n) => replaced.get(n) ?? n);
  const used = new Set((m.graph.node as Node[]).flatMap((n) => n.input));
  m.graph.initializer = m.graph.initializer.filter((i: Model) => used.has(i.name));
  m.opsetImport.push({ domain: "com.microsoft", version: 1 });
  return { bytes: encode(m), dequantized };
}

/** Node names rewritten (tensor names kept), e.g. `/bert/` → `/`, or slashes → dots. */
export function renameNodes(bytes: Uint8Array, rename: (name: string) => string): Uint8Array {
  const m = decode(bytes);
  for (const n of m.graph.node as Node[]) n.name = rename(n.name);
  return encode(m);
}

/**
 * Every node name emptied and every tensor (inputs and outputs excepted)
 * renamed `t<k>`: a graph that only its structure describes.
 *
 * @returns the graph and the new name of each old tensor name
 */
export function stripNames(bytes: Uint8Array): { bytes: Uint8Array; renamed: Map<string, string> } {
  const m = decode(bytes);
  const keep = new Set([...m.graph.input, ...m.graph.output].map((v: Model) => v.name));
  const renamed = new Map<string, string>();
  const r = (t: string) => {
    if (!t || keep.has(t)) return t;
    if (!renamed.has(t)) renamed.set(t, `t${renamed.size}`);
    return renamed.get(t)!;
  };
  for (const i of m.graph.initializer) i.name = r(i.name);
  for (const n of m.graph.node as Node[]) {
    n.name = "";
    n.input = n.input.map(r);
    n.output = n.output.map(r);
  }
  return { bytes: encode(m), renamed };
}

/**
 * Our Llama export with onnxruntime-genai's form of attention: RoPE from a
 * `position_ids` input, then `GroupQueryAttention` (com.microsoft) reading
 * `past_key_values.<l>.key/value` (batch × kv-heads × past × head size)
 * and the sequence lengths from `attention_mask`; `present.<l>.key/value`
 * outputs.
 */
export function withGroupQueryAttention(
  bytes: Uint8Array,
  config: { heads: number; kvHeads: number; dim: number; layers: number },
): Uint8Array {
  const m = decode(bytes), { heads, kvHeads, dim, layers } = config;
  const hd = dim / heads;
  const i64 = (name: string, v: number[]) => ({
    name,
    dims: [v.length],
    dataType: 7,
    rawData: bytesOf(BigInt64Array.from(v.map(BigInt))),
  });
  m.graph.initializer.push(
    i64("gqa/q_shape", [1, -1, dim]),
    i64("gqa/kv_shape", [1, -1, hd * kvHeads]),
    i64("gqa/axis1", [1]),
    { name: "gqa/one", dims: [], dataType: 7, rawData: bytesOf(BigInt64Array.of(1n)) },
  );
  const nodes: Node[] = [];
  const add = (opType: string, input: string[], name: string, attribute: unknown[] = []) => {
    nodes.push({ name, opType, input, output: [`${name}_output_0`], attribute });
    return `${name}_output_0`;
  };
  const seqlens = add(
    "Cast",
    [
      add("Sub", [
        add("ReduceSum", ["attention_mask", "gqa/axis1"], "/model/attn_mask/ReduceSum", [
          attr("keepdims", 0),
        ]),
        "gqa/one",
      ], "/model/attn_mask/Sub"),
    ],
    "/model/attn_mask/seqlens_k",
    [attr("to", 6)],
  );
  const total = add(
    "Cast",
    [
      add(
        "Gather",
        [add("Shape", ["attention_mask"], "/model/attn_mask/Shape"), "gqa/one"],
        "/model/attn_mask/Gather",
      ),
    ],
    "/model/attn_mask/total_seq_len",
    [attr("to", 6)],
  );
  const out: Node[] = [];
  for (const n of m.graph.node as Node[]) {
    if (n.name === "/model/rope/cos_slice" || n.name === "/model/rope/sin_slice") {
      const table = n.input[0];
      out.push({
        ...n,
        opType: "Gather",
        input: [table, "position_ids"],
        attribute: [attr("axis", 0)],
      });
      continue;
    }
    const a = /^\/model\/layers\.(\d+)\/self_attn\/(.*)$/.exec(n.name);
    if (!a || /^(q_proj|k_proj|v_proj|o_proj|rope_q|rope_k)\//.test(a[2])) {
      out.push(n);
      if (n.name === "/model/seq_len") out.push(...nodes.splice(0));
      continue;
    }
    if (a[2] !== "ctx_merge") continue;
    const p = `/model/layers.${a[1]}/self_attn`;
    out.push({
      name: `${p}/q_flat`,
      opType: "Reshape",
      input: [`${p}/rope_q/Reshape_1_output_0`, "gqa/q_shape"],
      output: [`${p}/q_flat_output_0`],
    }, {
      name: `${p}/k_flat`,
      opType: "Reshape",
      input: [`${p}/rope_k/Reshape_1_output_0`, "gqa/kv_shape"],
      output: [`${p}/k_flat_output_0`],
    }, {
      name: `${p}/GroupQueryAttention`,
      opType: "GroupQueryAttention",
      domain: "com.microsoft",
      input: [
        `${p}/q_flat_output_0`,
        `${p}/k_flat_output_0`,
        `${p}/v_proj/MatMul_output_0`,
        `past_key_values.${a[1]}.key`,
        `past_key_values.${a[1]}.value`,
        seqlens,
        total,
      ],
      output: [n.output[0], `present.${a[1]}.key`, `present.${a[1]}.value`],
      attribute: [attr("num_heads", heads), attr("kv_num_heads", kvHeads)],
    });
  }
  m.graph.node = out;
  const mask = tensorType(7, [1, "total_sequence_length"]);
  const kv = tensorType(1, ["batch_size", kvHeads, "past_sequence_length", hd]);
  const present = tensorType(1, ["batch_size", kvHeads, "total_sequence_length", hd]);
  for (let l = 0; l < layers; l++) {
    for (const s of ["key", "value"]) {
      m.graph.input.push({ name: `past_key_values.${l}.${s}`, type: kv });
      m.graph.output.push({ name: `present.${l}.${s}`, type: present });
    }
  }
  m.graph.input.push(
    { name: "attention_mask", type: mask },
    { name: "position_ids", type: tensorType(7, [1, "sequence_length"]) },
  );
  m.opsetImport.push({ domain: "com.microsoft", version: 1 });
  const used = new Set((m.graph.node as Node[]).flatMap((n) => n.input));
  m.graph.initializer = m.graph.initializer.filter((i: Model) => used.has(i.name));
  return encode(m);
}

/**
 * The tiny BERT fixture with each layer's attention core (heads, scores,
 * softmax, context) replaced by one `MultiHeadAttention` (com.microsoft)
 * on the query, key and value projections.
 */
export function withMultiHeadAttention(bytes: Uint8Array, heads: number): Uint8Array {
  const m = decode(bytes), out: Node[] = [];
  for (const n of m.graph.node as Node[]) {
    const a = /^(\/bert\/encoder\/layer\.\d+\/attention\/self)\/(.*)$/.exec(n.name);
    if (!a || /^(query|key|value)\//.test(a[2])) {
      out.push(n);
      continue;
    }
    if (a[2] !== "Reshape_3") continue;
    const p = a[1];
    out.push({
      name: `${p}/MultiHeadAttention`,
      opType: "MultiHeadAttention",
      domain: "com.microsoft",
      input: [`${p}/query/Add_output_0`, `${p}/key/Add_output_0`, `${p}/value/Add_output_0`],
      output: n.output,
      attribute: [attr("num_heads", heads)],
    });
  }
  m.graph.node = out;
  m.opsetImport.push({ domain: "com.microsoft", version: 1 });
  const used = new Set((m.graph.node as Node[]).flatMap((n) => n.input));
  m.graph.initializer = m.graph.initializer.filter((i: Model) => used.has(i.name));
  return encode(m);
}

/**
 * The graph in float16, as `model_fp16.onnx` exports are: every float
 * initializer, float Cast, input (key/value caches) and output converted (the mask's −1e9
 * becomes −∞, which softmax reads the same way).
 */
export function toFloat16(bytes: Uint8Array): Uint8Array {
  const m = decode(bytes);
  for (const init of m.graph.initializer) {
    if (init.dataType !== 1) continue;
    init.rawData = bytesOf(Float16Array.from(floatsOf(init)));
    init.dataType = 10;
  }
  for (const n of m.graph.node) {
    for (const a of n.attribute ?? []) {
      if (n.opType === "Cast" && a.name === "to" && Number(a.i) === 1) a.i = 10;
    }
  }
  for (const o of [...m.graph.input, ...m.graph.output]) {
    if (o.type?.tensorType?.elemType === 1) o.type.tensorType.elemType = 10;
  }
  return encode(m);
}
