import assert from "node:assert/strict";
import { join } from "node:path";
import { InputError } from "@brainorg/common";
import { createCpuBackend, rng } from "@brainorg/kernels";
import { dataPath } from "../../test/data.ts";
import { havePython, runPython } from "../../test/python.ts";
import { type LlamaModel, readGgufLlama, readGgufLlamaHeader } from "./gguf_model.ts";
import { createTokenizer } from "./tokenizer.ts";
import { captureWindows, captureWords, type WordActivations } from "./capture.ts";
import { type BlockTiming, captureWordsStreamed } from "./llama_streamed.ts";
import { captureGgufWords } from "./gguf_capture.ts";
import { ggufFloat32Bytes, openGgufTensors } from "./gguf_tensors.ts";
import { writeGgufLlama } from "./_gguf_writer.ts";
import { NUMPY_GGUF_F32 } from "./_numpy_gguf.ts";

const MODEL = await dataPath("models/stories260K.gguf");
const model = await readGgufLlama(MODEL);
const header = await readGgufLlamaHeader(MODEL);
const tok = createTokenizer(model.vocab);
const STORY = ("Once upon a time there was a little girl named Lily. She loved to play outside " +
  "in the park. One day, she saw a big, red ball. She wanted to play with it, but it was too " +
  "high. Lily asked her mom for help, and her mom said yes.").split(" ");

/**
 * Streamed and in-memory captures agree: the same rows and index, every
 * value within `tol` · (1 + the largest |value|). Returns the largest difference.
 */
function assertClose(got: WordActivations, want: WordActivations, tol: number): number {
  assert.equal(got.words, want.words);
  assert.equal(got.units, want.units);
  assert.deepEqual(got.index, want.index);
  assert.deepEqual(got.tokens, want.tokens);
  let max = 0, scale = 0;
  for (let i = 0; i < want.data.length; i++) {
    max = Math.max(max, Math.abs(got.data[i] - want.data[i]));
    scale = Math.max(scale, Math.abs(want.data[i]));
  }
  assert.ok(scale > 0.1, `units too small to compare: ${scale}`);
  assert.ok(max <= tol * (1 + scale), `max difference ${max} > ${tol} · (1 + ${scale})`);
  return max;
}

Deno.test("stories260K streamed block by block equals the in-memory capture (mean, first, last)", async () => {
  for (const aggregate of ["mean", "first", "last"] as const) {
    const want = captureWords(model, tok, STORY, { context: 8, aggregate });
    // 40 rows per product: several groups of windows; 100,000: all windows in one.
    for (const rowsPerProduct of [40, 100_000]) {
      const timings: BlockTiming[] = [];
      const got = await captureWordsStreamed(header, tok, STORY, {
        context: 8,
        aggregate,
        rowsPerProduct,
        onBlock: (t) => timings.push(t),
      });
      assertClose(got, want, 1e-5);
      // Layer-major: each block read and run once, in order.
      assert.deepEqual(timings.map((t) => t.layer), [0, 1, 2, 3, 4]);
    }
  }
});

/** A small random Llama with grouped-query attention, wide enough that products go to the library. */
function randomLlama(seed: number, qwen2 = false): LlamaModel {
  const uniform = rng(seed);
  const dim = 128, hiddenDim = 352, layers = 3, heads = 8, kvHeads = 2;
  const kvDim = (dim / heads) * kvHeads;
  const words = Array.from({ length: 40 }, (_, i) => `▁w${i}`);
  const bytes = Array.from(
    { length: 256 },
    (_, b) => `<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`,
  );
  // SentencePiece merges pairs of pieces it holds: "▁" + "w" → "▁w", "▁w" + "1" → "▁w1", …
  const chars = ["▁", "w", "▁w", ..."0123456789"];
  const pieces = ["<unk>", "<s>", "</s>", ...bytes, ...chars, ...words];
  const rand = (n: number, sd: number) =>
    Float32Array.from({ length: n }, () => sd * (2 * uniform() - 1));
  const norm = () => Float32Array.from({ length: dim }, () => 0.8 + 0.4 * uniform());
  const sd = 1 / Math.sqrt(dim);
  const embedding = rand(pieces.length * dim, 1);
  return {
    config: {
      dim,
      hiddenDim,
      layers,
      heads,
      kvHeads,
      vocabSize: pieces.length,
      contextLength: 256,
      normEps: 1e-5,
      ropeTheta: 500000,
      // Qwen2: q/k/v biases and NeoX RoPE (set by the reader from the architecture).
      ...(qwen2 ? { architecture: "qwen2" } : {}),
    },
    embedding,
    layers: Array.from({ length: layers }, () => ({
      attnNorm: norm(),
      wq: rand(dim * dim, sd),
      wk: rand(kvDim * dim, sd),
      wv: rand(kvDim * dim, sd),
      wo: rand(dim * dim, sd),
      ffnNorm: norm(),
      gate: rand(hiddenDim * dim, sd),
      up: rand(hiddenDim * dim, sd),
      down: rand(dim * hiddenDim, 1 / Math.sqrt(hiddenDim)),
      ...(qwen2 ? { bq: rand(dim, 0.5), bk: rand(kvDim, 0.5), bv: rand(kvDim, 0.5) } : {}),
    })),
    finalNorm: norm(),
    output: embedding,
    vocab: { pieces, scores: Float32Array.from(pieces, (p) => p.length), bos: 1, eos: 2, unk: 0 },
    source: "random",
    tensorTypes: {},
  };
}

Deno.test("a synthetic GQA model in F16 and Q8_0, and Qwen2-like (biases, NeoX RoPE): streamed equals in-memory; the automatic choice follows the budget", async () => {
  const dir = await Deno.makeTempDir({ prefix: "brainorg-streamed-" });
  // One backend for every capture here (each would otherwise load and self-check its library).
  const backend = await createCpuBackend();
  try {
    const synthetic = randomLlama(3);
    const uniform = rng(5);
    // Words the vocabulary holds (one token) and others spelled byte by byte.
    const words = Array.from(
      { length: 90 },
      (_, i) => uniform() < 0.8 ? `w${Math.floor(uniform() * 40)}` : `x${i}`,
    );
    for (const [type, qwen2] of [["F16", false], ["Q8_0", false], ["F16", true]] as const) {
      const path = join(dir, `m.${type}.${qwen2}.gguf`);
      await writeGgufLlama(path, qwen2 ? randomLlama(3, true) : synthetic, { type });
      const dense = await readGgufLlama(path), h = await readGgufLlamaHeader(path);
      assert.equal(dense.config.ropeType === "neox" && !!dense.layers[0].bq, qwen2);
      const t = createTokenizer(dense.vocab);
      const want = captureWords(dense, t, words, { context: 16 });
      assert.ok(want.tokens.some((w) => w.length > 1) && want.tokens.some((w) => w.length === 1));
      const got = await captureWordsStreamed(h, t, words, {
        context: 16,
        rowsPerProduct: 64,
        backend,
      });
      assertClose(got, want, 1e-5);

      // A budget below the float32 weights streams; a large one reads the model whole.
      const f32 = ggufFloat32Bytes(h);
      assert.equal(
        f32,
        4 * (dense.embedding.length + dense.finalNorm.length + dense.layers
          .reduce((s, l) => s + Object.values(l).reduce((a, w) => a + w.length, 0), 0)),
      );
      const small = await captureGgufWords(path, words, {
        context: 16,
        memoryBudget: f32 / 2,
        backend,
      });
      const large = await captureGgufWords(path, words, {
        context: 16,
        memoryBudget: 1e15,
        threads: 1,
      });
      const forced = await captureGgufWords(path, words, {
        context: 16,
        memoryBudget: f32 / 2,
        streamed: false,
        threads: 1,
      });
      assert.deepEqual([small.streamed, large.streamed, forced.streamed], [true, false, false]);
      assert.match(small.reason, /budget is/);
      assert.match(forced.reason, /chosen by option/);
      assertClose(small.activations, want, 1e-5);
      assert.deepEqual(large.activations.data, want.data);
      assert.deepEqual(forced.activations.data, want.data);
    }
  } finally {
    backend.dispose();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a truncated file fails at the block it cuts, naming the tensor; bad options are refused", async () => {
  const dir = await Deno.makeTempDir({ prefix: "brainorg-streamed-" });
  try {
    const synthetic = randomLlama(4);
    const path = join(dir, "m.gguf");
    await writeGgufLlama(path, synthetic, { type: "F16" });
    const bytes = await Deno.readFile(path);
    const cut = join(dir, "cut.gguf");
    await Deno.writeFile(cut, bytes.subarray(0, bytes.length - 5000));
    const h = await readGgufLlamaHeader(cut), t = createTokenizer(h.vocab);
    const blocks: number[] = [];
    await assert.rejects(
      captureWordsStreamed(h, t, ["w1", "w2"], { onBlock: (b) => blocks.push(b.layer) }),
      (err: Error) =>
        err instanceof InputError && /outside the file/.test(err.message) &&
        /blk\.2\./.test(JSON.stringify(err)),
    );
    // Blocks before the cut ran (block 2 is read while block 1 runs); the one it cuts did not.
    assert.deepEqual(blocks, [0, 1]);
    await assert.rejects(
      captureWordsStreamed(header, tok, STORY, { rowsPerProduct: 0 }),
      RangeError,
    );
    const file = await openGgufTensors(header);
    await assert.rejects(
      file.readRows("token_embd.weight", 64, 512, [512]),
      /outside 0 … 511/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// An independent word capture in numpy, float64, whole windows as matrices:
// reads the F32 GGUF's tensors itself, causal attention by a mask.
const NUMPY_CAPTURE = NUMPY_GGUF_F32 + `
W = {n: a.astype(np.float64) for n, a in T.items()}
D = meta["llama.embedding_length"]; H = meta["llama.attention.head_count"]; KV = meta["llama.attention.head_count_kv"]
L = meta["llama.block_count"]; eps = meta["llama.attention.layer_norm_rms_epsilon"]; hd = D // H
theta = meta.get("llama.rope.freq_base", 10000.0)
def rms(x, w): return w * x / np.sqrt(np.mean(x * x, axis=1, keepdims=True) + eps)
def rope(m):
    T = m.shape[0]; m = m.reshape(T, -1, hd // 2, 2)
    ang = np.arange(T)[:, None] * (1.0 / theta ** (np.arange(0, hd, 2) / hd))[None, :]
    c, s = np.cos(ang)[:, None, :], np.sin(ang)[:, None, :]
    a, b = m[..., 0], m[..., 1]
    return np.stack([a * c - b * s, a * s + b * c], -1).reshape(T, -1)
def forward(ids):
    T = len(ids); x = W["token_embd.weight"][ids]; out = []
    mask = np.triu(np.full((T, T), -np.inf), 1)
    for l in range(L):
        g = lambda n: W[f"blk.{l}.{n}.weight"]
        xb = rms(x, g("attn_norm"))
        q = rope(xb @ g("attn_q").T); k = rope(xb @ g("attn_k").T); v = xb @ g("attn_v").T
        o = np.zeros((T, D))
        for h in range(H):
            j = h // (H // KV); s = q[:, h*hd:(h+1)*hd] @ k[:, j*hd:(j+1)*hd].T / np.sqrt(hd) + mask
            p = np.exp(s - s.max(1, keepdims=True)); p /= p.sum(1, keepdims=True)
            o[:, h*hd:(h+1)*hd] = p @ v[:, j*hd:(j+1)*hd]
        x = x + o @ g("attn_output").T
        xb = rms(x, g("ffn_norm")); a = xb @ g("ffn_gate").T; u = xb @ g("ffn_up").T
        d = (a / (1 + np.exp(-a)) * u) @ g("ffn_down").T
        out.append(d); x = x + d
    return np.concatenate(out, 1)
tokens = json.loads(sys.argv[2]); ctx = int(sys.argv[3]); bos = meta["tokenizer.ggml.bos_token_id"]
rows = np.zeros((len(tokens), L * D))
for start in range(0, len(tokens), ctx):
    warm = max(0, start - ctx); end = min(len(tokens), start + ctx)
    ids = [bos] + [t for w in tokens[warm:end] for t in w]; units = forward(ids); r = 1
    for w in range(warm, end):
        n = len(tokens[w])
        if w >= start: rows[w] = units[r:r + n].mean(0)
        r += n
print(json.dumps(rows.tolist()))
`;

Deno.test({
  name:
    "stories260K streamed capture equals an independent numpy word capture (float64, matrix form)",
  ignore: !havePython(["numpy"], "streamed capture reference"),
  async fn() {
    const context = 8;
    const windows = captureWindows(header, tok, STORY, context);
    const ref = await runPython<number[][]>(NUMPY_CAPTURE, [
      MODEL,
      JSON.stringify(windows.tokens),
      String(context),
    ]);
    const got = await captureWordsStreamed(header, tok, STORY, { context });
    let max = 0, scale = 0;
    ref.forEach((row, w) =>
      row.forEach((v, u) => {
        max = Math.max(max, Math.abs(got.data[w * got.units + u] - v));
        scale = Math.max(scale, Math.abs(v));
      })
    );
    assert.equal(ref.length, STORY.length);
    assert.ok(max <= 1e-5 * (1 + scale), `max difference ${max} (largest |unit| ${scale})`);
  },
});
