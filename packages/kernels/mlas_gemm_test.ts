import assert from "node:assert/strict";
import { join } from "node:path";
import { havePython, runPython } from "../../test/python.ts";
import { loadMlas } from "./mlas_gemm.ts";
import { createCpuBackend } from "./cpu_backend.ts";
import { stackedR2Reference } from "./cpu_reference.ts";
import { ridgeCV } from "./ridge.ts";
import { gemmReference } from "./cpu_reference.ts";
import { normal, randomMatrix, rng } from "./_testing.ts";
import type { Matrix } from "./matrix.ts";
import { runRidgePython } from "./_test_ridge_python.ts";

const mlas = await loadMlas(2);
const noMlas = "reason" in mlas;
const haveNumpy = havePython(["numpy"], "MLAS fused scoring against numpy float64");

/** Stacked products a·b, a block of targets y (one constant, one with a large mean), S = 4. */
function scoringCase() {
  const S = 4, n = 37, k = 13, m = 301;
  const a = randomMatrix(S * n, k, 1), b = randomMatrix(k, m, 2), y = randomMatrix(n, m, 3);
  for (let i = 0; i < n; i++) {
    y.data[i * m + 5] = 2.5; // constant target
    y.data[i * m + 6] = 1000 + y.data[i * m + 6]; // mean far above the spread
  }
  // Set 1 predicts column 7 exactly, set 2 to within float32 rounding: SSE 0 and tiny.
  const ab = gemmReference(a, b);
  for (let i = 0; i < n; i++) y.data[i * m + 7] = ab.data[(n + i) * m + 7];
  for (let i = 0; i < n; i++) y.data[i * m + 8] = ab.data[(2 * n + i) * m + 8] * (1 + 1e-6);
  return { S, n, k, m, a, b, y };
}

Deno.test({
  name: "MLAS fused scoring: SSE and SST equal numpy's float64 sums of the float32 products",
  ignore: noMlas || !haveNumpy,
  async fn() {
    if ("reason" in mlas) return;
    const { S, n, k, m, a, b, y } = scoringCase();
    const got = await mlas.stackedErrors(a, b, y);
    const dir = await Deno.makeTempDir();
    try {
      const file = join(dir, "in.json");
      await Deno.writeTextFile(
        file,
        JSON.stringify({ S, n, k, m, a: [...a.data], b: [...b.data], y: [...y.data] }),
      );
      const ref = await runPython<{ sse: number[]; sst: number[] }>(
        `
import json, sys
import numpy as np
d = json.load(open(sys.argv[1]))
S, n, k, m = d["S"], d["n"], d["k"], d["m"]
a = np.array(d["a"], dtype=np.float32).astype(np.float64).reshape(S * n, k)
b = np.array(d["b"], dtype=np.float32).astype(np.float64).reshape(k, m)
y = np.array(d["y"], dtype=np.float32).astype(np.float64).reshape(n, m)
p = (a @ b).reshape(S, n, m)
print(json.dumps({"sse": ((p - y) ** 2).sum(1).ravel().tolist(),
                  "sst": ((y - y.mean(0)) ** 2).sum(0).tolist()}))
`,
        [file],
      );
      assert.equal(got.sse.length, S * m);
      assert.equal(got.sst[5], 0, "a constant column's SST is exactly 0");
      for (let j = 0; j < m; j++) {
        const e = Math.abs(got.sst[j] - ref.sst[j]);
        assert.ok(
          e <= 1e-5 * ref.sst[j] + 1e-12,
          `SST of column ${j}: ${got.sst[j]} vs ${ref.sst[j]}`,
        );
      }
      // Float32 products of k = 13 terms: an absolute error of about 1e-7 of Σ|a||b| per
      // prediction, so near-exact predictions (columns 7, 8) are compared on that scale.
      const scale = (s: number, j: number) => {
        let t = 0;
        for (let i = 0; i < n; i++) {
          let r = 0;
          for (let q = 0; q < k; q++) {
            r += Math.abs(a.data[(s * n + i) * k + q] * b.data[q * m + j]);
          }
          t += r * r;
        }
        return t;
      };
      for (let s = 0; s < S; s++) {
        for (let j = 0; j < m; j++) {
          const want = ref.sse[s * m + j], have = got.sse[s * m + j];
          const tol = 1e-5 * want + 1e-11 * scale(s, j);
          assert.ok(
            Math.abs(have - want) <= tol,
            `SSE of set ${s}, column ${j}: ${have} vs ${want}`,
          );
        }
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "CPU backend on MLAS: productR2 scored in onnxruntime agrees with the reference, " +
    "constant targets by its rule",
  ignore: noMlas,
  async fn() {
    const cpu = await createCpuBackend({ blas: "mlas" });
    try {
      const { a, b, y } = scoringCase();
      const got = await cpu.productR2(a, b, y);
      const want = stackedR2Reference(gemmReference(a, b), y);
      const m = y.cols;
      for (let i = 0; i < want.data.length; i++) {
        const j = i % m;
        if (j === 7 || j === 8) continue; // rounding-level fits: checked below
        assert.ok(
          Math.abs(got.data[i] - want.data[i]) <= 1e-5 * (1 + Math.abs(want.data[i])),
          `R² ${i}: ${got.data[i]} vs ${want.data[i]}`,
        );
      }
      assert.equal(got.data[5], 0, "a constant target not predicted exactly: 0");
      assert.ok(got.data[m + 7] > 1 - 1e-6, `an exact prediction: R² ${got.data[m + 7]}`);
      await assert.rejects(
        () => cpu.productR2(a, b, { rows: 5, cols: m, data: y.data }),
        RangeError,
      );
    } finally {
      cpu.dispose();
    }
  },
});

/**
 * Hard cases for the scoring: two nearly collinear regressors and an exact
 * copy, α down to 1e-6, targets from noiseless to noise-dominated.
 */
function hardProblem(n: number, p: number, v: number, seed: number) {
  const x = randomMatrix(n, p, seed);
  const eps = normal(rng(seed + 9), n);
  for (let i = 0; i < n; i++) {
    x.data[i * p + 1] = x.data[i * p] + 1e-3 * eps[i];
    x.data[i * p + 2] = x.data[i * p];
  }
  const w = randomMatrix(p, v, seed + 1), noise = normal(rng(seed + 2), n * v);
  const y = new Float32Array(n * v);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < v; c++) {
      let s = 3;
      for (let j = 0; j < p; j++) s += x.data[i * p + j] * w.data[j * v + c];
      y[i * v + c] = s + noise[i * v + c] * (c % 4 === 0 ? 0 : 0.05 * c);
    }
  }
  return { x, y: { rows: n, cols: v, data: y } as Matrix };
}

Deno.test({
  name: "ridgeCV on MLAS (fused scoring) chooses numpy float64's α wherever the scores are not " +
    "tied, on collinear regressors and α down to 1e-6",
  ignore: noMlas || !haveNumpy,
  async fn() {
    const n = 120, p = 10, v = 64, folds = 5;
    const alphas = [1e-6, 1e-4, 1e-2, 1, 10, 100, 1e3, 1e4];
    const { x, y } = hardProblem(n, p, v, 7);
    const cpu = await createCpuBackend({ blas: "mlas" });
    let fit;
    try {
      fit = await ridgeCV(cpu, x, y, { alphas, folds, returnPredictions: false });
    } finally {
      cpu.dispose();
    }
    // Each fold's ridge solved in float64 by the normal equations, R² per α, averaged.
    const ref = await runRidgePython<{ cv: number[][] }>(
      `
import json, sys
import numpy as np
d = json.load(open(sys.argv[1]))
n, p, v, F = d["n"], d["p"], d["v"], d["folds"]
X = np.array(d["x"], dtype=np.float32).astype(np.float64).reshape(n, p)
Y = np.array(d["y"], dtype=np.float32).astype(np.float64).reshape(n, v)
sizes = [n // F + (1 if f < n % F else 0) for f in range(F)]
b = np.concatenate([[0], np.cumsum(sizes)])
cv = np.zeros((len(d["alphas"]), v))
for f in range(F):
    s, e = b[f], b[f + 1]
    tr = np.r_[0:s, e:n]
    xm, ym = X[tr].mean(0), Y[tr].mean(0)
    G, R = (X[tr] - xm).T @ (X[tr] - xm), (X[tr] - xm).T @ (Y[tr] - ym)
    yv = Y[s:e]
    sst = ((yv - yv.mean(0)) ** 2).sum(0)
    for i, a in enumerate(d["alphas"]):
        W = np.linalg.solve(G + a * np.eye(p), R)
        pred = (X[s:e] - xm) @ W + ym
        cv[i] += (1 - ((yv - pred) ** 2).sum(0) / sst) / F
print(json.dumps({"cv": cv.T.tolist()}))
`,
      { n, p, v, folds, alphas, x, y },
    );
    let compared = 0;
    for (let c = 0; c < v; c++) {
      const scores = ref.cv[c];
      const order = scores.map((_, i) => i).sort((i, j) => scores[j] - scores[i]);
      const gap = scores[order[0]] - scores[order[1]];
      for (let a = 0; a < alphas.length; a++) {
        const got = fit.cvScores.data[a * v + c];
        assert.ok(
          Math.abs(got - scores[a]) < 1e-4 * (1 + Math.abs(scores[a])),
          `cv score of target ${c} at α ${alphas[a]}: ${got} vs ${scores[a]}`,
        );
      }
      if (gap < 1e-5) continue; // a tie at float32's resolution: either choice is right
      compared++;
      assert.equal(fit.alphaIndex[c], order[0], `α of target ${c} (gap ${gap})`);
    }
    assert.ok(compared >= v / 2, `only ${compared} targets had a clear best α`);
    const chosen = new Set(fit.alphaIndex);
    assert.ok(chosen.has(0) && chosen.size >= 3, `α chosen: ${[...chosen]}`);
  },
});
