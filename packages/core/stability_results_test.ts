import assert from "node:assert/strict";
import type { Matrix } from "@brainorg/kernels";
import { renderReport } from "./report.ts";
import { RESULTS_SCHEMA, type ResultsSummary, type VoxelSummary } from "./results.ts";
import type { AtomStability } from "./stability.ts";
import {
  stabilitySummary,
  stabilityTables,
  storySpans,
  withLinkStability,
} from "./stability_results.ts";

/** A stability result with the given per-atom stabilities. */
function stability(values: number[]): AtomStability {
  return {
    atoms: values.map((v, atom) => ({
      atom,
      stability: v,
      seedMedianR: v,
      halvesMedianR: v,
      medianSignedR: v,
    })),
    fits: [
      { kind: "seed", seed: 1, volumes: [0, 4], r: Float64Array.from(values) },
      { kind: "part", seed: 0, volumes: [0, 2], r: Float64Array.from(values) },
      { kind: "part", seed: 0, volumes: [2, 4], r: Float64Array.from(values) },
    ],
    median: 0.5,
    skipped: [],
  };
}

Deno.test("storySpans: one span per story of consecutive runs, none for one story", () => {
  assert.deepEqual(storySpans([10, 20, 30], ["a", "a", "b"]), [30, 30]);
  assert.deepEqual(storySpans([10, 20, 30], ["a", "b", "a"]), [10, 20, 30]);
  assert.equal(storySpans([10, 20], ["a", "a"]), undefined);
  assert.equal(storySpans([10, 20]), undefined);
});

Deno.test("stabilityTables: stability.csv with the stable column, and the control's matching", () => {
  const a: Matrix = { rows: 4, cols: 2, data: Float32Array.from([1, 0, 2, 1, 3, 0, 4, 1]) };
  const b: Matrix = { rows: 4, cols: 2, data: Float32Array.from([0, -1, 1, -2, 0, -3, 1, -4]) };
  const tables = stabilityTables([
    { name: "m", atoms: a, stability: stability([0.9, 0.3]) },
    { name: "m-random", atoms: b },
  ], 0.5);
  assert.deepEqual(tables.map((t) => t.path), [
    "models/m/stability.csv",
    "models/m/matched_m-random.csv",
  ]);
  assert.deepEqual([...tables[0].rows].map((r) => (r as { stable: boolean }).stable), [
    true,
    false,
  ]);
  const pairs = [...tables[1].rows] as { atom: number; matchedAtom: number; r: number }[];
  assert.deepEqual(pairs.map((p) => [p.atom, p.matchedAtom]), [[0, 1], [1, 0]]);
  assert.ok(Math.abs(pairs[0].r + 1) < 1e-12 && Math.abs(pairs[1].r - 1) < 1e-12);
  assert.deepEqual(stabilitySummary(stability([0.9, 0.3]), 0.5), {
    median: 0.5,
    fits: { seeds: 1, parts: 2 },
    stableAtoms: 1,
    minStability: 0.5,
  });
});

Deno.test("withLinkStability: links carry their atom's stability; minStability drops the rest", () => {
  const link = (atom: number) => ({ atom, sign: 1, network: 0 }) as never;
  const voxel = {
    models: [{ name: "m", templates: [{ name: "Yeo-7", links: [link(0), link(1)] }] }, {
      name: "other",
      templates: [{ name: "Yeo-7", links: [link(0)] }],
    }],
  } as unknown as VoxelSummary;
  const models = [{
    name: "m",
    atoms: { rows: 1, cols: 2, data: new Float32Array(2) },
    stability: stability([0.9, 0.3]),
  }];
  const all = withLinkStability(voxel, models, 0);
  assert.deepEqual(all.models[0].templates[0].links.map((l) => l.stability), [0.9, 0.3]);
  const kept = withLinkStability(voxel, models, 0.5);
  assert.deepEqual(kept.models[0].templates[0].links.map((l) => l.atom), [0]);
  // A model without stability is left as it was.
  assert.equal(kept.models[1], voxel.models[1]);
});

Deno.test("the report shows each model's stability line, and nothing without it", () => {
  const summary: ResultsSummary = {
    schema: RESULTS_SCHEMA,
    brainorg: "0.1.0",
    steps: [],
    backend: { name: "cpu", implementation: "typescript", details: {} },
    stimulus: { transcript: "t", words: 1, dropped: 0, volumes: 4, tr: 2, discarded: [0] },
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
  };
  assert.ok(!renderReport(summary, "now").includes("Stability of the atoms"));
  summary.models[0].stability = stabilitySummary(stability([0.9, 0.3]), 0.5);
  const html = renderReport(summary, "now");
  assert.match(html, /Stability of the atoms/);
  assert.match(html, /<td>m<\/td><td>1 \+ 2<\/td><td>0\.500<\/td><td>1 of 2 \(≥ 0\.50\)<\/td>/);
});
