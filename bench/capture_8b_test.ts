import assert from "node:assert/strict";
import { join } from "node:path";
import { readGgufLlama, readGgufLlamaHeader } from "../packages/models/gguf_model.ts";
import { createTokenizer } from "../packages/models/tokenizer.ts";
import { captureWords } from "../packages/models/capture.ts";
import { captureWordsStreamed } from "../packages/models/llama_streamed.ts";
import {
  LLAMA3_8B,
  syntheticDataBytes,
  syntheticWords,
  type SynthShape,
  writeSyntheticGguf,
} from "./_gguf_synth.ts";

Deno.test("the 8B bench's synthetic GGUF reads back whole; its words are 1 or 2 tokens; streamed equals in-memory on it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "brainorg-synth-" });
  try {
    const shape: SynthShape = {
      ...LLAMA3_8B,
      dim: 128,
      hiddenDim: 256,
      layers: 2,
      heads: 4,
      kvHeads: 1,
      vocabSize: 4264,
    };
    const path = join(dir, "s.gguf");
    await writeSyntheticGguf(path, shape);
    const size = (await Deno.stat(path)).size, data = syntheticDataBytes(shape);
    assert.ok(size > data && size < data + (1 << 20), `${size} bytes for ${data} of data`);
    const model = await readGgufLlama(path);
    assert.deepEqual(model.tensorTypes, { F16: 2 + 7 * 2, F32: 1 + 2 * 2 });
    assert.equal(model.config.kvHeads, 1);
    // Weights drawn normal with σ 0.02.
    const w = model.layers[1].gate;
    const sd = Math.sqrt(w.reduce((s, v) => s + v * v, 0) / w.length);
    assert.ok(Math.abs(sd - 0.02) < 0.0005, `σ ${sd}`);
    const tok = createTokenizer(model.vocab);
    const words = syntheticWords(200);
    const counts = words.map((x) => tok.encode(x, { bos: false }).length);
    assert.ok(counts.every((c) => c === 1 || c === 2), String(counts));
    const share = counts.filter((c) => c === 2).length / counts.length;
    assert.ok(share > 0.2 && share < 0.4, `two-token words: ${share}`);
    const want = captureWords(model, tok, words, { context: 32 });
    const got = await captureWordsStreamed(await readGgufLlamaHeader(path), tok, words, {
      context: 32,
    });
    let max = 0, scale = 0;
    for (let i = 0; i < want.data.length; i++) {
      max = Math.max(max, Math.abs(got.data[i] - want.data[i]));
      scale = Math.max(scale, Math.abs(want.data[i]));
    }
    // σ 0.02 weights give small units: the tolerance is relative to the largest.
    assert.ok(scale > 0.01 && max <= 1e-4 * scale, `max difference ${max} (scale ${scale})`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
