import assert from "node:assert/strict";
import { rng } from "@brainorg/kernels";
import { dequantizeTensor, GGML_TYPES } from "./gguf_quants.ts";
import { quantizeGgmlRef, quantizeQ4KRef, quantizeQ6KRef } from "./_ggml_quantize.ts";
import { quantize } from "./_gguf_writer.ts";

const Q4K = GGML_TYPES.Q4_K.id, Q6K = GGML_TYPES.Q6_K.id;

function back(type: number, bytes: Uint8Array, n: number): Float32Array {
  return dequantizeTensor(type, [n], bytes, 0, { file: "test", tensor: "x" });
}

function relRms(a: Float32Array, b: Float32Array): number {
  let e = 0, s = 0;
  for (let i = 0; i < a.length; i++) {
    e += (a[i] - b[i]) ** 2;
    s += b[i] ** 2;
  }
  return Math.sqrt(e / s);
}

Deno.test("ggml's reference K-quantizers reproduce blocks that lie on their grid exactly", () => {
  // Q6_K: every 16-value sub-block is k/4 for k = −32 … 30 (max −8): make_qx_quants finds
  // scale 1/4 with no error; d = −(1/4)/128 = −2⁻⁹ and int8 scale −128 then hold it exactly.
  const x6 = Float32Array.from({ length: 256 }, (_, i) => ((i * 7) % 63 - 32) / 4);
  for (let j = 0; j < 16; j++) x6[16 * j] = -8; // the largest magnitude, negative, in each
  const y6 = back(Q6K, quantizeQ6KRef(x6), 256);
  assert.deepEqual(Array.from(y6), Array.from(x6));
  // Q4_K: sub-block j is s·L − m with s = 63·2⁻¹⁰, m = 63·2⁻⁹ and L spanning 0 … 15, so that
  // d = s/63 and dmin = m/63 are powers of two and every 6-bit scale and min is 63.
  const s = 63 / 1024, m = 63 / 512;
  const x4 = Float32Array.from({ length: 256 }, (_, i) => s * ((i * 5) % 16) - m);
  for (let j = 0; j < 8; j++) {
    x4[32 * j] = -m;
    x4[32 * j + 1] = 15 * s - m;
  }
  const y4 = back(Q4K, quantizeQ4KRef(x4), 256);
  assert.deepEqual(Array.from(y4), Array.from(x4));
});

Deno.test("ggml's reference K-quantizers: smaller error than the bounded ones, within stated limits", () => {
  const uniform = rng(7);
  const normal = () =>
    Math.sqrt(-2 * Math.log(Math.max(uniform(), 1e-12))) * Math.cos(2 * Math.PI * uniform());
  const x = Float32Array.from({ length: 256 * 64 }, normal);
  const rows = { Q4_K: Q4K, Q6_K: Q6K } as const;
  // Relative RMS error on N(0, 1) weights (measured: Q4_K 0.072, Q6_K 0.018; bounded 0.081, 0.020).
  const limit = { Q4_K: 0.08, Q6_K: 0.02 };
  for (const [name, id] of Object.entries(rows) as ["Q4_K" | "Q6_K", number][]) {
    const ref = relRms(back(id, quantizeGgmlRef(name, x, 256), x.length), x);
    const bounded = relRms(back(id, quantize(name, x, 256), x.length), x);
    console.log(`${name}: ggml reference ${ref.toFixed(4)}, bounded ${bounded.toFixed(4)}`);
    assert.ok(
      ref < bounded,
      `${name}: ggml's search (${ref}) is no better than bounded (${bounded})`,
    );
    assert.ok(ref < limit[name], `${name}: ${ref}`);
  }
  // The other types are the writer's own (already ggml's), byte for byte.
  for (const t of ["F16", "BF16", "Q8_0", "Q4_0"] as const) {
    assert.deepEqual(quantizeGgmlRef(t, x, 256), quantize(t, x, 256));
  }
  assert.throws(() => quantizeGgmlRef("Q4_K", x.subarray(0, 300), 300), /256/);
});
