/** An atom's time course over the story, with the words heard at the volume under the cursor. */

import { useSignal } from "@preact/signals";

export default function TimeCourse(props: {
  values: number[];
  /** Acquisition time (s) of each volume. */
  times: number[];
  words: { word: string; onset: number }[];
  tr: number;
  title?: string;
}) {
  const at = useSignal(-1);
  const W = 900, H = 160, L = 40, T = 10, B = 24;
  const n = props.values.length;
  const min = Math.min(...props.values), max = Math.max(...props.values);
  const x = (i: number) => L + (i / Math.max(1, n - 1)) * (W - L - 10);
  const y = (v: number) => T + (1 - (v - min) / (max - min || 1)) * (H - T - B);
  const path = props.values.map((v, i) => `${i ? "L" : "M"}${x(i).toFixed(1)},${y(v).toFixed(1)}`)
    .join("");
  const i = at.value;
  // Words heard during the volume's acquisition window, the TR before it.
  const heard = i >= 0
    ? props.words.filter((w) => w.onset > props.times[i] - props.tr && w.onset <= props.times[i])
    : [];
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
        <line x1={L} x2={W - 10} y1={y(0)} y2={y(0)} stroke="#bbb" />
        <path d={path} fill="none" stroke="#4c78a8" stroke-width={1.5} />
        {i >= 0 && <line x1={x(i)} x2={x(i)} y1={T} y2={H - B} stroke="#e45756" />}
        <text x={L} y={H - 6} font-size="11">{props.times[0]?.toFixed(0)} s</text>
        <text x={W - 10} y={H - 6} font-size="11" text-anchor="end">
          {props.times[n - 1]?.toFixed(0)} s
        </text>
      </svg>
      <p data-testid="words-under-cursor" class="muted">
        {i >= 0
          ? `volume ${i} (${props.times[i].toFixed(0)} s), value ${props.values[i].toFixed(3)}: ` +
            (heard.length ? heard.map((w) => w.word).join(" ") : "(no words)")
          : "move the pointer over the curve to see the words heard at each volume"}
      </p>
    </div>
  );
}
