import assert from "node:assert/strict";
import { renderReport } from "./report.ts";
import { RESULTS_SCHEMA, type ResultsSummary } from "./results.ts";
import type { SpatialMatch } from "./spatial_null.ts";

const metrics = {
  networks: 7,
  networksEngaged: 1,
  normalizedEntropy: 0.5,
  layerSpread: 0.5,
  consistency: { timeCourse: 0.1, mapOverlap: 0.2 },
};
const link = (spatial: boolean): SpatialMatch => ({
  atom: 3,
  sign: 1,
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
  ...(spatial ? { spatialP: 0.0421, spatialQ: 0.03, spatialLinked: true, linkedBoth: true } : {}),
});
const summary = (spatial: boolean) =>
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
        name: "m",
        subjects: [],
        voxelsMeanRQ05: 0,
        templates: [{ name: "Yeo-7", metrics, links: [link(spatial)] }],
      }],
      ...(spatial
        ? {
          spatialNull: {
            surrogates: 19,
            method: "variogram-matched surrogates",
            models: [{
              name: "m<2>",
              bandwidthsMm: [4],
              templates: [{ name: "Yeo-7", shiftLinks: 5, spatialLinks: 3, bothLinks: 2 }],
            }],
          },
        }
        : {}),
    },
  }) as unknown as ResultsSummary;

Deno.test("the report gives the spatial null's counts and each link's spatial p where it was computed", () => {
  const html = renderReport(summary(true), "2026-01-01T00:00:00Z");
  assert.match(html, /<h3>Spatial null<\/h3>/);
  assert.match(html, /19 variogram-matched surrogates/);
  assert.match(html, /<td>m&lt;2&gt;<\/td><td>Yeo-7<\/td><td>5<\/td><td>3<\/td><td>2<\/td>/);
  assert.match(html, /<th>spatial p<\/th><th>both nulls<\/th>/);
  assert.match(html, /0\.042.*?yes/);
  const without = renderReport(summary(false), "2026-01-01T00:00:00Z");
  assert.ok(!without.includes("Spatial null") && !without.includes("spatial p"));
});
