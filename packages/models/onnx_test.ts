import assert from "node:assert/strict";
import { InputError } from "@brainorg/common";
import { dataPath } from "../../test/data.ts";
import { readGgufLlama } from "./gguf_model.ts";
import { createTokenizer } from "./tokenizer.ts";
import { createLlamaSession, greedyDecode } from "./llama.ts";
import { captureWords } from "./capture.ts";
import { exportLlamaOnnx } from "./onnx_export.ts";
import { decodeOnnx, findUnitTensors } from "./onnx_rewrite.ts";
import { captureWordsFramed, openOnnxUnitModel, runUnits } from "./onnx_capture.ts";

const model = await readGgufLlama(await dataPath("models/stories260K.gguf"));
const tok = createTokenizer(model.vocab);
const bytes = exportLlamaOnnx(model);

Deno.test("the ONNX export computes the TypeScript forward pass: logits and FFN units", async () => {
  const m = await openOnnxUnitModel(bytes, "stories260K.onnx");
  assert.deepEqual(
    m.tensors.map((t) => t.tensor),
    [0, 1, 2, 3, 4].map((l) => `/model/layers.${l}/mlp/down_proj/MatMul_output_0`),
  );
  const ids = tok.encode("Alice was beginning to get very tired of sitting by her sister");
  const units = await runUnits(m, ids);
  const out = await m.session.run({
    input_ids: new (await import("onnxruntime-node")).Tensor(
      "int64",
      BigInt64Array.from(ids.map(BigInt)),
      [1, ids.length],
    ),
  });
  const logits = out.logits.data as Float32Array;
  const s = createLlamaSession(model), { dim, vocabSize } = model.config;
  let worstUnit = 0, worstLogit = 0;
  ids.forEach((t, i) => {
    const o = s.step(t);
    for (let l = 0; l < 5; l++) {
      for (let u = 0; u < dim; u++) {
        worstUnit = Math.max(worstUnit, Math.abs(o.ffnOut[l * dim + u] - units[l][i * dim + u]));
      }
    }
    for (let v = 0; v < vocabSize; v++) {
      worstLogit = Math.max(worstLogit, Math.abs(o.logits[v] - logits[i * vocabSize + v]));
    }
  });
  assert.ok(worstUnit < 1e-4, `FFN units differ by ${worstUnit}`);
  assert.ok(worstLogit < 1e-3, `logits differ by ${worstLogit}`);
});

Deno.test("greedy decoding through the ONNX graph: the first 200 tokens of llama2.c's published sample", async () => {
  const m = await openOnnxUnitModel(bytes, "stories260K.onnx");
  const ort = await import("onnxruntime-node");
  const ids = [model.vocab.bos];
  for (let n = 0; n < 200; n++) {
    const out = await m.session.run({
      input_ids: new ort.Tensor("int64", BigInt64Array.from(ids.map(BigInt)), [1, ids.length]),
    }, ["logits"]);
    const l = (out.logits.data as Float32Array).subarray((ids.length - 1) * model.config.vocabSize);
    let best = 0;
    for (let i = 1; i < l.length; i++) if (l[i] > l[best]) best = i;
    if (best === model.vocab.eos) break;
    ids.push(best);
  }
  // The TypeScript forward pass's decoding is checked against the published text in models_test.
  assert.deepEqual(ids.slice(1), greedyDecode(model, [model.vocab.bos], 200));
  assert.ok(
    tok.decode(ids.slice(1)).startsWith("Once upon a time, there was a little girl named Lily."),
  );
});

Deno.test("word capture on onnxruntime equals the TypeScript capture", async () => {
  const m = await openOnnxUnitModel(bytes, "stories260K.onnx");
  const words =
    "Alice was beginning to get very tired of sitting by her sister on the bank and of having nothing to do"
      .split(" ");
  const opts = { context: 6, aggregate: "mean" as const };
  const ts = captureWords(model, tok, words, opts);
  const ox = await captureWordsFramed(
    m,
    (w) => tok.encode(w, { bos: false }),
    { prefix: [model.vocab.bos], suffix: [], causal: true },
    words,
    opts,
  );
  assert.equal(ox.units, ts.units);
  assert.deepEqual(ox.index, ts.index);
  let worst = 0;
  ts.data.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - ox.data[i]))));
  assert.ok(worst < 1e-4, `capture differs by ${worst}`);
});

Deno.test("the rewriter finds hidden units and the residual stream, and names what it cannot find", async () => {
  const proto = decodeOnnx(bytes);
  const hidden = findUnitTensors(proto, "ffn_hidden");
  assert.equal(hidden[2].tensor, "/model/layers.2/mlp/Mul_output_0");
  const residual = findUnitTensors(proto, "residual");
  assert.equal(residual[4].tensor, "/model/layers.4/Add_1_output_0");
  const m = await openOnnxUnitModel(bytes, "x.onnx", { kind: "ffn_hidden" });
  const units = await runUnits(m, [1, 403, 407]);
  assert.equal(units[0].length, 3 * model.config.hiddenDim);
  // Unknown names: the FFN is found by structure; without an FFN the error lists what it found.
  for (const n of proto.graph.node) n.name = n.name.replace("/model/layers.", "/decoder/block_");
  assert.deepEqual(
    findUnitTensors(proto).map((t) => t.tensor),
    [0, 1, 2, 3, 4].map((l) => `/model/layers.${l}/mlp/down_proj/MatMul_output_0`),
  );
  proto.graph.node = proto.graph.node.filter((n: { name: string }) => !/\/mlp\//.test(n.name));
  assert.throws(
    () => findUnitTensors(proto, "ffn_out", "renamed.onnx"),
    (e: unknown) =>
      e instanceof InputError && /renamed\.onnx/.test(e.message) &&
      /\/decoder\/block_0/.test(e.message) && /MatMul ×\d+/.test(e.message),
  );
  const named = await openOnnxUnitModel(bytes, "x.onnx", {
    tensors: ["/model/layers.1/mlp/down_proj/MatMul_output_0"],
  });
  assert.equal((await runUnits(named, [1, 403]))[0].length, 2 * model.config.dim);
  await assert.rejects(
    () => openOnnxUnitModel(bytes, "x.onnx", { tensors: ["nope"] }),
    /no node produces[\s\S]*nope/,
  );
});

Deno.test("the ONNX random-weights control redraws weight matrices only, reproducibly", async () => {
  const { randomizeOnnxWeights } = await import("./onnx_rewrite.ts");
  const a = randomizeOnnxWeights(bytes, 3), b = randomizeOnnxWeights(bytes, 3);
  assert.deepEqual(a, b);
  const init = (buf: Uint8Array, name: string) => {
    const i = decodeOnnx(buf).graph.initializer.find((x: { name: string }) => x.name === name);
    return new Float32Array(Uint8Array.from(i.rawData).buffer);
  };
  const before = init(bytes, "/model/layers.0/mlp/down_proj.weight");
  const after = init(a, "/model/layers.0/mlp/down_proj.weight");
  assert.equal(after.length, before.length);
  assert.ok(after.some((v, i) => v !== before[i]));
  const sd = (w: Float32Array) => Math.sqrt(w.reduce((s, v) => s + v * v, 0) / w.length);
  assert.ok(Math.abs(sd(after) / sd(before) - 1) < 0.1);
  assert.deepEqual(init(a, "rope_cos_table"), init(bytes, "rope_cos_table"));
  assert.deepEqual(
    init(a, "/model/layers.0/input_layernorm.weight"),
    init(bytes, "/model/layers.0/input_layernorm.weight"),
  );
});

Deno.test("bidirectional windows give each word the window where it is most central", async () => {
  const { bidirectionalWindows } = await import("./onnx_capture.ts");
  const { windows, windowOf } = bidirectionalWindows(10, 3);
  assert.deepEqual(windows, [[0, 6], [3, 9], [6, 10]]);
  assert.deepEqual([...windowOf], [0, 0, 0, 0, 0, 1, 1, 1, 2, 2]);
  for (let w = 0; w < 10; w++) {
    const [s, e] = windows[windowOf[w]];
    const margin = Math.min(w - s, e - 1 - w);
    assert.ok(
      windows.every(([s2, e2]) => w < s2 || w >= e2 || Math.min(w - s2, e2 - 1 - w) <= margin),
    );
  }
});
