import assert from "node:assert/strict";
import { havePython, runPython } from "../../test/python.ts";
import { studentTQuantileUpper, studentTUpper } from "./stats.ts";

Deno.test({
  name: "Student t tail and quantile match scipy.stats.t",
  ignore: !havePython(["scipy"], "Student t reference"),
}, async () => {
  const cases = [[0, 3], [1.5, 2], [-2, 5], [3.1, 27], [6, 4], [12, 7], [-0.3, 1], [2.5, 200]];
  const quantiles = [[1e-3, 5], [0.05, 27], [1e-4, 3]];
  const [sf, isf] = await runPython<number[][]>(
    `import json,sys\nfrom scipy import stats\nc=json.loads(sys.argv[1]);q=json.loads(sys.argv[2])\n` +
      `print(json.dumps([[float(stats.t.sf(t,d)) for t,d in c],[float(stats.t.isf(p,d)) for p,d in q]]))`,
    [JSON.stringify(cases), JSON.stringify(quantiles)],
    ["scipy"],
  );
  cases.forEach(([t, d], i) => {
    const mine = studentTUpper(t, d);
    assert.ok(
      Math.abs(mine - sf[i]) <= 1e-12 + 1e-8 * sf[i],
      `t=${t}, df=${d}: ${mine} vs ${sf[i]}`,
    );
  });
  quantiles.forEach(([p, d], i) =>
    assert.ok(Math.abs(studentTQuantileUpper(p, d) - isf[i]) < 1e-6)
  );
});
