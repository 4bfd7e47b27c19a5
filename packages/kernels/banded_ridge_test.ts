import assert from "node:assert/strict";
import { havePython } from "../../test/python.ts";
import { bandedRidgeCV, variancePartition } from "./banded_ridge.ts";
import { ridgeCV } from "./ridge.ts";
import { normal, randomMatrix, rng } from "./_testing.ts";
import { BACKEND_KINDS, ignoreBackend, once, withBackend } from "./_test_backends.ts";
import type { Matrix } from "./matrix.ts";
import { runRidgePython } from "./_test_ridge_python.ts";

/**
 * Band A (columns 0–3) and band B (4–6), correlated through a shared
 * component; targets in triples: driven by A only, by B only, by both, each
 * triple at three noise levels; three pure noise; one driven by the
 * component the bands share ("C").
 */
function planted(n: number, seed: number): { x: Matrix; y: Matrix; drivers: string[] } {
  const p = 7, x = randomMatrix(n, p, seed), common = normal(rng(seed + 1), n);
  for (let r = 0; r < n; r++) for (let j = 0; j < p; j++) x.data[r * p + j] += 0.5 * common[r];
  const w = randomMatrix(p, 1, seed + 2).data;
  const drivers = ["A", "A", "A", "B", "B", "B", "AB", "AB", "AB", "-", "-", "-", "C"];
  const V = drivers.length, noise = normal(rng(seed + 3), n * V), y = new Float32Array(n * V);
  drivers.forEach((d, c) => {
    for (let r = 0; r < n; r++) {
      let s = 0;
      if (d.includes("A")) { for (let j = 0; j < 4; j++) s += x.data[r * p + j] * w[j]; }
      if (d.includes("B")) { for (let j = 4; j < p; j++) s += 1.5 * x.data[r * p + j] * w[j]; }
      if (d === "C") s = common[r];
      y[r * V + c] = s + noise[r * V + c] * (0.5 + c % 3);
    }
  });
  return { x, y: { rows: n, cols: V, data: y }, drivers };
}

/**
 * The same estimator in numpy, written plainly: per combination of per-band
 * penalties and per fold, center on the training rows and solve the normal
 * equations with a diagonal penalty; R² of the held-out rows against their
 * own mean, averaged over folds; the best combination per target. Returns the
 * best R² of every band subset asked for (`SUBSETS`).
 */
const NUMPY = (bands: number[][], subsets: number[][], center = false) => `
import itertools, json, sys, numpy as np
d = json.load(open(sys.argv[1]))
X = np.array(d["x"], dtype=np.float64).reshape(d["n"], d["p"])
Y = np.array(d["y"], dtype=np.float64).reshape(d["n"], d["v"])
n, k = d["n"], d["folds"]
sizes = [n // k + (1 if f < n % k else 0) for f in range(k)]
edges = np.concatenate([[0], np.cumsum(sizes)])
bands = ${JSON.stringify(bands)}
out = []
for subset in ${JSON.stringify(subsets)}:
    cols = [np.arange(*bands[b]) for b in subset]
    Xs = X[:, np.concatenate(cols)]
    best = np.full(d["v"], -np.inf)
    for combo in itertools.product(d["alphas"], repeat=len(subset)):
        pen = np.concatenate([np.full(len(c), a) for c, a in zip(cols, combo)])
        score = np.zeros(d["v"])
        for f in range(k):
            s, e = edges[f], edges[f + 1]
            tr = np.r_[0:s, e:n]
            xm, ym = Xs[tr].mean(0), Y[tr].mean(0)
            xc = Xs[tr] - xm
            w = np.linalg.solve(xc.T @ xc + np.diag(pen), xc.T @ (Y[tr] - ym))
            pred = (Xs[s:e] - xm) @ w + ym
            if ${center ? "True" : "False"}:
                pred = pred - pred.mean(0) + Y[s:e].mean(0)
            yv = Y[s:e]
            score += (1 - ((yv - pred) ** 2).sum(0) / ((yv - yv.mean(0)) ** 2).sum(0)) / k
        best = np.maximum(best, score)
    out.append(best.tolist())
print(json.dumps(out))
`;

const haveNumpy = havePython(["numpy"], "banded ridge parity with numpy");
const ALPHAS = [0.1, 1, 10, 100, 1000], FOLDS = 4;

/** The planted problem and numpy's R² of {A, B}, {A}, {B}, computed once. */
const reference = once(async () => {
  const { x, y, drivers } = planted(120, 7);
  const bands = [[0, 4], [4, 7]];
  const [joint, a, b] = await runRidgePython<number[][]>(
    NUMPY(bands, [[0, 1], [0], [1]]),
    { n: 120, p: 7, v: y.cols, folds: FOLDS, alphas: ALPHAS, x, y },
  );
  return { x, y, drivers, joint, a, b };
});

const close = (got: ArrayLike<number>, want: number[], what: string) => {
  for (let c = 0; c < want.length; c++) {
    assert.ok(Math.abs(got[c] - want[c]) < 1e-4, `${what}, target ${c}: ${got[c]} vs ${want[c]}`);
  }
};

for (const kind of BACKEND_KINDS) {
  Deno.test({
    name: `variancePartition (${kind}) matches a numpy banded ridge: joint and single-band ` +
      `R² within 1e-4, unique R² as planted`,
    ignore: !haveNumpy || await ignoreBackend(kind),
    fn: () =>
      withBackend(kind, async (backend) => {
        const { x, y, drivers, joint, a, b } = await reference();
        const vp = await variancePartition(backend, x, y, {
          bands: [[0, 4], [4, 7]],
          alphas: ALPHAS,
          folds: FOLDS,
          targetBatch: 5,
        });
        close(vp.r2Joint, joint, "joint R²");
        close(vp.r2Alone[0], a, "R² of A alone");
        close(vp.r2Alone[1], b, "R² of B alone");
        close(vp.unique[0], joint.map((j, c) => j - b[c]), "unique A");
        close(vp.shared, joint.map((j, c) => a[c] + b[c] - j), "shared");
        drivers.forEach((d, c) => {
          if (d === "C") return;
          const [uA, uB] = [vp.unique[0][c], vp.unique[1][c]];
          // Where a band drives, it adds to the other; where it does not, it adds ≈ nothing.
          if (d.includes("A")) assert.ok(uA > 0.02, `target ${c} (${d}): unique A ${uA}`);
          else assert.ok(Math.abs(uA) < 0.02, `target ${c} (${d}): unique A ${uA}`);
          if (d.includes("B")) assert.ok(uB > 0.02, `target ${c} (${d}): unique B ${uB}`);
          else assert.ok(Math.abs(uB) < 0.02, `target ${c} (${d}): unique B ${uB}`);
        });
        // What either band explains of the component they share is shared, not unique.
        const c = drivers.indexOf("C");
        assert.ok(vp.shared[c] > 0.1, `shared R² of the common target: ${vp.shared[c]}`);
        // Given R² of a band alone is used as is.
        const given = await variancePartition(backend, x, y, {
          bands: [[0, 4], [4, 7]],
          alphas: ALPHAS,
          folds: FOLDS,
          targetBatch: 5,
          aloneR2: [vp.r2Alone[0], undefined],
        });
        assert.deepEqual(given.unique[1], vp.unique[1]);
      }),
  });
}

Deno.test({
  name: "bandedRidgeCV with one band is ridgeCV (and numpy's single ridge): best CV R² equal",
  ignore: !haveNumpy,
  fn: () =>
    withBackend("cpu", async (backend) => {
      const { x, y, a } = await reference();
      const xa: Matrix = {
        rows: x.rows,
        cols: 4,
        data: Float32Array.from(
          { length: x.rows * 4 },
          (_, i) => x.data[((i / 4) | 0) * 7 + i % 4],
        ),
      };
      const one = await bandedRidgeCV(backend, xa, y, {
        bands: [[0, 4]],
        alphas: ALPHAS,
        folds: FOLDS,
      });
      const plain = await ridgeCV(backend, xa, y, { alphas: ALPHAS, folds: FOLDS });
      close(one.r2, a, "one band vs numpy");
      for (let c = 0; c < y.cols; c++) {
        assert.ok(
          Math.abs(one.r2[c] - plain.cvScores.data[plain.alphaIndex[c] * y.cols + c]) < 1e-5,
        );
        assert.equal(one.alphas[c], plain.alphas[c], `α of target ${c}`);
      }
    }),
});

Deno.test({
  name: "variancePartition with three bands: banded fits of every pair, against numpy",
  ignore: !haveNumpy,
  fn: () =>
    withBackend("cpu", async (backend) => {
      const { x, y } = planted(90, 3);
      const bands = [[0, 2], [2, 4], [4, 7]], alphas = [0.1, 10, 1000];
      const ref = await runRidgePython<number[][]>(
        NUMPY(bands, [[0, 1, 2], [1, 2], [0, 2], [0, 1]]),
        { n: 90, p: 7, v: y.cols, folds: 3, alphas, x, y },
      );
      const vp = await variancePartition(backend, x, y, {
        bands: bands as [number, number][],
        alphas,
        folds: 3,
      });
      close(vp.r2Joint, ref[0], "joint R²");
      for (let b = 0; b < 3; b++) close(vp.r2Without[b], ref[b + 1], `R² without band ${b}`);
      for (let c = 0; c < y.cols; c++) {
        const sum = vp.unique.reduce((s, u) => s + u[c], 0) + vp.shared[c];
        assert.ok(Math.abs(sum - vp.r2Joint[c]) < 1e-6, "unique and shared parts sum to the joint");
      }
    }),
});

Deno.test("bandedRidgeCV validates its bands and penalties", async () => {
  await withBackend("typescript", async (backend) => {
    const x = randomMatrix(20, 4, 1), y = randomMatrix(20, 2, 2);
    for (const bands of [[[0, 2]], [[0, 2], [3, 4]], [[0, 3], [2, 4]], []]) {
      await assert.rejects(
        bandedRidgeCV(backend, x, y, { bands: bands as [number, number][] }),
        /bands must be column ranges that tile the 4 regressors/,
      );
    }
    await assert.rejects(
      bandedRidgeCV(backend, x, y, { bands: [[0, 2], [2, 4]], alphas: [1, 0] }),
      /alphas must be positive/,
    );
    await assert.rejects(
      variancePartition(backend, x, y, { bands: [[0, 4]] }),
      /needs at least 2 bands/,
    );
  });
});

Deno.test({
  name: "bandedRidgeCV: folds too short to compress are scored by their predictions, as numpy",
  ignore: !haveNumpy,
  fn: () =>
    withBackend("cpu", async (backend) => {
      // 12 regressors and held-out folds of 10 rows: fewer than p + 2.
      const x = randomMatrix(40, 12, 5), y = randomMatrix(40, 6, 6);
      for (let i = 0; i < y.data.length; i++) y.data[i] += x.data[((i / 6) | 0) * 12 + i % 6];
      const bands = [[0, 8], [8, 12]], alphas = [1, 30, 1000];
      const [ref] = await runRidgePython<number[][]>(
        NUMPY(bands, [[0, 1]]),
        { n: 40, p: 12, v: 6, folds: 4, alphas, x, y },
      );
      const fit = await bandedRidgeCV(backend, x, y, {
        bands: bands as [number, number][],
        alphas,
        folds: 4,
      });
      close(fit.r2, ref, "joint R²");
    }),
});

Deno.test("bandedRidgeCV: a target's offset does not move its scores (compressed folds)", async () => {
  await withBackend("cpu", async (backend) => {
    const { x, y } = planted(120, 9);
    const shifted = { ...y, data: y.data.map((v) => v + 1000) };
    const options = { bands: [[0, 4], [4, 7]] as [number, number][], alphas: ALPHAS, folds: 4 };
    const a = await bandedRidgeCV(backend, x, y, options);
    const b = await bandedRidgeCV(backend, x, shifted, options);
    close(b.r2, Array.from(a.r2), "R² of the offset targets");
  });
});

Deno.test({
  name: "bandedRidgeCV with centered folds: a drifting mean does not count, as numpy",
  ignore: !haveNumpy,
  fn: () =>
    withBackend("cpu", async (backend) => {
      const { x, y } = planted(120, 11);
      // A drift of every target's mean: 2 units over the series.
      const drift = { ...y, data: y.data.map((v, i) => v + 2 * ((i / y.cols) | 0) / 120) };
      const bands = [[0, 4], [4, 7]];
      for (const [folds, n] of [[4, 120], [15, 120]] as const) {
        // 4 folds of 30 rows are compressed; 15 of 8 rows are scored by their predictions.
        const [ref] = await runRidgePython<number[][]>(
          NUMPY(bands, [[0, 1]], true),
          { n, p: 7, v: y.cols, folds, alphas: ALPHAS, x, y: drift },
        );
        const fit = await bandedRidgeCV(backend, x, drift, {
          bands: bands as [number, number][],
          alphas: ALPHAS,
          folds,
          centerFolds: true,
        });
        close(fit.r2, ref, `joint R², ${folds} centered folds`);
      }
      const plain = await bandedRidgeCV(backend, x, drift, {
        bands: bands as [number, number][],
        alphas: ALPHAS,
        folds: 4,
      });
      const centered = await bandedRidgeCV(backend, x, drift, {
        bands: bands as [number, number][],
        alphas: ALPHAS,
        folds: 4,
        centerFolds: true,
      });
      const noise = y.cols - 2; // a pure-noise target: the drift alone makes its plain R² negative
      assert.ok(
        plain.r2[noise] < centered.r2[noise] - 0.05,
        `${plain.r2[noise]} ${centered.r2[noise]}`,
      );
    }),
});
