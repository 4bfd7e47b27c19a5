/** Server-rendered SVG charts: small, dependency-free, readable without script. */

/** Blue (negative) – white – red (positive) for v in [-1, 1]; grey for NaN (no value). */
export function diverging(v: number): string {
  if (Number.isNaN(v)) return "rgb(220,220,220)";
  const x = Math.max(-1, Math.min(1, v));
  const c = (a: number, b: number) => Math.round(a + (b - a) * Math.abs(x));
  return x >= 0 ? `rgb(255,${c(255, 60)},${c(255, 40)})` : `rgb(${c(255, 40)},${c(255, 90)},255)`;
}

/** A heatmap of rows × columns with a mark on flagged cells. */
export function Heatmap(props: {
  rows: string[];
  cols: string[];
  value: (r: number, c: number) => number;
  flag: (r: number, c: number) => boolean;
  title: (r: number, c: number) => string;
  href?: (r: number) => string;
  scale?: number;
}) {
  const cw = 26, ch = 18, left = 90, top = 110, scale = props.scale ?? 1;
  const W = left + props.cols.length * cw + 10, H = top + props.rows.length * ch + 10;
  return (
    <svg width={W} height={H} role="img" aria-label="atoms by networks">
      {props.cols.map((c, j) => (
        <text
          transform={`translate(${left + j * cw + cw / 2 + 4},${top - 6}) rotate(-60)`}
          font-size="11"
        >
          {c.length > 18 ? c.slice(0, 17) + "…" : c}
        </text>
      ))}
      {props.rows.map((r, i) => (
        <>
          {props.href
            ? (
              <a href={props.href(i)}>
                <text x={left - 6} y={top + i * ch + 13} text-anchor="end" font-size="11">{r}</text>
              </a>
            )
            : <text x={left - 6} y={top + i * ch + 13} text-anchor="end" font-size="11">{r}</text>}
          {props.cols.map((_, j) => (
            <g>
              <rect
                x={left + j * cw}
                y={top + i * ch}
                width={cw - 1}
                height={ch - 1}
                fill={diverging(props.value(i, j) / scale)}
              >
                <title>{props.title(i, j)}</title>
              </rect>
              {props.flag(i, j) && (
                <text
                  x={left + j * cw + cw / 2}
                  y={top + i * ch + 13}
                  text-anchor="middle"
                  font-size="12"
                >
                  ●
                </text>
              )}
            </g>
          ))}
        </>
      ))}
    </svg>
  );
}

/** Vertical bars with labels; a value that is not finite draws no bar (its tooltip says so). */
export function Bars(
  props: { labels: string[]; values: number[]; colour?: string; height?: number; unit?: string },
) {
  const H = props.height ?? 140, bw = 34, top = 10, bottom = 24;
  const finite = (v: number) => (Number.isFinite(v) ? Math.abs(v) : 0);
  const max = props.values.reduce((m, v) => Math.max(m, finite(v)), 1e-9);
  const W = 40 + props.values.length * bw;
  return (
    <svg width={W} height={H}>
      <line x1={30} x2={W} y1={H - bottom} y2={H - bottom} stroke="#333" />
      <text x={26} y={top + 8} text-anchor="end" font-size="10">
        {max < 1e-6 ? "0" : Number.isInteger(max) ? String(max) : max.toPrecision(2)}
      </text>
      {props.values.map((v, i) => {
        const h = (finite(v) / max) * (H - top - bottom);
        return (
          <g>
            <rect
              x={34 + i * bw}
              y={H - bottom - h}
              width={bw - 8}
              height={h}
              fill={props.colour ?? "#4c78a8"}
            >
              <title>
                {`${props.labels[i]}: ${Number.isFinite(v) ? v : "no value"}${props.unit ?? ""}`}
              </title>
            </rect>
            <text x={34 + i * bw + (bw - 8) / 2} y={H - 8} text-anchor="middle" font-size="10">
              {props.labels[i]}
            </text>
          </g>
        );
      })}
    </svg>
  );
}

/**
 * Per group, subjects' values as dots with the mean as a bar, for two or
 * more series. Values that are not finite are left out; values outside
 * [min, max] are drawn at the edge.
 */
export function DotPlot(props: {
  groups: string[];
  series: { name: string; colour: string; values: number[][] }[];
  min: number;
  max: number;
}) {
  const gw = 120, H = 220, top = 10, bottom = 30, left = 40;
  const W = left + props.groups.length * gw + 160;
  const y = (v: number) => {
    const t = (Math.min(props.max, Math.max(props.min, v)) - props.min) / (props.max - props.min);
    return top + (1 - t) * (H - top - bottom);
  };
  const sw = gw / (props.series.length + 1);
  return (
    <svg width={W} height={H}>
      {[props.min, 0, props.max].map((v) => (
        <g>
          <line
            x1={left}
            x2={left + props.groups.length * gw}
            y1={y(v)}
            y2={y(v)}
            stroke={v === 0 ? "#888" : "#ddd"}
          />
          <text x={left - 4} y={y(v) + 4} text-anchor="end" font-size="10">{v.toFixed(2)}</text>
        </g>
      ))}
      {props.groups.map((g, i) => (
        <g>
          <text x={left + i * gw + gw / 2} y={H - 10} text-anchor="middle" font-size="11">{g}</text>
          {props.series.map((s, k) => {
            const vals = (s.values[i] ?? []).filter(Number.isFinite);
            const cx = left + i * gw + (k + 1) * sw;
            const mean = vals.reduce((a, b) => a + b, 0) / (vals.length || 1);
            return (
              <g>
                {vals.map((v, j) => (
                  <circle
                    cx={cx + ((j % 7) - 3) * 1.6}
                    cy={y(v)}
                    r={2.2}
                    fill={s.colour}
                    opacity={0.55}
                  />
                ))}
                <line
                  x1={cx - 10}
                  x2={cx + 10}
                  y1={y(mean)}
                  y2={y(mean)}
                  stroke={s.colour}
                  stroke-width={3}
                >
                  <title>
                    {`${s.name} ${g}: mean ${mean.toFixed(3)} (${vals.length} subjects)`}
                  </title>
                </line>
              </g>
            );
          })}
        </g>
      ))}
      {props.series.map((s, k) => (
        <text
          x={left + props.groups.length * gw + 10}
          y={top + 14 + k * 16}
          fill={s.colour}
          font-size="12"
        >
          ■ {s.name}
        </text>
      ))}
    </svg>
  );
}
