import assert from "node:assert/strict";
import { createCpuBackend } from "@brainorg/kernels";
import { cleanSeries, dctBasis } from "./clean.ts";

// Products in float32 (OpenBLAS; TypeScript where no BLAS is found) leave the high-pass
// residual of a pure-drift voxel at ≈ 1e-6 of its level: far above an absolute floor.
Deno.test("cleanSeries zeroes a large pure-drift voxel and standardizes a voxel with signal", async () => {
  const backend = await createCpuBackend();
  try {
    const T = 362, V = 4, basis = dctBasis(T, 2, 128), data = new Float32Array(T * V);
    for (let t = 0; t < T; t++) {
      const drift = 50 * basis.data[t * basis.cols + 2] * Math.sqrt(T / 2); // ±50, inside the basis
      data.set([
        1e4 + drift, // pure drift on a large level
        1e4 + drift + 10 * Math.sin(t * 1.3), // drift and a 0.1% fast signal
        0.5, // constant
        1e-3 * Math.cos(t * 0.9), // small units, no level: still signal
      ], t * V);
    }
    const out = await cleanSeries(backend, { rows: T, cols: V, data }, { tr: 2 });
    const column = (c: number) => Array.from({ length: T }, (_, t) => out.data[t * V + c]);
    assert.ok(column(0).every((x) => x === 0), `pure drift: ${column(0).slice(0, 4)}`);
    assert.ok(column(2).every((x) => x === 0), "constant");
    for (const c of [1, 3]) {
      const x = column(c), m = x.reduce((a, b) => a + b, 0) / T;
      const sd = Math.sqrt(x.reduce((a, b) => a + (b - m) ** 2, 0) / T);
      assert.ok(Math.abs(m) < 1e-5 && Math.abs(sd - 1) < 1e-5, `column ${c}: mean ${m}, SD ${sd}`);
    }
    // The fast signal survives the filter: the cleaned series follows it.
    const s = Array.from({ length: T }, (_, t) => Math.sin(t * 1.3));
    const r = column(1).reduce((a, x, t) => a + x * s[t], 0) / T / Math.sqrt(0.5);
    assert.ok(r > 0.95, `r with the signal ${r}`);
  } finally {
    backend.dispose();
  }
});
