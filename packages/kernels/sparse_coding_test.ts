import assert from "node:assert/strict";
import { join } from "node:path";
import { havePython, runPython } from "../../test/python.ts";
import { sparseEncode } from "./sparse_coding.ts";
import { normal, randomMatrix, rng } from "./_testing.ts";
import { BACKEND_KINDS, ignoreBackend, once, withBackend } from "./_test_backends.ts";
import type { Matrix } from "./matrix.ts";

function unitColumns(m: Matrix): Matrix {
  for (let c = 0; c < m.cols; c++) {
    let s = 0;
    for (let r = 0; r < m.rows; r++) s += m.data[r * m.cols + c] ** 2;
    for (let r = 0; r < m.rows; r++) m.data[r * m.cols + c] /= Math.sqrt(s);
  }
  return m;
}

const SKLEARN = `
import json, sys, numpy as np
from sklearn.decomposition import sparse_encode
d = json.load(open(sys.argv[1]))
D = np.array(d["d"], dtype=np.float64).reshape(d["T"], d["K"])
X = np.array(d["x"], dtype=np.float64).reshape(d["T"], d["N"])
out = {}
for positive in (False, True):
    c = sparse_encode(X.T, D.T, algorithm="lasso_cd", alpha=d["alpha"], positive=positive, max_iter=100000)
    out[str(positive)] = c.T.flatten().tolist()
print(json.dumps(out))
`;

const haveSklearn = havePython(["sklearn"], "sparse coding parity with scikit-learn");

/** The problem and scikit-learn's codes, computed once for every backend's variant. */
const sklearnCodes = once(async () => {
  const T = 40, K = 16, N = 60, alpha = 0.3;
  const d = unitColumns(randomMatrix(T, K, 1));
  const x = randomMatrix(T, N, 2);
  const dir = await Deno.makeTempDir();
  try {
    const file = join(dir, "in.json");
    await Deno.writeTextFile(
      file,
      JSON.stringify({ T, K, N, alpha, d: [...d.data], x: [...x.data] }),
    );
    const ref = await runPython<Record<string, number[]>>(SKLEARN, [file], ["sklearn"]);
    return { K, N, alpha, d, x, ref };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

for (const kind of BACKEND_KINDS) {
  Deno.test({
    name: `sparse codes (${kind}) have the same support and values as scikit-learn's ` +
      `sparse_encode(lasso_cd)`,
    ignore: !haveSklearn || await ignoreBackend(kind),
    fn: () =>
      withBackend(kind, async (backend) => {
        const { K, N, alpha, d, x, ref } = await sklearnCodes();
        for (const positive of [false, true]) {
          const got = await sparseEncode(backend, d, x, { alpha, positive, tol: 1e-10 });
          const want = ref[positive ? "True" : "False"];
          let differ = 0;
          for (let i = 0; i < K * N; i++) {
            const a = got.codes.data[i], b = want[i];
            if ((Math.abs(a) > 1e-6) !== (Math.abs(b) > 1e-6)) differ++;
            assert.ok(Math.abs(a - b) < 1e-3, `code ${i}: ${a} vs ${b}`);
          }
          assert.equal(differ, 0, `positive=${positive}: ${differ} codes differ in support`);
          if (positive) assert.ok(got.codes.data.every((c) => c >= 0));
        }
      }),
  });
}

for (const kind of BACKEND_KINDS) {
  Deno.test({
    name: `sparse coding (${kind}): objective and density are reported, α = 0 reconstructs ` +
      `exactly, shapes are checked`,
    ignore: await ignoreBackend(kind),
    fn: () =>
      withBackend(kind, async (backend) => {
        const d = unitColumns(randomMatrix(20, 5, 3));
        const truth = new Float32Array(5 * 7);
        const rand = rng(4);
        for (let i = 0; i < truth.length; i++) truth[i] = rand() < 0.3 ? normal(rand, 1)[0] : 0;
        const x = { rows: 20, cols: 7, data: new Float32Array(140) };
        for (let t = 0; t < 20; t++) {
          for (let n = 0; n < 7; n++) {
            for (let k = 0; k < 5; k++) x.data[t * 7 + n] += d.data[t * 5 + k] * truth[k * 7 + n];
          }
        }
        const exact = await sparseEncode(backend, d, x, { alpha: 0, tol: 1e-12, maxIter: 10_000 });
        for (let i = 0; i < truth.length; i++) {
          assert.ok(Math.abs(exact.codes.data[i] - truth[i]) < 1e-3, `code ${i}`);
        }
        assert.ok(exact.objective < 1e-6, `objective ${exact.objective}`);
        const sparse = await sparseEncode(backend, d, x, { alpha: 5 });
        assert.ok(sparse.density < exact.density);
        await assert.rejects(
          sparseEncode(backend, d, randomMatrix(19, 3, 1), { alpha: 1 }),
          /dictionary has 20 rows/,
        );
      }),
  });
}
