import assert from "node:assert/strict";
import { havePython } from "../../test/python.ts";
import { createCpuBackend } from "./cpu_backend.ts";
import { ridgeCV } from "./ridge.ts";
import { contiguousFolds, logspace, resolveFolds } from "./cross_validation.ts";
import { choleskySolve } from "./linalg.ts";
import { normal, randomMatrix, rng, scaledError } from "./_testing.ts";
import { BACKEND_KINDS, ignoreBackend, once, withBackend } from "./_test_backends.ts";
import type { Matrix } from "./matrix.ts";
import { runRidgePython } from "./_test_ridge_python.ts";

/** Targets with planted weights and noise levels from tiny to overwhelming. */
function problem(n: number, p: number, v: number, seed: number) {
  const x = randomMatrix(n, p, seed);
  const w = randomMatrix(p, v, seed + 1);
  const noise = normal(rng(seed + 2), n * v);
  const y = new Float32Array(n * v);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < v; c++) {
      let s = 0.5 * (c % 3);
      for (let j = 0; j < p; j++) s += x.data[i * p + j] * w.data[j * v + c];
      y[i * v + c] = s + noise[i * v + c] * (0.1 + 3 * (c / v)) * Math.sqrt(p);
    }
  }
  return { x, y: { rows: n, cols: v, data: y } as Matrix };
}

Deno.test("contiguous folds match scikit-learn's KFold sizes", () => {
  assert.deepEqual(contiguousFolds(11, 3), [[0, 4], [4, 8], [8, 11]]);
  assert.throws(() => contiguousFolds(3, 5), /folds must be an integer from 2 to the 3 samples/);
});

Deno.test("folds given as row ranges: checked to tile the rows, and used as given", async () => {
  assert.deepEqual(resolveFolds(10, [[0, 7], [7, 10]]), [[0, 7], [7, 10]]);
  assert.deepEqual(resolveFolds(11, 3), contiguousFolds(11, 3));
  for (const bad of [[[0, 5]], [[0, 4], [5, 10]], [[0, 6], [4, 10]], [[0, 4], [4, 9]]]) {
    assert.throws(() => resolveFolds(10, bad as [number, number][]), /tile the 10 samples/);
  }
  // Two uneven folds (one story of 23 volumes, one of 37), against a float64
  // ridge with intercept fit on each fold's training rows.
  const cpu = await createCpuBackend({ blas: "typescript" });
  const { x, y } = problem(60, 3, 4, 11);
  const folds: [number, number][] = [[0, 23], [23, 60]], alphas = [0.1, 10];
  const fit = await ridgeCV(cpu, x, y, { folds, alphas });
  assert.deepEqual(fit.folds, folds);
  for (const [a, alpha] of alphas.entries()) {
    for (let c = 0; c < y.cols; c++) {
      let r2 = 0;
      for (const [s, e] of folds) {
        const train = [...Array(60).keys()].filter((r) => r < s || r >= e);
        const mean = (f: (r: number) => number) =>
          train.reduce((t, r) => t + f(r), 0) / train.length;
        const xm = [0, 1, 2].map((j) => mean((r) => x.data[r * 3 + j]));
        const ym = mean((r) => y.data[r * 4 + c]);
        const g = new Float64Array(9), b = new Float64Array(3);
        for (const r of train) {
          for (let i = 0; i < 3; i++) {
            b[i] += (x.data[r * 3 + i] - xm[i]) * (y.data[r * 4 + c] - ym);
            for (let j = 0; j < 3; j++) {
              g[i * 3 + j] += (x.data[r * 3 + i] - xm[i]) * (x.data[r * 3 + j] - xm[j]);
            }
          }
        }
        for (let i = 0; i < 3; i++) g[i * 3 + i] += alpha;
        const w = choleskySolve(g, b, 3);
        let ss = 0, st = 0, tm = 0;
        for (let r = s; r < e; r++) tm += y.data[r * 4 + c] / (e - s);
        for (let r = s; r < e; r++) {
          let pred = ym;
          for (let j = 0; j < 3; j++) pred += w[j] * (x.data[r * 3 + j] - xm[j]);
          ss += (y.data[r * 4 + c] - pred) ** 2;
          st += (y.data[r * 4 + c] - tm) ** 2;
        }
        r2 += (1 - ss / st) / folds.length;
      }
      const got = fit.cvScores.data[a * y.cols + c];
      assert.ok(
        Math.abs(got - r2) < 1e-4 * Math.max(1, Math.abs(r2)),
        `α ${alpha}, target ${c}: ${got} vs ${r2}`,
      );
    }
  }
  cpu.dispose();
});

Deno.test("ridgeCV validates its inputs", async () => {
  const cpu = await createCpuBackend({ blas: "typescript" });
  const x = randomMatrix(10, 2, 1), y = randomMatrix(9, 3, 2);
  await assert.rejects(ridgeCV(cpu, x, y), /x has 10 samples \(rows\) but y has 9/);
  const bad = randomMatrix(10, 3, 3);
  bad.data[7] = NaN;
  await assert.rejects(ridgeCV(cpu, x, bad), /`y` holds NaN at row 2, column 1/);
  await assert.rejects(
    ridgeCV(cpu, x, randomMatrix(10, 3, 4), { alphas: [1, -1] }),
    /alphas must be positive/,
  );
  await assert.rejects(
    ridgeCV(cpu, x, { rows: 10, cols: 0, data: new Float32Array() }),
    /must not be empty/,
  );
});

const SKLEARN = `
import json, sys, numpy as np
from sklearn.linear_model import Ridge
from sklearn.model_selection import GridSearchCV, KFold
d = json.load(open(sys.argv[1]))
X = np.array(d["x"], dtype=np.float64).reshape(d["n"], d["p"])
Y = np.array(d["y"], dtype=np.float64).reshape(d["n"], d["v"])
out = {"alpha_index": [], "coef": [], "intercept": [], "cv": []}
for c in range(d["v"]):
    gs = GridSearchCV(Ridge(), {"alpha": d["alphas"]}, cv=KFold(d["folds"]), scoring="r2")
    gs.fit(X, Y[:, c])
    out["alpha_index"].append(int(gs.best_index_))
    out["cv"].append(gs.cv_results_["mean_test_score"].tolist())
    m = Ridge(alpha=d["alphas"][gs.best_index_]).fit(X, Y[:, c])
    out["coef"].append(m.coef_.tolist())
    out["intercept"].append(float(m.intercept_))
print(json.dumps(out))
`;

const haveSklearn = havePython(["sklearn"], "ridge parity with scikit-learn");

/** The problem and scikit-learn's answer, computed once for every backend's variant. */
const sklearnRidge = once(async () => {
  const n = 150, p = 8, v = 40, folds = 5;
  const alphas = logspace(-2, 4, 13);
  const { x, y } = problem(n, p, v, 11);
  const ref = await runRidgePython<
    { alpha_index: number[]; coef: number[][]; intercept: number[]; cv: number[][] }
  >(SKLEARN, { n, p, v, folds, alphas, x, y }, ["sklearn"]);
  return { n, p, v, folds, alphas, x, y, ref };
});

for (const kind of BACKEND_KINDS) {
  Deno.test({
    name: `ridgeCV (${kind}) matches scikit-learn: same α per target (5-fold GridSearchCV), ` +
      `weights within 1e-4`,
    ignore: !haveSklearn || await ignoreBackend(kind),
    fn: () =>
      withBackend(kind, async (backend) => {
        const { p, v, folds, alphas, x, y, ref } = await sklearnRidge();
        const fit = await ridgeCV(backend, x, y, { alphas, folds, targetBatch: 7 });
        const chosen = new Set(fit.alphaIndex);
        assert.ok(chosen.size >= 3, `the problem should need several α: ${[...chosen]}`);
        for (let c = 0; c < v; c++) {
          assert.equal(fit.alphaIndex[c], ref.alpha_index[c], `α of target ${c}`);
          const w = Array.from({ length: p }, (_, j) => fit.weights.data[j * v + c]);
          const norm = Math.hypot(...ref.coef[c]);
          const diff = Math.hypot(...w.map((wj, j) => wj - ref.coef[c][j]));
          assert.ok(diff / norm < 1e-4, `weights of target ${c}: relative error ${diff / norm}`);
          assert.ok(
            Math.abs(fit.intercept[c] - ref.intercept[c]) < 1e-4 * (1 + Math.abs(ref.intercept[c])),
            `intercept of target ${c}`,
          );
          for (let a = 0; a < alphas.length; a++) {
            assert.ok(
              Math.abs(fit.cvScores.data[a * v + c] - ref.cv[c][a]) < 1e-4,
              `cv score of target ${c} at α ${alphas[a]}`,
            );
          }
        }
      }),
  });
}

for (const kind of BACKEND_KINDS) {
  Deno.test({
    name: `ridgeCV (${kind}): out-of-fold predictions equal a refit on each fold's training rows`,
    ignore: await ignoreBackend(kind),
    fn: () =>
      withBackend(kind, async (backend) => {
        const { x, y } = problem(60, 4, 5, 21);
        const fit = await ridgeCV(backend, x, y, { alphas: [0.5, 5, 50], folds: 3 });
        const [s, e] = fit.folds[1];
        // Solve the fold's ridge directly through the normal equations, in float64.
        const rows = [...Array(60).keys()].filter((r) => r < s || r >= e);
        for (let c = 0; c < 5; c++) {
          const alpha = fit.alphas[c];
          const mx = [0, 1, 2, 3].map((j) =>
            rows.reduce((t, r) => t + x.data[r * 4 + j], 0) / rows.length
          );
          const my = rows.reduce((t, r) => t + y.data[r * 5 + c], 0) / rows.length;
          const a = new Float64Array(16), b = new Float64Array(4);
          for (const r of rows) {
            for (let i = 0; i < 4; i++) {
              b[i] += (x.data[r * 4 + i] - mx[i]) * (y.data[r * 5 + c] - my);
              for (let j = 0; j < 4; j++) {
                a[i * 4 + j] += (x.data[r * 4 + i] - mx[i]) * (x.data[r * 4 + j] - mx[j]);
              }
            }
          }
          for (let i = 0; i < 4; i++) a[i * 5] += alpha;
          const w = choleskySolve(a, b, 4);
          for (let r = s; r < e; r++) {
            let pred = my;
            for (let j = 0; j < 4; j++) pred += (x.data[r * 4 + j] - mx[j]) * w[j];
            assert.ok(
              Math.abs(fit.predictions!.data[r * 5 + c] - pred) < 1e-4 * (1 + Math.abs(pred)),
              `prediction of row ${r}, target ${c}: ${fit.predictions!.data[r * 5 + c]} vs ${pred}`,
            );
          }
        }
      }),
  });
}

for (const kind of BACKEND_KINDS) {
  Deno.test({
    name: `ridgeCV (${kind}): batching over targets does not change the result`,
    ignore: await ignoreBackend(kind),
    fn: () =>
      withBackend(kind, async (backend) => {
        const { x, y } = problem(80, 6, 33, 5);
        const one = await ridgeCV(backend, x, y, { targetBatch: 33 });
        const many = await ridgeCV(backend, x, y, { targetBatch: 4 });
        assert.deepEqual(many.alphaIndex, one.alphaIndex);
        // BLAS libraries choose kernels by shape, so another batch width may
        // round differently (≈ 3e-7 of the largest value with OpenBLAS): a
        // batch mixed up with another would be off by the values themselves.
        const w = scaledError(many.weights.data, one.weights.data);
        assert.ok(w < 1e-5, `weights differ by ${w} of the largest`);
        const pred = scaledError(many.predictions!.data, one.predictions!.data);
        assert.ok(pred < 1e-5, `predictions differ by ${pred} of the largest`);
      }),
  });
}
