import assert from "node:assert/strict";
import { join } from "node:path";
import { InputError } from "@brainorg/common";
import { havePython, runPython } from "../../test/python.ts";
import { captureWords } from "./capture.ts";
import { type LlamaModel, readGgufLlama } from "./gguf_model.ts";
import { ggufArchitecture, ggufBpeFields } from "./gguf_arch.ts";
import { createLlamaSession } from "./llama.ts";
import { createTokenizer } from "./tokenizer.ts";
import { CORPUS, QWEN2_SHAPE, randomModel, trainBpe } from "./_bpe_fixture.ts";
import { llamaGguf, writeGgufLlama } from "./_gguf_writer.ts";
import type { GgmlTypeName } from "./gguf_quants.ts";
import { NUMPY_FORWARD } from "./_numpy_gguf.ts";

/** Llama 3's shape in small: byte-level BPE ("llama-bpe"), GQA 8:2, RoPE base 500000. */
const llama3 = randomModel(trainBpe(CORPUS, 150, "llama-bpe"), { seed: 3 });
/** Qwen2's: its pre-tokenizer, q/k/v biases, NeoX RoPE, base 1e6. */
const qwen2 = randomModel(trainBpe(CORPUS, 150, "qwen2"), {
  seed: 5,
  ...QWEN2_SHAPE,
});

async function withDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "brainorg-gguf-arch-" });
  try {
    return await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function sameBits(a: Float32Array, b: Float32Array, what: string): void {
  assert.equal(a.length, b.length, what);
  for (let i = 0; i < a.length; i++) {
    if (!Object.is(a[i], b[i])) assert.fail(`${what}[${i}]: ${a[i]} vs ${b[i]}`);
  }
}

Deno.test("Llama-3-like, Qwen2-like and Mistral files read back: keys by architecture, biases, BPE vocabulary", async () => {
  await withDir(async (dir) => {
    const mistral = {
      ...llama3,
      config: { ...llama3.config, architecture: "mistral", ropeTheta: 1e6 },
    };
    for (
      const [name, model] of [["llama3", llama3], ["qwen2", qwen2], ["mistral", mistral]] as const
    ) {
      const path = join(dir, `${name}.gguf`);
      await writeGgufLlama(path, model, { type: "F32" });
      const back = await readGgufLlama(path);
      assert.deepEqual(back.config, model.config, name);
      assert.equal(back.vocab.kind, "bpe");
      assert.deepEqual(back.vocab.merges, model.vocab.merges);
      assert.equal(back.vocab.pre, model.vocab.pre);
      assert.deepEqual(back.vocab.types, model.vocab.types);
      assert.deepEqual(back.vocab.pieces, model.vocab.pieces);
      assert.equal(back.vocab.bos, model.vocab.bos);
      back.layers.forEach((w, l) => {
        for (const k of ["wq", "wk", "wv", "down", "bq", "bk", "bv"] as const) {
          const want = model.layers[l][k];
          if (want) sameBits(w[k]!, want, `${name} ${k}`);
          else assert.equal(k in w, false, `${name}: no ${k} where the file has none`);
        }
      });
      sameBits(back.output, model.output, `${name} output`);
      const text = "Alice's 12 rabbits, 🦙 and\nthe daisies.";
      assert.deepEqual(
        createTokenizer(back.vocab).encode(text),
        createTokenizer(model.vocab).encode(text),
      );
    }
    const q = await readGgufLlama(join(dir, "qwen2.gguf"));
    assert.equal(q.config.ropeType, "neox");
    assert.equal(q.config.ropeTheta, 1e6);
  });
});

Deno.test("unknown architectures, tokenizers and pre-tokenizers are refused naming the key", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "bad.gguf");
    const refused = async (model: LlamaModel, field: string, found: string, expected: RegExp) => {
      await Deno.writeFile(path, llamaGguf(model, { type: "F32" }));
      await assert.rejects(() => readGgufLlama(path), (err: unknown) => {
        assert.ok(err instanceof InputError, String(err));
        assert.equal(err.file, path);
        assert.equal(err.field, field);
        assert.equal(err.found, found);
        assert.match(err.expected ?? "", expected);
        return true;
      });
    };
    await refused(
      { ...llama3, config: { ...llama3.config, architecture: "falcon" } },
      "general.architecture",
      "falcon",
      /llama, mistral, qwen2/,
    );
    await refused(
      { ...llama3, vocab: { ...llama3.vocab, pre: "tekken" } },
      "tokenizer.ggml.pre",
      "tekken",
      /llama-bpe.*qwen2/,
    );
  });
});

Deno.test("tokenizer metadata: SentencePiece adds nothing, byte-level BPE its parts, others refused", () => {
  assert.deepEqual(ggufBpeFields({}, "m.gguf", 3), {});
  assert.deepEqual(ggufBpeFields({ "tokenizer.ggml.model": "llama" }, "m.gguf", 3), {});
  const bpe = ggufBpeFields(
    {
      "tokenizer.ggml.model": "gpt2",
      "tokenizer.ggml.merges": ["a b"],
      "tokenizer.ggml.token_type": [1, 1, 3],
    },
    "m.gguf",
    3,
  );
  assert.deepEqual(bpe, {
    kind: "bpe",
    merges: ["a b"],
    pre: "default",
    types: Int32Array.of(1, 1, 3),
  });
  const refused = (metadata: Record<string, unknown>, field: string, found: string) =>
    assert.throws(() => ggufBpeFields(metadata, "m.gguf", 3), (err: unknown) => {
      assert.ok(err instanceof InputError, String(err));
      assert.equal(err.file, "m.gguf");
      assert.equal(err.field, field);
      assert.equal(err.found, found);
      return true;
    });
  refused({ "tokenizer.ggml.model": "bert" }, "tokenizer.ggml.model", '"bert"');
  refused({ "tokenizer.ggml.model": "gpt2" }, "tokenizer.ggml.merges", "nothing");
  refused(
    {
      "tokenizer.ggml.model": "gpt2",
      "tokenizer.ggml.merges": [],
      "tokenizer.ggml.token_type": [1],
    },
    "tokenizer.ggml.token_type",
    "a list of 1",
  );
  assert.throws(() => ggufArchitecture({}, "m.gguf"), /general\.architecture/);
});

Deno.test({
  name: "Llama-3-like and Qwen2-like forward passes equal an independent numpy forward pass",
  ignore: !havePython(["numpy"], "Llama/Qwen2 forward reference"),
  async fn() {
    await withDir(async (dir) => {
      for (const [name, model] of [["llama3", llama3], ["qwen2", qwen2]] as const) {
        const path = join(dir, `${name}.gguf`);
        await writeGgufLlama(path, model, { type: "F32" });
        const read = await readGgufLlama(path);
        const tokens = createTokenizer(read.vocab).encode("Alice was beginning to get very tired");
        assert.ok(tokens.length >= 6);
        const ref = await runPython<number[][][]>(NUMPY_FORWARD, [path, JSON.stringify(tokens)]);
        const { layers, dim } = read.config, session = createLlamaSession(read);
        let worst = 0;
        tokens.forEach((t, p) => {
          const { ffnOut } = session.step(t);
          for (let l = 0; l < layers; l++) {
            for (let u = 0; u < dim; u++) {
              const want = ref[p][l][u], got = ffnOut[l * dim + u];
              worst = Math.max(worst, Math.abs(got - want) / (1 + Math.abs(want)));
            }
          }
        });
        assert.ok(worst < 1e-4, `${name}: worst relative difference ${worst}`);
      }
    });
  },
});

Deno.test("NeoX RoPE equals adjacent-pair RoPE on q/k rows permuted as llama.cpp's converter does", () => {
  const { dim, heads, kvHeads } = qwen2.config, hd = dim / heads, half = hd / 2;
  // Row 2j + t of each head takes the NeoX row t·hd/2 + j (convert_hf_to_gguf's permute).
  const permute = (w: Float32Array, rows: number) => {
    const cols = w.length / rows, out = new Float32Array(w.length);
    for (let r = 0; r < rows; r++) {
      const h = Math.floor(r / hd), i = r % hd, j = i >> 1, t = i & 1;
      const from = h * hd + t * half + j;
      out.set(w.subarray(from * cols, (from + 1) * cols), r * cols);
    }
    return out;
  };
  const kvDim = kvHeads * hd;
  const norm: LlamaModel = {
    ...qwen2,
    config: { ...qwen2.config, ropeType: undefined },
    layers: qwen2.layers.map((w) => ({
      ...w,
      wq: permute(w.wq, dim),
      wk: permute(w.wk, kvDim),
      bq: permute(w.bq!, dim),
      bk: permute(w.bk!, kvDim),
    })),
  };
  const noBias: LlamaModel = {
    ...qwen2,
    layers: qwen2.layers.map(({ bq: _q, bk: _k, bv: _v, ...w }) => w),
  };
  const a = createLlamaSession(qwen2), b = createLlamaSession(norm);
  const c = createLlamaSession(noBias);
  let worst = 0, biasEffect = 0;
  for (const t of createTokenizer(qwen2.vocab).encode("so VERY remarkable in that")) {
    const x = a.step(t).ffnOut, y = b.step(t).ffnOut, z = c.step(t).ffnOut;
    for (let i = 0; i < x.length; i++) {
      worst = Math.max(worst, Math.abs(x[i] - y[i]) / (1 + Math.abs(x[i])));
      biasEffect = Math.max(biasEffect, Math.abs(x[i] - z[i]));
    }
  }
  assert.ok(worst < 1e-5, `NeoX vs permuted: ${worst}`);
  assert.ok(biasEffect > 0.05, `the biases change the units (${biasEffect})`);
});

/**
 * Largest relative RMS error of a capture's activations against float32's,
 * per type (ggml's reference quantizers). Measured on these two models:
 * F16 5.8e-4, BF16 4.7e-3, Q8_0 1.5e-2, Q6_K 4.9e-2, Q4_K 0.19: about
 * √7 times each type's relative RMS error per weight (F16 2e-4, BF16 1.6e-3,
 * Q8_0 5.4e-3, Q6_K 1.8e-2, Q4_K 7.2e-2, on N(0, 1) weights), as the errors of the seven
 * matrices on a unit's path add up independently. The tolerances leave
 * about 40 % over the measured values.
 */
const TOLERANCE: Partial<Record<GgmlTypeName, number>> = {
  F16: 1e-3,
  BF16: 7e-3,
  Q8_0: 2.2e-2,
  Q6_K: 7e-2,
  Q4_K: 0.27,
};

Deno.test("each type's capture equals the float32 capture within its tolerance (relative RMS)", async () => {
  await withDir(async (dir) => {
    const words = CORPUS.split(/\s+/).slice(0, 32);
    for (const [name, model] of [["llama3", llama3], ["qwen2", qwen2]] as const) {
      const capture = async (type: GgmlTypeName) => {
        const path = join(dir, `${name}-${type}.gguf`);
        await writeGgufLlama(path, model, { type, quantizer: "ggml" });
        const read = await readGgufLlama(path);
        return captureWords(read, createTokenizer(read.vocab), words, { context: 16 });
      };
      const ref = await capture("F32");
      // Words map to their tokens with their leading space ("Ġ"), as running text has them.
      const tok = createTokenizer(model.vocab);
      assert.deepEqual(ref.tokens[1], tok.encode(" " + words[1], { bos: false }));
      assert.ok(ref.tokens.every((t) => tok.piece(t[0]).startsWith(" ")));
      let norm = 0, previous = 0;
      for (const v of ref.data) norm += v * v;
      for (const [type, tolerance] of Object.entries(TOLERANCE) as [GgmlTypeName, number][]) {
        const got = await capture(type);
        let err = 0;
        for (let i = 0; i < got.data.length; i++) err += (got.data[i] - ref.data[i]) ** 2;
        const rel = Math.sqrt(err / norm);
        console.log(`${name} ${type}: relative RMS error ${rel.toExponential(2)}`);
        assert.ok(rel <= tolerance, `${name} ${type}: ${rel} > ${tolerance}`);
        // Fewer bits, larger errors: the types are listed from most bits to fewest.
        assert.ok(rel > previous, `${name} ${type}: ${rel}, no larger than the type before`);
        previous = rel;
      }
    }
  });
});
