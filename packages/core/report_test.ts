import assert from "node:assert/strict";
import { renderReport } from "./report.ts";
import { RESULTS_SCHEMA, type ResultsSummary } from "./results.ts";

Deno.test("the report escapes what it shows and plots one bar per ROI and series", () => {
  const group = ["A<B", "C"].map((roi) => ({ roi, subjects: 3, meanR: 0.1, t: 2, significant: 1 }));
  const summary: ResultsSummary = {
    schema: RESULTS_SCHEMA,
    brainorg: "0.1.0",
    steps: [{ step: "stimulus", detail: "x & y" }],
    backend: { name: "cpu", implementation: "typescript", details: {} },
    stimulus: {
      transcript: "story <1>.csv",
      words: 10,
      dropped: 1,
      volumes: 5,
      tr: 2,
      discarded: [0],
      check: { name: "theirs", subjects: [{ subject: "s1", r: 0.99 }], minR: 0.99 },
    },
    models: [{
      name: "m",
      source: "m.gguf",
      ans: 4,
      deadAns: 0,
      atoms: 2,
      alpha: 1,
      codeDensity: 0.5,
      layerR2: [0.5],
    }],
    rois: {
      rois: ["A<B", "C"],
      subjects: [{ id: "s1", usable: true, reason: "" }, {
        id: "s2",
        usable: false,
        reason: "<constant>",
      }],
      folds: 5,
      permutations: 10,
      baseline: { regressors: ["rate"], group },
      models: group.map((g) => ({
        ...g,
        model: "m",
        variant: "atoms+baseline" as const,
        gainOverBaseline: 0.01,
        tGain: 1,
      })),
    },
  };
  const html = renderReport(summary, "2026-01-01T00:00:00Z");
  assert.match(html, /A&lt;B/);
  assert.match(html, /x &amp; y/);
  assert.match(html, /story &lt;1&gt;\.csv/);
  assert.match(html, /s2 \(&lt;constant&gt;\)/);
  assert.ok(!html.includes("<constant>"));
  // Two ROIs × (the baseline and the model with it).
  assert.equal((html.match(/<rect /g) ?? []).length, 2 * 2);
});
