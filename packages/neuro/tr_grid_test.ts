import assert from "node:assert/strict";
import { dataPath, pearson } from "../../test/data.ts";
import { havePython, runPython } from "../../test/python.ts";
import { readTranscript, type Transcript } from "./transcript.ts";
import { applyDesign, buildWordDesign } from "./tr_grid.ts";
import { hrfAt, sampleHrf } from "./hrf.ts";
import { REGISTRY } from "@brainorg/datasets";

const ALICE = "alice/alice_stim_shared/DownTheRabbitHoleFinal_exp120_pad_1.TextGrid";

Deno.test("word rate from the TextGrid matches the authors' regressor for every subject (r ≥ 0.95)", async () => {
  const t = await readTranscript(await dataPath(ALICE));
  const design = buildWordDesign(t, { tr: 2, runs: [{ volumes: 362, discarded: 10 }] });
  const rate = applyDesign(design, new Float32Array(t.words.length).fill(1));
  const files = REGISTRY.filter((e) => /alice_data_shared\/s\d+-rate\.txt$/.test(e.path));
  assert.ok(files.length >= 28, `${files.length} rate files`);
  for (const f of files) {
    const theirs = (await Deno.readTextFile(await dataPath(f.path))).trim().split(/\s+/).map(
      Number,
    );
    assert.equal(theirs.length, 362, f.path);
    const r = pearson(rate, theirs);
    assert.ok(r >= 0.95, `${f.path}: r = ${r.toFixed(4)}`);
  }
});

Deno.test("HRFs: unit area, SPM peaks near 5 s with an undershoot near 15 s", () => {
  for (const name of ["spm", "glover"] as const) {
    const dt = 0.01;
    const h = sampleHrf(name, dt);
    const area = h.reduce((s, v) => s + v * dt, 0);
    assert.ok(Math.abs(area - 1) < 2e-3, `${name} area ${area}`);
  }
  const h = sampleHrf("spm", 0.1);
  const peak = h.indexOf(Math.max(...h)) * 0.1;
  const trough = h.indexOf(Math.min(...h)) * 0.1;
  assert.ok(peak > 4.5 && peak < 5.5, `peak at ${peak}`);
  assert.ok(trough > 14 && trough < 17, `trough at ${trough}`);
});

Deno.test({
  name: "HRF shapes match scipy's gamma densities (nilearn's spm and glover parameters)",
  ignore: !havePython(["scipy"], "HRF reference"),
  async fn() {
    const ts = Array.from({ length: 64 }, (_, i) => 0.25 + i * 0.5);
    const ref = await runPython<Record<string, number[]>>(
      `
import json, sys, numpy as np
from scipy.stats import gamma
t = np.array(json.loads(sys.argv[1]))
def gd(delay, under, disp, udisp, ratio):
    h = gamma.pdf(t, delay / disp, scale=disp) - ratio * gamma.pdf(t, under / udisp, scale=udisp)
    return (h / (1 - ratio)).tolist()
print(json.dumps({"spm": gd(6, 16, 1, 1, 1/6), "glover": gd(6, 12, 0.9, 0.9, 0.35)}))
`,
      [JSON.stringify(ts)],
      ["scipy"],
    );
    for (const name of ["spm", "glover"] as const) {
      ts.forEach((t, i) =>
        assert.ok(Math.abs(hrfAt(name, t) - ref[name][i]) < 1e-10, `${name}(${t})`)
      );
    }
  },
});

function words(onsets: number[], run = 0): Transcript {
  return {
    words: onsets.map((o) => ({ word: "w", onset: o, offset: o + 0.3, run })),
    runCount: 1,
    source: "synthetic.csv",
    format: "table",
    dropped: [],
  };
}

Deno.test("an impulse is sampled at each volume's time, with stimulus offset and discarded volumes", () => {
  const t = words([3]);
  const d = buildWordDesign(t, {
    tr: 2,
    runs: [{ volumes: 20, discarded: 2, stimulusOffset: 1 }],
  });
  const x = applyDesign(d, Float32Array.from([2]));
  for (let i = 0; i < 20; i++) {
    const time = (i + 2) * 2;
    assert.ok(Math.abs(x[i] - 2 * hrfAt("spm", time - 4)) < 1e-6, `volume ${i}`);
  }
  // Several features at once give the same as one at a time.
  const two = applyDesign(d, Float32Array.from([2, -1]));
  for (let i = 0; i < 20; i++) {
    assert.ok(Math.abs(two[2 * i] - x[i]) < 1e-6 && Math.abs(two[2 * i + 1] + x[i] / 2) < 1e-6);
  }
});

Deno.test("a word after the last volume is an error naming the word and the scan end", () => {
  assert.throws(
    () => buildWordDesign(words([1, 50]), { tr: 2, runs: [{ volumes: 20, discarded: 2 }] }),
    /a word falls after the last volume of its run \(field: onset of word 2 \("w", run 1\); expected: before the end of acquisition at 44\.000 s \(22 volumes × TR 2 s\); found: 50\.000 s; file: synthetic\.csv\)/,
  );
  assert.throws(
    () => buildWordDesign(words([1]), { tr: 2, runs: [{ volumes: 5 }, { volumes: 5 }] }),
    /do not match the transcript's runs/,
  );
});

Deno.test("Lanczos downsampling of a dense constant feature is nearly constant; FIR stacks delays", () => {
  const dense = words(Array.from({ length: 400 }, (_, i) => i * 0.25));
  const d = buildWordDesign(dense, { tr: 2, runs: [{ volumes: 50 }], method: "lanczos" });
  const x = applyDesign(d, new Float32Array(400).fill(1));
  const mid = Array.from(x.slice(5, 45));
  const mean = mid.reduce((a, b) => a + b, 0) / mid.length;
  assert.ok(Math.abs(mean - 8) < 0.2, `mean ${mean}`); // 8 words per TR
  assert.ok(mid.every((v) => Math.abs(v - mean) < 0.05 * mean));

  const fir = buildWordDesign(dense, {
    tr: 2,
    runs: [{ volumes: 50 }],
    method: "fir",
    delays: [0, 2],
  });
  const y = applyDesign(fir, Float32Array.from({ length: 400 }, (_, i) => i));
  const base = applyDesign(
    { ...fir, delays: [0] },
    Float32Array.from({ length: 400 }, (_, i) => i),
  );
  for (let r = 0; r < 50; r++) {
    assert.equal(y[2 * r], base[r]);
    assert.equal(y[2 * r + 1], r >= 2 ? base[r - 2] : 0);
  }
});

Deno.test("multi-run design: words only reach volumes of their own run", async () => {
  const t = await readTranscript(await dataPath("lpp/lpp_en_regressors.csv"));
  const runs = Array.from({ length: 9 }, (_, r) => {
    const last = Math.max(...t.words.filter((w) => w.run === r).map((w) => w.onset));
    return { volumes: Math.ceil(last / 2) + 10 };
  });
  const d = buildWordDesign(t, { tr: 2, runs, events: "duration" });
  for (let row = 0; row < d.volumes; row++) {
    for (let k = d.rowPtr[row]; k < d.rowPtr[row + 1]; k++) {
      assert.equal(t.words[d.cols[k]].run, d.volumeRun[row]);
    }
  }
  assert.equal(d.volumes, runs.reduce((s, r) => s + r.volumes, 0));
});
