/**
 * A static `report.html` for a results folder: the key tables and plots,
 * readable in any browser without a server or a network.
 *
 * @module
 */

import { memberLabel, type ModelMembers } from "./members.ts";
import type { SpatialMatch } from "./spatial_null.ts";
import { networkDisplayName } from "./network_names.ts";
import type { OrganizationMetrics } from "./organization.ts";
import type { Recovery } from "./phantom.ts";
import type { ResultsSummary } from "./results.ts";
import { variancePartitionSection } from "./variance_partition_report.ts";

function esc(v: unknown): string {
  return String(v).replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!,
  );
}

function num(v: number, digits = 3): string {
  return Number.isFinite(v) ? v.toFixed(digits) : "–";
}

function table(head: string[], rows: (string | number)[][]): string {
  return `<table><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join("")}</tr></thead><tbody>${
    rows.map((r) =>
      `<tr>${r.map((c) => `<td>${typeof c === "number" ? num(c) : esc(c)}</td>`).join("")}</tr>`
    ).join("")
  }</tbody></table>`;
}

/** Grouped bars: one group per label, one bar per series, values on a shared axis from 0. */
function bars(
  labels: string[],
  series: { name: string; color: string; values: number[] }[],
  title: string,
): string {
  const W = 640, H = 240, left = 40, bottom = 30, top = 20;
  const max = Math.max(0.05, ...series.flatMap((s) => s.values.map((v) => Math.abs(v))));
  const min = Math.min(0, ...series.flatMap((s) => s.values));
  const y = (v: number) => top + (H - top - bottom) * (max - v) / (max - min);
  const gw = (W - left) / labels.length, bw = (gw * 0.8) / series.length;
  let svg = `<svg role="img" aria-label="${
    esc(title)
  }" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}">`;
  svg += `<text x="${left}" y="12" font-size="12">${esc(title)}</text>`;
  svg += `<line x1="${left}" x2="${W}" y1="${y(0)}" y2="${y(0)}" stroke="#444"/>`;
  for (const t of [max, max / 2, 0, min].filter((v, i, a) => a.indexOf(v) === i)) {
    svg += `<text x="${left - 4}" y="${y(t) + 4}" font-size="10" text-anchor="end">${
      num(t, 2)
    }</text>`;
  }
  labels.forEach((label, i) => {
    series.forEach((s, j) => {
      const v = s.values[i], x = left + i * gw + gw * 0.1 + j * bw;
      svg += `<rect x="${x}" y="${Math.min(y(v), y(0))}" width="${bw - 1}" height="${
        Math.abs(y(v) - y(0))
      }" fill="${s.color}"><title>${esc(s.name)} ${esc(label)}: ${num(v)}</title></rect>`;
    });
    svg += `<text x="${left + i * gw + gw / 2}" y="${H - 10}" font-size="11" text-anchor="middle">${
      esc(label)
    }</text>`;
  });
  svg += "</svg>";
  const legend = series.map((s) =>
    `<span class="key"><i style="background:${s.color}"></i>${esc(s.name)}</span>`
  ).join(" ");
  return `<figure>${svg}<figcaption>${legend}</figcaption></figure>`;
}

/** The reports' stylesheet. */
const STYLE = `
body{font:14px/1.45 system-ui,sans-serif;max-width:980px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em}th,td{border:1px solid #ccc;padding:2px 8px;text-align:left}
th{background:#f3f3f3}td.n{text-align:right}figure{margin:1em 0}
table.members{font-size:12px}table.members td{padding:1px 6px}
.key{margin-right:1em}.key i{display:inline-block;width:10px;height:10px;margin-right:4px}
`;

/** What the report shows beyond `summary.json`. */
export interface ReportOptions {
  /** Per model, each atom's sub-group size and strongest ANs (`topMembers`). Default: none. */
  members?: ModelMembers[];
}

/** Atoms listed per model in the report; the rest are in `members.csv`. */
const REPORT_ATOMS = 64;

/** Per model: each atom's sub-group size and its strongest ANs, one compact row per atom. */
function membersSection(members: ModelMembers[]): string {
  return members.map((m) => {
    const shown = m.atoms.slice(0, REPORT_ATOMS), more = m.atoms.length - shown.length;
    const rows = shown.map((a) =>
      `<tr><td class="n">${a.atom}</td><td class="n">${a.size}</td><td class="n">${a.positive}/${a.negative}</td><td>${
        a.top.map((t) => esc(memberLabel(t))).join(", ")
      }</td></tr>`
    ).join("");
    return `<h3>Sub-groups of ${esc(m.model)}</h3>
<table class="members"><thead><tr><th>atom</th><th>ANs</th><th>+/−</th><th>strongest ANs by |code| (L‹layer›.u‹unit›)</th></tr></thead><tbody>${rows}</tbody></table>${
      more > 0
        ? `<p>${more} more atoms: see <code>models/${esc(m.model)}/members.csv</code>.</p>`
        : ""
    }`;
  }).join("\n");
}

/**
 * Render the report of a results folder.
 *
 * @param summary what `summary.json` holds
 * @param createdAt when the results were made (from the provenance)
 * @param options what it shows beyond the summary: each model's sub-group members
 * @returns a whole HTML page, every value from the results escaped
 */
export function renderReport(
  summary: ResultsSummary,
  createdAt: string,
  options: ReportOptions = {},
): string {
  const st = summary.stimulus;
  const models = table(
    ["model", "ANs", "dead", "atoms", "α", "code density", "reconstruction R² by layer"],
    summary.models.map((m) => [
      m.name,
      String(m.ans),
      String(m.deadAns),
      String(m.atoms),
      m.alpha,
      m.codeDensity,
      m.layerR2.map((r, l) => `L${l} ${num(r, 2)}`).join(", "),
    ]),
  );
  const check = st.check
    ? `<p>Word rate against ${esc(st.check.name)}: r ≥ ${
      num(st.check.minR)
    } in all ${st.check.subjects.length} subjects.</p>`
    : "";
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>brainorg report</title>
<style>${STYLE}</style></head><body>
<h1>brainorg results</h1>
<p>brainorg ${esc(summary.brainorg)}, ${esc(createdAt)}; backend ${esc(summary.backend.name)} (${
    esc(summary.backend.implementation)
  }). Browse everything with <code>deno task web</code>.</p>
<h2>Steps</h2>${table(["step", "what the run saw"], summary.steps.map((s) => [s.step, s.detail]))}
<h2>Stimulus</h2>
<p>${esc(st.transcript)}: ${st.words} words (${st.dropped} dropped) on ${st.volumes} volumes, TR ${
    num(st.tr, 2)
  } s.</p>
${check}
<h2>Models</h2>${models}
${stabilitySection(summary)}
${membersSection(options.members ?? [])}
${roiSection(summary)}
${voxelSection(summary)}
${variancePartitionSection(summary)}
${ablationSection(summary)}
<p>Files: <code>summary.json</code>, <code>encoding/*.csv</code>, <code>models/*/atoms.csv</code>,
<code>models/*/members.csv</code> and <code>models/*/codes.npy</code> (every AN's code on every atom),
<code>voxels/*/</code> (NIfTI maps, network tables), <code>provenance.json</code>.</p>
</body></html>
`;
}

/** The atoms' stability per model, where it was computed. */
function stabilitySection(summary: ResultsSummary): string {
  const rows = summary.models.filter((m) => m.stability);
  if (!rows.length) return "";
  return `<h3>Stability of the atoms</h3>
<p>Each atom's stability is the median |r| of its time course with its Hungarian match in each
dictionary learned again (other seeds; halves of the story, or each story): near 1, the atom comes
back whatever the seed and the data; <code>models/*/stability.csv</code> per atom.</p>${
    table(
      ["model", "fits (seeds + parts)", "median stability", "stable atoms"],
      rows.map((m) => {
        const s = m.stability!;
        return [
          m.name,
          `${s.fits.seeds} + ${s.fits.parts}`,
          s.median,
          `${s.stableAtoms} of ${m.atoms} (≥ ${num(s.minStability, 2)})`,
        ];
      }),
    )
  }`;
}

/** The ROI level: the baseline, each model (with it), the gains. */
function roiSection(summary: ResultsSummary): string {
  const roi = summary.rois;
  if (!roi) return "";
  const colors = ["#1f77b4", "#d62728", "#7f7f7f", "#2ca02c"];
  const shown = roi.baseline ? "atoms+baseline" : "atoms";
  const names = [...new Set(roi.models.map((g) => g.model))];
  const series = [
    ...(roi.baseline
      ? [{
        name: `baseline (${roi.baseline.regressors.join(" + ")})`,
        color: "#bbbbbb",
        values: roi.rois.map((r) => roi.baseline!.group.find((g) => g.roi === r)?.meanR ?? NaN),
      }]
      : []),
    ...names.map((name, i) => ({
      name: `${name}: ${shown}`,
      color: colors[i % colors.length],
      values: roi.rois.map((r) =>
        roi.models.find((g) => g.model === name && g.variant === shown && g.roi === r)?.meanR ??
          NaN
      ),
    })),
  ];
  const excluded = roi.subjects.filter((s) => !s.usable);
  return `<h2>Encoding of the ROIs</h2>
<p>Held-out r within ${roi.folds} contiguous folds, p from ${roi.permutations} circular shifts,
FDR within each regressor set over all usable subjects × ROIs. Excluded: ${
    excluded.length ? excluded.map((s) => `${esc(s.id)} (${esc(s.reason)})`).join("; ") : "none"
  }.</p>
${bars(roi.rois, series, "mean held-out r across subjects")}
${
    roi.baseline
      ? `<h3>Baseline: ${esc(roi.baseline.regressors.join(" + "))}</h3>${
        table(
          ["ROI", "subjects", "mean r", "t (Fisher z)", "subjects q ≤ 0.05"],
          roi.baseline.group.map((
            g,
          ) => [g.roi, String(g.subjects), g.meanR, g.t, String(g.significant)]),
        )
      }`
      : ""
  }
<h3>Models</h3>
${
    table(
      [
        "model",
        "variant",
        "ROI",
        "mean r",
        "t",
        "subjects q ≤ 0.05",
        "gain over baseline",
        "paired t",
      ],
      roi.models.map((g) => [
        g.model,
        g.variant,
        g.roi,
        g.meanR,
        g.t,
        String(g.significant),
        g.gainOverBaseline,
        g.tGain,
      ]),
    )
  }${roiIntervals(roi)}`;
}

/** The phantom's voxel level: links found, metrics, recovery. */
/** Links and organization metrics of each model's first template set. */
function modelLinks(
  models: {
    name: string;
    templates: { name: string; metrics: OrganizationMetrics; links: SpatialMatch[] }[];
    recovery?: Recovery;
  }[],
): string {
  return models.map((m) => {
    const first = m.templates[0], met = first.metrics;
    const spatial = first.links.some((l) => l.spatialP !== undefined);
    const recovery = m.recovery
      ? ` Against the planted links: precision ${num(m.recovery.precision, 2)}, recall ${
        num(m.recovery.recall, 2)
      }.`
      : "";
    return `<h3>${esc(m.name)}</h3>
<p>${first.links.length} links on ${met.networksEngaged} of ${met.networks} ${
      esc(first.name)
    } networks
(diversity: normalized entropy ${num(met.normalizedEntropy, 2)}, layer spread ${
      num(met.layerSpread, 2)
    };
consistency: time courses ${num(met.consistency.timeCourse, 2)}, map overlap ${
      num(met.consistency.mapOverlap, 2)
    }).${recovery}</p>
${
      table(
        // The spatial null's p and verdict beside the shift null's, where it was computed.
        spatial
          ? ["atom", "part", "network", "Dice", "overlap", "p", "q", "spatial p", "both nulls"]
          : ["atom", "part", "network", "Dice", "overlap", "p", "q"],
        first.links.map((l) => [
          String(l.atom),
          l.sign > 0 ? "activated" : "deactivated",
          networkDisplayName(first.name, l.networkName),
          l.dice,
          l.overlap,
          l.p,
          l.q,
          ...(spatial ? [l.spatialP ?? NaN, l.linkedBoth ? "yes" : "no"] : []),
        ]),
      )
    }`;
  }).join("");
}

/** The voxel level: the data (and a phantom's planted links), links found, metrics, recovery. */
function voxelSection(summary: ResultsSummary): string {
  const v = summary.voxel;
  if (!v) return "";
  const ph = v.phantom;
  const data = ph
    ? `A phantom: ${ph.subjects} subjects, ${ph.voxels} voxels (MNI ${ph.resolutionMm} mm), ${
      esc(ph.model)
    }'s atoms planted on ${esc(ph.networks)}, median true R² ${
      num(ph.r2, 2)
    } in driven voxels; noise: ${esc(ph.noise)}. Planted: ${
      ph.links.map((l) =>
        `atom ${l.atom} ${l.sign > 0 ? "+" : "−"} → ${
          esc(networkDisplayName(ph.networks, l.networkName))
        }`
      ).join(
        "; ",
      )
    }.`
    : `${v.subjects} subjects, ${v.voxels} voxels${
      v.qc ? ` (${v.qc.droppedVoxels} of ${v.qc.maskVoxels} dropped for all)` : ""
    }.`;
  return `<h2>Voxel level${ph ? ": a phantom with planted links" : ""}</h2>
<p>${data} Atom maps: group t over subjects, |t| &gt; ${num(v.threshold, 2)} (voxel p &lt; ${
    num(v.voxelP, 3)
  }); links: per-cell p ≤ 0.05 and FDR q ≤ 0.05 against ${v.permutations} surrogates.</p>
${noiseCeilingParagraph(v)}${spatialNullParagraph(v)}${modelLinks(v.models)}${
    voxelBootstrapSection(v)
  }${voxelSeedSpreadSection(v)}`;
}

/** The spatial null's counts of links per model and template set (where it was computed). */
function spatialNullParagraph(v: NonNullable<ResultsSummary["voxel"]>): string {
  const sn = v.spatialNull;
  if (!sn) return "";
  const rows = sn.models.flatMap((m) =>
    m.templates.map((t) => [
      m.name,
      t.name,
      String(t.shiftLinks),
      String(t.spatialLinks),
      String(t.bothLinks),
    ])
  );
  return `<h3>Spatial null</h3>
<p>A second null for every link, in the map domain: ${sn.surrogates} ${
    esc(sn.method)
  }. A link's spatial p is the share of surrogates whose Dice with the network reaches the atom's;
FDR over the table as for the shift null. Per cell: <code>voxels/&lt;model&gt;/spatial_null_&lt;set&gt;.csv</code>.</p>
${
    table(["model", "networks", "links (shift null)", "links (spatial null)", "links (both)"], rows)
  }`;
}

/** The voxel data's noise ceiling and each model's fraction of it (where the summary has it). */
function noiseCeilingParagraph(v: NonNullable<ResultsSummary["voxel"]>): string {
  const nc = v.noiseCeiling;
  if (!nc) return "";
  const fractions = v.models.map((m) =>
    `${esc(m.name)}: ${num(m.medianFractionOfCeiling ?? NaN, 2)}`
  ).join("; ");
  return `<h3>Noise ceiling</h3>
<p>The r that a perfect model of the response shared across subjects would reach with one
subject's series: median ${num(nc.median)} over the voxels (leave-one-subject-out intersubject
correlation: median ${num(nc.medianIsc)}); ${nc.voxelsAboveMin} of ${v.voxels} voxels have a ceiling
above ${num(nc.minCeiling, 2)}. Each model's mean r over subjects as a fraction of the ceiling,
median over those voxels: ${fractions}. Definition: ${esc(nc.definition)}. Per network and model:
<code>voxels/noise_ceiling_networks.csv</code>; the map: <code>voxels/noise_ceiling.nii.gz</code>.</p>
`;
}

/**
 * The causal test: per model, the atoms whose sub-group the model needs
 * (ablation raises the loss more than matched random ablations, BH q ≤ 0.05),
 * with the networks each is linked to where the voxel level ran.
 */
function ablationSection(summary: ResultsSummary): string {
  const ab = summary.ablation;
  if (!ab) return "";
  const skipped = ab.skipped.length
    ? `<p>Not ablated: ${
      ab.skipped.map((s) => `${esc(s.name)} (${esc(s.reason)})`).join("; ")
    }.</p>`
    : "";
  const perModel = ab.models.map((m) => {
    const vm = summary.voxel?.models.find((v) => v.name === m.name);
    const linksOf = (atom: number) =>
      (vm?.templates ?? []).flatMap((t) =>
        t.links.filter((l) => l.atom === atom).map((l) =>
          `${esc(t.name)} ${esc(networkDisplayName(t.name, l.networkName))} ${
            l.sign > 0 ? "+" : "−"
          }`
        )
      );
    const networks = new Map<string, number[]>();
    for (const n of m.needed) {
      for (const label of linksOf(n.atom)) {
        networks.set(label, [...networks.get(label) ?? [], n.atom]);
      }
    }
    const byNetwork = networks.size
      ? `<p>Per network, the linked sub-groups the model needs: ${
        [...networks].map(([net, atoms]) => `${net}: atom ${atoms.join(", ")}`).join("; ")
      }.</p>`
      : "";
    return `<h3>${esc(m.name)}</h3>
<p>Whole-model loss ${num(m.storyLoss)} nats/token on the story, ${
      num(m.heldOutLoss)
    } held out; atoms that matter (q ≤ 0.05): ${m.atomsMatterStory} on the story, ${m.atomsMatterHeldOut} held out.</p>${
      m.needed.length
        ? table(
          ["atom", "ANs", "Δloss story", "q", "Δloss held out", "q", "linked networks"],
          m.needed.map((n) => [
            String(n.atom),
            String(n.ans),
            n.storyLossChange,
            n.storyQ,
            n.heldOutLossChange,
            n.heldOutQ,
            linksOf(n.atom).join(", ") || "–",
          ]),
        )
        : ""
    }${byNetwork}`;
  }).join("");
  return `<h2>Which sub-groups the model needs</h2>
<p>Each atom's sub-group (its ANs with a non-zero code) zeroed in the forward pass: the change of
the next-token loss on the story's first ${ab.storyTokens} tokens and on ${ab.heldOutTokens} tokens of
${
    esc(ab.heldOutText)
  }, against ${ab.randomAblations} random ablations of as many units in each layer
(p one-sided, BH q over each model's atoms). Every atom: <code>models/*/ablation.csv</code>.</p>
${skipped}${perModel}`;
}

/** Each model's metrics across dictionary seeds (first template set), where computed. */
function voxelSeedSpreadSection(v: NonNullable<ResultsSummary["voxel"]>): string {
  const sp = v.seedSpread;
  if (!sp) return "";
  return `<h3>Spread across dictionary seeds</h3>
<p>The organization with the dictionaries of seeds ${sp.seeds.join(", ")} too: ${esc(sp.note)}
(<code>voxels/*/seed_spread_*.csv</code>).</p>${
    table(
      ["model", "set", "metric", "reference", "per seed", "min to max", "SD", "links reappearing"],
      v.models.flatMap((m) => {
        const first = m.templates[0], metrics = first.seedMetrics ?? [];
        const kept = first.links.map((l) => l.seedReappearance ?? NaN).filter(Number.isFinite);
        const reappear = kept.length
          ? `${kept.filter((x) => x === 1).length} of ${kept.length} in every seed`
          : "no link";
        return metrics.map((x, i) => [
          i === 0 ? m.name : "",
          i === 0 ? first.name : "",
          x.metric,
          x.value,
          x.perSeed.map((y) => num(y, 2)).join(" "),
          interval(x.min, x.max),
          x.sd,
          i === 0 ? reappear : "",
        ]);
      }),
    )
  }`;
}

/** Interval "low to high" of a bootstrap, "–" where absent. */
function interval(low: number | undefined, high: number | undefined, digits = 3): string {
  return low === undefined || high === undefined
    ? "–"
    : `${num(low, digits)} to ${num(high, digits)}`;
}

/** The ROI group scores' bootstrap intervals, where the summary has them. */
function roiIntervals(roi: NonNullable<ResultsSummary["rois"]>): string {
  const b = roi.bootstrap;
  if (!b) return "";
  const pct = Math.round(b.level * 100);
  return `<h3>Uncertainty over subjects</h3>
<p>${pct}% percentile intervals from ${b.resamples} bootstrap resamples of the subjects (seed ${b.seed}):
${esc(b.note)}.</p>${
    table(
      ["set", "ROI", "mean r", `${pct}% interval`, "gain over baseline", `${pct}% interval`],
      [
        ...(roi.baseline?.group ?? []).map((g) => [
          "baseline",
          g.roi,
          g.meanR,
          interval(g.meanRLow, g.meanRHigh),
          "",
          "",
        ]),
        ...roi.models.map((g) => [
          `${g.model}: ${g.variant}`,
          g.roi,
          g.meanR,
          interval(g.meanRLow, g.meanRHigh),
          g.gainOverBaseline,
          interval(g.gainLow, g.gainHigh),
        ]),
      ],
    )
  }`;
}

/** Each model's metric intervals and links' reappearance (first template set), where computed. */
function voxelBootstrapSection(v: NonNullable<ResultsSummary["voxel"]>): string {
  const b = v.bootstrap;
  if (!b) return "";
  const pct = Math.round(b.level * 100);
  return `<h3>Uncertainty over subjects</h3>
<p>${b.resamples} bootstrap resamples of the ${v.subjects} subjects (seed ${b.seed}): ${
    esc(b.note)
  }.
A link's reappearance is the share of resamples in which it is found again; a map's reliability the
median, over its voxels, of the share of resamples in which each is in the map again
(<code>voxels/*/bootstrap_*.csv</code>, <code>bootstrap_frequency.nii.gz</code>).</p>${
    v.models.map((m) => {
      const first = m.templates[0];
      const maps = m.mapReliability ?? [];
      return `<h3>${esc(m.name)}: ${esc(first.name)}</h3>${
        table(
          ["metric", "value", `${pct}% interval`, "resamples with a value"],
          (first.metricIntervals ?? []).map((i) => [
            i.metric,
            i.value,
            interval(i.ciLow, i.ciHigh),
            String(i.finite),
          ]),
        )
      }${
        table(
          ["atom", "part", "network", "Dice", "reappearance"],
          first.links.map((l) => [
            String(l.atom),
            l.sign > 0 ? "activated" : "deactivated",
            networkDisplayName(first.name, l.networkName),
            l.dice,
            l.reappearance ?? NaN,
          ]),
        )
      }<p>Map reliability (median over the part's voxels): ${
        maps.length
          ? maps.map((r) => `atom ${r.atom}${r.sign > 0 ? "+" : "−"} ${num(r.medianFrequency, 2)}`)
            .join(", ")
          : "no map part"
      }.</p>`;
    }).join("")
  }`;
}
