import { fmt } from "../run_data.ts";
import type { BestNetwork, MatchedPair, SideView } from "../compare_data.ts";
import type { MetricsView } from "../summary.ts";
import { runHref } from "../urls.ts";

const network = (b?: BestNetwork) =>
  b ? `${b.network}${b.sign < 0 ? " (deactivated)" : ""}${b.linked ? " ✓" : ""}` : "—";

/**
 * The matched atom pairs of two models, in the order given (by |r|): each
 * atom linked to its page, with its best network and Dice; the selected
 * pair marked, every row a link that selects it.
 */
export function MatchedPairs(
  props: {
    a: SideView;
    b: SideView;
    pairs: MatchedPair[];
    selected?: number;
    pairHref: (atomA: number) => string;
  },
) {
  const { a, b, pairs } = props;
  const atom = (s: SideView, k: number) => (
    <a href={runHref(s.run, "atoms", s.model, k)}>atom {k}</a>
  );
  return (
    <table data-testid="pairs">
      <tr>
        <th>{a.model} atom</th>
        <th>{b.model} atom</th>
        <th>r</th>
        <th>best network of A</th>
        <th>Dice A</th>
        <th>best network of B</th>
        <th>Dice B</th>
        <th></th>
      </tr>
      {pairs.map((p) => {
        const bestA = a.best.get(p.atomA), bestB = b.best.get(p.atomB);
        return (
          <tr
            data-pair={`${p.atomA}-${p.atomB}`}
            class={p.atomA === props.selected ? "sig" : Math.abs(p.r) > 0.5 ? "" : "muted"}
          >
            <td>{atom(a, p.atomA)}</td>
            <td>{atom(b, p.atomB)}</td>
            <td>{fmt(p.r)}</td>
            <td>{network(bestA)}</td>
            <td>{fmt(bestA?.dice)}</td>
            <td>{network(bestB)}</td>
            <td>{fmt(bestB?.dice)}</td>
            <td>
              {p.atomA === props.selected
                ? "shown below"
                : <a class="show" href={props.pairHref(p.atomA)}>show maps</a>}
            </td>
          </tr>
        );
      })}
    </table>
  );
}

/** A metric's value and, where the run bootstrapped it, its interval: `0.62 [0.41, 0.80]`. */
const withInterval = (metric: string, digits?: number) => (s: SideView) => {
  const v = s.metrics?.[metric.replace(/^consistency\./, "") as keyof MetricsView];
  const ci = s.intervals?.[metric];
  return fmt(v, digits) + (ci ? ` [${fmt(ci.low, digits)}, ${fmt(ci.high, digits)}]` : "");
};

const ROWS: [string, (s: SideView) => string][] = [
  ["atoms", (s) => String(s.atoms)],
  ["atoms linked to a network (Yeo-7)", withInterval("linkedAtoms", 0)],
  ["networks engaged (Yeo-7)", withInterval("networksEngaged", 0)],
  ["diversity: normalized entropy", withInterval("normalizedEntropy")],
  ["diversity: layer spread", withInterval("layerSpread")],
  ["consistency: time courses", withInterval("consistency.timeCourse")],
  ["consistency: map overlap", withInterval("consistency.mapOverlap")],
  [
    "stability per atom: mean ± sd",
    (s) => s.stability ? `${fmt(s.stability.mean)} ± ${fmt(s.stability.sd)}` : "not computed",
  ],
  ["stability: median", (s) => s.stability ? fmt(s.stability.median) : "—"],
  [
    "stable atoms",
    (s) => s.stability ? `${s.stability.stable} of ${s.stability.atoms}` : "—",
  ],
];

/**
 * The organization metrics and stability of two models, side by side; each
 * metric with its bootstrap interval over subjects where the run has one.
 */
export function SideMetrics(props: { a: SideView; b: SideView }) {
  const { a, b } = props;
  const bootstrapped = !!(a.intervals || b.intervals);
  return (
    <>
      <table data-testid="side-metrics">
        <tr>
          <th></th>
          <th>
            A: {a.model}
            <br />
            <span class="muted">{a.run}</span>
          </th>
          <th>
            B: {b.model}
            <br />
            <span class="muted">{b.run}</span>
          </th>
        </tr>
        {ROWS.map(([label, value]) => (
          <tr>
            <td>{label}</td>
            <td>{value(a)}</td>
            <td>{value(b)}</td>
          </tr>
        ))}
      </table>
      {bootstrapped && (
        <p class="muted" data-testid="metric-intervals">
          [low, high]: bootstrap percentile interval over subjects, where the run computed one.
        </p>
      )}
    </>
  );
}
