import assert from "node:assert/strict";
import { dataPath } from "../../test/data.ts";
import { havePython, runPython } from "../../test/python.ts";
import { readGgufLlama } from "./gguf_model.ts";
import { createTokenizer } from "./tokenizer.ts";
import { createLlamaSession, greedyDecode } from "./llama.ts";
import { captureWords, captureWordsParallel, randomizeWeights } from "./capture.ts";

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

// An independent forward pass in numpy, reading the GGUF tensors itself.
const NUMPY_FORWARD = `
import json, struct, sys, numpy as np
f = open(sys.argv[1], "rb"); data = f.read()
off = 0
def rd(fmt):
    global off
    v = struct.unpack_from("<" + fmt, data, off); off += struct.calcsize("<" + fmt); return v[0]
def rstr():
    global off
    n = rd("Q"); s = data[off:off + n].decode(); off += n; return s
def rval(t):
    sizes = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}
    if t == 8: return rstr()
    if t == 9:
        at = rd("I"); n = rd("Q"); return [rval(at) for _ in range(n)]
    return rd(sizes[t])
assert data[:4] == b"GGUF"; off = 4
rd("I"); nt = rd("Q"); nkv = rd("Q")
meta = {}
for _ in range(nkv):
    k = rstr(); meta[k] = rval(rd("I"))
infos = []
for _ in range(nt):
    name = rstr(); nd = rd("I"); shape = [rd("Q") for _ in range(nd)]; typ = rd("I"); o = rd("Q")
    infos.append((name, shape, typ, o))
align = meta.get("general.alignment", 32)
base = (off + align - 1) // align * align
T = {}
for name, shape, typ, o in infos:
    n = int(np.prod(shape)); a = np.frombuffer(data, np.float32, n, base + o)
    T[name] = a.reshape(list(reversed(shape))) if len(shape) > 1 else a
dim = meta["llama.embedding_length"]; H = meta["llama.attention.head_count"]; KV = meta["llama.attention.head_count_kv"]
L = meta["llama.block_count"]; eps = meta["llama.attention.layer_norm_rms_epsilon"]; hd = dim // H
def rms(x, w): return w * x / np.sqrt(np.mean(x * x) + eps)
def rope(v, p):
    v = v.copy()
    for i in range(0, len(v), 2):
        fr = 1.0 / 10000 ** ((i % hd) / hd); c, s = np.cos(p * fr), np.sin(p * fr)
        v[i], v[i + 1] = v[i] * c - v[i + 1] * s, v[i] * s + v[i + 1] * c
    return v
tokens = json.loads(sys.argv[2])
K = [[] for _ in range(L)]; Vc = [[] for _ in range(L)]; out = []
for p, t in enumerate(tokens):
    x = T["token_embd.weight"][t].astype(np.float64); ffn = []
    for l in range(L):
        g = lambda n: T[f"blk.{l}.{n}"].astype(np.float64)
        xb = rms(x, g("attn_norm.weight"))
        q = rope(g("attn_q.weight") @ xb, p); k = rope(g("attn_k.weight") @ xb, p); v = g("attn_v.weight") @ xb
        K[l].append(k); Vc[l].append(v)
        o = np.zeros(dim)
        for h in range(H):
            kh = h // (H // KV)
            ks = np.array([kk[kh * hd:(kh + 1) * hd] for kk in K[l]]); vs = np.array([vv[kh * hd:(kh + 1) * hd] for vv in Vc[l]])
            a = ks @ q[h * hd:(h + 1) * hd] / np.sqrt(hd); a = np.exp(a - a.max()); a /= a.sum()
            o[h * hd:(h + 1) * hd] = a @ vs
        x = x + g("attn_output.weight") @ o
        xb = rms(x, g("ffn_norm.weight"))
        h1 = g("ffn_gate.weight") @ xb; h3 = g("ffn_up.weight") @ xb
        d = g("ffn_down.weight") @ (h1 / (1 + np.exp(-h1)) * h3)
        ffn.append(d.tolist()); x = x + d
    out.append(ffn)
print(json.dumps(out))
`;

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
