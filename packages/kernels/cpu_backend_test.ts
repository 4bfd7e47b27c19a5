import assert from "node:assert/strict";
import { createCpuBackend } from "./cpu_backend.ts";
import { stackedR2Reference } from "./cpu_reference.ts";
import { columnBlock } from "./matrix.ts";
import { randomMatrix } from "./_testing.ts";

Deno.test("CPU backend's stacked R² (WebAssembly) equals the reference to the bit, strided and with leftover columns", async () => {
  const cpu = await createCpuBackend({ blas: "typescript" });
  const y = randomMatrix(13, 50, 1), pred = randomMatrix(3 * 13, 21, 2);
  for (let i = 0; i < 13; i++) y.data[i * 50 + 7] = 2; // constant target
  // A constant target predicted exactly by the second set: R² 1 there.
  for (let i = 0; i < 13; i++) pred.data[(13 + i) * 21 + 2] = 2;
  const view = columnBlock(y, 5, 21);
  const got = await cpu.stackedR2(pred, view);
  const want = stackedR2Reference(pred, view);
  assert.deepEqual(got, want);
  assert.equal(got.data[2], 0);
  assert.equal(got.data[21 + 2], 1);
  // A strided prediction view (every other column of a wider block) and many columns.
  const wide = randomMatrix(2 * 60, 2 * 1003, 3), target = randomMatrix(60, 1003, 4);
  const strided = { rows: 120, cols: 1003, data: wide.data, rowStride: 2006, offset: 1 };
  assert.deepEqual(await cpu.stackedR2(strided, target), stackedR2Reference(strided, target));
});
