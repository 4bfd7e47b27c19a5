import assert from "node:assert/strict";
import { renderReport } from "./report.ts";
import type { DemoSummary } from "./demo.ts";

Deno.test("the report escapes what it shows and plots one bar per ROI and series", () => {
  const group = ["A<B", "C"].map((roi) => ({ roi, subjects: 3, meanR: 0.1, t: 2, significant: 1 }));
  const summary = {
    schema: "brainorg.results/0",
    status: "partial",
    brainorg: "0.1.0",
    steps: [{ step: "stimulus", status: "done", what: "x & y" }],
    backend: { name: "cpu", implementation: "typescript", details: {} },
    stimulus: { words: 10, dropped: 1, volumes: 5, tr: 2, discarded: 0 },
    wordRateCheck: [{ subject: "s1", r: 0.99 }],
    subjects: [{ id: "s1", usable: true, reason: "" }, {
      id: "s2",
      usable: false,
      reason: "<constant>",
    }],
    baselineEncoding: { regressors: [], folds: 5, permutations: 10, seed: 0, group },
    models: [{
      name: "m",
      source: "m.gguf",
      ans: 4,
      deadAns: 0,
      atoms: 2,
      alpha: 1,
      codeDensity: 0.5,
      layerR2: [0.5],
      group: group.map((g) => ({
        ...g,
        variant: "atoms+baseline",
        gainOverBaseline: 0.01,
        tGain: 1,
      })),
    }],
  } as unknown as DemoSummary;
  const html = renderReport(summary, "2026-01-01T00:00:00Z");
  assert.match(html, /A&lt;B/);
  assert.match(html, /x &amp; y/);
  assert.match(html, /s2 \(&lt;constant&gt;\)/);
  assert.ok(!html.includes("<constant>"));
  assert.equal((html.match(/<rect /g) ?? []).length, 2 * 2);
});
