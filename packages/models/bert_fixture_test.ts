import assert from "node:assert/strict";
import { tinyBert, tinyBertFfn, writeTinyBert } from "./_fixtures.ts";
import { openHfModel } from "./hf_layout.ts";
import { bidirectionalWindows, captureWordsFramed, runUnits } from "./onnx_capture.ts";

Deno.test("a BERT-like export: FFN units found by Optimum's names, equal to a plain TypeScript forward pass", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const m = tinyBert(7);
    await writeTinyBert(dir, m);
    const hf = await openHfModel(dir);
    assert.deepEqual(hf.onnx.tensors.map((t) => t.tensor), [
      "/bert/encoder/layer.0/output/dense/Add_output_0",
      "/bert/encoder/layer.1/output/dense/Add_output_0",
    ]);
    assert.deepEqual(hf.frame, { prefix: [2], suffix: [3], causal: false });
    assert.deepEqual(hf.tokenizeWord("Beginning"), [6, 7]);
    assert.deepEqual(hf.encode("Alice was tired."), [2, 4, 5, 11, 22, 3]);
    const ids = hf.encode("Alice was beginning to get very tired of sitting by her sister");
    const got = await runUnits(hf.onnx, ids), want = tinyBertFfn(m, ids);
    let worst = 0;
    want.forEach((layer, l) =>
      layer.forEach((tok, t) =>
        tok.forEach((v, u) => (worst = Math.max(worst, Math.abs(v - got[l][t * m.dim + u]))))
      )
    );
    assert.ok(worst < 1e-4, `FFN units differ by ${worst}`);

    // Words from overlapping windows, each from the window where it is most central.
    const words =
      "Alice was beginning to get very tired of sitting by her sister on the bank , and of".split(
        " ",
      );
    const acts = await captureWordsFramed(hf.onnx, hf.tokenizeWord, hf.frame, words, {
      context: 4,
    });
    const { windows, windowOf } = bidirectionalWindows(words.length, 4);
    for (const w of [0, 5, 9, words.length - 1]) {
      const [s, e] = windows[windowOf[w]];
      const toks = words.slice(s, e).map(hf.tokenizeWord);
      const first = 1 + toks.slice(0, w - s).reduce((a, t) => a + t.length, 0);
      const ref = tinyBertFfn(m, [2, ...toks.flat(), 3]);
      for (let l = 0; l < 2; l++) {
        for (let u = 0; u < m.dim; u++) {
          const mean = toks[w - s].reduce((a, _, i) => a + ref[l][first + i][u], 0) /
            toks[w - s].length;
          assert.ok(
            Math.abs(acts.data[w * acts.units + l * m.dim + u] - mean) < 1e-4,
            `word ${w} layer ${l} unit ${u}`,
          );
        }
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the rewriter knows RoBERTa's and GPT-2's export names too", async () => {
  const { decodeOnnx, findUnitTensors } = await import("./onnx_rewrite.ts");
  const { tinyBertOnnx } = await import("./_fixtures.ts");
  const bytes = tinyBertOnnx(tinyBert(5));
  const renamed = (from: RegExp, to: string) => {
    const proto = decodeOnnx(bytes);
    for (const n of proto.graph.node) {
      n.name = n.name.replace(from, to);
      n.output = n.output.map((o: string) => o.replace(from, to));
      n.input = n.input.map((o: string) => o.replace(from, to));
    }
    return proto;
  };
  const roberta = findUnitTensors(renamed(/^\/bert\//, "/roberta/"));
  assert.deepEqual(
    roberta.map((t) => t.tensor),
    [0, 1].map((l) => `/roberta/encoder/layer.${l}/output/dense/Add_output_0`),
  );
  const gpt2 = findUnitTensors(
    renamed(/^\/bert\/encoder\/layer\.(\d+)\/output\/dense\//, "/transformer/h.$1/mlp/c_proj/"),
  );
  assert.deepEqual(
    gpt2.map((t) => t.tensor),
    [0, 1].map((l) => `/transformer/h.${l}/mlp/c_proj/Add_output_0`),
  );
  // The hidden units are the input of the FFN's second linear layer: BERT's GELU output.
  assert.equal(
    findUnitTensors(decodeOnnx(bytes), "ffn_hidden")[1].tensor,
    "/bert/encoder/layer.1/intermediate/intermediate_act_fn/Mul_1_output_0",
  );
});
