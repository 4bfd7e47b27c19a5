/**
 * Peak memory of the voxel null at a number of surrogates: the demo's size
 * (6 subjects × 32,810 voxels × 362 volumes, 16 atoms) by default. Run once
 * per count in a fresh process, since peak resident memory (VmHWM) only
 * grows. `deno task bench --full` runs it at 100 and 1,000 surrogates.
 *
 * Usage: deno run -A bench/null_memory.ts SURROGATES [VOXELS]
 *
 * @module
 */

import { encodeVoxels } from "@brainorg/core";
import { createCpuBackend, type Matrix } from "@brainorg/kernels";
import { seeded } from "./_data.ts";

const P = Number(Deno.args[0] ?? 100), V = Number(Deno.args[1] ?? 32_810);
const T = 362, K = 16, S = 6;
const noise = seeded(T * K, 11), x: Matrix = { rows: T, cols: K, data: new Float32Array(T * K) };
for (let j = 0; j < K; j++) {
  let a = 0;
  for (let t = 0; t < T; t++) x.data[t * K + j] = a = 0.8 * a + noise[t * K + j];
}
const subjects = Array.from({ length: S }, (_, s) => ({
  id: `s${s}`,
  data: { rows: T, cols: V, data: seeded(T * V, 20 + s) },
}));
const backend = await createCpuBackend();
const before = peakKiB();
const t0 = performance.now();
await encodeVoxels(backend, x, subjects, { permutations: P, seed: 0 });
const seconds = (performance.now() - t0) / 1000;
backend.dispose();
console.log(JSON.stringify({
  surrogates: P,
  voxels: V,
  seconds,
  products: backend.info.implementation,
  peakBeforeMiB: before / 1024,
  peakMiB: peakKiB() / 1024,
}));

/** Peak resident memory of this process so far (VmHWM), KiB. */
function peakKiB(): number {
  const status = Deno.readTextFileSync("/proc/self/status");
  return Number(/^VmHWM:\s+(\d+)/m.exec(status)?.[1] ?? NaN);
}
