/** An atom's time course over the story, with the words heard at the volume under the cursor. */

import { useSignal } from "@preact/signals";

/**
 * The time course as an SVG line; values that are not numbers (NaN arrives
 * as JSON null) leave gaps, and the scale is taken over the finite values
 * only, so one broken cell cannot blank the plot.
 */
export default function TimeCourse(props: {
  /** One value per volume; null or non-finite where there is none. */
  values: (number | null)[];
  /** Acquisition time (s) of each volume. */
  times: number[];
  /** Words heard during each volume's acquisition window (the TR before it). */
  heard: string[];
  title?: string;
}) {
  const at = useSignal(-1);
  const W = 900, H = 160, L = 40, T = 10, B = 24;
  const n = props.values.length;
  const ok = (v: number | null): v is number => typeof v === "number" && Number.isFinite(v);
  let min = Infinity, max = -Infinity;
  for (const v of props.values) if (ok(v)) (min = Math.min(min, v)), (max = Math.max(max, v));
  if (min > max) (min = -1), (max = 1);
  const x = (i: number) => L + (i / Math.max(1, n - 1)) * (W - L - 10);
  // Halves first: max − min of two huge values of opposite sign overflows to Infinity.
  const y = (v: number) => T + (1 - (v / 2 - min / 2) / (max / 2 - min / 2 || 1)) * (H - T - B);
  let path = "", pen = false;
  props.values.forEach((v, i) => {
    if (!ok(v)) return void (pen = false);
    path += `${pen ? "L" : "M"}${x(i).toFixed(1)},${y(v).toFixed(1)}`;
    pen = true;
  });
  const i = at.value,
    time = (k: number) => (ok(props.times[k]) ? `${props.times[k].toFixed(0)} s` : "?");
  const value = (k: number) => (ok(props.values[k]) ? props.values[k]!.toFixed(3) : "none");
  return (
    <div data-testid="time-course">
      {props.title && <h2>{props.title}</h2>}
      <svg
        width={W}
        height={H}
        onMouseMove={(e) => {
          const r = (e.currentTarget as SVGSVGElement).getBoundingClientRect();
          const k = Math.round(((e.clientX - r.left - L) / (W - L - 10)) * (n - 1));
          at.value = Math.max(0, Math.min(n - 1, k));
        }}
      >
        {min <= 0 && max >= 0 && <line x1={L} x2={W - 10} y1={y(0)} y2={y(0)} stroke="#bbb" />}
        <path d={path} fill="none" stroke="#4c78a8" stroke-width={1.5} />
        {i >= 0 && <line x1={x(i)} x2={x(i)} y1={T} y2={H - B} stroke="#e45756" />}
        <text x={L} y={H - 6} font-size="11">{time(0)}</text>
        <text x={W - 10} y={H - 6} font-size="11" text-anchor="end">{time(n - 1)}</text>
      </svg>
      <p data-testid="words-under-cursor" class="muted">
        {i >= 0
          ? `volume ${i} (${time(i)}), value ${value(i)}: ${props.heard[i] || "(no words)"}`
          : "move the pointer over the curve to see the words heard at each volume"}
      </p>
    </div>
  );
}
