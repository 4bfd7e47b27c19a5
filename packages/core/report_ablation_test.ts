import assert from "node:assert/strict";
import { renderReport } from "./report.ts";
import { RESULTS_SCHEMA, type ResultsSummary } from "./results.ts";

Deno.test("the report's ablation section: needed atoms, their linked networks, skipped models", () => {
  const summary: ResultsSummary = {
    schema: RESULTS_SCHEMA,
    brainorg: "0.1.0",
    steps: [],
    backend: { name: "cpu", implementation: "typescript", details: {} },
    stimulus: { transcript: "s", words: 10, dropped: 0, volumes: 5, tr: 2, discarded: [0] },
    models: [],
    ablation: {
      randomAblations: 100,
      storyTokens: 40,
      heldOutTokens: 20,
      heldOutText: "The <Little> Prince",
      models: [{
        name: "m",
        storyLoss: 3.1,
        heldOutLoss: 4.2,
        atomsMatterStory: 1,
        atomsMatterHeldOut: 0,
        needed: [{
          atom: 3,
          ans: 50,
          storyLossChange: 1.25,
          storyQ: 0.01,
          heldOutLossChange: 0.5,
          heldOutQ: 0.2,
        }],
      }],
      skipped: [{ name: "big", reason: "run by onnxruntime" }],
    },
  };
  // The voxel links of atom 3 (and of atom 4, not needed) are joined by atom.
  const link = (atom: number, networkName: string) => ({
    atom,
    sign: 1,
    network: 1,
    networkName,
    voxels: 10,
    dice: 0.3,
    overlap: 0.4,
    p: 0.01,
    z: 3,
    q: 0.02,
    pFWE: 0.03,
    linked: true,
  });
  const metrics = {
    networksEngaged: 2,
    networks: 7,
    normalizedEntropy: 0.5,
    layerSpread: 0.5,
    consistency: { timeCourse: 0.5, mapOverlap: 0.5 },
  };
  summary.voxel = {
    dataset: "user",
    subjects: 3,
    voxels: 100,
    permutations: 10,
    voxelP: 0.01,
    threshold: 3,
    models: [{
      name: "m",
      subjects: [],
      voxelsMeanRQ05: 0,
      templates: [{ name: "Yeo-7", metrics, links: [link(3, "Default"), link(4, "Visual")] }],
    }],
  } as unknown as ResultsSummary["voxel"];
  const html = renderReport(summary, "2026-01-01T00:00:00Z");
  assert.match(html, /Which sub-groups the model needs/);
  const section = html.slice(html.indexOf("Which sub-groups the model needs"));
  assert.match(section, /The &lt;Little&gt; Prince/);
  assert.match(section, /big \(run by onnxruntime\)/);
  assert.match(section, /<td>3<\/td><td>50<\/td><td>1\.250<\/td><td>0\.010<\/td>/);
  assert.match(section, /1 on the story, 0 held out/);
  assert.match(section, /<td>Yeo-7 Default \+<\/td>/);
  assert.match(section, /Yeo-7 Default \+: atom 3/);
  assert.ok(!section.includes("Visual"), "atom 4 is not needed");
  // Without a voxel level: no links, no per-network line.
  const alone = renderReport({ ...summary, voxel: undefined }, "x");
  assert.ok(!alone.includes("Per network"));
});
