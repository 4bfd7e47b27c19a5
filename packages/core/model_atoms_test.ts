import assert from "node:assert/strict";
import { applyDesign, buildWordDesign } from "@brainorg/neuro";
import { anTimeSeries } from "./model_atoms.ts";

/** 40 words over 30 volumes (TR 2 s) and their responses: (words × units), unit `dead` silent (0). */
function fixture(units: number, dead?: number) {
  const words = Array.from({ length: 40 }, (_, i) => ({
    word: `w${i}`,
    onset: 1 + 1.4 * i,
    offset: 2 + 1.4 * i,
    run: 0,
  }));
  const design = buildWordDesign(
    { words, runCount: 1, source: "test", format: "table", dropped: [] },
    { tr: 2, runs: [{ volumes: 30 }] },
  );
  const x = Float32Array.from(
    { length: 40 * units },
    (_, i) => (i % units === dead ? 0 : Math.sin(i * 0.37) + 0.1 * (i % 7)),
  );
  return { design, x };
}

/** Column u of a (rows × cols) matrix, z-scored in float64 (population sd). */
function zColumn(m: Float32Array, rows: number, cols: number, u: number): number[] {
  const col = Array.from({ length: rows }, (_, t) => m[t * cols + u]);
  const mean = col.reduce((a, b) => a + b, 0) / rows;
  const sd = Math.sqrt(col.reduce((a, b) => a + (b - mean) ** 2, 0) / rows);
  return col.map((v) => (v - mean) / sd);
}

Deno.test("anTimeSeries z-scores each AN on the TR grid and drops the constant ones", () => {
  for (const dead of [undefined, 2]) {
    const units = 5, { design, x } = fixture(units, dead);
    const ts = anTimeSeries(x, units, design);
    const grid = applyDesign(design, x), T = design.volumes;
    const kept = dead === undefined ? [0, 1, 2, 3, 4] : [0, 1, 3, 4];
    assert.deepEqual([...ts.kept], kept);
    assert.equal(ts.dead, units - kept.length);
    assert.equal(ts.series.rows, T);
    assert.equal(ts.series.cols, kept.length);
    kept.forEach((u, k) => {
      const want = zColumn(grid, T, units, u);
      for (let t = 0; t < T; t++) {
        assert.ok(
          Math.abs(ts.series.data[t * kept.length + k] - want[t]) < 1e-5,
          `AN ${u}, t ${t}`,
        );
      }
    });
  }
});
