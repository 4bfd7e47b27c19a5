import { Bars } from "./charts.tsx";
import { fmt } from "../run_data.ts";
import type { MetricsView } from "../summary.ts";

/** One model's column: its run, sub-group ANs per layer, Yeo-7 metrics and best ROI gain. */
export interface Column {
  run: string;
  model: string;
  layers: number[];
  metrics?: MetricsView;
  bestGain?: { roi: string; gain: number; t: number };
}

const ROWS: [keyof MetricsView, string][] = [
  ["linkedAtoms", "atoms linked to a network"],
  ["networksEngaged", "networks engaged (Yeo-7)"],
  ["normalizedEntropy", "diversity: normalized entropy"],
  ["layerSpread", "diversity: layer spread"],
];

/** Every model of the runs shown, side by side: sub-groups per layer, organization metrics, best ROI gain. */
export function AllModels(props: { columns: Column[] }) {
  const { columns } = props;
  return (
    <>
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
    </>
  );
}
