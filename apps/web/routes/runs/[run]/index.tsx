import { Bars, Heatmap } from "../../../components/charts.tsx";
import { Layout } from "../../../components/Layout.tsx";
import type { RouteContext } from "../../../router.ts";
import { type Cell, findRun, fmt, networkCells } from "../../../run_data.ts";
import type { Run } from "../../../runs.ts";

interface ModelView {
  name: string;
  templates: { name: string; cells: Cell[]; metrics: Record<string, unknown> }[];
  recovery?: Record<string, number>;
}

export async function load(ctx: RouteContext) {
  const run = findRun(ctx);
  if (run instanceof Response) return run;
  const v = run.summary.voxel;
  const models: ModelView[] = [];
  for (const m of v?.models ?? []) {
    const templates = [];
    for (const t of m.templates) {
      templates.push({
        name: t.name,
        cells: await networkCells(run, m.name, t.name),
        metrics: t.metrics,
      });
    }
    models.push({ name: m.name, templates, recovery: m.recovery });
  }
  let provenance: Record<string, unknown> = {};
  try {
    provenance = JSON.parse(await Deno.readTextFile(`${run.dir}/provenance.json`));
  } catch { /* shown as absent */ }
  return { run, models, provenance };
}

function Matrix(props: { run: Run; model: string; cells: Cell[] }) {
  const K = Math.max(-1, ...props.cells.map((c) => c.atom)) + 1;
  const names = [...new Map(props.cells.map((c) => [c.network, c.networkName])).entries()]
    .sort((a, b) => a[0] - b[0]).map(([, n]) => n);
  const cell = (k: number, n: number, s: number) =>
    props.cells.find((c) => c.atom === k && c.network === n && c.sign === s);
  const best = (k: number, n: number) => {
    const p = cell(k, n, 1), m = cell(k, n, -1);
    return (p?.dice ?? 0) >= (m?.dice ?? 0) ? { c: p, s: 1 } : { c: m, s: -1 };
  };
  return (
    <Heatmap
      rows={Array.from({ length: K }, (_, k) => `atom ${k}`)}
      cols={names}
      value={(k, n) => best(k, n).s * (best(k, n).c?.dice ?? 0)}
      flag={(k, n) => !!(cell(k, n, 1)?.linked || cell(k, n, -1)?.linked)}
      title={(k, n) => {
        const b = best(k, n).c;
        return b
          ? `atom ${k} ${b.sign > 0 ? "activates" : "deactivates"} ${b.networkName}: Dice ${
            fmt(b.dice)
          }, overlap ${fmt(b.overlap)}, p ${fmt(b.p)}, q ${fmt(b.q, 4)}${
            b.linked ? " (linked)" : ""
          }`
          : "";
      }}
      href={(k) => `/runs/${props.run.id}/atoms/${props.model}/${k}`}
    />
  );
}

const METRICS: [string, string, number][] = [
  ["linkedAtoms", "atoms linked", 0],
  ["links", "links", 0],
  ["networksEngaged", "networks engaged", 0],
  ["assignmentEntropy", "assignment entropy (bits)", 3],
  ["normalizedEntropy", "normalized entropy", 3],
  ["layerSpread", "layer spread", 3],
];

// deno-lint-ignore no-explicit-any
export default function Overview(props: { ctx: RouteContext; data: any }) {
  const { run, models, provenance } = props.data as {
    run: Run;
    models: ModelView[];
    provenance: Record<string, unknown>;
  };
  const s = run.summary;
  return (
    <Layout title={run.id} runId={run.id}>
      <h1>{run.id}</h1>
      <p class="muted">
        {run.dir} · {run.createdAt ?? ""} · schema {s.schema} · backend {s.backend?.name}
      </p>
      {!s.voxel && (
        <p class="muted">This run has no voxel level (run without --no-phantom to get one).</p>
      )}
      {models.length > 0 && (
        <>
          <h2>Organization at a glance</h2>
          <p class="muted">
            Dice of each atom's thresholded group map (|t| &gt;{" "}
            {fmt(s.voxel.threshold, 2)}) with each network; red: the atom's positive (activated)
            part, blue: its negative part; ● linked (per-cell p ≤ 0.05 and FDR q ≤ 0.05 against{" "}
            {s.voxel.permutations} circularly shifted surrogates). Click an atom for its view.
          </p>
          <div class="grid2">
            {models.map((m) => (
              <div data-model={m.name}>
                <h2>{m.name}</h2>
                {m.templates.map((t, i) => (
                  <details open={i === 0}>
                    <summary>{t.name}</summary>
                    <Matrix run={run} model={m.name} cells={t.cells} />
                    <NetworkCounts cells={t.cells} />
                  </details>
                ))}
                <table>
                  <tr>
                    <th>metric (Yeo-7)</th>
                    <th>value</th>
                  </tr>
                  {METRICS.map(([k, label, digits]) => (
                    <tr>
                      <td>{label}</td>
                      <td>{fmt(m.templates[0].metrics[k], digits)}</td>
                    </tr>
                  ))}
                  {(["timeCourse", "mapOverlap"] as const).map((k) => (
                    <tr key={k}>
                      <td>consistency: {k === "timeCourse" ? "time courses" : "map overlap"}</td>
                      <td>
                        {fmt(
                          Number((m.templates[0].metrics.consistency as Record<string, number>)[k]),
                        )}
                      </td>
                    </tr>
                  ))}
                  {m.recovery && (
                    <tr>
                      <td>recovery of the planted links</td>
                      <td>
                        precision {fmt(m.recovery.precision, 2)}, recall {fmt(m.recovery.recall, 2)}
                      </td>
                    </tr>
                  )}
                </table>
              </div>
            ))}
          </div>
        </>
      )}
      <h2>Parameters and provenance</h2>
      <table>
        {Object.entries((provenance.parameters ?? {}) as Record<string, unknown>).map(([k, v]) => (
          <tr>
            <td>{k}</td>
            <td>{JSON.stringify(v)}</td>
          </tr>
        ))}
        <tr>
          <td>seed</td>
          <td>{String(provenance.seed ?? "")}</td>
        </tr>
        <tr>
          <td>inputs</td>
          <td>
            {((provenance.inputs ?? []) as unknown[]).length}{" "}
            files with SHA-256 (see provenance.json)
          </td>
        </tr>
      </table>
    </Layout>
  );
}

function NetworkCounts(props: { cells: Cell[] }) {
  const names = [...new Map(props.cells.map((c) => [c.network, c.networkName])).entries()]
    .sort((a, b) => a[0] - b[0]);
  const count = (n: number, s: number) =>
    props.cells.filter((c) => c.network === n && c.sign === s && c.linked).length;
  const short = names.map(([, n]) => n.replace(/^\d+_/, "").slice(0, 5));
  return (
    <div>
      <p class="muted">Atoms per network: activated (red), deactivated (blue)</p>
      <Bars labels={short} values={names.map(([n]) => count(n, 1))} colour="#e45756" height={110} />
      <Bars
        labels={short}
        values={names.map(([n]) => count(n, -1))}
        colour="#4c78a8"
        height={110}
      />
    </div>
  );
}
