import { DotPlot } from "../../../components/charts.tsx";
import { Layout } from "../../../components/Layout.tsx";
import type { Problem } from "../../../problems.ts";
import type { LoadedData, PageProps, RouteContext } from "../../../router.ts";
import { findRun, fmt } from "../../../run_data.ts";
import { readTable, type Row } from "../../../tables.ts";
import { RESULT_FILES } from "@brainorg/core/results";

const SCORE = { roi: { kind: "string" }, r: { kind: "number" } } as const;
const MODEL_SCORE = { ...SCORE, model: { kind: "string" }, variant: { kind: "string" } } as const;
const GROUP = {
  model: { kind: "string" },
  variant: { kind: "string" },
  roi: { kind: "string" },
  meanR: { kind: "number" },
  t: { kind: "number" },
  gainOverBaseline: { kind: "number" },
  tGain: { kind: "number" },
  // Bootstrap intervals over subjects (`rois.bootstrap`): NaN where the run drew none.
  meanRLow: { kind: "number", optional: true },
  meanRHigh: { kind: "number", optional: true },
  gainLow: { kind: "number", optional: true },
  gainHigh: { kind: "number", optional: true },
} as const;

/** The ROI tables of the run (absent in runs without an ROI part). */
export async function load(ctx: RouteContext) {
  const run = findRun(ctx);
  if (run instanceof Response) return run;
  const problems: Problem[] = [];
  return {
    run,
    problems,
    baseline:
      (await readTable(run, { table: RESULT_FILES.baselineRoi, columns: SCORE, problems })).rows,
    models:
      (await readTable(run, { table: RESULT_FILES.modelsRoi, columns: MODEL_SCORE, problems }))
        .rows,
    group:
      (await readTable(run, { table: RESULT_FILES.modelsGroup, columns: GROUP, problems })).rows,
  };
}

const COLOURS = ["#888888", "#e45756", "#4c78a8", "#54a24b", "#b279a2"];
/** The most ROIs drawn side by side (the demo has 6). */
const MAX_ROIS = 60;

/** ROI encoding: held-out r per subject and ROI, and the gains over the baseline. */
export default function Rois(props: PageProps<LoadedData<typeof load>>) {
  const { run, problems, baseline, models, group } = props.data;
  const intervals = group.some((g) => Number.isFinite(g.meanRLow));
  const interval = (low: number, high: number) =>
    Number.isFinite(low) ? `[${fmt(low)}, ${fmt(high)}]` : "";
  // Grouped in one pass per table: a long or many-ROI table must not cost rows × ROIs.
  const groupBy = <T,>(rows: T[], key: (x: T) => string) => {
    const out = new Map<string, T[]>();
    for (const x of rows) {
      const list = out.get(key(x));
      if (list) list.push(x);
      else out.set(key(x), [x]);
    }
    return out;
  };
  const byRoi = (rows: { roi: string; r: number }[]) =>
    new Map([...groupBy(rows, (x) => x.roi)].map(([k, xs]) => [k, xs.map((x) => x.r)]));
  const label = (m: Row<typeof MODEL_SCORE>) => (m.variant ? `${m.model}: ${m.variant}` : m.model);
  const byVariant = groupBy(models, label);
  const allRois = [...new Set([...baseline, ...models].map((b) => b.roi))];
  const rois = allRois.slice(0, MAX_ROIS);
  const grouped = [
    ...(baseline.length ? [{ name: "baseline", rows: byRoi(baseline) }] : []),
    ...[...byVariant].slice(0, COLOURS.length * 4).map(([name, rows]) => ({
      name,
      rows: byRoi(rows),
    })),
  ];
  const series = grouped.map((g, i) => ({
    name: g.name,
    colour: g.name === "baseline" ? COLOURS[0] : COLOURS[1 + (i % 4)],
    values: rois.map((r) => g.rows.get(r) ?? []),
  }));
  // r lies in [-1, 1]: the axis spans the finite values seen, within that.
  let lo = -0.1, hi = 0.3;
  for (const s of series) {
    for (const vs of s.values) {
      for (const v of vs) if (Number.isFinite(v)) (lo = Math.min(lo, v)), (hi = Math.max(hi, v));
    }
  }
  return (
    <Layout title={`${run.id}: ROIs`} runId={run.id} problems={[...run.problems, ...problems]}>
      <h1>ROI encoding</h1>
      {rois.length === 0 && <p class="muted">This run has no ROI results.</p>}
      {rois.length > 0 && (
        <>
          <p class="muted">
            Held-out r per subject (dots) and its mean (bar), per ROI: the authors' word-rate +
            sound-power baseline and each model's atoms with and without it.
          </p>
          {allRois.length > MAX_ROIS && (
            <p class="muted">
              The first {MAX_ROIS} of {allRois.length} ROIs are drawn; the table has them all.
            </p>
          )}
          <div data-testid="roi-plot">
            <DotPlot
              groups={rois}
              series={series}
              min={Math.max(-1, lo)}
              max={Math.min(1, hi)}
            />
          </div>
          <h2>Across subjects</h2>
          {intervals && (
            <p class="muted">
              95% intervals: percentiles over bootstrap resamples of the subjects (the analysis
              file's{" "}
              <code>rois.bootstrap</code>); a gain draws each subject's model and baseline r
              together.
            </p>
          )}
          <table>
            <tr>
              <th>model</th>
              <th>variant</th>
              <th>ROI</th>
              <th>mean r</th>
              {intervals && <th>95% interval</th>}
              <th>t</th>
              <th>gain over baseline</th>
              {intervals && <th>95% interval</th>}
              <th>paired t</th>
            </tr>
            {group.map((g) => (
              <tr class={g.tGain > 2.06 ? "sig" : ""}>
                <td>{g.model}</td>
                <td>{g.variant}</td>
                <td>{g.roi}</td>
                <td>{fmt(g.meanR)}</td>
                {intervals && (
                  <td data-testid="mean-r-interval">{interval(g.meanRLow, g.meanRHigh)}</td>
                )}
                <td>{fmt(g.t, 2)}</td>
                <td>{fmt(g.gainOverBaseline)}</td>
                {intervals && (
                  <td data-testid="gain-interval">{interval(g.gainLow, g.gainHigh)}</td>
                )}
                <td>{fmt(g.tGain, 2)}</td>
              </tr>
            ))}
          </table>
        </>
      )}
    </Layout>
  );
}
