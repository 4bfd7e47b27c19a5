import assert from "node:assert/strict";
import { join } from "node:path";
import { bootstrapIndices, meanInterval } from "./bootstrap.ts";
import { withBootstrap, withRoiIntervals } from "./bootstrap_files.ts";
import type { VoxelBootstrap } from "./bootstrap_types.ts";
import type { NetworkMatch } from "./networks.ts";
import type { OrganizationMetrics } from "./organization.ts";
import type { ModelRoiGroup, RoiGroupScore, RoiScore } from "./results.ts";
import { loadVoxelResult, saveVoxelResult } from "./voxel_cache.ts";
import type { ModelVoxelResult } from "./voxel_encoding.ts";

const ids = Array.from({ length: 20 }, (_, i) => `s${i}`);
const score = (subject: string, roi: string, r: number): RoiScore => ({
  subject,
  roi,
  r,
  p: 0.5,
  q: 0.5,
  alpha: 1,
});

Deno.test("withRoiIntervals: a gain draws each subject's model and baseline r together", () => {
  // Subjects' r spread widely; the model adds exactly 0.05 to each: a paired interval of width 0.
  const base = ids.map((s, i) => score(s, "A", (i % 7) / 10));
  const model = base.map((b) => score(b.subject, "A", b.r + 0.05));
  const mean = (xs: RoiScore[]) => xs.reduce((a, x) => a + x.r, 0) / xs.length;
  const group: ModelRoiGroup = {
    roi: "A",
    subjects: 20,
    meanR: mean(model),
    t: NaN,
    significant: 0,
    model: "m",
    variant: "atoms+baseline",
    gainOverBaseline: 0.05,
    tGain: NaN,
  };
  const [g] = withRoiIntervals(ids, model, [group], { resamples: 300, seed: 1, baseline: base });
  assert.ok(Math.abs(g.gainLow! - 0.05) < 1e-12 && Math.abs(g.gainHigh! - 0.05) < 1e-12);
  // The mean's interval is the same draws' (the one definition in bootstrap.ts) and brackets it.
  const ci = meanInterval(model.map((m) => m.r), bootstrapIndices(20, 300, 1));
  assert.deepEqual([g.meanRLow, g.meanRHigh], [ci.low, ci.high]);
  assert.ok(g.meanRLow! < g.meanR && g.meanR < g.meanRHigh!);
  // A set without a gain (the baseline's own groups) gets the mean's interval only.
  const plain: RoiGroupScore = {
    roi: "A",
    subjects: 20,
    meanR: mean(base),
    t: NaN,
    significant: 0,
  };
  const [b] = withRoiIntervals(ids, base, [plain], { resamples: 300, seed: 1 });
  assert.ok(b.meanRLow! < b.meanR && !("gainLow" in b));
});

const metrics: OrganizationMetrics = {
  atoms: 2,
  linkedAtoms: 1,
  links: 1,
  networks: 2,
  networksEngaged: 1,
  assignmentEntropy: 0,
  normalizedEntropy: 0,
  layerSpread: 0.5,
  consistency: { timeCourse: NaN, mapOverlap: NaN, perNetwork: [] },
};
const link: NetworkMatch = {
  atom: 1,
  sign: -1,
  network: 0,
  networkName: "net0",
  voxels: 3,
  dice: 0.4,
  overlap: 0.5,
  p: 0.01,
  z: 4,
  q: 0.01,
  pFWE: 0.02,
  linked: true,
};
const boot: VoxelBootstrap = {
  resamples: 10,
  seed: 0,
  level: 0.95,
  maps: [{ atom: 1, sign: -1, voxels: 3, medianFrequency: 0.9 }],
  frequency: Float32Array.of(0, 0, 0, 0.9, 1, NaN),
  templates: [{
    name: "toy",
    links: [
      { atom: 1, sign: -1, network: 0, networkName: "net0", linked: true, reappearance: 0.8 },
      { atom: 0, sign: 1, network: 1, networkName: "net1", linked: false, reappearance: 0.1 },
    ],
    metrics: [{ metric: "layerSpread", value: 0.5, ciLow: 0.4, ciHigh: NaN, finite: 9 }],
  }],
};

Deno.test("withBootstrap: links get their reappearance and the set its intervals", () => {
  const out = withBootstrap({ name: "toy", metrics, links: [link] }, boot);
  assert.equal(out.links[0].reappearance, 0.8);
  assert.deepEqual(out.metricIntervals, boot.templates[0].metrics);
  const other = withBootstrap({ name: "other", metrics, links: [link] }, boot);
  assert.equal(other.links[0].reappearance, undefined);
  assert.equal(other.metricIntervals, undefined);
});

Deno.test("the voxel cache keeps a result's bootstrap, NaN included", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const result: ModelVoxelResult = {
      model: "m",
      threshold: 2,
      templates: [{ name: "toy", matches: [link], metrics }],
      subjects: [],
      group: {
        subjects: 2,
        t: { rows: 2, cols: 3, data: Float32Array.of(1, 2, 3, -4, -5, 0) },
        p: new Float64Array(6),
        meanR: new Float32Array(3),
        pR: new Float64Array(3),
        qR: new Float64Array(3),
      },
      bootstrap: boot,
    };
    await saveVoxelResult(join(dir, "e"), result);
    const back = await loadVoxelResult(join(dir, "e"));
    assert.deepEqual(back?.bootstrap, boot);
    const { bootstrap: _b, ...without } = result;
    await saveVoxelResult(join(dir, "f"), without);
    assert.equal((await loadVoxelResult(join(dir, "f")))?.bootstrap, undefined);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
