import { Bars } from "../components/charts.tsx";
import { Layout } from "../components/Layout.tsx";
import type { RouteContext } from "../router.ts";
import { fmt, layerCounts } from "../run_data.ts";

interface Column {
  run: string;
  model: string;
  layers: number[];
  metrics?: Record<string, number>;
  consistency?: Record<string, number>;
  bestGain?: { roi: string; gain: number; t: number };
}

export async function load(ctx: RouteContext) {
  const wanted = ctx.url.searchParams.get("runs")?.split(",");
  const columns: Column[] = [];
  for (
    const run of ctx.runs.filter((r) => r.status === "ready" && (!wanted || wanted.includes(r.id)))
  ) {
    for (const m of run.summary.models ?? []) {
      const { positive, negative } = await layerCounts(run, m.name);
      const layers = (positive[0] ?? []).map((_, l) =>
        positive.reduce((a, p, k) => a + p[l] + negative[k][l], 0)
      );
      const voxel = run.summary.voxel?.models.find((v: { name: string }) => v.name === m.name);
      const gains = (m.group ?? []).filter((g: { variant: string }) =>
        g.variant === "atoms+baseline"
      );
      const best = gains.sort((a: { tGain: number }, b: { tGain: number }) => b.tGain - a.tGain)[0];
      columns.push({
        run: run.id,
        model: m.name,
        layers,
        metrics: voxel?.templates[0].metrics,
        consistency: voxel?.templates[0].metrics.consistency,
        ...(best
          ? { bestGain: { roi: best.roi, gain: best.gainOverBaseline, t: best.tGain } }
          : {}),
      });
    }
  }
  return { columns };
}

const ROWS: [string, string][] = [
  ["linkedAtoms", "atoms linked to a network"],
  ["networksEngaged", "networks engaged (Yeo-7)"],
  ["normalizedEntropy", "diversity: normalized entropy"],
  ["layerSpread", "diversity: layer spread"],
];

// deno-lint-ignore no-explicit-any
export default function Compare(props: { ctx: RouteContext; data: any }) {
  const { columns } = props.data as { columns: Column[] };
  return (
    <Layout title="Compare">
      <h1>Models side by side</h1>
      {columns.length === 0 && <p class="muted">No readable runs.</p>}
      <table data-testid="compare">
        <tr>
          <th></th>
          {columns.map((c) => (
            <th>
              {c.model}
              <br />
              <span class="muted">{c.run}</span>
            </th>
          ))}
        </tr>
        <tr>
          <td>
            sub-group ANs per layer<br />
            <span class="muted">(all atoms)</span>
          </td>
          {columns.map((c) => (
            <td>
              <Bars labels={c.layers.map((_, l) => `L${l}`)} values={c.layers} height={110} />
            </td>
          ))}
        </tr>
        {ROWS.map(([k, label]) => (
          <tr>
            <td>{label}</td>
            {columns.map((c) => <td key={c.run + c.model}>{c.metrics ? fmt(c.metrics[k]) : "—"}
            </td>)}
          </tr>
        ))}
        <tr>
          <td>consistency: time courses</td>
          {columns.map((c) => <td key={c.run + c.model}>{fmt(c.consistency?.timeCourse)}</td>)}
        </tr>
        <tr>
          <td>consistency: map overlap</td>
          {columns.map((c) => <td key={c.run + c.model}>{fmt(c.consistency?.mapOverlap)}</td>)}
        </tr>
        <tr>
          <td>best ROI gain over baseline</td>
          {columns.map((c) => (
            <td>
              {c.bestGain
                ? `${c.bestGain.roi} ${fmt(c.bestGain.gain)} (t ${fmt(c.bestGain.t, 1)})`
                : "—"}
            </td>
          ))}
        </tr>
      </table>
    </Layout>
  );
}
