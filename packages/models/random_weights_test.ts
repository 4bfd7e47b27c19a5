import assert from "node:assert/strict";
import { join } from "node:path";
import { dataPath } from "../../test/data.ts";
import { havePython, runPython } from "../../test/python.ts";
import { readGgufLlama, readGgufLlamaHeader } from "./gguf_model.ts";
import { createTokenizer } from "./tokenizer.ts";
import { captureWords, randomizeWeights, type WordActivations } from "./capture.ts";
import { captureWordsStreamed } from "./llama_streamed.ts";
import { captureGgufWords } from "./gguf_capture.ts";
import { CORPUS, QWEN2_SHAPE, randomModel, trainBpe } from "./_bpe_fixture.ts";
import { writeGgufLlama } from "./_gguf_writer.ts";
import { normalStatsOf, redrawRows, tensorUniform } from "./random_weights.ts";

const MODEL = await dataPath("models/stories260K.gguf");
const model = await readGgufLlama(MODEL);
const header = await readGgufLlamaHeader(MODEL);
const tok = createTokenizer(model.vocab);
const STORY = ("Once upon a time there was a little girl named Lily. She loved to play outside " +
  "in the park. One day, she saw a big, red ball.").split(" ");

/** The largest |a − b| over two captures of the same words, and the largest |b|. */
function maxDiff(a: WordActivations, b: WordActivations): { diff: number; scale: number } {
  assert.equal(a.data.length, b.data.length);
  let diff = 0, scale = 0;
  for (let i = 0; i < a.data.length; i++) {
    diff = Math.max(diff, Math.abs(a.data[i] - b.data[i]));
    scale = Math.max(scale, Math.abs(b.data[i]));
  }
  return { diff, scale };
}

/** Redrawn values keep the trained tensor's mean and SD within 5 sampling errors. */
function assertMoments(got: Float32Array, trained: Float32Array, what: string): void {
  const a = normalStatsOf(got), b = normalStatsOf(trained), n = got.length;
  assert.ok(
    Math.abs(a.mean - b.mean) <= 5 * b.sd / Math.sqrt(n),
    `${what}: mean ${a.mean} vs ${b.mean}`,
  );
  assert.ok(
    Math.abs(a.sd / b.sd - 1) <= 5 / Math.sqrt(2 * n),
    `${what}: sd ${a.sd} vs ${b.sd}`,
  );
}

Deno.test("the tensor generators depend on the seed and the name, and are repeatable", () => {
  const draw = (seed: number, name: string) => {
    const u = tensorUniform(seed, name);
    return [u(), u(), u()];
  };
  assert.deepEqual(draw(1, "blk.0.attn_q.weight"), draw(1, "blk.0.attn_q.weight"));
  assert.notDeepEqual(draw(1, "blk.0.attn_q.weight"), draw(2, "blk.0.attn_q.weight"));
  assert.notDeepEqual(draw(1, "blk.0.attn_q.weight"), draw(1, "blk.1.attn_q.weight"));
  // An embedding row is the same whichever other rows are drawn with it.
  const stats = { mean: 0.5, sd: 2 };
  const all = redrawRows(stats, 4, [0, 1, 2, 3], 9), some = redrawRows(stats, 4, [3, 1], 9);
  assert.deepEqual(some, Float32Array.from([...all.subarray(12, 16), ...all.subarray(4, 8)]));
});

Deno.test("stories260K: the control streamed block by block is the in-memory control, deterministic, unlike the trained model", async () => {
  const control = randomizeWeights(model, 7);
  const want = captureWords(control, tok, STORY, { context: 8 });
  const got = await captureWordsStreamed(header, tok, STORY, { context: 8, randomSeed: 7 });
  const again = await captureWordsStreamed(header, tok, STORY, { context: 8, randomSeed: 7 });
  assert.deepEqual(again.data, got.data);
  const same = maxDiff(got, want);
  assert.ok(same.scale > 0.1, `units too small to compare: ${same.scale}`);
  assert.ok(same.diff <= 1e-5 * (1 + same.scale), `streamed vs in-memory control: ${same.diff}`);
  const trained = captureWords(model, tok, STORY, { context: 8 });
  assert.ok(maxDiff(got, trained).diff > 0.1 * maxDiff(got, trained).scale);
  const other = await captureWordsStreamed(header, tok, STORY, { context: 8, randomSeed: 8 });
  assert.ok(maxDiff(other, got).diff > 0.1 * got.data.reduce((m, v) => Math.max(m, v), 0));
  // captureGgufWords passes the seed on either path.
  for (const streamed of [true, false]) {
    const viaFile = await captureGgufWords(MODEL, STORY, {
      context: 8,
      randomSeed: 7,
      streamed,
      threads: 1,
    });
    assert.ok(maxDiff(viaFile.activations, want).diff <= 1e-5 * (1 + same.scale));
    assert.match(viaFile.source, /weights redrawn, seed 7/);
  }
});

Deno.test("stories260K control: each matrix keeps its moments, norms are kept, the seed repeats", () => {
  const a = randomizeWeights(model, 1),
    b = randomizeWeights(model, 1),
    c = randomizeWeights(model, 2);
  assert.deepEqual(a.layers[2].down, b.layers[2].down);
  assert.deepEqual(a.embedding, b.embedding);
  assert.notDeepEqual(a.layers[2].down, c.layers[2].down);
  assert.equal(a.layers[0].attnNorm, model.layers[0].attnNorm);
  for (const key of ["wq", "wk", "wv", "wo", "gate", "up", "down"] as const) {
    assertMoments(a.layers[3][key], model.layers[3][key], key);
  }
  assertMoments(a.embedding, model.embedding, "embedding");
  // Tied output stays tied.
  assert.equal(model.output === model.embedding, a.output === a.embedding);
});

Deno.test({
  name: "stories260K control: the redrawn weights are normal (scipy's Kolmogorov–Smirnov test)",
  ignore: !havePython(["numpy", "scipy"], "normality of the redrawn weights"),
  fn: async () => {
    const a = randomizeWeights(model, 3);
    const dir = await Deno.makeTempDir({ prefix: "brainorg-random-" });
    try {
      const { mean, sd } = normalStatsOf(model.layers[1].gate);
      await Deno.writeFile(join(dir, "w.f32"), new Uint8Array(a.layers[1].gate.buffer));
      const p = await runPython<number>(
        `import sys, json, numpy as np
from scipy import stats
w = np.fromfile(sys.argv[1], dtype=np.float32).astype(np.float64)
print(json.dumps(stats.kstest((w - float(sys.argv[2])) / float(sys.argv[3]), "norm").pvalue))`,
        [join(dir, "w.f32"), String(mean), String(sd)],
        ["numpy", "scipy"],
      );
      assert.ok(p > 1e-3, `KS p-value ${p}`);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("Qwen2-like control: q/k/v biases are redrawn with their moments, the same streamed and in memory", async () => {
  const qwen2 = randomModel(trainBpe(CORPUS, 150, "qwen2"), {
    seed: 5,
    ...QWEN2_SHAPE,
    dim: 64,
    hiddenDim: 128,
  });
  const dir = await Deno.makeTempDir({ prefix: "brainorg-random-qwen2-" });
  try {
    const path = join(dir, "qwen2.gguf");
    await writeGgufLlama(path, qwen2, { type: "F32" });
    const trained = await readGgufLlama(path), h = await readGgufLlamaHeader(path);
    const control = randomizeWeights(trained, 4);
    for (const key of ["bq", "bk", "bv"] as const) {
      const t = trained.layers[1][key]!, r = control.layers[1][key]!;
      assert.equal(r.length, t.length);
      assert.ok(r.some((v, i) => Math.abs(v - t[i]) > 0.1), `${key} kept`);
      assertMoments(r, t, key);
    }
    assert.deepEqual(randomizeWeights(trained, 4).layers[0].bk, control.layers[0].bk);
    const tokenizer = createTokenizer(trained.vocab);
    const words = CORPUS.split(/\s+/).slice(0, 30);
    const want = captureWords(control, tokenizer, words, { context: 6 });
    const got = await captureWordsStreamed(h, tokenizer, words, { context: 6, randomSeed: 4 });
    const { diff, scale } = maxDiff(got, want);
    assert.ok(diff <= 1e-5 * (1 + scale), `streamed vs in-memory Qwen2 control: ${diff}`);
    // The biases matter: without them redrawn the responses differ.
    const keptBiases = {
      ...control,
      layers: control.layers.map((l, i) => ({
        ...l,
        bq: trained.layers[i].bq!,
        bk: trained.layers[i].bk!,
        bv: trained.layers[i].bv!,
      })),
    };
    const old = captureWords(keptBiases, tokenizer, words, { context: 6 });
    assert.ok(maxDiff(old, want).diff > 1e-3 * (1 + scale));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
