import assert from "node:assert/strict";
import { havePython, runPython } from "../../test/python.ts";
import { linearSumAssignment } from "./assignment.ts";
import { rng } from "./_testing.ts";

const SCIPY = `
import json, sys, numpy as np
from scipy.optimize import linear_sum_assignment
out = []
for p in json.load(open(sys.argv[1])):
    c = np.array(p["cost"], dtype=np.float64).reshape(p["rows"], p["cols"])
    r, k = linear_sum_assignment(c)
    out.append({"rows": r.tolist(), "cols": k.tolist(), "cost": float(c[r, k].sum())})
print(json.dumps(out))
`;

/** Random problems: square, wide, tall, and integer costs with many ties. */
function problems() {
  const rand = rng(19);
  const out: { rows: number; cols: number; cost: number[] }[] = [];
  const shapes = [[1, 1], [1, 5], [5, 1], [4, 4], [7, 7], [16, 16], [3, 8], [8, 3], [12, 20], [
    20,
    12,
  ]];
  for (const [rows, cols] of shapes) {
    out.push({ rows, cols, cost: Array.from({ length: rows * cols }, () => rand() * 10 - 5) });
    // Ties: a few distinct integer values only.
    out.push({
      rows,
      cols,
      cost: Array.from({ length: rows * cols }, () => Math.floor(rand() * 3)),
    });
  }
  out.push({ rows: 6, cols: 6, cost: new Array(36).fill(1) });
  return out;
}

Deno.test({
  name: "linearSumAssignment gives scipy's linear_sum_assignment pairs and cost, ties included",
  ignore: !havePython(["scipy"], "linear sum assignment parity with scipy"),
  fn: async () => {
    const ps = problems();
    const file = await Deno.makeTempFile({ suffix: ".json" });
    try {
      await Deno.writeTextFile(file, JSON.stringify(ps));
      const ref = await runPython<{ rows: number[]; cols: number[]; cost: number }[]>(
        SCIPY,
        [file],
        ["scipy"],
      );
      ps.forEach((p, n) => {
        const got = linearSumAssignment(Float64Array.from(p.cost), p.rows, p.cols);
        const what = `problem ${n} (${p.rows}×${p.cols})`;
        assert.ok(
          Math.abs(got.cost - ref[n].cost) < 1e-9,
          `${what}: ${got.cost} vs ${ref[n].cost}`,
        );
        assert.deepEqual([...got.rowIndex], ref[n].rows, what);
        assert.deepEqual([...got.colIndex], ref[n].cols, what);
      });
    } finally {
      await Deno.remove(file);
    }
  },
});

Deno.test("linearSumAssignment finds the best of all permutations by brute force", () => {
  const rand = rng(3);
  const perms = (n: number): number[][] =>
    n === 0
      ? [[]]
      : perms(n - 1).flatMap((p) => Array.from({ length: n }, (_, i) => p.toSpliced(i, 0, n - 1)));
  for (let trial = 0; trial < 20; trial++) {
    const n = 5, cost = Float64Array.from({ length: n * n }, () => rand());
    const best = Math.min(...perms(n).map((p) => p.reduce((s, j, i) => s + cost[i * n + j], 0)));
    const got = linearSumAssignment(cost, n, n);
    assert.ok(Math.abs(got.cost - best) < 1e-12, `${got.cost} vs ${best}`);
    assert.deepEqual([...got.colIndex].sort(), [0, 1, 2, 3, 4]);
  }
});

Deno.test("linearSumAssignment avoids +∞ pairs and refuses bad input", () => {
  const inf = Infinity;
  const got = linearSumAssignment([inf, 1, 2, inf], 2, 2);
  assert.deepEqual([...got.colIndex], [1, 0]);
  assert.equal(got.cost, 3);
  assert.throws(() => linearSumAssignment([inf, inf, 1, 2], 2, 2), /forbidden/);
  assert.throws(() => linearSumAssignment([1, NaN], 1, 2), /cost\[1\] is NaN/);
  assert.throws(() => linearSumAssignment([1, 2, 3], 2, 2), /rows × cols = 4/);
  assert.equal(linearSumAssignment([], 0, 3).rowIndex.length, 0);
});
