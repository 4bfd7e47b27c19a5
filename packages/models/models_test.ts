import assert from "node:assert/strict";
import { dataPath } from "../../test/data.ts";
import { havePython, runPython } from "../../test/python.ts";
import { readGgufLlama } from "./gguf_model.ts";
import { createTokenizer } from "./tokenizer.ts";
import { createLlamaSession, greedyDecode } from "./llama.ts";
import { captureWords, captureWordsParallel, randomizeWeights } from "./capture.ts";
import { NUMPY_FORWARD } from "./_numpy_gguf.ts";

const MODEL = await dataPath("models/stories260K.gguf");
const model = await readGgufLlama(MODEL);
const tok = createTokenizer(model.vocab);

Deno.test("stories260K: the published configuration and tokenization", () => {
  assert.deepEqual(
    { ...model.config, normEps: +model.config.normEps.toFixed(6) },
    {
      dim: 64,
      hiddenDim: 172,
      layers: 5,
      heads: 8,
      kvHeads: 4,
      vocabSize: 512,
      contextLength: 2048,
      normEps: 0.00001,
      ropeTheta: 10000,
    },
  );
  assert.deepEqual(tok.encode("Once upon a time"), [1, 403, 407, 261, 378]);
  for (const text of ["Hello, world!", "naïve café ✓", "Alice was beginning to get very tired"]) {
    assert.equal(tok.decode(tok.encode(text)), text);
  }
});

Deno.test("greedy decoding from BOS reproduces llama2.c's published stories260K sample", () => {
  const text = tok.decode(greedyDecode(model, [model.vocab.bos], 200));
  assert.ok(
    text.startsWith(
      "Once upon a time, there was a little girl named Lily. She loved to play outside in the park. " +
        "One day, she saw a big, red ball.",
    ),
    text.slice(0, 200),
  );
});

Deno.test({
  name: "captured FFN units equal an independent numpy forward pass from the GGUF bytes",
  ignore: !havePython(["numpy"], "Llama forward reference"),
  async fn() {
    const tokens = tok.encode("Once upon a time there was a cat");
    const ref = await runPython<number[][][]>(NUMPY_FORWARD, [MODEL, JSON.stringify(tokens)]);
    const session = createLlamaSession(model);
    tokens.forEach((t, p) => {
      const { ffnOut } = session.step(t);
      for (let l = 0; l < 5; l++) {
        for (let u = 0; u < 64; u++) {
          const want = ref[p][l][u], got = ffnOut[l * 64 + u];
          assert.ok(
            Math.abs(got - want) < 1e-4 * (1 + Math.abs(want)),
            `token ${p} layer ${l} unit ${u}: ${got} vs ${want}`,
          );
        }
      }
    });
  },
});

Deno.test("word capture: rows per word, token means, windows that keep enough left context", () => {
  const words = "Alice was beginning to get very tired of sitting by her sister".split(" ");
  const acts = captureWords(model, tok, words, { context: 64 });
  assert.equal(acts.words, 12);
  assert.equal(acts.units, 320);
  assert.deepEqual(acts.index[70], { layer: 1, unit: 6 });
  // One window: the same as stepping through the whole sequence once.
  const session = createLlamaSession(model);
  session.step(model.vocab.bos);
  for (let w = 0; w < words.length; w++) {
    const mean = new Float32Array(320);
    for (const t of acts.tokens[w]) {
      const { ffnOut } = session.step(t);
      for (let u = 0; u < 320; u++) mean[u] += ffnOut[u] / acts.tokens[w].length;
    }
    for (let u = 0; u < 320; u++) assert.ok(Math.abs(acts.data[w * 320 + u] - mean[u]) < 1e-5);
  }
  // Short windows re-read the previous window: a word late in a window matches the long read
  // only approximately, but every word gets a row and the first window is identical.
  const short = captureWords(model, tok, words, { context: 4 });
  for (let u = 0; u < 320; u++) assert.ok(Math.abs(short.data[u] - acts.data[u]) < 1e-5);
  assert.ok(short.data.some((v, i) => i >= 4 * 320 && Math.abs(v - acts.data[i]) > 1e-4));
});

Deno.test("the random-weights control redraws every matrix, reproducibly, keeping each tensor's scale", () => {
  const a = randomizeWeights(model, 1),
    b = randomizeWeights(model, 1),
    c = randomizeWeights(model, 2);
  assert.deepEqual(a.layers[2].down, b.layers[2].down);
  assert.notDeepEqual(a.layers[2].down, c.layers[2].down);
  assert.deepEqual(a.layers[0].attnNorm, model.layers[0].attnNorm);
  const sd = (w: Float32Array) => {
    const m = w.reduce((s, v) => s + v, 0) / w.length;
    return Math.sqrt(w.reduce((s, v) => s + (v - m) ** 2, 0) / w.length);
  };
  const ratio = sd(a.layers[3].gate) / sd(model.layers[3].gate);
  assert.ok(ratio > 0.95 && ratio < 1.05, `sd ratio ${ratio}`);
  assert.notEqual(
    tok.decode(greedyDecode(a, [a.vocab.bos], 20)),
    tok.decode(greedyDecode(model, [model.vocab.bos], 20)),
  );
});

Deno.test("capture on worker threads equals the capture in one thread, bit for bit, with progress to the end", async () => {
  const model = await readGgufLlama(MODEL), tokenizer = createTokenizer(model.vocab);
  const words = "Once upon a time there was a little girl named Lily who loved to play outside"
    .repeat(6).split(" ");
  const one = captureWords(model, tokenizer, words, { context: 8 });
  const seen: number[] = [];
  const many = await captureWordsParallel(model, tokenizer, words, {
    context: 8,
    threads: 3,
    onProgress: (done) => seen.push(done),
  });
  assert.deepEqual(many.data, one.data);
  assert.deepEqual(many.tokens, one.tokens);
  assert.equal(seen.at(-1), words.length);
  assert.ok(seen.every((v, i) => i === 0 || v > seen[i - 1]), "progress only grows");
});
