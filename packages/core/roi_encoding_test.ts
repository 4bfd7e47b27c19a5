import assert from "node:assert/strict";
import { createCpuBackend, type Matrix, rng } from "@brainorg/kernels";
import { encodeTargets } from "./roi_encoding.ts";

/** AR(1) series: autocorrelated like BOLD, so a shift null is needed at all. */
function smooth(T: number, cols: number, seed: number): Matrix {
  const rand = rng(seed), data = new Float32Array(T * cols);
  const gauss = () =>
    Math.sqrt(-2 * Math.log(Math.max(rand(), 1e-12))) * Math.cos(2 * Math.PI * rand());
  for (let c = 0; c < cols; c++) {
    let a = 0;
    for (let t = 0; t < T; t++) data[t * cols + c] = a = 0.9 * a + gauss();
  }
  return { rows: T, cols, data };
}

Deno.test("ROI encoding: shifted targets give uniform p under the null and small p for driven targets", async () => {
  const backend = await createCpuBackend({ blas: "typescript" });
  try {
    const T = 240, x = smooth(T, 3, 1), noise = smooth(T, 60, 2);
    // Targets 0–9 follow regressor 0; the other 50 are independent of x.
    const y = { rows: T, cols: 60, data: Float32Array.from(noise.data) };
    for (let t = 0; t < T; t++) {
      for (let c = 0; c < 10; c++) y.data[t * 60 + c] += 1.5 * x.data[t * 3];
    }
    const fit = await encodeTargets(backend, x, y, { permutations: 99, seed: 3 });
    const driven = [...fit.p.slice(0, 10)], nulls = [...fit.p.slice(10)];
    assert.ok(driven.every((p) => p <= 0.02), `driven targets: ${driven}`);
    // Under the null, about 5% of 50 targets fall below 0.05 and the mean p is near 0.5.
    assert.ok(nulls.filter((p) => p <= 0.05).length <= 8, `null p-values: ${nulls}`);
    const mean = nulls.reduce((a, b) => a + b, 0) / nulls.length;
    assert.ok(mean > 0.35 && mean < 0.65, `mean null p ${mean}`);
    assert.ok(fit.r[0] > 0.3 && Math.abs(fit.r[30]) < 0.3);
    assert.equal(fit.alpha.length, 60);
  } finally {
    backend.dispose();
  }
});
