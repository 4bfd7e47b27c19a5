import { Bars } from "../components/charts.tsx";
import { Layout } from "../components/Layout.tsx";
import type { LoadedData, PageProps, RouteContext } from "../router.ts";
import type { Problem } from "../problems.ts";
import { fmt, layerCounts } from "../run_data.ts";
import type { MetricsView, ModelView } from "../summary.ts";

interface Column {
  run: string;
  model: string;
  layers: number[];
  metrics?: MetricsView;
  bestGain?: { roi: string; gain: number; t: number };
}

/** Every model of every readable run (or of `?runs=a,b`), side by side. */
export async function load(ctx: RouteContext) {
  const wanted = ctx.url.searchParams.get("runs")?.split(",");
  const columns: Column[] = [], problems: Problem[] = [];
  for (
    const run of ctx.runs.filter((r) => r.status === "ready" && (!wanted || wanted.includes(r.id)))
  ) {
    const s = run.summary!, mine = [...run.problems];
    for (const m of s.models) {
      const { positive, negative } = await layerCounts(run, m.name, mine);
      const layers = (positive[0] ?? []).map((_, l) =>
        positive.reduce((a, p, k) => a + p[l] + negative[k][l], 0)
      );
      const voxel = s.voxel?.models.find((v) => v.name === m.name);
      let best: ModelView["group"][number] | undefined;
      for (const g of m.group) {
        if (g.variant === "atoms+baseline" && !(g.tGain <= (best?.tGain ?? -Infinity))) best = g;
      }
      columns.push({
        run: run.id,
        model: m.name,
        layers,
        metrics: voxel?.templates[0]?.metrics,
        ...(best
          ? { bestGain: { roi: best.roi, gain: best.gainOverBaseline, t: best.tGain } }
          : {}),
      });
    }
    // Several runs share this page: each problem names its run's folder.
    problems.push(...mine.map((p) => ({ ...p, file: `${run.id}/${p.file}` })));
  }
  return { columns, problems };
}

const ROWS: [keyof MetricsView, string][] = [
  ["linkedAtoms", "atoms linked to a network"],
  ["networksEngaged", "networks engaged (Yeo-7)"],
  ["normalizedEntropy", "diversity: normalized entropy"],
  ["layerSpread", "diversity: layer spread"],
];

/** Models side by side: sub-groups per layer, organization metrics, best ROI gain. */
export default function Compare(props: PageProps<LoadedData<typeof load>>) {
  const { columns, problems } = props.data;
  return (
    <Layout title="Compare" problems={problems}>
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
          {columns.map((c) => <td key={c.run + c.model}>{fmt(c.metrics?.timeCourse)}</td>)}
        </tr>
        <tr>
          <td>consistency: map overlap</td>
          {columns.map((c) => <td key={c.run + c.model}>{fmt(c.metrics?.mapOverlap)}</td>)}
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
