import { DotPlot } from "../../../components/charts.tsx";
import { Layout } from "../../../components/Layout.tsx";
import type { RouteContext } from "../../../router.ts";
import { findRun, fmt } from "../../../run_data.ts";
import { readRunCsv, type Run } from "../../../runs.ts";

export async function load(ctx: RouteContext) {
  const run = findRun(ctx);
  if (run instanceof Response) return run;
  return {
    run,
    baseline: await readRunCsv(run, "encoding/baseline_roi.csv"),
    models: await readRunCsv(run, "encoding/models_roi.csv"),
    group: await readRunCsv(run, "encoding/models_group.csv"),
  };
}

const COLOURS = ["#888888", "#e45756", "#4c78a8", "#54a24b", "#b279a2"];

// deno-lint-ignore no-explicit-any
export default function Rois(props: { ctx: RouteContext; data: any }) {
  const { run, baseline, models, group } = props.data as {
    run: Run;
    baseline: Record<string, string>[];
    models: Record<string, string>[];
    group: Record<string, string>[];
  };
  const rois = [...new Set([...baseline, ...models].map((b) => b.roi))];
  const label = (m: Record<string, string>) => (m.variant ? `${m.model}: ${m.variant}` : m.model);
  const variants = [...new Set(models.map(label))];
  const series = [
    ...(baseline.length
      ? [{
        name: "baseline",
        colour: COLOURS[0],
        values: rois.map((r) => baseline.filter((b) => b.roi === r).map((b) => Number(b.r))),
      }]
      : []),
    ...variants.map((v, i) => ({
      name: v,
      colour: COLOURS[1 + (i % 4)],
      values: rois.map((r) =>
        models.filter((m) => label(m) === v && m.roi === r).map((m) => Number(m.r))
      ),
    })),
  ];
  const all = series.flatMap((s) => s.values.flat());
  return (
    <Layout title={`${run.id}: ROIs`} runId={run.id}>
      <h1>ROI encoding</h1>
      {rois.length === 0 && <p class="muted">This run has no ROI results.</p>}
      {rois.length > 0 && (
        <>
          <p class="muted">
            Held-out r per subject (dots) and its mean (bar), per ROI: the authors' word-rate +
            sound-power baseline and each model's atoms with and without it.
          </p>
          <div data-testid="roi-plot">
            <DotPlot
              groups={rois}
              series={series}
              min={Math.min(-0.1, ...all)}
              max={Math.max(0.3, ...all)}
            />
          </div>
          <h2>Across subjects</h2>
          <table>
            <tr>
              <th>model</th>
              <th>variant</th>
              <th>ROI</th>
              <th>mean r</th>
              <th>t</th>
              <th>gain over baseline</th>
              <th>paired t</th>
            </tr>
            {group.map((g) => (
              <tr class={Number(g.tGain) > 2.06 ? "sig" : ""}>
                <td>{g.model}</td>
                <td>{g.variant}</td>
                <td>{g.roi}</td>
                <td>{fmt(g.meanR)}</td>
                <td>{fmt(g.t, 2)}</td>
                <td>{fmt(g.gainOverBaseline)}</td>
                <td>{fmt(g.tGain, 2)}</td>
              </tr>
            ))}
          </table>
        </>
      )}
    </Layout>
  );
}
