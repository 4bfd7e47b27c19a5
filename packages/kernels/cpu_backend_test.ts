import assert from "node:assert/strict";
import { createCpuBackend } from "./cpu_backend.ts";
import { gemmReference, stackedR2Reference } from "./cpu_reference.ts";
import { columnBlock } from "./matrix.ts";
import { maxRelativeError, randomMatrix, scaledError } from "./_testing.ts";

Deno.test("CPU backend products (BLAS when present) equal the reference, views and out buffers too", async () => {
  const cpu = await createCpuBackend();
  try {
    for (const [m, n, k] of [[1, 1, 1], [5, 7, 3], [67, 129, 33]]) {
      for (const transA of [false, true]) {
        for (const transB of [false, true]) {
          const a = transA ? randomMatrix(k, m, m) : randomMatrix(m, k, m);
          const b = transB ? randomMatrix(n, k, n) : randomMatrix(k, n, n);
          const got = await cpu.gemm(a, b, { transA, transB });
          assert.ok(scaledError(got.data, gemmReference(a, b, { transA, transB }).data) < 1e-5);
        }
      }
    }
    const wide = randomMatrix(40, 300, 3), a = randomMatrix(40, 9, 4);
    const out = new Float32Array(9 * 100 + 5);
    const got = await cpu.gemm(a, columnBlock(wide, 150, 100), { transA: true, out });
    assert.equal(got.data.buffer, out.buffer);
    const want = gemmReference(a, columnBlock(wide, 150, 100), { transA: true });
    assert.ok(scaledError(got.data, want.data) < 1e-5);
  } finally {
    cpu.dispose();
  }
});

Deno.test("CPU backend's unrolled stacked R² equals the reference, strided and with leftover columns", async () => {
  const cpu = await createCpuBackend({ blas: "typescript" });
  const y = randomMatrix(13, 50, 1), pred = randomMatrix(3 * 13, 21, 2);
  for (let i = 0; i < 13; i++) y.data[i * 50 + 7] = 2; // constant target
  const view = columnBlock(y, 5, 21);
  const got = await cpu.stackedR2(pred, view);
  const want = stackedR2Reference(pred, view);
  assert.ok(maxRelativeError(got.data, want.data, 1e-6) < 1e-5);
  assert.equal(got.data[2], 0);
});
