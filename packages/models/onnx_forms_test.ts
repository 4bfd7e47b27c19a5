import assert from "node:assert/strict";
import { join } from "node:path";
import { InputError } from "@brainorg/common";
import { dataPath } from "../../test/data.ts";
import { type LlamaModel, readGgufLlama } from "./gguf_model.ts";
import { createTokenizer } from "./tokenizer.ts";
import { createLlamaSession } from "./llama.ts";
import { exportLlamaOnnx } from "./onnx_export.ts";
import { decodeOnnx, exposeTensors, findUnitTensors } from "./onnx_rewrite.ts";
import { openOnnxUnitModel, runUnits } from "./onnx_capture.ts";
import { tinyBert, tinyBertFfn, tinyBertOnnx } from "./_fixtures.ts";
import {
  quantizeDynamic,
  quantizeNBits,
  renameNodes,
  stripNames,
  toFloat16,
  withGroupQueryAttention,
  withMultiHeadAttention,
  writeExternal,
} from "./_onnx_forms.ts";

const model = await readGgufLlama(await dataPath("models/stories260K.gguf"));
const tok = createTokenizer(model.vocab);
const bytes = exportLlamaOnnx(model);
const ids = tok.encode("Alice was beginning to get very tired of sitting by her sister");
const downProj = [0, 1, 2, 3, 4].map((l) => `/model/layers.${l}/mlp/down_proj/MatMul_output_0`);

/** Per layer, (tokens × dim) FFN outputs of the TypeScript forward pass of `m`. */
function reference(m: LlamaModel, tokens: number[]): Float32Array[] {
  const { dim, layers } = m.config, s = createLlamaSession(m);
  const out = Array.from({ length: layers }, () => new Float32Array(tokens.length * dim));
  tokens.forEach((t, i) => {
    const o = s.step(t);
    for (let l = 0; l < layers; l++) out[l].set(o.ffnOut.subarray(l * dim, (l + 1) * dim), i * dim);
  });
  return out;
}
const want = reference(model, ids);

/**
 * Largest absolute difference, the RMS of the reference, and the RMS of the
 * differences relative to it, over all layers.
 */
function compare(
  got: Float32Array[],
  ref: Float32Array[],
): { worst: number; rms: number; relRms: number } {
  let worst = 0, ss = 0, sd = 0, n = 0;
  ref.forEach((r, l) =>
    r.forEach((v, i) => {
      worst = Math.max(worst, Math.abs(v - got[l][i]));
      ss += v * v;
      sd += (v - got[l][i]) ** 2;
      n++;
    })
  );
  return { worst, rms: Math.sqrt(ss / n), relRms: Math.sqrt(sd / ss) };
}

Deno.test("external data over two files: the rewrite keeps it external, the capture equals the TypeScript pass", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const { graphBytes, dataFiles } = await writeExternal(dir, bytes, { files: 2 });
    const path = join(dir, "model.onnx"), graph = await Deno.readFile(path);
    assert.ok(graphBytes < bytes.length / 50, `graph file ${graphBytes} bytes`);
    // The rewritten graph still points at the data files: nothing inlined.
    const rewritten = decodeOnnx(exposeTensors(graph, findUnitTensors(decodeOnnx(graph))));
    // deno-lint-ignore no-explicit-any
    const big = rewritten.graph.initializer.filter((i: any) => i.dims.length === 2);
    assert.ok(big.length > 30);
    // deno-lint-ignore no-explicit-any
    assert.ok(big.every((i: any) => i.dataLocation === 1 && i.rawData.length === 0));
    const cacheDir = join(dir, "cache");
    const m = await openOnnxUnitModel(graph, path, { cacheDir });
    assert.deepEqual(m.tensors.map((t) => t.tensor), downProj);
    const { worst } = compare(await runUnits(m, ids), want);
    assert.ok(worst < 1e-4, `FFN units differ by ${worst}`);
    // The staged graph is gone; the cached one is the small graph, and opens again.
    assert.deepEqual(
      [...Deno.readDirSync(dir)].map((e) => e.name).sort(),
      ["cache", "model.onnx", ...dataFiles].sort(),
    );
    const [entry] = [...Deno.readDirSync(join(cacheDir, "onnx"))];
    assert.ok((await Deno.stat(join(cacheDir, "onnx", entry.name))).size < 2 * graphBytes);
    const again = await openOnnxUnitModel(graph, path, { cacheDir });
    assert.ok(compare(await runUnits(again, ids), want).worst < 1e-4);

    // A truncated or missing data file is named before onnxruntime reads it.
    const data1 = join(dir, dataFiles[1]);
    await Deno.truncate(data1, 1000);
    await assert.rejects(
      () => openOnnxUnitModel(graph, path),
      (e: unknown) =>
        e instanceof InputError && /shorter/.test(e.message) && /_data_1/.test(e.message),
    );
    await Deno.remove(data1);
    await assert.rejects(
      () => openOnnxUnitModel(graph, path),
      (e: unknown) =>
        e instanceof InputError && /missing/.test(e.message) && /_data_1/.test(e.message),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("external data past 2 GiB (a sparse file): offsets are 64-bit, the data is never read whole", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const base = 2.5 * 2 ** 30;
    const { dataFiles } = await writeExternal(dir, bytes, { base });
    const data = await Deno.stat(join(dir, dataFiles[0]));
    assert.ok(data.size > base);
    if ((data.blocks ?? 0) * 512 > 2 ** 30) {
      console.log("the file system does not keep holes: skipped");
      return;
    }
    const path = join(dir, "model.onnx"), rss = Deno.memoryUsage().rss;
    const m = await openOnnxUnitModel(await Deno.readFile(path), path);
    assert.ok(compare(await runUnits(m, ids), want).worst < 1e-4);
    const grown = Deno.memoryUsage().rss - rss;
    assert.ok(grown < 2 ** 30, `resident memory grew by ${grown} bytes`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a float16 graph: the units cross into JavaScript as float32", async () => {
  const half = toFloat16(bytes);
  const m = await openOnnxUnitModel(half, "model_fp16.onnx");
  assert.deepEqual(m.tensors.map((t) => t.tensor), downProj);
  const { relRms, worst, rms } = compare(await runUnits(m, ids), want);
  console.log(
    `float16: relative RMS error ${relRms.toExponential(2)}, worst |Δ| ${worst.toFixed(4)} (RMS ${
      rms.toFixed(4)
    })`,
  );
  // binary16 keeps 11 significant bits: about 1e-3 relative per operation.
  assert.ok(relRms < 1e-2 && worst > 0, `float16 units differ by ${relRms} of their RMS`);
});

Deno.test("DynamicQuantizeLinear + MatMulInteger: the units are the float output after the scales", async () => {
  const q = quantizeDynamic(bytes);
  const proto = decodeOnnx(q);
  assert.ok(proto.graph.node.some((n: { opType: string }) => n.opType === "MatMulInteger"));
  assert.ok(
    !proto.graph.node.some((n: { opType: string; input: string[] }) =>
      n.opType === "MatMul" && /proj/.test(n.input[1])
    ),
  );
  const tensors = findUnitTensors(proto);
  assert.deepEqual(tensors.map((t) => t.tensor), downProj);
  const producer = proto.graph.node.find((n: { output: string[] }) => n.output[0] === downProj[0]);
  assert.equal(producer.name, "/model/layers.0/mlp/down_proj/MatMul_quant_output_scale_mul");
  // Dequantization nodes named outside the module are followed too.
  const castRenamed = renameNodes(q, (n) => (n.endsWith("_quantized_cast") ? "" : n));
  assert.deepEqual(findUnitTensors(decodeOnnx(castRenamed)).map((t) => t.tensor), downProj);
  // The hidden units are the float input, before DynamicQuantizeLinear.
  assert.equal(findUnitTensors(proto, "ffn_hidden")[0].tensor, "/model/layers.0/mlp/Mul_output_0");
  // Without names, the structure gives the same tensors.
  const stripped = stripNames(q);
  assert.deepEqual(
    findUnitTensors(decodeOnnx(stripped.bytes)).map((t) => t.tensor),
    downProj.map((t) => stripped.renamed.get(t)),
  );
  // The exposed tensor is the dequantized product: recomputed from the layer's float input
  // (DynamicQuantizeLinear as the ONNX spec defines it, times the int8 weights and both scales).
  const pair = await openOnnxUnitModel(q, "quantized.onnx", {
    tensors: ["/model/layers.0/mlp/Mul_output_0", downProj[0]],
  });
  const [h, y] = await runUnits(pair, ids);
  const init = (name: string) =>
    Uint8Array.from(
      proto.graph.initializer.find((i: { name: string }) => i.name === name).rawData,
    ).buffer;
  const wq = new Int8Array(init("/model/layers.0/mlp/down_proj.weight_quantized"));
  const ws = new Float32Array(init("/model/layers.0/mlp/down_proj.weight_scale"))[0];
  const { dim, hiddenDim } = model.config;
  const lo = Math.min(0, ...h), hi = Math.max(0, ...h), xs = (hi - lo) / 255;
  const zp = Math.max(0, Math.min(255, Math.round(-lo / xs)));
  const xq = h.map((v) => Math.max(0, Math.min(255, Math.round(v / xs) + zp)));
  let worstDq = 0;
  for (let t = 0; t < ids.length; t++) {
    for (let u = 0; u < dim; u++) {
      let acc = 0;
      for (let k = 0; k < hiddenDim; k++) acc += (xq[t * hiddenDim + k] - zp) * wq[k * dim + u];
      worstDq = Math.max(worstDq, Math.abs(acc * xs * ws - y[t * dim + u]));
    }
  }
  assert.ok(
    worstDq < 1e-3,
    `the exposed tensor differs from the dequantized product by ${worstDq}`,
  );
  // Against float32: 8-bit per-tensor weights and activations, requantized in each of 5
  // layers, within 10% of the units' RMS (measured: 9.3% on stories260K).
  const m = await openOnnxUnitModel(q, "quantized.onnx");
  const { worst, rms, relRms } = compare(await runUnits(m, ids), want);
  console.log(
    `MatMulInteger: relative RMS error ${relRms.toFixed(4)}, worst |Δ| ${worst.toFixed(4)} (RMS ${
      rms.toFixed(4)
    })`,
  );
  assert.ok(relRms < 0.1 && worst > 0, `FFN units differ by ${relRms} of their RMS`);
});

Deno.test("MatMulNBits (4-bit): the units equal the TypeScript pass with the dequantized weights", async () => {
  const { bytes: q, dequantized } = quantizeNBits(bytes);
  const tensors = findUnitTensors(decodeOnnx(q));
  assert.deepEqual(tensors.map((t) => t.tensor), downProj);
  // The reference: the same model with each weight replaced by its 4-bit value.
  const { dim } = model.config;
  const back = (name: string, rows: number) => {
    const w = dequantized.get(name)!, cols = w.length / rows, out = new Float32Array(w.length);
    for (let k = 0; k < rows; k++) {
      for (let n = 0; n < cols; n++) out[n * rows + k] = w[k * cols + n];
    }
    return out;
  };
  const hidden = model.config.hiddenDim;
  const q4: LlamaModel = {
    ...model,
    output: back("lm_head.weight", dim),
    layers: model.layers.map((w, l) => {
      const p = `/model/layers.${l}`;
      return {
        ...w,
        wq: back(`${p}/self_attn/q_proj.weight`, dim),
        wk: back(`${p}/self_attn/k_proj.weight`, dim),
        wv: back(`${p}/self_attn/v_proj.weight`, dim),
        wo: back(`${p}/self_attn/o_proj.weight`, dim),
        gate: back(`${p}/mlp/gate_proj.weight`, dim),
        up: back(`${p}/mlp/up_proj.weight`, dim),
        down: back(`${p}/mlp/down_proj.weight`, hidden),
      };
    }),
  };
  const m = await openOnnxUnitModel(q, "q4.onnx");
  const got = await runUnits(m, ids);
  const exact = compare(got, reference(q4, ids)), float = compare(got, want);
  console.log(
    `MatMulNBits: vs dequantized ${exact.worst.toExponential(2)}, vs float32 relative RMS ` +
      `error ${float.relRms.toFixed(4)}, worst |Δ| ${float.worst.toFixed(4)} (RMS ${
        float.rms.toFixed(4)
      })`,
  );
  assert.ok(exact.worst < 1e-4, `FFN units differ from the dequantized pass by ${exact.worst}`);
  assert.ok(
    float.worst > 1e-3 && float.relRms < 0.5,
    `4-bit vs float32: ${float.relRms} of the units' RMS`,
  );
});

Deno.test("names: dotted module names, BertModel without 'bert.', sentence-transformers, and none at all", async () => {
  const dotted = renameNodes(bytes, (n) => n.replace(/^\//, "").replaceAll("/", "."));
  assert.ok(
    decodeOnnx(dotted).graph.node.some((n: { name: string }) =>
      n.name === "model.layers.0.mlp.down_proj.MatMul"
    ),
  );
  assert.deepEqual(findUnitTensors(decodeOnnx(dotted)).map((t) => t.tensor), downProj);
  const bare = stripNames(bytes);
  const m = await openOnnxUnitModel(bare.bytes, "nameless.onnx");
  assert.deepEqual(m.tensors.map((t) => t.tensor), downProj.map((t) => bare.renamed.get(t)));
  assert.ok(compare(await runUnits(m, ids), want).worst < 1e-4);

  const bert = tinyBert(5), bertBytes = tinyBertOnnx(bert);
  const bertOut = [0, 1].map((l) => `/bert/encoder/layer.${l}/output/dense/Add_output_0`);
  for (
    const rename of [
      (n: string) => n.replace(/^\/bert\//, "/"), // BertModel
      (n: string) => n.replace(/^\/bert\//, "/0/auto_model/"), // a sentence-transformers pipeline
      (n: string) => n.replace(/^\/bert\//, "").replaceAll("/", "."), // encoder.layer.N.output.dense
    ]
  ) {
    const renamed = renameNodes(bertBytes, rename);
    assert.ok(!decodeOnnx(renamed).graph.node.some((n: { name: string }) => /bert/.test(n.name)));
    assert.deepEqual(findUnitTensors(decodeOnnx(renamed)).map((t) => t.tensor), bertOut);
  }
  // Without names, BERT's FFN output is found after its bias Add.
  const bareBert = stripNames(bertBytes);
  const mb = await openOnnxUnitModel(bareBert.bytes, "bert.onnx");
  assert.deepEqual(mb.tensors.map((t) => t.tensor), bertOut.map((t) => bareBert.renamed.get(t)));
  const bids = [2, 4, 5, 6, 7, 8, 3];
  const got = await runUnits(mb, bids), ref = tinyBertFfn(bert, bids);
  let worst = 0;
  ref.forEach((layer, l) =>
    layer.forEach((tk, t) =>
      tk.forEach((v, u) => (worst = Math.max(worst, Math.abs(v - got[l][t * bert.dim + u]))))
    )
  );
  assert.ok(worst < 1e-4, `FFN units differ by ${worst}`);
});

Deno.test("GroupQueryAttention with past_key_values, attention_mask and position_ids inputs", async () => {
  const gqa = withGroupQueryAttention(bytes, model.config);
  const m = await openOnnxUnitModel(gqa, "gqa.onnx");
  assert.ok(m.session.inputNames.includes("past_key_values.4.value"));
  assert.ok(m.session.inputNames.includes("position_ids"));
  assert.deepEqual(m.tensors.map((t) => t.tensor), downProj);
  const { worst } = compare(await runUnits(m, ids), want);
  assert.ok(worst < 1e-4, `FFN units differ by ${worst}`);
  // In float16 (as onnx-community's fp16 exports): empty float16 caches.
  const half = await openOnnxUnitModel(toFloat16(gqa), "gqa_fp16.onnx");
  assert.ok(compare(await runUnits(half, ids), want).relRms < 1e-2);
  // A cache whose heads are not declared cannot be made empty: the error names the input.
  const proto = decodeOnnx(gqa);
  const past = proto.graph.input.find((i: { name: string }) => i.name === "past_key_values.0.key");
  past.type.tensorType.shape.dim[1] = { dimParam: "num_heads" };
  const { default: onnxProto } = await import("onnx-proto");
  // deno-lint-ignore no-explicit-any
  const broken = (onnxProto as any).onnx.ModelProto.encode(proto).finish();
  const mb = await openOnnxUnitModel(broken, "gqa_symbolic.onnx");
  await assert.rejects(
    () => runUnits(mb, ids),
    (e: unknown) =>
      e instanceof InputError && /past_key_values\.0\.key/.test(e.message) &&
      /num_heads/.test(e.message),
  );
});

Deno.test("MultiHeadAttention (com.microsoft) in a BERT encoder", async () => {
  const bert = tinyBert(9);
  const mha = withMultiHeadAttention(tinyBertOnnx(bert), bert.heads);
  assert.ok(
    decodeOnnx(mha).graph.node.some((n: { opType: string }) => n.opType === "MultiHeadAttention"),
  );
  assert.ok(!decodeOnnx(mha).graph.node.some((n: { opType: string }) => n.opType === "Softmax"));
  const m = await openOnnxUnitModel(mha, "mha.onnx");
  const bids = [2, 4, 5, 6, 7, 8, 9, 10, 3];
  const got = await runUnits(m, bids), ref = tinyBertFfn(bert, bids);
  let worst = 0;
  ref.forEach((layer, l) =>
    layer.forEach((tk, t) =>
      tk.forEach((v, u) => (worst = Math.max(worst, Math.abs(v - got[l][t * bert.dim + u]))))
    )
  );
  assert.ok(worst < 1e-4, `FFN units differ by ${worst}`);
});

Deno.test("the random-weights control of an external-data model: one tensor at a time, the original untouched", async () => {
  const { randomizeOnnxWeights } = await import("./onnx_rewrite.ts");
  const dir = await Deno.makeTempDir();
  try {
    const { dataFiles } = await writeExternal(dir, bytes);
    const path = join(dir, "model.onnx"), graph = await Deno.readFile(path);
    const data = join(dir, dataFiles[0]), before = await Deno.readFile(data);
    const control = randomizeOnnxWeights(graph, 3, path);
    assert.deepEqual(await Deno.readFile(data), before);
    const proto = decodeOnnx(control);
    const down = proto.graph.initializer.find((i: { name: string }) =>
      i.name === "/model/layers.0/mlp/down_proj.weight"
    );
    assert.equal(down.dataLocation, 1);
    assert.equal(
      down.externalData.find((e: { key: string }) => e.key === "location").value,
      "model.onnx.random3.data",
    );
    // The same draws as the control of the inline graph, and the same units.
    const inline = randomizeOnnxWeights(bytes, 3);
    const a = await openOnnxUnitModel(control, path), b = await openOnnxUnitModel(inline, "x.onnx");
    const ua = await runUnits(a, ids), ub = await runUnits(b, ids);
    assert.deepEqual(ua, ub);
    assert.ok(compare(ua, want).relRms > 0.5, "the control's units differ from the model's");
    assert.throws(
      () => randomizeOnnxWeights(quantizeDynamic(bytes), 3),
      (e: unknown) => e instanceof InputError && /quantized/.test(e.message),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the control redraws float16 and bfloat16 weight matrices in their own type", async () => {
  const { randomizeOnnxWeights } = await import("./onnx_rewrite.ts");
  const { default: onnxProto } = await import("onnx-proto");
  // deno-lint-ignore no-explicit-any
  const { onnx } = onnxProto as any;
  const w = Float32Array.from({ length: 4096 }, (_, i) => 0.5 + 0.1 * Math.sin(i * 1.7));
  const f16 = new Uint8Array(Float16Array.from(w).buffer);
  const bf16 = new Uint8Array(Uint16Array.from(new Uint32Array(w.buffer), (u) => u >>> 16).buffer);
  const graph = onnx.ModelProto.encode({
    irVersion: 8,
    opsetImport: [{ domain: "", version: 17 }],
    graph: {
      node: [
        { opType: "MatMul", input: ["x", "w16"], output: ["y"] },
        { opType: "MatMul", input: ["x", "wbf"], output: ["z"] },
      ],
      initializer: [
        { name: "w16", dims: [64, 64], dataType: 10, rawData: f16 },
        { name: "wbf", dims: [64, 64], dataType: 16, rawData: bf16 },
      ],
    },
  }).finish();
  const out = decodeOnnx(randomizeOnnxWeights(graph, 1)).graph.initializer;
  const f16Values = Float32Array.from(new Float16Array(Uint8Array.from(out[0].rawData).buffer));
  const bfValues = Float32Array.from(
    new Uint16Array(Uint8Array.from(out[1].rawData).buffer),
    (b) => new Float32Array(Uint32Array.of(b << 16).buffer)[0],
  );
  const stats = (v: Float32Array) => {
    const m = v.reduce((a, x) => a + x, 0) / v.length;
    return { m, sd: Math.sqrt(v.reduce((a, x) => a + (x - m) ** 2, 0) / v.length) };
  };
  const ref = stats(w);
  for (const v of [f16Values, bfValues]) {
    assert.equal(v.length, w.length);
    const s = stats(v);
    assert.ok(
      Math.abs(s.m - ref.m) < 0.01 && Math.abs(s.sd / ref.sd - 1) < 0.05,
      JSON.stringify(s),
    );
    assert.ok(v.some((x, i) => Math.abs(x - w[i]) > 0.05), "redrawn");
  }
});

Deno.test("a Hub model with external data: the data files are fetched with the graph and opened beside it", async () => {
  const { resolveHfModel } = await import("./hf_hub.ts");
  const { openHfModel } = await import("./hf_layout.ts");
  const { writeTinyBert } = await import("./_fixtures.ts");
  const dir = await Deno.makeTempDir(), served = join(dir, "served"), bert = tinyBert(4);
  await writeTinyBert(served, bert);
  const { dataFiles } = await writeExternal(join(served, "onnx"), tinyBertOnnx(bert), { files: 2 });
  const requests: string[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const path = new URL(req.url).pathname;
    requests.push(path);
    try {
      return new Response(
        await Deno.readFile(join(served, path.replace(/^\/tiny\/bert\/resolve\/main\//, ""))),
      );
    } catch {
      return new Response("no", { status: 404 });
    }
  });
  try {
    const cacheDir = join(dir, "cache"), endpoint = `http://127.0.0.1:${server.addr.port}`;
    const got = await resolveHfModel("hf:tiny/bert", { cacheDir, endpoint });
    for (const f of dataFiles) assert.match(got.files[`onnx/${f}`], /^[0-9a-f]{64}$/);
    const before = requests.length;
    await resolveHfModel("hf:tiny/bert", { cacheDir, endpoint, download: false });
    assert.equal(requests.length, before);
    const hf = await openHfModel(got.dir);
    const bids = hf.encode("Alice was beginning to get very tired");
    const units = await runUnits(hf.onnx, bids), ref = tinyBertFfn(bert, bids);
    let worst = 0;
    ref.forEach((layer, l) =>
      layer.forEach((tk, t) =>
        tk.forEach((v, u) => (worst = Math.max(worst, Math.abs(v - units[l][t * bert.dim + u]))))
      )
    );
    assert.ok(worst < 1e-4, `FFN units differ by ${worst}`);
  } finally {
    await server.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});
