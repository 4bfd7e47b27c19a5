import assert from "node:assert/strict";
import { havePython, runPython } from "../test/python.ts";
import { fitLowRank } from "./scale_inputs.ts";
import { projectScale, renderScaleTable, type ScaleRun } from "./scale_table.ts";
import { seeded } from "./_data.ts";

/** 300 words × 24 ANs: 3 word series mixed into every AN, plus noise. */
function lowRankData() {
  const W = 300, N = 24, r = 3, f = seeded(W * r, 3), l = seeded(r * N, 4), e = seeded(W * N, 5);
  const data = new Float32Array(W * N);
  for (let w = 0; w < W; w++) {
    for (let n = 0; n < N; n++) {
      let s = 0.3 * e[w * N + n];
      for (let k = 0; k < r; k++) s += f[w * r + k] * l[k * N + n] * (3 - k);
      data[w * N + n] = 5 + 2 * s;
    }
  }
  return { data, words: W, units: N };
}

const NUMPY = `
import json, sys, numpy as np
x = np.array(json.loads(open(sys.argv[1]).read()), dtype=np.float64).reshape(300, 24)
z = (x - x.mean(0)) / x.std(0)
c = z.T @ z / 300
vals, vecs = np.linalg.eigh(c)
order = np.argsort(vals)[::-1]
vals, vecs = vals[order], vecs[:, order]
factors = z @ vecs[:, :4] / np.sqrt(vals[:4])
print(json.dumps({"values": vals[:4].tolist(), "factors": factors.T.tolist()}))
`;

Deno.test({
  name: "fitLowRank: the spectrum and factor series of numpy's eigendecomposition",
  ignore: !havePython(["numpy"], "low-rank fit against numpy"),
  fn: async () => {
    const x = lowRankData();
    const model = fitLowRank(x, 4, "test");
    const file = await Deno.makeTempFile({ suffix: ".json" });
    try {
      await Deno.writeTextFile(file, JSON.stringify(Array.from(x.data)));
      const ref = await runPython<{ values: number[]; factors: number[][] }>(NUMPY, [file]);
      assert.equal(model.rank, 4);
      for (let k = 0; k < 4; k++) {
        // Loading variance is λ/N; factors agree up to sign.
        assert.ok(Math.abs(model.loadingVariance[k] * 24 - ref.values[k]) < 1e-6 * ref.values[0]);
        let dot = 0;
        for (let w = 0; w < 300; w++) dot += model.factors[w * 4 + k] * ref.factors[k][w];
        assert.ok(Math.abs(Math.abs(dot / 300) - 1) < 1e-4, `factor ${k}: |r| = ${dot / 300}`);
      }
      const explained = ref.values.reduce((a, b) => a + b, 0) / 24;
      assert.ok(Math.abs(model.noiseVariance - (1 - explained)) < 1e-6);
      // Three planted components carry most of the variance: the 4th is noise.
      assert.ok(model.loadingVariance[2] > 5 * model.loadingVariance[3]);
    } finally {
      await Deno.remove(file);
    }
  },
});

function run(subjects: number, surrogates: number, peakMiB: number): ScaleRun {
  const stage = (name: string, seconds: number) => ({
    stage: name,
    seconds,
    rssMiB: peakMiB,
    peakMiB,
    detail: "",
  });
  return {
    date: "",
    label: "",
    backend: "cpu",
    sizes: {
      ans: 100,
      layers: 2,
      words: 10,
      voxels: 50,
      subjects,
      volumes: 20,
      surrogates,
      k: 4,
      passes: 1,
    },
    inputs: {},
    stages: [
      stage("capture-cache read", 1),
      stage("dictionary learning", 9),
      stage("voxel data read", 2 * subjects),
      stage("voxel encoding (CV fits)", 3 * subjects),
      stage("null", 0.5 * subjects * surrogates),
      stage("report (maps and tables written)", subjects),
    ],
    totalSeconds: 0,
    peakMiB,
    machine: {},
  };
}

Deno.test("projectScale recovers planted linear costs and the memory slope", () => {
  const p = projectScale([run(2, 4, 1000), run(3, 8, 1300)])!;
  assert.equal(p.perSubject, 6);
  assert.equal(p.perSubjectSurrogate, 0.5);
  assert.equal(p.fixed, 10);
  assert.ok(Math.abs(p.peakMiBPerSubject - 300) < 1e-9);
  const paper = p.studies.find((s) => s.subjects === 20 && s.surrogates === 1000)!;
  assert.equal(paper.seconds, 10 + 20 * 6 + 20 * 1000 * 0.5);
  assert.ok(Math.abs(paper.peakMiB - (1300 + 17 * 300)) < 1e-6);
  // One subject count: no slope to give.
  assert.ok(Number.isNaN(projectScale([run(2, 4, 1000)])!.peakMiBPerSubject));
  assert.equal(projectScale([]), undefined);
  const md = renderScaleTable([run(2, 4, 1000)], p);
  assert.match(md, /\| 345 \| 1,000 \|/);
  assert.match(md, /per subject and surrogate \(null\): 500\.0 ms/);
});
