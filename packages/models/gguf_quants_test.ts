// GGUF tensor types: dequantization checked against ggml's formulas on hand-made blocks and,
// bit for bit, against an independent numpy reference (test/python/ggml_dequant.py) on random
// and edge blocks; a GGUF writer's files (stories260K in every type) read back within each
// type's stated error bound; and the captured FFN units of each quantized stories260K compared
// with the float32 capture, within a stated tolerance per type.
import assert from "node:assert/strict";
import { join } from "node:path";
import { InputError } from "@brainorg/common";
import { rng } from "@brainorg/kernels";
import { dataPath } from "../../test/data.ts";
import { havePython, runPython } from "../../test/python.ts";
import { type LlamaModel, readGgufLlama } from "./gguf_model.ts";
import {
  dequantizeTensor,
  GGML_TYPES,
  ggmlType,
  type GgmlTypeName,
  halfToFloat,
} from "./gguf_quants.ts";
import {
  floatToBf16,
  floatToHalf,
  llamaGguf,
  packQ4KQ5K,
  packQ6K,
  quantize,
  widenLlama,
  writeGgufLlama,
} from "./_gguf_writer.ts";
import { createTokenizer } from "./tokenizer.ts";
import { captureWords } from "./capture.ts";

const MODEL = await dataPath("models/stories260K.gguf");
const model = await readGgufLlama(MODEL);
const REFERENCE = await Deno.readTextFile(
  new URL("../../test/python/ggml_dequant.py", import.meta.url),
);

/** Every quantized form, and the width its blocks need: stories260K's rows are 64 and 172 long. */
const FORMS: { type: GgmlTypeName; widen: number }[] = [
  { type: "F16", widen: 1 },
  { type: "BF16", widen: 1 },
  { type: "Q8_0", widen: 32 },
  { type: "Q4_0", widen: 32 },
  { type: "Q4_K", widen: 256 },
  { type: "Q5_K", widen: 256 },
  { type: "Q6_K", widen: 256 },
];

/** A model's tensors as the writer names them: values and row length. */
function tensors(m: LlamaModel): { name: string; values: Float32Array; ne0: number }[] {
  const { dim, hiddenDim } = m.config;
  const out = [
    { name: "token_embd.weight", values: m.embedding, ne0: dim },
    { name: "output_norm.weight", values: m.finalNorm, ne0: dim },
    { name: "output.weight", values: m.output, ne0: dim },
  ];
  m.layers.forEach((w, l) => {
    const b = `blk.${l}.`;
    out.push(
      { name: `${b}attn_q.weight`, values: w.wq, ne0: dim },
      { name: `${b}attn_k.weight`, values: w.wk, ne0: dim },
      { name: `${b}attn_v.weight`, values: w.wv, ne0: dim },
      { name: `${b}attn_output.weight`, values: w.wo, ne0: dim },
      { name: `${b}attn_norm.weight`, values: w.attnNorm, ne0: dim },
      { name: `${b}ffn_gate.weight`, values: w.gate, ne0: dim },
      { name: `${b}ffn_down.weight`, values: w.down, ne0: hiddenDim },
      { name: `${b}ffn_up.weight`, values: w.up, ne0: dim },
      { name: `${b}ffn_norm.weight`, values: w.ffnNorm, ne0: dim },
    );
  });
  return out;
}

const bits = (x: Float32Array) => new Uint32Array(x.buffer, x.byteOffset, x.length);

/** Equal float32 bit patterns, or a short message (not a diff of a million values). */
function assertSameBits(ours: Float32Array, ref: Float32Array, what: string): void {
  assert.equal(ours.length, ref.length, `${what}: length`);
  const a = bits(ours), b = bits(ref);
  let differ = 0, first = -1;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) (differ++, first < 0 && (first = i));
  assert.equal(
    differ,
    0,
    `${what}: ${differ} of ${a.length} values differ, first at ${first}: ` +
      `${ours[first]} vs ${ref[first]}`,
  );
}

Deno.test("GGML type ids and block layouts are ggml's (ggml.h, ggml-common.h)", () => {
  // enum ggml_type, QK4_0 = QK8_0 = 32, QK_K = 256, and the static_asserts on sizeof(block_*).
  const want: [GgmlTypeName, number, number, number][] = [
    ["F32", 0, 1, 4],
    ["F16", 1, 1, 2],
    ["Q4_0", 2, 32, 2 + 32 / 2],
    ["Q8_0", 8, 32, 2 + 32],
    ["Q4_K", 12, 256, 2 * 2 + 12 + 256 / 2],
    ["Q5_K", 13, 256, 2 * 2 + 12 + 256 / 2 + 256 / 8],
    ["Q6_K", 14, 256, 2 + 256 / 16 + (3 * 256) / 4],
    ["BF16", 30, 1, 2],
  ];
  for (const [name, id, values, bytes] of want) {
    assert.deepEqual(GGML_TYPES[name], { id, name, blockValues: values, blockBytes: bytes });
    assert.equal(ggmlType(id), GGML_TYPES[name]);
  }
  assert.equal(Object.keys(GGML_TYPES).length, want.length);
  for (const id of [3, 6, 7, 9, 10, 11, 15, 20, 99]) assert.equal(ggmlType(id), undefined);
});

Deno.test("known blocks dequantize to the values of ggml's formulas", () => {
  const deq = (name: GgmlTypeName, block: Uint8Array) =>
    Array.from(
      dequantizeTensor(GGML_TYPES[name].id, [GGML_TYPES[name].blockValues], block, 0, {
        tensor: name,
      }),
    );
  // binary16 and bfloat16, including subnormals, the largest finite, infinities and −0.
  const h = [0x3c00, 0xc000, 0x0001, 0x03ff, 0x0400, 0x7bff, 0x7c00, 0xfc00, 0x8000, 0x3555];
  const hv = [
    1,
    -2,
    2 ** -24,
    1023 * 2 ** -24,
    2 ** -14,
    65504,
    Infinity,
    -Infinity,
    -0,
    0x555 / 4096,
  ];
  for (let i = 0; i < h.length; i++) {
    assert.ok(Object.is(deq("F16", new Uint8Array([h[i] & 0xff, h[i] >> 8]))[0], hv[i]), `${h[i]}`);
    assert.ok(Object.is(halfToFloat(h[i]), hv[i]));
    if (Number.isFinite(hv[i])) assert.equal(floatToHalf(hv[i]), h[i]);
  }
  const b = [0x3f80, 0xc049, 0x0001, 0x7f80, 0x8000];
  const bv = [1, -3.140625, 2 ** -133, Infinity, -0];
  for (let i = 0; i < b.length; i++) {
    assert.ok(Object.is(deq("BF16", new Uint8Array([b[i] & 0xff, b[i] >> 8]))[0], bv[i]));
    assert.equal(floatToBf16(bv[i]), b[i]);
  }
  // Q4_0: d = 1, then −0.5; byte j holds value j (low nibble) and value j + 16 (high), less 8.
  for (const [d, dv] of [[0x3c00, 1], [0xb800, -0.5]]) {
    const q4 = new Uint8Array(18);
    q4.set([d & 0xff, d >> 8]);
    for (let j = 0; j < 16; j++) q4[2 + j] = j | ((15 - j) << 4);
    const y = deq("Q4_0", q4);
    for (let j = 0; j < 16; j++) {
      assert.equal(y[j], (j - 8) * dv);
      assert.equal(y[j + 16], (7 - j) * dv);
    }
  }
  // Q8_0: d = 0.25; int8 quants.
  const q8 = new Uint8Array(34), q8v = Int8Array.from({ length: 32 }, (_, j) => 127 - 8 * j);
  q8.set([0x00, 0x34]);
  q8.set(new Uint8Array(q8v.buffer), 2);
  assert.deepEqual(deq("Q8_0", q8), Array.from(q8v, (q) => q * 0.25));
  // Q4_K and Q5_K: d = 0.5, dmin = 0.25, 6-bit scales and mins that need their high bits.
  const sc = [1, 2, 3, 63, 17, 33, 50, 40], mn = [0, 5, 63, 1, 16, 32, 48, 62];
  const q4k = Array.from({ length: 256 }, (_, i) => (i * 7 + 3) % 16);
  const q5k = Array.from({ length: 256 }, (_, i) => (i * 11 + 5) % 32);
  const kq = (q: number[]) => q.map((v, i) => 0.5 * sc[i >> 5] * v - 0.25 * mn[i >> 5]);
  assert.deepEqual(deq("Q4_K", packQ4KQ5K(0x3800, 0x3400, sc, mn, q4k)), kq(q4k));
  assert.deepEqual(deq("Q5_K", packQ4KQ5K(0x3800, 0x3400, sc, mn, q5k, true)), kq(q5k));
  // Q6_K: d = 0.125; int8 scales per 16 values, the extremes included; quants stored + 32.
  const s6 = [1, -1, 127, -128, 2, -3, 5, 8, 13, -21, 34, -55, 89, 100, -100, 7];
  const q6 = Array.from({ length: 256 }, (_, i) => (i * 5 + 1) % 64);
  assert.deepEqual(
    deq("Q6_K", packQ6K(0x3000, s6, q6)),
    q6.map((v, i) => 0.125 * s6[i >> 4] * (v - 32)),
  );
});

/** Random finite binary16 bits, subnormals included. */
function randomHalf(r: () => number): number {
  return (r() < 0.5 ? 0x8000 : 0) | (Math.floor(r() * 31) << 10) | Math.floor(r() * 1024);
}

/** Random blocks with valid (finite) f16 scales, then hand-picked edge blocks, per type. */
function knownBlocks(name: GgmlTypeName, r: () => number): Uint8Array {
  const t = GGML_TYPES[name];
  const blocks: Uint8Array[] = [];
  const setHalf = (b: Uint8Array, p: number, v: number) => b.set([v & 0xff, v >> 8], p);
  const halfFields = (b: Uint8Array, f: (p: number) => number) => {
    if (name === "Q4_0" || name === "Q8_0") setHalf(b, 0, f(0));
    if (name === "Q4_K" || name === "Q5_K") (setHalf(b, 0, f(0)), setHalf(b, 2, f(2)));
    if (name === "Q6_K") setHalf(b, 208, f(208));
  };
  if (name === "F16" || name === "BF16") {
    // Values, not blocks: random finite patterns and the edges (±0, extremes, infinities).
    const edges = name === "F16"
      ? [0, 0x8000, 0x0001, 0x83ff, 0x0400, 0x7bff, 0xfbff, 0x7c00, 0xfc00]
      : [0, 0x8000, 0x0001, 0x807f, 0x0080, 0x7f7f, 0xff7f, 0x7f80, 0xff80];
    const out = new Uint8Array(2 * (4000 + edges.length));
    for (let i = 0; i < 4000; i++) {
      const v = name === "F16"
        ? randomHalf(r)
        : (r() < 0.5 ? 0x8000 : 0) | (Math.floor(r() * 255) << 7) | Math.floor(r() * 128);
      setHalf(out, 2 * i, v);
    }
    edges.forEach((v, i) => setHalf(out, 2 * (4000 + i), v));
    return out;
  }
  const n = t.blockValues === 256 ? 48 : 300;
  for (let k = 0; k < n; k++) {
    const b = Uint8Array.from({ length: t.blockBytes }, () => Math.floor(r() * 256));
    halfFields(b, () => randomHalf(r));
    blocks.push(b);
  }
  // All zero; every quant and scale bit set (max nibble, 6-bit scales/mins 63, int8 −1) with
  // the largest finite, a negative and the smallest subnormal scale.
  blocks.push(new Uint8Array(t.blockBytes));
  for (const d of [0x7bff, 0xbe00, 0x0001, 0x8001]) {
    const b = new Uint8Array(t.blockBytes).fill(0xff);
    halfFields(b, () => d);
    blocks.push(b);
  }
  // Negative scales with mixed quants; Q6_K's scale −128 and Q8_0's quant −128.
  const neg = Uint8Array.from({ length: t.blockBytes }, (_, i) => (i * 37) & 0xff);
  halfFields(neg, (p) => (p === 2 ? 0xc500 : 0xb266));
  blocks.push(neg);
  const extreme = Uint8Array.from({ length: t.blockBytes }, () => 0x80);
  halfFields(extreme, () => 0x3c00);
  blocks.push(extreme);
  const out = new Uint8Array(blocks.length * t.blockBytes);
  blocks.forEach((b, i) => out.set(b, i * t.blockBytes));
  return out;
}

Deno.test({
  name: "dequantization equals the numpy reference bit for bit on random and edge blocks",
  ignore: !havePython(["numpy"], "GGML dequantization reference"),
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "brainorg-ggml-" });
    try {
      const r = rng(20);
      const names = Object.keys(GGML_TYPES) as GgmlTypeName[];
      const raw = new Map<GgmlTypeName, Uint8Array>();
      for (const name of names) {
        const bytes = name === "F32"
          ? new Uint8Array(Float32Array.from({ length: 1000 }, () => (r() - 0.5) * 1e3).buffer)
          : knownBlocks(name, r);
        raw.set(name, bytes);
        await Deno.writeFile(join(dir, `${name}.bin`), bytes);
      }
      const counts = await runPython<Record<string, number>>(REFERENCE, ["blocks", dir, ...names]);
      for (const name of names) {
        const t = GGML_TYPES[name], bytes = raw.get(name)!;
        const count = (bytes.length / t.blockBytes) * t.blockValues;
        const ours = dequantizeTensor(t.id, [count], bytes, 0, { tensor: name });
        const ref = new Float32Array((await Deno.readFile(join(dir, `${name}.f32`))).buffer);
        assert.equal(counts[name], count, name);
        assert.equal(ours.length, count, name);
        assertSameBits(ours, ref, `${name} against numpy`);
        // The blocks exercise the format: many distinct values, both signs.
        assert.ok(new Set(ours).size > count / 20, `${name}: too few distinct values`);
        assert.ok(ours.some((v) => v < 0) && ours.some((v) => v > 0), name);
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

/**
 * The largest error each quantizer may make on one block, from the block's values and the
 * scales the quantizer derives from them (see _gguf_writer.ts); `i` is the value's index in
 * the tensor.
 */
function errorBound(type: GgmlTypeName, x: Float32Array): (i: number) => number {
  const E = 2 ** -10, TINY = 2 ** -24;
  const perBlock = (size: number, f: (o: number) => (i: number) => number) => {
    const fns: ((i: number) => number)[] = [];
    for (let o = 0; o < x.length; o += size) fns.push(f(o));
    return (i: number) => fns[Math.floor(i / size)](i);
  };
  const amax = (o: number, n: number) => {
    let a = 0;
    for (let i = o; i < o + n; i++) a = Math.max(a, Math.abs(x[i]));
    return a;
  };
  switch (type) {
    case "F32":
      return () => 0;
    case "F16": // round to nearest: half an ulp of 11 bits, or of the subnormals' 2^-24
      return (i) => Math.max(2 ** -11 * Math.abs(x[i]), 2 ** -25);
    case "BF16": // half an ulp of 8 bits
      return (i) => 2 ** -8 * Math.abs(x[i]);
    case "Q8_0": // d = max|x|/127: d/2 from rounding, 127·|d − f16(d)| ≤ 127·d·2^-11
      return perBlock(32, (o) => {
        const d = amax(o, 32) / 127;
        return () => d * (0.5 + 127 * 2 ** -11) * (1 + 1e-6);
      });
    case "Q4_0": // |d| = max|x|/8; the value −8d clamps to 7d: |d|, plus 8·|d − f16(d)|
      return perBlock(32, (o) => {
        const d = amax(o, 32) / 8;
        return () => d * (1 + 8 * 2 ** -11) * (1 + 1e-6);
      });
    case "Q4_K":
    case "Q5_K": { // d·sc/2 per sub-block: ((max − min) + dmin)/(2·nmax) + d/2
      const nmax = type === "Q4_K" ? 15 : 31;
      return perBlock(256, (o) => {
        const lo: number[] = [], hi: number[] = [];
        for (let j = 0; j < 8; j++) {
          const v = x.subarray(o + 32 * j, o + 32 * j + 32);
          lo.push(Math.min(0, ...v));
          hi.push(Math.max(...v));
        }
        const dmin = (Math.max(...lo.map((v) => -v)) / 63) * (1 + E) + TINY;
        const span = hi.map((h, j) => h - lo[j] + dmin);
        const d = (Math.max(...span) / nmax / 63) * (1 + E) + TINY;
        return (i) => (span[(i - o) >> 5] / (2 * nmax) + d / 2) * (1 + 1e-6);
      });
    }
    case "Q6_K": // d·sc/2 per 16 values: (max|x|/31 + d)/2
      return perBlock(256, (o) => {
        const s = Array.from({ length: 16 }, (_, j) => amax(o + 16 * j, 16) / 31);
        const d = (Math.max(...s) / 127) * (1 + E) + TINY;
        return (i) => ((s[(i - o) >> 4] + d) / 2) * (1 + 1e-6);
      });
  }
}

Deno.test("the GGUF writer's files read back: F32 identical, every other type within its bound", async () => {
  const dir = await Deno.makeTempDir({ prefix: "brainorg-gguf-write-" });
  try {
    const f32 = join(dir, "F32.gguf");
    await writeGgufLlama(f32, model, { type: "F32" });
    const same = await readGgufLlama(f32);
    assert.deepEqual(same.config, model.config);
    assert.deepEqual(same.vocab, model.vocab);
    for (const [i, t] of tensors(same).entries()) {
      assertSameBits(t.values, tensors(model)[i].values, t.name);
    }
    for (const { type, widen } of FORMS) {
      const source = widen > 1 ? widenLlama(model, widen) : model;
      const path = join(dir, `${type}.gguf`);
      await writeGgufLlama(path, source, { type });
      const back = await readGgufLlama(path);
      assert.deepEqual(back.tensorTypes, { [type]: 37, F32: 11 });
      assert.ok(back.source.endsWith(`(tensor types: ${type} 37, F32 11)`), back.source);
      const want = tensors(source);
      let worst = 0, exact = 0, total = 0;
      for (const [k, t] of tensors(back).entries()) {
        const x = want[k].values, is2d = x.length !== t.ne0;
        assert.equal(t.values.length, x.length);
        if (!is2d) {
          assertSameBits(t.values, x, `${type}: ${t.name} stays F32`);
          continue;
        }
        const bound = errorBound(type, x);
        for (let i = 0; i < x.length; i++) {
          const err = Math.abs(t.values[i] - x[i]), b = bound(i);
          if (!(err <= b)) {
            assert.fail(`${type} ${t.name}[${i}]: ${t.values[i]} for ${x[i]} (bound ${b})`);
          }
          if (b > 0) worst = Math.max(worst, err / b);
          if (t.values[i] === x[i]) exact++;
          total++;
        }
      }
      // Quantized for real (not a float32 copy), and the bound is not loose by orders.
      assert.ok(exact < total, `${type}: every weight read back exactly`);
      assert.ok(worst > 0.25, `${type}: the largest error is only ${worst} of its bound`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "quantized files dequantize as the numpy reference reads them, tensor by tensor",
  ignore: !havePython(["numpy"], "GGML dequantization reference"),
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "brainorg-gguf-numpy-" });
    try {
      for (const { type, widen } of FORMS) {
        const path = join(dir, `${type}.gguf`), out = join(dir, type);
        await Deno.mkdir(out);
        await writeGgufLlama(path, widen > 1 ? widenLlama(model, widen) : model, { type });
        const counts = await runPython<Record<string, number>>(REFERENCE, ["gguf", path, out]);
        const back = await readGgufLlama(path);
        const ours = tensors(back);
        assert.equal(Object.keys(counts).length, ours.length);
        for (const t of ours) {
          const ref = new Float32Array((await Deno.readFile(join(out, `${t.name}.f32`))).buffer);
          assertSameBits(t.values, ref, `${type}: ${t.name} against numpy`);
        }
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

/** Where tensor `name`'s type field lies in a GGUF file's bytes. */
function typeFieldAt(bytes: Uint8Array, name: string): number {
  const key = new TextEncoder().encode(name), v = new DataView(bytes.buffer);
  outer: for (let i = 32; i + key.length < bytes.length; i++) {
    for (let k = 0; k < key.length; k++) if (bytes[i + k] !== key[k]) continue outer;
    if (v.getBigUint64(i - 8, true) !== BigInt(key.length)) continue;
    return i + key.length + 4 + 8 * v.getUint32(i + key.length, true);
  }
  throw new Error(`no tensor ${name}`);
}

Deno.test("unreadable tensors are refused naming the tensor, the field and what was expected", async () => {
  const dir = await Deno.makeTempDir({ prefix: "brainorg-gguf-bad-" });
  const path = join(dir, "bad.gguf");
  const refused = async (bytes: Uint8Array, field: string, pattern: RegExp) => {
    await Deno.writeFile(path, bytes);
    await assert.rejects(() => readGgufLlama(path), (err: unknown) => {
      assert.ok(err instanceof InputError, String(err));
      assert.equal(err.field, field);
      assert.equal(err.file, path);
      assert.match(err.message, pattern);
      return true;
    });
  };
  try {
    const f32 = llamaGguf(model, { type: "F32" });
    const retype = (bytes: Uint8Array, name: string, type: number) => {
      const b = bytes.slice();
      new DataView(b.buffer).setUint32(typeFieldAt(b, name), type, true);
      return b;
    };
    await refused(
      retype(f32, "blk.0.attn_q.weight", 3),
      "blk.0.attn_q.weight (type)",
      /GGML type brainorg does not read.*expected: F32 \(0\), F16 \(1\).*BF16 \(30\).*found: Q4_1 \(3\)/,
    );
    await refused(
      retype(f32, "blk.2.attn_k.weight", 99),
      "blk.2.attn_k.weight (type)",
      /unknown \(99\)/,
    );
    await refused(
      retype(f32, "blk.0.ffn_down.weight", 8),
      "blk.0.ffn_down.weight (shape)",
      /not a whole number of blocks.*multiple of 32 values: Q8_0.*found: rows of 172 values/,
    );
    await refused(
      retype(f32, "blk.1.attn_q.weight", 12),
      "blk.1.attn_q.weight (shape)",
      /multiple of 256 values: Q4_K.*found: rows of 64 values/,
    );
    // A quantized tensor reaching past the end: the last layer's Q4_K ffn_up moved 2048 bytes
    // on, across the 1024 of the F32 norm after it.
    const q4k = llamaGguf(widenLlama(model, 256), { type: "Q4_K" });
    const moved = q4k.slice(), v = new DataView(moved.buffer);
    const offsetAt = typeFieldAt(moved, "blk.4.ffn_up.weight") + 4;
    v.setBigUint64(offsetAt, v.getBigUint64(offsetAt, true) + 2048n, true);
    await refused(
      moved,
      "blk.4.ffn_up.weight (offset)",
      /outside the file.*expected: 36864 bytes ending within/,
    );
    // Read directly, the same checks hold.
    const where = { file: "x.gguf", tensor: "t" };
    assert.throws(
      () => dequantizeTensor(14, [256], new Uint8Array(209), 0, where),
      (e: unknown) => {
        assert.ok(e instanceof InputError);
        assert.equal(e.field, "t (data)");
        assert.match(
          e.message,
          /cut short.*expected: 210 bytes \(1 Q6_K blocks of 210\).*found: 209/,
        );
        return true;
      },
    );
    assert.throws(
      () => dequantizeTensor(13, [128, 2], new Uint8Array(176), 0, where),
      /rows of 128 values \(shape 128 × 2\)/,
    );
    assert.throws(() => dequantizeTensor(20, [32], new Uint8Array(18), 0, where), /IQ4_NL \(20\)/);
    assert.throws(() => quantize("Q4_K", new Float32Array(172), 172), /widenLlama/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the model reports its tensor types; a float32 file's source stays its path", async () => {
  assert.deepEqual(model.tensorTypes, { F32: 48 });
  assert.equal(model.source, MODEL);
  const dir = await Deno.makeTempDir({ prefix: "brainorg-gguf-types-" });
  try {
    const path = join(dir, "q6.gguf");
    await writeGgufLlama(path, widenLlama(model, 256), { type: "Q6_K" });
    const m = await readGgufLlama(path);
    assert.deepEqual(m.tensorTypes, { Q6_K: 37, F32: 11 });
    assert.equal(m.source, `${path} (tensor types: Q6_K 37, F32 11)`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/**
 * Captured FFN units of stories260K in each type against the float32 capture, on 27 words:
 * the relative error of all responses, ‖q − f‖ / ‖f‖, and the median over ANs of the
 * correlation of an AN's responses across the words. Bounds: the values measured (in the
 * comments) with margin.
 */
const TOLERANCE: Record<GgmlTypeName, { relError: number; medianCorr: number }> = {
  F32: { relError: 0, medianCorr: 0.999999 },
  F16: { relError: 2e-3, medianCorr: 0.99999 }, // measured 7.7e-4, 0.9999998
  BF16: { relError: 0.015, medianCorr: 0.9999 }, // 6.5e-3, 0.99998
  Q8_0: { relError: 0.04, medianCorr: 0.9995 }, // 0.021, 0.99984
  Q6_K: { relError: 0.15, medianCorr: 0.995 }, // 0.078, 0.9979
  Q5_K: { relError: 0.3, medianCorr: 0.98 }, // 0.15, 0.9917
  Q4_K: { relError: 0.5, medianCorr: 0.93 }, // 0.30, 0.969
  Q4_0: { relError: 0.5, medianCorr: 0.92 }, // 0.34, 0.960
};

Deno.test("stories260K captured in every type matches the float32 capture within the type's tolerance", async () => {
  const tok = createTokenizer(model.vocab);
  const words = ("Once upon a time there was a little girl named Lily who loved to play " +
    "outside in the park with her big red ball and her dog").split(" ");
  const ref = captureWords(model, tok, words, { context: 64 });
  const { layers, dim } = model.config, W = words.length;
  const dir = await Deno.makeTempDir({ prefix: "brainorg-gguf-capture-" });
  const measured: Record<string, number> = {};
  try {
    // The widened float32 model is the same function, bit for bit, its extra units zero.
    for (const { type, widen } of [{ type: "F32" as const, widen: 256 }, ...FORMS]) {
      const path = join(dir, `${type}.gguf`);
      await writeGgufLlama(path, widen > 1 ? widenLlama(model, widen) : model, { type });
      const m = await readGgufLlama(path);
      const acts = captureWords(m, tok, words, { context: 64 });
      const D = m.config.dim;
      assert.equal(acts.units, layers * D);
      let se = 0, ss = 0, padding = 0;
      const corr: number[] = [];
      for (let l = 0; l < layers; l++) {
        for (let u = 0; u < D; u++) {
          const q = Array.from({ length: W }, (_, w) => acts.data[w * layers * D + l * D + u]);
          if (u >= dim) {
            padding += q.filter((v) => v !== 0).length;
            continue;
          }
          const f = Array.from({ length: W }, (_, w) => ref.data[w * layers * dim + l * dim + u]);
          for (let w = 0; w < W; w++) (se += (q[w] - f[w]) ** 2, ss += f[w] ** 2);
          corr.push(pearson(q, f));
        }
      }
      assert.equal(padding, 0, `${type}: the padding units respond`);
      corr.sort((a, b) => a - b);
      const rel = Math.sqrt(se / ss), median = corr[corr.length >> 1];
      measured[type] = rel;
      const tol = TOLERANCE[type];
      assert.ok(rel <= tol.relError, `${type}: relative error ${rel} > ${tol.relError}`);
      assert.ok(median >= tol.medianCorr, `${type}: median AN correlation ${median}`);
      if (type !== "F32") assert.ok(rel > 0, `${type}: identical to float32`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  // Fewer bits, larger errors.
  const order: GgmlTypeName[] = ["F32", "F16", "BF16", "Q8_0", "Q6_K", "Q5_K", "Q4_K"];
  for (let i = 1; i < order.length; i++) {
    assert.ok(measured[order[i]] > measured[order[i - 1]], `${order[i]} vs ${order[i - 1]}`);
  }
  assert.ok(measured.Q4_0 > measured.Q5_K);
});

function pearson(a: number[], b: number[]): number {
  const n = a.length, ma = a.reduce((s, v) => s + v, 0) / n, mb = b.reduce((s, v) => s + v, 0) / n;
  let ab = 0, aa = 0, bb = 0;
  for (let i = 0; i < n; i++) {
    ab += (a[i] - ma) * (b[i] - mb);
    aa += (a[i] - ma) ** 2;
    bb += (b[i] - mb) ** 2;
  }
  return ab / Math.sqrt(aa * bb);
}
