/**
 * Test fixtures: a tiny BERT-like encoder with random (seeded) weights,
 * as an ONNX graph whose node names follow Hugging Face Optimum's BERT
 * exports, a WordPiece `tokenizer.json`, and the same model's forward pass
 * in plain TypeScript as the independent reference.
 *
 * @module
 */

import { join } from "node:path";
import onnxProto from "onnx-proto";
import { rng } from "@brainorg/kernels";

// deno-lint-ignore no-explicit-any
const { onnx } = onnxProto as any;

/** The tiny encoder's weights. */
export interface TinyBert {
  vocab: string[];
  dim: number;
  heads: number;
  hidden: number;
  layers: number;
  maxPositions: number;
  word: Float32Array;
  position: Float32Array;
  tokenType: Float32Array;
  embNorm: { g: Float32Array; b: Float32Array };
  blocks: {
    q: Float32Array;
    qb: Float32Array;
    k: Float32Array;
    kb: Float32Array;
    v: Float32Array;
    vb: Float32Array;
    o: Float32Array;
    ob: Float32Array;
    n1: { g: Float32Array; b: Float32Array };
    i: Float32Array;
    ib: Float32Array;
    d: Float32Array;
    db: Float32Array;
    n2: { g: Float32Array; b: Float32Array };
  }[];
}

/** A seeded tiny encoder; weights stored (in × out) so that y = x · W + b. */
export function tinyBert(seed = 7): TinyBert {
  const r = rng(seed);
  const vocab = [
    "[PAD]",
    "[UNK]",
    "[CLS]",
    "[SEP]",
    "alice",
    "was",
    "begin",
    "##ning",
    "to",
    "get",
    "very",
    "tired",
    "of",
    "sit",
    "##ting",
    "by",
    "her",
    "sister",
    "on",
    "the",
    "bank",
    ",",
    ".",
    "and",
  ];
  const dim = 16, heads = 2, hidden = 32, layers = 2, maxPositions = 64;
  const m = (n: number, s = 0.3) => Float32Array.from({ length: n }, () => (r() * 2 - 1) * s);
  const norm = () => ({
    g: Float32Array.from({ length: dim }, () => 1 + (r() - 0.5) * 0.2),
    b: m(dim, 0.05),
  });
  return {
    vocab,
    dim,
    heads,
    hidden,
    layers,
    maxPositions,
    word: m(vocab.length * dim, 1),
    position: m(maxPositions * dim, 0.5),
    tokenType: m(2 * dim, 0.2),
    embNorm: norm(),
    blocks: Array.from({ length: layers }, () => ({
      q: m(dim * dim),
      qb: m(dim, 0.05),
      k: m(dim * dim),
      kb: m(dim, 0.05),
      v: m(dim * dim),
      vb: m(dim, 0.05),
      o: m(dim * dim),
      ob: m(dim, 0.05),
      n1: norm(),
      i: m(dim * hidden),
      ib: m(hidden, 0.05),
      d: m(hidden * dim),
      db: m(dim, 0.05),
      n2: norm(),
    })),
  };
}

function layerNorm(x: Float64Array, g: Float32Array, b: Float32Array): Float64Array {
  const n = x.length;
  const mean = x.reduce((a, v) => a + v, 0) / n;
  const v = x.reduce((a, u) => a + (u - mean) ** 2, 0) / n;
  return x.map((u, i) => ((u - mean) / Math.sqrt(v + 1e-12)) * g[i] + b[i]);
}

function erf(x: number): number {
  // Abramowitz–Stegun 7.1.26 is too coarse for a 1e-4 check: integrate the series instead.
  let sum = x, term = x;
  for (let n = 1; n < 60; n++) {
    term *= (-x * x) / n;
    sum += term / (2 * n + 1);
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
}

/** The FFN outputs (dense output + bias, before the residual) of every layer: [layer][token][unit]. */
export function tinyBertFfn(m: TinyBert, ids: number[]): number[][][] {
  const { dim, heads, hidden } = m, hd = dim / heads, S = ids.length;
  const lin = (x: Float64Array, w: Float32Array, b: Float32Array, inp: number, out: number) => {
    const y = new Float64Array(out);
    for (let o = 0; o < out; o++) {
      let s = b[o];
      for (let i = 0; i < inp; i++) s += x[i] * w[i * out + o];
      y[o] = s;
    }
    return y;
  };
  let xs = ids.map((id, p) =>
    layerNorm(
      Float64Array.from({ length: dim }, (_, u) =>
        m.word[id * dim + u] + m.position[p * dim + u] + m.tokenType[u]),
      m.embNorm.g,
      m.embNorm.b,
    )
  );
  const out: number[][][] = [];
  for (const bl of m.blocks) {
    const q = xs.map((x) => lin(x, bl.q, bl.qb, dim, dim));
    const k = xs.map((x) => lin(x, bl.k, bl.kb, dim, dim));
    const v = xs.map((x) => lin(x, bl.v, bl.vb, dim, dim));
    const ctx = xs.map(() => new Float64Array(dim));
    for (let h = 0; h < heads; h++) {
      for (let i = 0; i < S; i++) {
        const s = Array.from({ length: S }, (_, j) => {
          let d = 0;
          for (let u = 0; u < hd; u++) d += q[i][h * hd + u] * k[j][h * hd + u];
          return d / Math.sqrt(hd);
        });
        const mx = Math.max(...s),
          e = s.map((z) => Math.exp(z - mx)),
          tot = e.reduce((a, z) => a + z, 0);
        for (let j = 0; j < S; j++) {
          for (let u = 0; u < hd; u++) ctx[i][h * hd + u] += (e[j] / tot) * v[j][h * hd + u];
        }
      }
    }
    const att = xs.map((x, i) =>
      layerNorm(lin(ctx[i], bl.o, bl.ob, dim, dim).map((z, u) => z + x[u]), bl.n1.g, bl.n1.b)
    );
    const ffn = att.map((a) => {
      const hdn = lin(a, bl.i, bl.ib, dim, hidden).map((z) => 0.5 * z * (1 + erf(z / Math.SQRT2)));
      return lin(hdn, bl.d, bl.db, hidden, dim);
    });
    out.push(ffn.map((f) => Array.from(f)));
    xs = att.map((a, i) => layerNorm(ffn[i].map((z, u) => z + a[u]), bl.n2.g, bl.n2.b));
  }
  return out;
}

/** The encoder as ONNX bytes, with Optimum's BERT node names. */
export function tinyBertOnnx(m: TinyBert): Uint8Array {
  const { dim, heads, hidden, vocab, maxPositions } = m, hd = dim / heads;
  // deno-lint-ignore no-explicit-any
  const nodes: any[] = [], inits: any[] = [];
  const f = (name: string, data: Float32Array, dims: number[]) => {
    inits.push({ name, dims, dataType: 1, rawData: new Uint8Array(data.slice().buffer) });
    return name;
  };
  const i64 = (name: string, data: number[]) => {
    inits.push({
      name,
      dims: [data.length],
      dataType: 7,
      rawData: new Uint8Array(BigInt64Array.from(data.map(BigInt)).buffer),
    });
    return name;
  };
  const node = (
    op: string,
    inputs: string[],
    name: string,
    attrs: Record<string, number | number[]> = {},
  ) => {
    const output = `${name}_output_0`;
    nodes.push({
      opType: op,
      input: inputs,
      output: [output],
      name,
      attribute: Object.entries(attrs).map(([k, v]) =>
        Array.isArray(v)
          ? { name: k, type: 7, ints: v }
          : Number.isInteger(v)
          ? { name: k, type: 2, i: v }
          : { name: k, type: 1, f: v }
      ),
    });
    return output;
  };
  const ln = (x: string, n: { g: Float32Array; b: Float32Array }, p: string) =>
    node(
      "LayerNormalization",
      [x, f(`${p}.weight`, n.g, [dim]), f(`${p}.bias`, n.b, [dim])],
      `${p}/LayerNormalization`,
      { axis: -1, epsilon: 1e-12 },
    );
  const dense = (
    x: string,
    w: Float32Array,
    b: Float32Array,
    inp: number,
    out: number,
    p: string,
  ) =>
    node("Add", [
      node("MatMul", [x, f(`${p}.weight`, w, [inp, out])], `${p}/MatMul`),
      f(`${p}.bias`, b, [out]),
    ], `${p}/Add`);
  const seq = node("Gather", [
    node("Shape", ["input_ids"], "/bert/embeddings/Shape"),
    i64("one", [1]),
  ], "/bert/embeddings/Gather_seq");
  i64("zero_s", [0]);
  i64("one_s", [1]);
  // Range wants scalars: reshape the 1-element tensors.
  const scalar = (t: string, name: string) => node("Reshape", [t, i64(`${name}_shape`, [])], name);
  const posIds = node("Range", [
    scalar("zero_s", "/bert/embeddings/start"),
    scalar(seq, "/bert/embeddings/limit"),
    scalar("one_s", "/bert/embeddings/delta"),
  ], "/bert/embeddings/Range");
  let x = node("Add", [
    node("Add", [
      node("Gather", [
        f("bert.embeddings.word_embeddings.weight", m.word, [vocab.length, dim]),
        "input_ids",
      ], "/bert/embeddings/word_embeddings/Gather"),
      node("Gather", [
        f("bert.embeddings.token_type_embeddings.weight", m.tokenType, [2, dim]),
        "token_type_ids",
      ], "/bert/embeddings/token_type_embeddings/Gather"),
    ], "/bert/embeddings/Add"),
    node("Gather", [
      f("bert.embeddings.position_embeddings.weight", m.position, [maxPositions, dim]),
      posIds,
    ], "/bert/embeddings/position_embeddings/Gather"),
  ], "/bert/embeddings/Add_1");
  x = ln(x, m.embNorm, "/bert/embeddings/LayerNorm");
  // (1 − mask) · −10000, broadcast over heads and queries.
  const maskF = node("Cast", ["attention_mask"], "/bert/Cast", { to: 1 });
  const maskAdd = node("Mul", [
    node("Sub", [f("one_f", Float32Array.of(1), []), maskF], "/bert/Sub"),
    f("neg", Float32Array.of(-10000), []),
  ], "/bert/Mul");
  const mask4 = node("Unsqueeze", [maskAdd, i64("ax12", [1, 2])], "/bert/Unsqueeze");
  m.blocks.forEach((bl, l) => {
    const p = `/bert/encoder/layer.${l}`;
    const heads4 = (t: string, name: string, perm: number[]) =>
      node(
        "Transpose",
        [node("Reshape", [t, i64(`${name}_shape`, [1, -1, heads, hd])], `${name}/Reshape`)],
        `${name}/Transpose`,
        { perm },
      );
    const q = heads4(
      dense(x, bl.q, bl.qb, dim, dim, `${p}/attention/self/query`),
      `${p}/attention/self/q`,
      [0, 2, 1, 3],
    );
    const k = heads4(
      dense(x, bl.k, bl.kb, dim, dim, `${p}/attention/self/key`),
      `${p}/attention/self/k`,
      [0, 2, 3, 1],
    );
    const v = heads4(
      dense(x, bl.v, bl.vb, dim, dim, `${p}/attention/self/value`),
      `${p}/attention/self/v`,
      [0, 2, 1, 3],
    );
    const scores = node("Add", [
      node("Div", [
        node("MatMul", [q, k], `${p}/attention/self/MatMul`),
        f(`${p}/sqrt_hd`, Float32Array.of(Math.sqrt(hd)), []),
      ], `${p}/attention/self/Div`),
      mask4,
    ], `${p}/attention/self/Add`);
    const ctx = node("MatMul", [
      node("Softmax", [scores], `${p}/attention/self/Softmax`, { axis: -1 }),
      v,
    ], `${p}/attention/self/MatMul_1`);
    const merged = node("Reshape", [
      node("Transpose", [ctx], `${p}/attention/self/Transpose_3`, { perm: [0, 2, 1, 3] }),
      i64(`${p}/merge_shape`, [1, -1, dim]),
    ], `${p}/attention/self/Reshape_3`);
    const att = ln(
      node(
        "Add",
        [dense(merged, bl.o, bl.ob, dim, dim, `${p}/attention/output/dense`), x],
        `${p}/attention/output/Add`,
      ),
      bl.n1,
      `${p}/attention/output/LayerNorm`,
    );
    const pre = dense(att, bl.i, bl.ib, dim, hidden, `${p}/intermediate/dense`);
    const gelu = node("Mul", [
      node(
        "Mul",
        [pre, f(`${p}/half`, Float32Array.of(0.5), [])],
        `${p}/intermediate/intermediate_act_fn/Mul`,
      ),
      node("Add", [
        node("Erf", [
          node(
            "Div",
            [pre, f(`${p}/sqrt2`, Float32Array.of(Math.SQRT2), [])],
            `${p}/intermediate/intermediate_act_fn/Div`,
          ),
        ], `${p}/intermediate/intermediate_act_fn/Erf`),
        "one_f",
      ], `${p}/intermediate/intermediate_act_fn/Add`),
    ], `${p}/intermediate/intermediate_act_fn/Mul_1`);
    const out = dense(gelu, bl.d, bl.db, hidden, dim, `${p}/output/dense`);
    x = ln(node("Add", [out, att], `${p}/output/Add`), bl.n2, `${p}/output/LayerNorm`);
  });
  nodes.push({ opType: "Identity", input: [x], output: ["last_hidden_state"], name: "/Identity" });
  const t = (name: string, elem: number, dims: (number | string)[]) => ({
    name,
    type: {
      tensorType: {
        elemType: elem,
        shape: {
          dim: dims.map((d) => (typeof d === "number" ? { dimValue: d } : { dimParam: d })),
        },
      },
    },
  });
  return onnx.ModelProto.encode(onnx.ModelProto.create({
    irVersion: 8,
    opsetImport: [{ domain: "", version: 17 }],
    graph: {
      name: "tiny-bert",
      node: nodes,
      initializer: inits,
      input: [
        t("input_ids", 7, [1, "sequence_length"]),
        t("attention_mask", 7, [1, "sequence_length"]),
        t("token_type_ids", 7, [1, "sequence_length"]),
      ],
      output: [t("last_hidden_state", 1, [1, "sequence_length", dim])],
    },
  })).finish();
}

/** Write the encoder as a Hugging Face layout folder (config, WordPiece tokenizer, ONNX). */
export async function writeTinyBert(dir: string, m: TinyBert): Promise<void> {
  await Deno.mkdir(join(dir, "onnx"), { recursive: true });
  await Deno.writeTextFile(
    join(dir, "config.json"),
    JSON.stringify({
      model_type: "bert",
      hidden_size: m.dim,
      num_hidden_layers: m.layers,
      num_attention_heads: m.heads,
      intermediate_size: m.hidden,
      max_position_embeddings: m.maxPositions,
      vocab_size: m.vocab.length,
    }),
  );
  const special = (id: number) => ({
    id,
    content: m.vocab[id],
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  });
  await Deno.writeTextFile(
    join(dir, "tokenizer.json"),
    JSON.stringify({
      version: "1.0",
      added_tokens: [0, 1, 2, 3].map(special),
      normalizer: {
        type: "BertNormalizer",
        clean_text: true,
        handle_chinese_chars: true,
        strip_accents: null,
        lowercase: true,
      },
      pre_tokenizer: { type: "BertPreTokenizer" },
      post_processor: {
        type: "TemplateProcessing",
        single: [{ SpecialToken: { id: "[CLS]", type_id: 0 } }, {
          Sequence: { id: "A", type_id: 0 },
        }, { SpecialToken: { id: "[SEP]", type_id: 0 } }],
        pair: [
          { SpecialToken: { id: "[CLS]", type_id: 0 } },
          { Sequence: { id: "A", type_id: 0 } },
          { SpecialToken: { id: "[SEP]", type_id: 0 } },
          { Sequence: { id: "B", type_id: 1 } },
          { SpecialToken: { id: "[SEP]", type_id: 1 } },
        ],
        special_tokens: {
          "[CLS]": { id: "[CLS]", ids: [2], tokens: ["[CLS]"] },
          "[SEP]": { id: "[SEP]", ids: [3], tokens: ["[SEP]"] },
        },
      },
      decoder: { type: "WordPiece", prefix: "##", cleanup: true },
      model: {
        type: "WordPiece",
        unk_token: "[UNK]",
        continuing_subword_prefix: "##",
        max_input_chars_per_word: 100,
        vocab: Object.fromEntries(m.vocab.map((v, i) => [v, i])),
      },
    }),
  );
  await Deno.writeFile(join(dir, "onnx", "model.onnx"), tinyBertOnnx(m));
}
