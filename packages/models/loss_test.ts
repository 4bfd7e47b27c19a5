import assert from "node:assert/strict";
import { dataPath } from "../../test/data.ts";
import { readGgufLlama } from "./gguf_model.ts";
import { createTokenizer } from "./tokenizer.ts";
import { createLlamaSession } from "./llama.ts";
import { ablationMask, lossTrace, nextTokenLoss, nextTokenLosses } from "./loss.ts";

const model = await readGgufLlama(await dataPath("models/stories260K.gguf"));
const tok = createTokenizer(model.vocab);
const text = tok.encode(
  "Once upon a time, there was a little girl named Lily. She loved to play outside in the park. " +
    "One day, she saw a big red ball and ran to get it.",
  { bos: false },
);

/** The loss from the session's logits, by log of the softmax probability (another formula). */
function directLoss(tokens: number[], ablate?: number[]): number {
  const s = createLlamaSession(model, ablate ? { ablate: ablationMask(model, ablate) } : {});
  let logits = s.step(model.vocab.bos).logits, sum = 0;
  for (let i = 0; i < tokens.length; i++) {
    let z = 0;
    for (const v of logits) z += Math.exp(v);
    sum -= Math.log(Math.exp(logits[tokens[i]]) / z);
    if (i + 1 < tokens.length) logits = s.step(tokens[i]).logits;
  }
  return sum / tokens.length;
}

Deno.test("nextTokenLoss: the mean cross-entropy of the session's logits", () => {
  const loss = nextTokenLoss(model, text);
  assert.ok(Math.abs(loss - directLoss(text)) < 1e-9, `${loss} vs ${directLoss(text)}`);
  // A trained story model reads a TinyStories sentence far better than chance (ln 512 = 6.24).
  assert.ok(loss > 0.3 && loss < 3, `loss ${loss}`);
  const ab = [64 * 2 + 5, 64 * 2 + 9, 64 * 4 + 1];
  assert.ok(Math.abs(nextTokenLoss(model, text, { ablate: ab }) - directLoss(text, ab)) < 1e-9);
});

Deno.test("nextTokenLoss: ablating nothing changes nothing, bit for bit", () => {
  const loss = nextTokenLoss(model, text);
  assert.equal(nextTokenLoss(model, text, { ablate: [] }), loss);
  assert.equal(
    nextTokenLoss(model, text, { ablate: [new Uint8Array(64), undefined, new Uint8Array(64)] }),
    loss,
  );
});

Deno.test("nextTokenLoss: ablating a whole layer, or a unit, changes the loss", () => {
  const loss = nextTokenLoss(model, text);
  for (let l = 0; l < model.config.layers; l++) {
    const all = Array.from({ length: 64 }, (_, u) => l * 64 + u);
    const changed = nextTokenLoss(model, text, { ablate: all });
    assert.ok(Math.abs(changed - loss) > 1e-3, `layer ${l}: ${changed} vs ${loss}`);
  }
  // The masked session zeroes exactly the masked units of ffnOut.
  const s = createLlamaSession(model, { ablate: ablationMask(model, [64 + 3]) });
  const whole = createLlamaSession(model).step(model.vocab.bos).ffnOut;
  const { ffnOut } = s.step(model.vocab.bos);
  assert.equal(ffnOut[64 + 3], 0);
  assert.notEqual(whole[64 + 3], 0);
  assert.deepEqual(ffnOut.subarray(0, 64), whole.subarray(0, 64));
});

Deno.test("nextTokenLoss: windows over a long text, each token scored once", () => {
  const long = [...text, ...text, ...text];
  // A context of 21 tokens: windows of 10 new tokens after 10 re-read.
  const windowed = nextTokenLoss(model, long, { context: 21 });
  let sum = 0;
  for (let start = 0; start < long.length; start += 10) {
    const warm = Math.max(0, start - 10), end = Math.min(long.length, start + 10);
    const part = long.slice(warm, end);
    // Loss over the window's tokens, minus the re-read ones' share.
    const all = directLoss(part) * part.length;
    const reread = start > warm ? directLoss(part.slice(0, start - warm)) * (start - warm) : 0;
    sum += all - reread;
  }
  assert.ok(Math.abs(windowed - sum / long.length) < 1e-9, `${windowed} vs ${sum / long.length}`);
  assert.notEqual(windowed, nextTokenLoss(model, long));
  assert.throws(() => nextTokenLoss(model, text, { context: 2 }), RangeError);
  assert.throws(() => nextTokenLoss(model, text, { ablate: [5 * 64] }), RangeError);
});

Deno.test("nextTokenLosses: the same on worker threads as in the calling thread", async () => {
  const texts = [text.slice(0, 20), text.slice(20, 40)];
  const ablations = [[], [1, 2, 3], [128, 200, 300]];
  const one = await nextTokenLosses(model, texts, ablations, { threads: 1 });
  const two = await nextTokenLosses(model, texts, ablations, { threads: 2 });
  assert.deepEqual(two, one);
  assert.equal(one[0], nextTokenLoss(model, texts[0]));
  assert.equal(one[2 * 2 + 1], nextTokenLoss(model, texts[1], { ablate: [128, 200, 300] }));
});

Deno.test("nextTokenLoss: resumed from the whole model's trace, the same bit for bit", () => {
  const long = [...text, ...text];
  for (const context of [undefined, 25]) {
    const c = context ? { context } : {};
    const trace = lossTrace(model, long, c);
    for (const ablate of [[], [5], [64 + 3, 200], [4 * 64 + 63], [64, 65, 66, 130, 319]]) {
      assert.equal(
        nextTokenLoss(model, long, { ablate, trace, ...c }),
        nextTokenLoss(model, long, { ablate, ...c }),
        `ablate ${ablate}, context ${context}`,
      );
    }
    assert.throws(() => nextTokenLoss(model, text, { ablate: [5], trace, ...c }), RangeError);
  }
});
