/**
 * Recovery of planted atom → network links as signal and sample size vary:
 * phantoms from stories260K's atoms on Yeo-7 (4 mm) at several median R²
 * and subject counts, each analysed with the default settings; precision
 * and recall of the links, written as CSV and an SVG plot.
 *
 * Usage: deno task sweep [--r2 0.003,0.01,0.03,0.1] [--subjects 3,6]
 *        [--permutations 50] [--seeds 1] [--out bench/recovery]
 *
 * @module
 */

import { parseArgs } from "node:util";
import { join } from "node:path";
import { writeTextFileAtomic } from "@brainorg/common";
import {
  analyzeVoxels,
  brainMask,
  cleanSeries,
  demoModelAtoms,
  demoStimulus,
  generatePhantom,
  scoreRecovery,
  templateNetworks,
  toCsv,
} from "@brainorg/core";
import { createBackend, type Matrix } from "@brainorg/kernels";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    r2: { type: "string", default: "0.003,0.01,0.03,0.1" },
    subjects: { type: "string", default: "3,6" },
    permutations: { type: "string", default: "50" },
    seeds: { type: "string", default: "1" },
    out: { type: "string", default: "bench/recovery" },
  },
});
const r2s = values.r2.split(",").map(Number), counts = values.subjects.split(",").map(Number);
const P = Number(values.permutations), seeds = Number(values.seeds);

const backend = await createBackend({ backend: "cpu" });
const { config } = await demoStimulus();
const TR = config.stimulus.tr;
const [planted] = await demoModelAtoms(backend, { atoms: 16, seed: 0 }, {
  log: (l) => console.error(l),
});
const atoms = planted.atoms.atoms;
const { mask } = await brainMask(4);
const yeo = await templateNetworks("yeo7", mask, 4);
const rows: {
  r2: number;
  subjects: number;
  seed: number;
  precision: number;
  recall: number;
  falsePositives: number;
  medianHeldOutR2: number;
  seconds: number;
}[] = [];
for (const S of counts) {
  for (const r2 of r2s) {
    for (let seed = 1; seed <= seeds; seed++) {
      const t0 = performance.now();
      const subjects: { id: string; data: Matrix }[] = [];
      const truth = await generatePhantom(backend, mask, yeo.networks, atoms, async (s, data) => {
        subjects.push({
          id: `s${s}`,
          data: await cleanSeries(backend, data, { tr: TR }),
        });
      }, { subjects: S, r2, seed: 100 * seed + S });
      const { models: [result] } = await analyzeVoxels(
        backend,
        subjects,
        [{ name: "stories260K", atoms, layerCounts: planted.layerCounts }],
        [yeo],
        { permutations: P, tr: TR, seed },
      );
      const found = result.templates[0].matches.filter((m) => m.linked);
      const rec = scoreRecovery(truth.links, found, truth.undrivenAtoms);
      const driven = new Set(truth.links.map((l) => l.network));
      const r2Driven = result.subjects.flatMap((s) =>
        Array.from(s.r2).filter((_, v) => [...driven].some((n) => yeo.networks[n].values[v] > 0))
      ).sort((a, b) => a - b);
      rows.push({
        r2,
        subjects: S,
        seed,
        precision: rec.precision,
        recall: rec.recall,
        falsePositives: rec.falsePositives,
        medianHeldOutR2: r2Driven[r2Driven.length >> 1],
        seconds: (performance.now() - t0) / 1000,
      });
      console.error(JSON.stringify(rows.at(-1)));
    }
  }
}
backend.dispose();

/** Precision and recall against R², one line per subject count. */
function plot(): string {
  const W = 640, H = 300, L = 50, R = 150, T = 20, B = 40;
  const x = (r2: number) =>
    L +
    ((Math.log(r2) - Math.log(r2s[0])) / (Math.log(r2s.at(-1)!) - Math.log(r2s[0]) || 1)) *
      (W - L - R);
  const y = (v: number) => T + (1 - v) * (H - T - B);
  const colours = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e"];
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<line x1="${L}" y1="${y(0)}" x2="${W - R}" y2="${y(0)}" stroke="#333"/>`,
    `<line x1="${L}" y1="${y(0)}" x2="${L}" y2="${y(1)}" stroke="#333"/>`,
    ...[0, 0.5, 0.9, 1].map((v) =>
      `<text x="${L - 6}" y="${y(v) + 4}" text-anchor="end">${v}</text><line x1="${L}" x2="${
        W - R
      }" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/>`
    ),
    ...r2s.map((r) => `<text x="${x(r)}" y="${H - B + 16}" text-anchor="middle">${r}</text>`),
    `<text x="${(L + W - R) / 2}" y="${
      H - 6
    }" text-anchor="middle">median true R² in driven voxels</text>`,
  ];
  counts.forEach((S, i) => {
    for (const [metric, dash] of [["recall", ""], ["precision", "4 3"]] as const) {
      const pts = r2s.map((r2) => {
        const sel = rows.filter((row) => row.subjects === S && row.r2 === r2);
        return [x(r2), y(sel.reduce((a, row) => a + row[metric], 0) / sel.length)];
      });
      parts.push(
        `<polyline fill="none" stroke="${
          colours[i % 5]
        }" stroke-width="2" stroke-dasharray="${dash}" points="${
          pts.map((p) => p.join(",")).join(" ")
        }"/>`,
      );
    }
    parts.push(
      `<text x="${W - R + 10}" y="${T + 16 * i + 10}" fill="${
        colours[i % 5]
      }">${S} subjects</text>`,
    );
  });
  parts.push(
    `<text x="${W - R + 10}" y="${T + 16 * counts.length + 20}">— recall</text>`,
    `<text x="${W - R + 10}" y="${T + 16 * counts.length + 36}">- - precision</text>`,
    "</svg>",
  );
  return parts.join("\n") + "\n";
}

await writeTextFileAtomic(
  join(values.out, "recovery.csv"),
  toCsv(
    [
      "r2",
      "subjects",
      "seed",
      "precision",
      "recall",
      "falsePositives",
      "medianHeldOutR2",
      "seconds",
    ],
    rows,
  ),
);
await writeTextFileAtomic(join(values.out, "recovery.svg"), plot());
console.error(`written: ${join(values.out, "recovery.csv")} and recovery.svg`);
