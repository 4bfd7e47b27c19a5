import assert from "node:assert/strict";
import { renderReport } from "./report.ts";
import { RESULTS_SCHEMA, type ResultsSummary } from "./results.ts";
import { SEED_SPREAD_NOTE } from "./seed_spread.ts";

const metrics = {
  networks: 7,
  networksEngaged: 1,
  normalizedEntropy: 0.5,
  layerSpread: 0.5,
  consistency: { timeCourse: 0.1, mapOverlap: 0.2 },
};
const link = (atom: number, seedReappearance?: number) => ({
  atom,
  sign: 1 as const,
  network: 0,
  networkName: "1_Visual_Area",
  voxels: 100,
  dice: 0.5,
  overlap: 0.6,
  p: 0.01,
  z: 5,
  q: 0.001,
  pFWE: 0.01,
  linked: true,
  ...(seedReappearance === undefined ? {} : { seedReappearance }),
});
const summary = (spread: boolean) =>
  ({
    schema: RESULTS_SCHEMA,
    brainorg: "0.1.0",
    steps: [],
    backend: { name: "cpu", implementation: "typescript", details: {} },
    stimulus: { transcript: "t", words: 1, dropped: 0, volumes: 1, tr: 2, discarded: [0] },
    models: [],
    voxel: {
      dataset: "user",
      subjects: 3,
      voxels: 1000,
      permutations: 9,
      voxelP: 0.01,
      threshold: 6.96,
      models: [{
        name: "m<1>",
        subjects: [],
        voxelsMeanRQ05: 0,
        templates: [{
          name: "Yeo-7",
          metrics,
          links: [link(3, spread ? 1 : undefined), link(4, spread ? 0.25 : undefined)],
          ...(spread
            ? {
              seedMetrics: [{
                metric: "networksEngaged",
                value: 2,
                perSeed: [2, 1, 2, 3],
                min: 1,
                max: 3,
                sd: 0.7071,
                finite: 5,
              }],
            }
            : {}),
        }],
      }],
      ...(spread ? { seedSpread: { seeds: [1, 2, 3, 4], note: SEED_SPREAD_NOTE } } : {}),
    },
  }) as unknown as ResultsSummary;

Deno.test("the report shows each metric's spread across dictionary seeds, and nothing without it", () => {
  const html = renderReport(summary(true), "2026-01-01T00:00:00Z");
  assert.match(html, /<h3>Spread across dictionary seeds<\/h3>/);
  assert.match(html, /seeds 1, 2, 3, 4 too/);
  assert.match(html, /m&lt;1&gt;/);
  assert.match(
    html,
    /<td>networksEngaged<\/td><td>2\.000<\/td><td>2\.00 1\.00 2\.00 3\.00<\/td><td>1\.000 to 3\.000<\/td><td>0\.707<\/td><td>1 of 2 in every seed<\/td>/,
  );
  assert.doesNotMatch(renderReport(summary(false), "2026-01-01T00:00:00Z"), /dictionary seeds/);
});
