import assert from "node:assert/strict";
import { join } from "node:path";
import { InputError } from "@brainorg/common";
import { dataPath } from "../../test/data.ts";
import { readTranscript } from "@brainorg/neuro";
import { readGgufLlama } from "./gguf_model.ts";
import { createTokenizer } from "./tokenizer.ts";
import { captureWords } from "./capture.ts";
import { openHfModel, writeHfLlama } from "./hf_layout.ts";
import { captureWordsFramed } from "./onnx_capture.ts";

const model = await readGgufLlama(await dataPath("models/stories260K.gguf"));
const tok = createTokenizer(model.vocab);

Deno.test("GGUF → Hugging Face layout: its tokenizer.json tokenizes as SentencePiece does, its graph captures the same units", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const out = join(dir, "stories260K");
    await writeHfLlama(out, model);
    const config = JSON.parse(await Deno.readTextFile(join(out, "config.json")));
    assert.equal(config.model_type, "llama");
    assert.equal(config.num_key_value_heads, 4);
    assert.equal(config.tie_word_embeddings, model.output === model.embedding);
    const hf = await openHfModel(out);
    // Read through @huggingface/tokenizers, the library transformers.js tokenizes with.
    assert.deepEqual(hf.encode("Once upon a time"), [1, 403, 407, 261, 378]);
    assert.deepEqual(hf.encode("naïve café ✓"), tok.encode("naïve café ✓"));
    const t = await readTranscript(
      await dataPath("alice/alice_stim_shared/DownTheRabbitHoleFinal_exp120_pad_1.TextGrid"),
    );
    const words = t.words.map((w) => w.word);
    const differ = words.filter((w) =>
      hf.tokenizeWord(w).join() !== tok.encode(w, { bos: false }).join()
    );
    assert.deepEqual(differ, [], "every Alice word tokenizes the same");
    assert.deepEqual(hf.frame, { prefix: [1], suffix: [], causal: true });
    const some = words.slice(0, 40), opts = { context: 8, aggregate: "mean" as const };
    const a = captureWords(model, tok, some, opts);
    const b = await captureWordsFramed(hf.onnx, hf.tokenizeWord, hf.frame, some, opts);
    let worst = 0;
    a.data.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - b.data[i]))));
    assert.ok(worst < 1e-4, `capture differs by ${worst}`);
    // The random control changes the units but not their shape.
    const r = await openHfModel(out, { randomSeed: 1 });
    assert.notEqual(r.sha256, hf.sha256);
    const c = await captureWordsFramed(r.onnx, r.tokenizeWord, r.frame, some.slice(0, 5), opts);
    assert.equal(c.units, b.units);
    assert.ok(c.data.some((v, i) => Math.abs(v - b.data[i]) > 1e-3));
    // A folder without its graph is named.
    await Deno.remove(join(out, "onnx", "model.onnx"));
    await assert.rejects(
      () => openHfModel(out),
      (e: unknown) => e instanceof InputError && /onnx\/model\.onnx/.test(e.message),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
