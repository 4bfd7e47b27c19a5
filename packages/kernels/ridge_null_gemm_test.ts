import assert from "node:assert/strict";
import { join } from "node:path";
import { contiguousFolds } from "./cross_validation.ts";
import { circularShift } from "./permutation.ts";
import { type RefitResult, RidgeRefits } from "./ridge_null.ts";
import { normal, randomMatrix, rng } from "./_testing.ts";
import { withBackend } from "./_test_backends.ts";
import type { Matrix } from "./matrix.ts";
import { havePython, runPython } from "../../test/python.ts";

// Float64 ridgeFixedAlpha per design: per fold, centered training fit at the
// target's α, held-out Pearson r (0 where either side is constant), Fisher z
// clamped at 0.999999 and averaged, tanh; weights refit on all samples.
const REFERENCE = `
import json, sys
import numpy as np
p = json.load(open(sys.argv[1]))
n, K, V = p["n"], p["K"], p["V"]
y = np.array(p["y"], dtype=np.float64).reshape(n, V)
ai, wi = np.array(p["alphaIndex"]), np.array(p["weightIndex"])
alphas, walphas = np.array(p["alphas"]), np.array(p["weightAlphas"])
def fit(x, yy, a):
    xc, yc = x - x.mean(0), yy - yy.mean(0)
    return np.linalg.solve(xc.T @ xc + a * np.eye(K), xc.T @ yc)
out = []
for xl in p["xs"]:
    x = np.array(xl, dtype=np.float64).reshape(n, K)
    z = np.zeros(V)
    for s, e in p["folds"]:
        tr = np.r_[0:s, e:n]
        for v in range(V):
            w = fit(x[tr], y[tr, v], alphas[ai[v]])
            pred, yh = x[s:e] @ w, y[s:e, v]
            pc, yc = pred - pred.mean(), yh - yh.mean()
            d = np.sqrt((pc @ pc) * (yc @ yc))
            r = (pc @ yc) / d if d > 0 else 0.0
            z[v] += np.arctanh(np.clip(r, -0.999999, 0.999999))
    weights = np.zeros((K, V))
    for v in range(V):
        weights[:, v] = fit(x, y[:, v], walphas[wi[v]])
    out.append({"r": np.tanh(z / len(p["folds"])).tolist(), "w": weights.ravel().tolist()})
print(json.dumps(out))
`;

/** Targets driven by a few regressors plus noise; target 3 is constant. */
function targets(x: Matrix, V: number, seed: number): Matrix {
  const n = x.rows, K = x.cols, noise = normal(rng(seed), n * V), y = new Float32Array(n * V);
  for (let t = 0; t < n; t++) {
    for (let v = 0; v < V; v++) {
      const drive = x.data[t * K + (v % K)] + 0.5 * x.data[t * K + ((v * 7) % K)];
      y[t * V + v] = v === 3 ? 2 : 5 + drive * (v % 3) + 2 * noise[t * V + v];
    }
  }
  return { rows: n, cols: V, data: y };
}

/** Largest |a − b| over all elements. */
function maxAbs(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

/** Largest |a − b| per design and weight row, relative to that row's largest |b|. */
function rowRelative(a: ArrayLike<number>, b: ArrayLike<number>, rows: number): number {
  const cols = a.length / rows;
  let worst = 0;
  for (let i = 0; i < rows; i++) {
    let scale = 0, err = 0;
    for (let c = i * cols; c < (i + 1) * cols; c++) {
      scale = Math.max(scale, Math.abs(b[c]));
      err = Math.max(err, Math.abs(a[c] - b[c]));
    }
    worst = Math.max(worst, err / (scale || 1));
  }
  return worst;
}

const CASES = [
  { K: 64, n: 200, folds: 5, V: 90, B: 1 },
  { K: 64, n: 200, folds: 5, V: 90, B: 3 },
  { K: 5, n: 60, folds: 4, V: 150, B: 1 },
  { K: 5, n: 60, folds: 3, V: 150, B: 3 },
  // Wider than one column block of the BLAS path (2,036 targets): three blocks, the last short.
  { K: 5, n: 60, folds: 4, V: 4_100, B: 2 },
];

for (const kind of ["typescript", "cpu"] as const) {
  for (const { K, n, folds: nFolds, V, B } of CASES) {
    Deno.test({
      name: `RidgeRefits perTarget "gemm" (${kind}, K = ${K}, B = ${B}, ${nFolds} folds) ` +
        `equals "wasm" and a float64 reference`,
      ignore: !havePython(["numpy"], "RidgeRefits gemm path reference"),
    }, () =>
      withBackend(kind, async (backend) => {
        const folds = contiguousFolds(n, nFolds), x = randomMatrix(n, K, K + B);
        const y = targets(x, V, 7);
        const alphas = [0.1, 1, 10, 100, 1e3, 1e4], weightAlphas = [0.5, 30, 3e3];
        // Random indices: after the sort by (α, weight α) the runs are many
        // and short, some of a single target.
        const draw = rng(11 * K + B);
        const alphaIndex = Int32Array.from({ length: V }, () => Math.floor(draw() * 6));
        const weightIndex = Int32Array.from({ length: V }, () => Math.floor(draw() * 3));
        const xs = [x, circularShift(x, 17), randomMatrix(n, K, 99)].slice(0, B);
        const run = async (perTarget: "wasm" | "gemm") => {
          const refits = new RidgeRefits(backend, n, K, {
            folds,
            alphas,
            weightAlphas,
            perTarget,
            threads: 2,
          });
          try {
            assert.equal(refits.perTarget, perTarget);
            const designs = refits.designs(xs),
              subject = refits.subject(y, alphaIndex, weightIndex);
            // Two blocks, the second not a whole number of SIMD vectors.
            const h = 41;
            return [
              await refits.refit(designs, subject, 0, h),
              await refits.refit(designs, subject, h, V - h),
            ];
          } finally {
            refits.dispose();
          }
        };
        const joined = (parts: RefitResult[]) => {
          const r = new Float32Array(B * V), w = new Float32Array(B * K * V);
          let v0 = 0;
          for (const part of parts) {
            const vb = part.r.length / B;
            for (let b = 0; b < B; b++) r.set(part.r.subarray(b * vb, (b + 1) * vb), b * V + v0);
            for (let i = 0; i < B * K; i++) {
              w.set(part.weights.subarray(i * vb, (i + 1) * vb), i * V + v0);
            }
            v0 += vb;
          }
          return { r, w };
        };
        const gemm = joined(await run("gemm")), wasm = joined(await run("wasm"));
        // The same float32 arithmetic in another order: rounding apart (≈ 2e-7 seen).
        assert.ok(maxAbs(gemm.r, wasm.r) <= 1e-5, `|Δr| vs wasm: ${maxAbs(gemm.r, wasm.r)}`);
        assert.ok(
          rowRelative(gemm.w, wasm.w, B * K) <= 1e-4,
          `weights vs wasm: ${rowRelative(gemm.w, wasm.w, B * K)}`,
        );
        const dir = await Deno.makeTempDir();
        try {
          const file = join(dir, "in.json");
          await Deno.writeTextFile(
            file,
            JSON.stringify({
              n,
              K,
              V,
              folds,
              alphas,
              weightAlphas,
              alphaIndex: [...alphaIndex],
              weightIndex: [...weightIndex],
              y: [...y.data],
              xs: xs.map((m) => [...m.data]),
            }),
          );
          const ref = await runPython<{ r: number[]; w: number[] }[]>(REFERENCE, [file]);
          for (let b = 0; b < B; b++) {
            const r = gemm.r.subarray(b * V, (b + 1) * V);
            const w = gemm.w.subarray(b * K * V, (b + 1) * K * V);
            assert.ok(maxAbs(r, ref[b].r) <= 1e-4, `design ${b}: |Δr| ${maxAbs(r, ref[b].r)}`);
            assert.ok(
              rowRelative(w, ref[b].w, K) <= 1e-3,
              `design ${b}: weights ${rowRelative(w, ref[b].w, K)}`,
            );
            assert.equal(r[3], 0, "a constant target has r = 0");
            if (b === 0) assert.ok(Math.max(...r) > 0.3, "driven targets are predicted");
          }
        } finally {
          await Deno.remove(dir, { recursive: true });
        }
      }));
  }
}

Deno.test("RidgeRefits perTarget: auto picks gemm only with OpenBLAS and K ≥ 48", async () => {
  const folds = contiguousFolds(40, 2);
  await withBackend("typescript", (backend) => {
    const make = (K: number, perTarget?: "auto" | "gemm" | "wasm") =>
      new RidgeRefits(backend, 40, K, { folds, alphas: [1], perTarget, threads: 1 });
    for (const [K, mode, want] of [[64, undefined, "wasm"], [64, "gemm", "gemm"]] as const) {
      const r = make(K, mode);
      assert.equal(r.perTarget, want, `typescript products, K = ${K}, ${mode}`);
      r.dispose();
    }
    assert.throws(() => make(8, "fast" as never), /perTarget must be/);
    return Promise.resolve();
  });
  await withBackend("cpu", (backend) => {
    const openBlas = backend.info.details.products === "openblas";
    for (
      const [K, threads, want] of [
        [16, 1, "wasm"],
        [32, 2, "wasm"],
        [64, 2, openBlas ? "gemm" : "wasm"],
        [64, 1, openBlas ? "gemm" : "wasm"],
      ] as const
    ) {
      const r = new RidgeRefits(backend, 40, K, { folds, alphas: [1], threads });
      assert.equal(
        r.perTarget,
        want,
        `${backend.info.implementation}, K = ${K}, ${threads} threads`,
      );
      r.dispose();
    }
    return Promise.resolve();
  });
});
