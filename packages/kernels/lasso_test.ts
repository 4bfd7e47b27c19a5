import assert from "node:assert/strict";
import { join } from "node:path";
import { havePython, runPython } from "../../test/python.ts";
import { lassoCV, lassoFit } from "./lasso.ts";
import { gemmReference } from "./cpu_reference.ts";
import { centeredDesign } from "./cross_validation.ts";
import { lassoBatchOf, normal, randomMatrix, rng, scaledError } from "./_testing.ts";
import { BACKEND_KINDS, ignoreBackend, once, withBackend } from "./_test_backends.ts";
import { lassoCDReference } from "./lasso_cd_reference.ts";
import type { LassoBatch } from "./lasso_batch.ts";
import type { Matrix } from "./matrix.ts";

/** Sparse planted weights (a few regressors per target) plus noise of varied strength. */
function sparseProblem(n: number, p: number, v: number, seed: number) {
  const x = randomMatrix(n, p, seed);
  const rand = rng(seed + 1);
  const w = new Float32Array(p * v);
  for (let c = 0; c < v; c++) {
    for (let t = 0; t < 3; t++) w[Math.floor(rand() * p) * v + c] = (rand() - 0.5) * 4;
  }
  const y = gemmReference(x, { rows: p, cols: v, data: w });
  const noise = normal(rng(seed + 2), n * v);
  for (let i = 0; i < n * v; i++) y.data[i] += 1.5 + noise[i] * (0.3 + (i % v) / v * 3);
  return { x, y, w };
}

function objective(
  x: Matrix,
  y: Matrix,
  w: ArrayLike<number>,
  b: number,
  c: number,
  alpha: number,
) {
  const n = x.rows, p = x.cols;
  let sse = 0, l1 = 0;
  for (let i = 0; i < n; i++) {
    let pred = b;
    for (let j = 0; j < p; j++) pred += x.data[i * p + j] * w[j];
    sse += (y.data[i * y.cols + c] - pred) ** 2;
  }
  for (let j = 0; j < p; j++) l1 += Math.abs(w[j]);
  return sse / (2 * n) + alpha * l1;
}

const SKLEARN_LASSO = `
import json, sys, numpy as np
from sklearn.linear_model import Lasso, LassoCV
from sklearn.model_selection import KFold
d = json.load(open(sys.argv[1]))
X = np.array(d["x"], dtype=np.float64).reshape(d["n"], d["p"])
Y = np.array(d["y"], dtype=np.float64).reshape(d["n"], d["v"])
out = {"coef": [], "intercept": [], "cv_alpha": [], "cv_index": []}
for c in range(d["v"]):
    m = Lasso(alpha=d["alpha"], tol=1e-12, max_iter=100000).fit(X, Y[:, c])
    out["coef"].append(m.coef_.tolist()); out["intercept"].append(float(m.intercept_))
    cv = LassoCV(cv=KFold(5), n_alphas=d["n_alphas"], eps=1e-3, tol=1e-10, max_iter=100000).fit(X, Y[:, c])
    out["cv_alpha"].append(float(cv.alpha_))
    out["cv_index"].append(int(np.argmin(np.abs(cv.alphas_ - cv.alpha_))))
print(json.dumps(out))
`;

const haveSklearn = havePython(["sklearn"], "LASSO parity with scikit-learn");

/** The problem and scikit-learn's answers, computed once for every backend's variant. */
const sklearnLasso = once(async () => {
  const n = 120, p = 12, v = 24, alpha = 0.08, nAlphas = 30;
  const { x, y } = sparseProblem(n, p, v, 5);
  const dir = await Deno.makeTempDir();
  try {
    const file = join(dir, "in.json");
    await Deno.writeTextFile(
      file,
      JSON.stringify({ n, p, v, alpha, n_alphas: nAlphas, x: [...x.data], y: [...y.data] }),
    );
    const ref = await runPython<
      { coef: number[][]; intercept: number[]; cv_alpha: number[]; cv_index: number[] }
    >(SKLEARN_LASSO, [file], ["sklearn"]);
    return { p, v, alpha, nAlphas, x, y, ref };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

for (const kind of BACKEND_KINDS) {
  Deno.test({
    name: `LASSO (${kind}) matches scikit-learn: objective within 1e-5, same support, ` +
      `same CV α (LassoCV, 5 contiguous folds)`,
    ignore: !haveSklearn || await ignoreBackend(kind),
    fn: () =>
      withBackend(kind, async (backend) => {
        const { p, v, alpha, nAlphas, x, y, ref } = await sklearnLasso();
        const fit = await lassoFit(backend, x, y, { alpha, tol: 1e-12, maxIter: 100_000 });
        for (let c = 0; c < v; c++) {
          const w = Array.from({ length: p }, (_, j) => fit.weights.data[j * v + c]);
          const ours = objective(x, y, w, fit.intercept[c], c, alpha);
          const theirs = objective(x, y, ref.coef[c], ref.intercept[c], c, alpha);
          assert.ok(
            Math.abs(ours - theirs) / theirs < 1e-5,
            `target ${c}: objective ${ours} vs ${theirs}`,
          );
          const support = w.map((wj) => Math.abs(wj) > 1e-6),
            refSupport = ref.coef[c].map((wj) => Math.abs(wj) > 1e-6);
          assert.deepEqual(support, refSupport, `target ${c}: support`);
        }
        const cv = await lassoCV(backend, x, y, {
          nAlphas,
          tol: 1e-10,
          maxIter: 100_000,
          targetBatch: 10,
        });
        const chosen = new Set(cv.alphaIndex);
        assert.ok(chosen.size >= 3, `several α should be chosen: ${[...chosen]}`);
        for (let c = 0; c < v; c++) {
          assert.equal(cv.alphaIndex[c], ref.cv_index[c], `target ${c}: CV α index`);
          assert.ok(
            Math.abs(cv.alphas[c] - ref.cv_alpha[c]) < 1e-6 * ref.cv_alpha[c],
            `target ${c}: α`,
          );
        }
      }),
  });
}

for (const kind of BACKEND_KINDS) {
  Deno.test({
    name:
      `LASSO (${kind}) on degenerate targets: all-zero y and α above α_max give all-zero weights`,
    ignore: await ignoreBackend(kind),
    fn: () =>
      withBackend(kind, async (backend) => {
        const { x, y } = sparseProblem(40, 5, 3, 9);
        for (let i = 0; i < 40; i++) y.data[i * 3] = 0;
        const cv = await lassoCV(backend, x, y, { nAlphas: 10 });
        for (let j = 0; j < 5; j++) assert.equal(cv.weights.data[j * 3], 0);
        assert.equal(cv.intercept[0], 0);
        // α_max from the data: just above it nothing enters; just below something does.
        const d = centeredDesign(x, () => true, true);
        let amax = 0;
        for (let j = 0; j < 5; j++) {
          let s = 0;
          for (let i = 0; i < 40; i++) s += d.masked[i * 5 + j] * y.data[i * 3 + 1];
          amax = Math.max(amax, Math.abs(s) / 40);
        }
        const target = {
          rows: 40,
          cols: 1,
          data: Float32Array.from({ length: 40 }, (_, i) => y.data[i * 3 + 1]),
        };
        const above = await lassoFit(backend, x, target, { alpha: amax * 1.001 });
        assert.ok(above.weights.data.every((w) => w === 0));
        const below = await lassoFit(backend, x, target, { alpha: amax * 0.9 });
        assert.ok(below.weights.data.some((w) => w !== 0));
      }),
  });
}

for (const kind of BACKEND_KINDS) {
  Deno.test({
    name: `LASSO (${kind}): positive weights stay ≥ 0; elastic net shrinks less than LASSO ` +
      `at the same α`,
    ignore: await ignoreBackend(kind),
    fn: () =>
      withBackend(kind, async (backend) => {
        const { x, y } = sparseProblem(80, 8, 6, 13);
        const pos = await lassoFit(backend, x, y, { alpha: 0.05, positive: true });
        assert.ok(pos.weights.data.every((w) => w >= 0));
        assert.ok(pos.weights.data.some((w) => w > 0));
        const lasso = await lassoFit(backend, x, y, { alpha: 0.2 });
        const enet = await lassoFit(backend, x, y, { alpha: 0.2, l1Ratio: 0.5 });
        const nnz = (w: Float32Array) => w.reduce((s, v) => s + (v !== 0 ? 1 : 0), 0);
        assert.ok(nnz(enet.weights.data) >= nnz(lasso.weights.data));
      }),
  });
}

// The reference here is the CPU backend with TypeScript products, so its
// own variant would compare it with itself: the other backends are checked.
for (const kind of ["cpu", "webgpu"] as const) {
  Deno.test({
    name: `lassoCV (${kind}) equals the TypeScript CPU backend (path scores and weights)`,
    ignore: await ignoreBackend(kind),
    fn: () =>
      withBackend(kind, async (backend) => {
        const { x, y } = sparseProblem(90, 13, 70, 21);
        const ref = await withBackend(
          "typescript",
          (cpu) => lassoCV(cpu, x, y, { nAlphas: 15, tol: 1e-6 }),
        );
        const got = await lassoCV(backend, x, y, { nAlphas: 15, tol: 1e-6 });
        let same = 0;
        for (let c = 0; c < 70; c++) if (got.alphaIndex[c] === ref.alphaIndex[c]) same++;
        assert.ok(same >= 68, `same α for ${same} of 70 targets`);
        let worst = 0, scale = 0;
        for (let i = 0; i < ref.cvScores.data.length; i++) {
          worst = Math.max(worst, Math.abs(got.cvScores.data[i] - ref.cvScores.data[i]));
          scale = Math.max(scale, Math.abs(ref.cvScores.data[i]));
        }
        assert.ok(worst / scale < 1e-3, `CV curves differ by ${worst / scale}`);
        for (let c = 0; c < 70; c++) {
          if (got.alphaIndex[c] !== ref.alphaIndex[c]) continue;
          for (let j = 0; j < 13; j++) {
            const a = got.weights.data[j * 70 + c], b = ref.weights.data[j * 70 + c];
            assert.ok(
              Math.abs(a - b) < 1e-3 * (1 + Math.abs(b)),
              `weight (${j}, ${c}): ${a} vs ${b}`,
            );
          }
        }
      }),
  });
}

/**
 * A batch whose paths are long enough that a dispatch budgeted per
 * invocation, not per SIMD vector, overruns Mesa's loop limit (the bug of
 * issue #14 on llvmpipe): p = 24 correlated regressors, 30 penalties down to
 * 1e-3 of α_max, held-out rows, 70 targets of varied noise.
 */
function longPathBatch(): LassoBatch {
  const n = 100, nTrain = 80, p = 24, V = 70, nA = 30;
  const z = randomMatrix(n, p, 31);
  const x = new Float32Array(n * p);
  for (let r = 0; r < n; r++) {
    for (let j = 0; j < p; j++) {
      x[r * p + j] = z.data[r * p + j] + (j > 0 ? 0.8 * z.data[r * p + j - 1] : 0);
    }
  }
  const { y } = sparseProblem(n, p, V, 33);
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < V; c++) {
      for (let j = 0; j < 3; j++) y.data[r * V + c] += x[r * p + ((c + 5 * j) % p)] * (j - 1);
    }
  }
  return lassoBatchOf(x, y.data, { n, nTrain, p, V, nA });
}

for (const kind of BACKEND_KINDS) {
  Deno.test({
    name: `lassoCD (${kind}) equals the float64 reference on long paths (past Mesa's loop ` +
      `limit), warm-started positive elastic nets and stop indices`,
    ignore: await ignoreBackend(kind),
    fn: () =>
      withBackend(kind, async (backend) => {
        const batch = longPathBatch(), V = batch.yy.length;
        const ref = lassoCDReference(batch), got = await backend.lassoCD(batch);
        const err = scaledError(got.sse!, ref.sse!);
        assert.ok(err < 1e-4, `held-out errors differ by ${err} of the largest`);
        if (kind === "webgpu") {
          // float32 and float64 may stop a sweep apart; a cut loop costs many
          // more. (The CPU backend solves l1Ratio = 1 by active sets, whose
          // steps are not sweeps: its count is not comparable.)
          let sweeps = 0, apart = 0;
          for (let v = 0; v < V; v++) {
            sweeps += ref.iterations[v];
            apart += Math.abs(got.iterations[v] - ref.iterations[v]);
          }
          assert.ok(apart <= 0.02 * sweeps, `sweeps differ by ${apart} of ${sweeps}`);
        }

        const refit: LassoBatch = {
          ...batch,
          heldOut: undefined,
          l1Ratio: 0.5,
          positive: true,
          warmStart: Float32Array.from({ length: batch.p * V }, (_, i) => (i % 7) / 10),
          stopIndex: Uint16Array.from({ length: V }, (_, v) => (v * 7) % batch.path.length),
        };
        const wRef = lassoCDReference(refit).weights!;
        const wGot = (await backend.lassoCD(refit)).weights!;
        assert.ok(wGot.every((w) => w >= 0), "positive weights");
        const werr = scaledError(wGot, wRef);
        assert.ok(werr < 1e-4, `weights differ by ${werr} of the largest`);
      }),
  });
}

for (const kind of BACKEND_KINDS) {
  Deno.test({
    name: `lassoFit (${kind}) with one α per target equals separate fits at each α`,
    ignore: await ignoreBackend(kind),
    fn: () =>
      withBackend(kind, async (backend) => {
        const x = randomMatrix(60, 5, 21), y = randomMatrix(60, 3, 22);
        const alphas = [0.01, 0.1, 0.3];
        const together = await lassoFit(backend, x, y, { alpha: alphas });
        for (let c = 0; c < 3; c++) {
          const one = await lassoFit(backend, x, y, { alpha: alphas[c] });
          for (let j = 0; j < 5; j++) {
            assert.ok(
              Math.abs(together.weights.data[j * 3 + c] - one.weights.data[j * 3 + c]) < 1e-5,
            );
          }
        }
        await assert.rejects(
          () => lassoFit(backend, x, y, { alpha: [0.1] }),
          /1 alphas for 3 targets/,
        );
      }),
  });
}
