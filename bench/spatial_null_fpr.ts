/**
 * The spatial null against the shift null on the phantom: false-positive
 * rate on phantoms where nothing is planted (every atom undriven: the data
 * are the phantom's noise alone) and power on the planted one (the demo's
 * 8 links of stories260K's atoms on Yeo-7), over several seeds, under the
 * shift null alone, the spatial null alone, and both.
 *
 * A false positive is a linked atom × sign × network cell that was not
 * planted; the rate is over all such cells (16 atoms × 2 signs × 7
 * networks, less the planted ones). "Runs with any" is the family-wise
 * view: the share of phantoms with at least one false link.
 *
 * Usage: deno task bench:spatial-null [--seeds 3] [--permutations 100] [--surrogates 100]
 *        [--subjects 6] [--r2 0.1]
 * Writes bench/spatial_null_results.json and bench/spatial_null_results.md.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { writeTextFileAtomic } from "@brainorg/common";
import {
  addSpatialNull,
  analyzeVoxels,
  brainMask,
  cleanSeries,
  demoModelAtoms,
  demoStimulus,
  generatePhantom,
  type SpatialMatch,
  templateNetworks,
} from "@brainorg/core";
import { createBackend, type Matrix } from "@brainorg/kernels";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    seeds: { type: "string", default: "3" },
    permutations: { type: "string", default: "100" },
    surrogates: { type: "string", default: "100" },
    subjects: { type: "string", default: "6" },
    r2: { type: "string", default: "0.1,0.02" },
    out: { type: "string", default: "bench/spatial_null_results" },
  },
});
const seeds = Number(values.seeds), P = Number(values.permutations);
const surrogates = Number(values.surrogates), S = Number(values.subjects);
const r2s = values.r2.split(",").map(Number);

const backend = await createBackend({ backend: "cpu" });
const { config } = await demoStimulus();
const TR = config.stimulus.tr;
const [planted] = await demoModelAtoms(backend, { atoms: 16, seed: 0 }, {
  log: (l) => console.error(l),
});
const atoms = planted.atoms.atoms;
const { mask } = await brainMask(4);
const yeo = await templateNetworks("yeo7", mask, 4);

type NullName = "shift" | "spatial" | "both";
const NULLS: NullName[] = ["shift", "spatial", "both"];
const isLinked = (m: SpatialMatch, n: NullName) =>
  n === "shift" ? m.linked : n === "spatial" ? !!m.spatialLinked : !!m.linkedBoth;
// The per-cell p alone (no FDR): its calibration under no signal should be ≈ 5%.
const pOf = (m: SpatialMatch, n: NullName) =>
  n === "shift" ? m.p : n === "spatial" ? m.spatialP! : Math.max(m.p, m.spatialP!);

interface Run {
  condition: string;
  seed: number;
  planted: number;
  cells: number;
  /** Per null: false links (not planted) and planted links found. */
  found: Record<NullName, { falsePositives: number; truePositives: number; falseP05: number }>;
  encodeSeconds: number;
  spatialSeconds: number;
}
const runs: Run[] = [];
const conditions = [
  { name: "nothing planted", r2: r2s[0], plant: false },
  ...r2s.map((r2) => ({ name: `planted, R² ${r2}`, r2, plant: true })),
];
for (let seed = 1; seed <= seeds; seed++) {
  for (const { name: condition, r2, plant } of conditions) {
    const t0 = performance.now();
    const subjects: { id: string; data: Matrix }[] = [];
    const truth = await generatePhantom(backend, mask, yeo.networks, atoms, async (s, data) => {
      subjects.push({ id: `s${s}`, data: await cleanSeries(backend, data, { tr: TR }) });
    }, { subjects: S, r2, seed: 1000 * seed + 7, ...(plant ? {} : { links: [] }) });
    const { models: [result] } = await analyzeVoxels(
      backend,
      subjects,
      [{ name: "stories260K", atoms, layerCounts: planted.layerCounts }],
      [yeo],
      { permutations: P, tr: TR, seed },
    );
    const t1 = performance.now();
    await addSpatialNull([result], [yeo], mask, { surrogates, seed });
    const t2 = performance.now();
    const key = (l: { atom: number; network: number; sign: number }) =>
      `${l.atom}/${l.network}/${l.sign}`;
    const truthKeys = new Set(truth.links.map(key));
    const matches = result.templates[0].matches as SpatialMatch[];
    const found = Object.fromEntries(NULLS.map((n) => {
      const linked = matches.filter((m) => isLinked(m, n));
      const tp = linked.filter((m) => truthKeys.has(key(m))).length;
      const falseP05 = matches.filter((m) => !truthKeys.has(key(m)) && pOf(m, n) <= 0.05).length;
      return [n, { falsePositives: linked.length - tp, truePositives: tp, falseP05 }];
    })) as Run["found"];
    runs.push({
      condition,
      seed,
      planted: truth.links.length,
      cells: matches.length - truth.links.length,
      found,
      encodeSeconds: (t1 - t0) / 1000,
      spatialSeconds: (t2 - t1) / 1000,
    });
    console.error(JSON.stringify(runs.at(-1)));
  }
}
backend.dispose();

/** Per condition and null: the false-positive rate, runs with any false link, and power. */
const table = conditions.map((c) => c.name).flatMap((condition) => {
  const sel = runs.filter((r) => r.condition === condition);
  return NULLS.map((n) => {
    const fp = sel.reduce((a, r) => a + r.found[n].falsePositives, 0);
    const cells = sel.reduce((a, r) => a + r.cells, 0);
    const tp = sel.reduce((a, r) => a + r.found[n].truePositives, 0);
    const plantedLinks = sel.reduce((a, r) => a + r.planted, 0);
    return {
      condition,
      null: n,
      runs: sel.length,
      falsePositives: fp,
      cells,
      falsePositiveRate: fp / cells,
      unplantedP05Rate: sel.reduce((a, r) => a + r.found[n].falseP05, 0) / cells,
      runsWithAnyFalse: sel.filter((r) => r.found[n].falsePositives > 0).length,
      plantedLinks,
      power: plantedLinks ? tp / plantedLinks : NaN,
    };
  });
});
const meta = {
  what: "shift null vs spatial (variogram-matched surrogate) null on the phantom",
  phantom: `${S} subjects, MNI 4 mm (${mask.indices.length} voxels), stories260K's 16 atoms; ` +
    `planted: the demo's 8 links on Yeo-7 at median true R² ${
      r2s.join(" and ")
    } in driven voxels; ` +
    "nothing planted: the same noise model, no link",
  permutations: P,
  surrogates,
  seeds,
  alpha: 0.05,
  meanEncodeSeconds: runs.reduce((a, r) => a + r.encodeSeconds, 0) / runs.length,
  meanSpatialSeconds: runs.reduce((a, r) => a + r.spatialSeconds, 0) / runs.length,
};
await writeTextFileAtomic(
  `${values.out}.json`,
  JSON.stringify({ ...meta, table, runs }, null, 2) + "\n",
);
const pct = (x: number) => Number.isFinite(x) ? `${(100 * x).toFixed(1)}%` : "–";
const md = [
  `# ${meta.what}`,
  "",
  `Phantom: ${meta.phantom}. ${seeds} seeds per condition; shift null ${P} surrogates of the atoms, ` +
  `spatial null ${surrogates} surrogate maps per atom; a link: per-cell p ≤ 0.05 and FDR q ≤ 0.05.`,
  "",
  "| condition | null | false links / cells | false-positive rate | runs with any false link | unplanted cells with p ≤ 0.05 | power (planted found) |",
  "|---|---|---|---|---|---|---|",
  ...table.map((r) =>
    `| ${r.condition} | ${r.null} | ${r.falsePositives} / ${r.cells} | ${
      pct(r.falsePositiveRate)
    } | ${r.runsWithAnyFalse} / ${r.runs} | ${pct(r.unplantedP05Rate)} | ${
      r.plantedLinks
        ? `${pct(r.power)} (${Math.round(r.power * r.plantedLinks)} / ${r.plantedLinks})`
        : "–"
    } |`
  ),
  "",
  `Time per phantom (shared 2-core machine): encoding with the shift null ${
    meta.meanEncodeSeconds.toFixed(1)
  } s, ` +
  `spatial null ${meta.meanSpatialSeconds.toFixed(1)} s.`,
  "",
].join("\n");
await writeTextFileAtomic(`${values.out}.md`, md);
console.log(md);
