import assert from "node:assert/strict";
import { haveClang, renderWasmModule, WASM_MODULE } from "../../tools/build_wasm.ts";
import { lassoCDReference } from "./lasso_cd_reference.ts";
import { lassoCDWasm } from "./lasso_cd_wasm.ts";
import { LassoPool } from "./lasso_cd_parallel.ts";
import type { LassoBatch } from "./lasso_batch.ts";
import { normal, rng } from "./_testing.ts";
import { reportMissing } from "../../test/missing.ts";

/**
 * A batch like one fold of lassoCV: centred regressors (correlated when
 * `mix` > 0), sparse planted weights, penalties log-spaced from each
 * target's α_max.
 */
function foldBatch(n: number, p: number, V: number, seed: number, mix = 0.5): LassoBatch {
  const rand = rng(seed), z = normal(rand, n * p), x = new Float64Array(n * p);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < p; j++) {
      x[i * p + j] = z[i * p + j] + mix * (j > 0 ? z[i * p + j - 1] : 0);
    }
  }
  for (let j = 0; j < p; j++) {
    let m = 0;
    for (let i = 0; i < n; i++) m += x[i * p + j] / n;
    for (let i = 0; i < n; i++) x[i * p + j] -= m;
  }
  const gram = new Float64Array(p * p);
  for (let i = 0; i < n; i++) {
    for (let a = 0; a < p; a++) {
      for (let b = 0; b < p; b++) gram[a * p + b] += x[i * p + a] * x[i * p + b];
    }
  }
  const noise = normal(rand, n * V);
  const q = new Float32Array(p * V), yy = new Float32Array(V), scale = new Float32Array(V);
  const y = new Float64Array(n);
  for (let v = 0; v < V; v++) {
    const w = new Float64Array(p);
    for (let t = 0; t < 1 + (v % 5); t++) w[Math.floor(rand() * p)] = (rand() - 0.5) * 3;
    for (let i = 0; i < n; i++) {
      y[i] = noise[i * V + v] * (0.2 + (v % 7) / 3);
      for (let j = 0; j < p; j++) y[i] += x[i * p + j] * w[j];
    }
    let top = 0;
    for (let j = 0; j < p; j++) {
      let s = 0;
      for (let i = 0; i < n; i++) s += x[i * p + j] * y[i];
      q[j * V + v] = s;
      top = Math.max(top, Math.abs(s));
    }
    for (let i = 0; i < n; i++) yy[v] += y[i] * y[i];
    scale[v] = top;
  }
  const nA = 40;
  const path = Float64Array.from({ length: nA }, (_, i) => 1e-3 ** (i / (nA - 1)));
  return { p, gram, q, yy, scale, path, heldOut: { gram, q, yy } };
}

/** ½||y − Xw||² + l1||w||₁ + ½ l2||w||² from the Gram quantities, in float64. */
function objective(b: LassoBatch, w: ArrayLike<number>, v: number, l1: number, l2: number) {
  const { p } = b, V = b.yy.length;
  let qw = 0, wGw = 0, l1n = 0, w2 = 0;
  for (let j = 0; j < p; j++) {
    const wj = w[j];
    qw += wj * b.q[j * V + v];
    l1n += Math.abs(wj);
    w2 += wj * wj;
    for (let k = 0; k < p; k++) wGw += wj * (b.gram[j * p + k] as number) * w[k];
  }
  return 0.5 * (b.yy[v] - 2 * qw + wGw) + l1 * l1n + 0.5 * l2 * w2;
}

function weightsAt(path: Float32Array, v: number, i: number, nA: number, p: number) {
  return path.subarray((v * nA + i) * p, (v * nA + i + 1) * p);
}

Deno.test("WebAssembly coordinate descent follows the reference's iterates exactly", () => {
  for (
    const [n, p, V, extra] of [
      [80, 7, 13, {}],
      [120, 21, 30, { positive: true, l1Ratio: 0.7 }],
      [60, 64, 20, {}], // more regressors than samples: G is singular
    ] as const
  ) {
    const b = { ...foldBatch(n, p, V, p), ...extra, keepPath: true };
    const ref = lassoCDReference(b), got = lassoCDWasm(b, { activeSet: false });
    assert.deepEqual(got.iterations, ref.iterations, `sweeps, p = ${p}`);
    assert.deepEqual(got.pathWeights, ref.pathWeights, `path weights, p = ${p}`);
    assert.deepEqual(got.sse, ref.sse, `held-out errors, p = ${p}`);
    // A stop index per target and a warm start.
    const stopIndex = Uint16Array.from({ length: V }, (_, v) => (v * 7) % b.path.length);
    const warmStart = Float32Array.from(ref.pathWeights!.subarray(0, p * V), (x) => x * 0.5);
    const s = { ...b, heldOut: undefined, keepPath: false, stopIndex, warmStart };
    assert.deepEqual(lassoCDWasm(s, { activeSet: false }).weights, lassoCDReference(s).weights);
  }
});

Deno.test("the active-set solver reaches the reference's optimum at every penalty", () => {
  for (
    const [n, p, V, extra] of [
      [240, 64, 40, {}],
      [240, 64, 40, { positive: true }],
      [100, 9, 30, {}],
      [50, 64, 12, {}], // singular G: coordinate descent takes over
    ] as const
  ) {
    const b = { ...foldBatch(n, p, V, 100 + p, 0.8), ...extra, keepPath: true };
    const nA = b.path.length, tol = 1e-4;
    const ref = lassoCDReference(b), got = lassoCDWasm(b);
    if (n >= 100) {
      const sweeps = (r: typeof ref) => r.iterations.reduce((a, x) => a + x, 0);
      assert.ok(sweeps(got) < sweeps(ref) / 2, `active-set steps ${sweeps(got)} vs ${sweeps(ref)}`);
      // Where G is well conditioned the active-set solutions are exact: the
      // reference's iterates run to a tolerance of 1e-12 agree with them.
      const exact = lassoCDWasm({ ...b, tol: 1e-12, maxIter: 100_000 }, { activeSet: false });
      for (let v = 0; v < V; v++) {
        for (let i = 0; i < nA; i++) {
          const e = weightsAt(exact.pathWeights!, v, i, nA, p);
          const a = weightsAt(got.pathWeights!, v, i, nA, p);
          const top = Math.max(...e.map(Math.abs));
          for (let j = 0; j < p; j++) {
            assert.ok(Math.abs(a[j] - e[j]) <= 1e-5 * top, `weight ${j}, v ${v}, α ${i}, p ${p}`);
          }
        }
      }
    }
    for (let v = 0; v < V; v++) {
      for (let i = 0; i < nA; i++) {
        const l1 = b.scale[v] * b.path[i];
        const a = objective(b, weightsAt(got.pathWeights!, v, i, nA, p), v, l1, 0);
        const r = objective(b, weightsAt(ref.pathWeights!, v, i, nA, p), v, l1, 0);
        // Both solutions are within the duality-gap tolerance of the optimum.
        assert.ok(Math.abs(a - r) <= 2 * tol * b.yy[v], `objective, p ${p}, v ${v}, α ${i}`);
        const e = Math.abs(got.sse![i * V + v] - ref.sse![i * V + v]);
        assert.ok(e <= 1e-3 * b.heldOut!.yy[v], `held-out error, p ${p}, v ${v}, α ${i}`);
      }
    }
    // The reported objective is the weights' objective.
    const s = { ...b, heldOut: undefined, keepPath: false };
    const last = lassoCDWasm(s);
    for (let v = 0; v < V; v++) {
      const w = Array.from({ length: p }, (_, j) => last.weights![j * V + v]);
      const o = objective(b, w, v, b.scale[v] * b.path[nA - 1], 0);
      assert.ok(Math.abs(last.objective![v] - o) <= 1e-4 * b.yy[v], `objective output, v ${v}`);
    }
  }
});

Deno.test("worker threads give one thread's results, bit for bit, and stop when closed", async () => {
  const b = { ...foldBatch(200, 32, 150, 7), keepPath: true };
  const pool = new LassoPool(2);
  try {
    const one = lassoCDWasm(b), two = await pool.solve(b);
    assert.deepEqual(two.sse, one.sse);
    assert.deepEqual(Array.from(two.pathWeights!), Array.from(one.pathWeights!));
    assert.deepEqual(two.iterations, one.iterations);
    const stopIndex = Uint16Array.from({ length: 150 }, (_, v) => v % 40);
    const s = { ...b, heldOut: undefined, keepPath: false, stopIndex };
    const [x, y] = await Promise.all([pool.solve(s), pool.solve(s)]);
    assert.deepEqual(x.weights, lassoCDWasm(s).weights);
    assert.deepEqual(y.objective, x.objective);
  } finally {
    pool.close();
  }
});

Deno.test("a program that never disposes its CPU backend still exits after a LASSO fit", async () => {
  const script = `
    import { createCpuBackend, lassoCV } from "${new URL("./mod.ts", import.meta.url).href}";
    const cpu = await createCpuBackend({ threads: 2 });
    const x = { rows: 60, cols: 5, data: Float32Array.from({ length: 300 }, (_, i) => Math.sin(i * 1.7)) };
    const y = { rows: 60, cols: 200, data: Float32Array.from({ length: 12000 }, (_, i) => Math.cos(i * 0.3)) };
    const fit = await lassoCV(cpu, x, y, { nAlphas: 10 });
    console.log(fit.alphas.length);
  `;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["eval", "--no-check", script],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => child.kill(), 60_000);
  const out = await child.output();
  clearTimeout(timer);
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  assert.equal(new TextDecoder().decode(out.stdout).trim(), "200");
});

Deno.test({
  name: "the embedded WebAssembly is wasm/*.c as compiled now (run `deno task wasm`)",
  ignore: !(haveClang() || reportMissing(
    "CLANG MISSING: the embedded WebAssembly is not rechecked (apt-get install clang lld).",
    "BRAINORG_REQUIRE_REFERENCES",
  )),
  fn: async () => {
    assert.equal(await Deno.readTextFile(WASM_MODULE), await renderWasmModule());
  },
});
