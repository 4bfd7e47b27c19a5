import assert from "node:assert/strict";
import { createCpuBackend } from "./cpu_backend.ts";
import { stackedR2Reference } from "./cpu_reference.ts";
import { columnBlock } from "./matrix.ts";
import { maxRelativeError, randomMatrix } from "./_testing.ts";

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
