import assert from "node:assert/strict";
import { createCpuBackend, type Matrix, matrix } from "@brainorg/kernels";
import { havePython, runPython } from "../../test/python.ts";
import { type CleanOptions, cleanSeries, dctBasis, DESIGN_RANK_TOLERANCE } from "./clean.ts";

// Products in float32 (OpenBLAS; TypeScript where no BLAS is found) leave the high-pass
// residual of a pure-drift voxel at ≈ 1e-6 of its level: far above an absolute floor.
Deno.test("cleanSeries zeroes a large pure-drift voxel and standardizes a voxel with signal", async () => {
  const backend = await createCpuBackend();
  try {
    const T = 362, V = 4, basis = dctBasis(T, 2, 128), data = new Float32Array(T * V);
    for (let t = 0; t < T; t++) {
      const drift = 50 * basis.data[t * basis.cols + 2] * Math.sqrt(T / 2); // ±50, inside the basis
      data.set([
        1e4 + drift, // pure drift on a large level
        1e4 + drift + 10 * Math.sin(t * 1.3), // drift and a 0.1% fast signal
        0.5, // constant
        1e-3 * Math.cos(t * 0.9), // small units, no level: still signal
      ], t * V);
    }
    const out = await cleanSeries(backend, { rows: T, cols: V, data }, { tr: 2 });
    const column = (c: number) => Array.from({ length: T }, (_, t) => out.data[t * V + c]);
    assert.ok(column(0).every((x) => x === 0), `pure drift: ${column(0).slice(0, 4)}`);
    assert.ok(column(2).every((x) => x === 0), "constant");
    for (const c of [1, 3]) {
      const x = column(c), m = x.reduce((a, b) => a + b, 0) / T;
      const sd = Math.sqrt(x.reduce((a, b) => a + (b - m) ** 2, 0) / T);
      assert.ok(Math.abs(m) < 1e-5 && Math.abs(sd - 1) < 1e-5, `column ${c}: mean ${m}, SD ${sd}`);
    }
    // The fast signal survives the filter: the cleaned series follows it.
    const s = Array.from({ length: T }, (_, t) => Math.sin(t * 1.3));
    const r = column(1).reduce((a, x, t) => a + x * s[t], 0) / T / Math.sqrt(0.5);
    assert.ok(r > 0.95, `r with the signal ${r}`);
  } finally {
    backend.dispose();
  }
});

const REFERENCE = await Deno.readTextFile(
  new URL("../../test/python/clean_confounds.py", import.meta.url),
);

/** A deterministic generator: the same data for brainorg and numpy. */
function generator(seed: number): () => number {
  let s = seed;
  return () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
}

interface Case {
  data: Matrix;
  confounds: Matrix;
  keep: Uint8Array;
  runs: number[];
}

/**
 * Two runs of 50 and 70 volumes, 40 voxels: drift, confound mixtures, noise; voxel 0
 * constant, voxel 1 a confound on a level (nothing left after the fit). `extra(run, n)`
 * adds confound columns per run (e.g. duplicates of the cosine basis).
 */
function makeCase(extra?: (n: number) => number[][]): Case {
  const rnd = generator(11), runs = [50, 70], T = 120, V = 40;
  const base = 4, cols: number[][] = [];
  for (const n of runs) {
    const more = extra?.(n) ?? [];
    for (let t = 0; t < n; t++) {
      const row = [
        0.3 * Math.sin(t / 4) + 0.05 * rnd(), // motion-like
        (t % 17 === 3 ? 1 : 0) + 0.01 * rnd(), // spikes
        100 + 2 * Math.cos(t / 9) + rnd(), // a signal on a level (WM-like)
        0.2 * rnd(),
        ...more.map((c) => c[t]),
      ];
      cols.push(row);
    }
  }
  const C = cols[0].length, confounds = new Float32Array(T * C);
  cols.forEach((r, t) => confounds.set(r, t * C));
  const data = new Float32Array(T * V);
  for (let t = 0; t < T; t++) {
    for (let v = 0; v < V; v++) {
      const mix = (v % base + 1) * confounds[t * C + (v % base)];
      data[t * V + v] = v === 0
        ? 7
        : v === 1
        ? 500 + confounds[t * C]
        : 1000 + 0.02 * t * (v % 3) + mix +
          Math.sin(t * (0.3 + v / 50)) + 0.5 * rnd();
    }
  }
  const keep = new Uint8Array(T).fill(1);
  for (const t of [0, 5, 6, 30, 49, 50, 60, 61, 62, 63, 100]) keep[t] = 0;
  return { data: matrix(T, V, data), confounds: matrix(T, C, confounds), keep, runs };
}

interface Reference {
  cleaned: number[];
  ranks: number[];
  /** Per run, per voxel: RMS of the kept rows over the residual's SD. */
  levelOverSd: number[][];
}

async function reference(c: Case): Promise<Reference> {
  const file = await Deno.makeTempFile({ suffix: ".json" });
  try {
    await Deno.writeTextFile(
      file,
      JSON.stringify({
        T: c.data.rows,
        V: c.data.cols,
        C: c.confounds.cols,
        tr: 2,
        cutoff: 128,
        runs: c.runs,
        data: Array.from(c.data.data),
        confounds: Array.from(c.confounds.data),
        keep: Array.from(c.keep),
        rcond: DESIGN_RANK_TOLERANCE,
      }),
    );
    return await runPython(REFERENCE, [file]);
  } finally {
    await Deno.remove(file);
  }
}

/**
 * The largest difference from numpy in units of the tolerance float32 allows: a residual
 * of data at level L is resolved to ≈ 1.5e-7 L (measured: the plain high-pass path is off
 * numpy's float64 by the same), so a z-score to ≈ 1.5e-7 L / SD; 1e-6 L / SD + 1e-6 is the bar.
 */
function worstRatio(out: Matrix, ref: Reference, runs: number[]): number {
  let worst = 0, start = 0;
  runs.forEach((n, r) => {
    for (let t = start; t < start + n; t++) {
      for (let v = 0; v < out.cols; v++) {
        const tol = 1e-6 * ref.levelOverSd[r][v] + 1e-6, i = t * out.cols + v;
        worst = Math.max(worst, Math.abs(out.data[i] - ref.cleaned[i]) / tol);
      }
    }
    start += n;
  });
  return worst;
}

const NUMPY = havePython(["numpy"], "cleanSeries with confounds against numpy lstsq");

Deno.test({
  name: "cleanSeries with confounds and censored volumes equals numpy's lstsq fit on the kept rows",
  ignore: !NUMPY,
  fn: async () => {
    const backend = await createCpuBackend();
    try {
      const c = makeCase();
      const out = await cleanSeries(backend, c.data, {
        tr: 2,
        runs: c.runs,
        confounds: c.confounds,
        sampleMask: c.keep,
      });
      const ref = await reference(c);
      // Run 1: cosines (m = ⌊2·50·2/128⌋ + 1 = 2) + 4 confounds; run 2: 3 + 4.
      assert.deepEqual(ref.ranks, [6, 7]);
      const w = worstRatio(out, ref, c.runs);
      assert.ok(w < 1, `|brainorg − numpy| reaches ${w} × the float32 tolerance`);
      const V = c.data.cols;
      for (let t = 0; t < c.data.rows; t++) {
        if (!c.keep[t]) {
          assert.ok(
            out.data.subarray(t * V, (t + 1) * V).every((x) => x === 0),
            `censored row ${t}`,
          );
        }
        assert.equal(out.data[t * V], 0, "constant voxel");
        assert.equal(out.data[t * V + 1], 0, "a voxel that is a confound has nothing left");
      }
      // Kept rows of a voxel with signal: mean 0, SD 1 over the kept rows of each run.
      const x = Array.from({ length: 50 }, (_, t) => out.data[t * V + 5]).filter((_, t) =>
        c.keep[t]
      );
      const mean = x.reduce((a, b) => a + b, 0) / x.length;
      const sd = Math.sqrt(x.reduce((a, b) => a + (b - mean) ** 2, 0) / x.length);
      assert.ok(Math.abs(mean) < 1e-5 && Math.abs(sd - 1) < 1e-5, `mean ${mean}, SD ${sd}`);
    } finally {
      backend.dispose();
    }
  },
});

Deno.test({
  name:
    "a rank-deficient confound set (fMRIPrep's cosines, a sum of two confounds, zeros) is fitted as its span",
  ignore: !NUMPY,
  fn: async () => {
    const backend = await createCpuBackend();
    try {
      // fMRIPrep's cosineXX repeat our basis; column 4 + 2·column 5 repeats the pair; a zero column.
      const c = makeCase((n) => {
        const cos = (k: number) =>
          Array.from(
            { length: n },
            (_, t) => Math.sqrt(2 / n) * Math.cos((Math.PI * k * (t + 0.5)) / n),
          );
        const a = Array.from({ length: n }, (_, t) => Math.sin(t / 3)),
          b = Array.from({ length: n }, (_, t) => (t % 5) / 5);
        return [cos(1), a, b, a.map((x, t) => x + 2 * b[t]), new Array(n).fill(0)];
      });
      const out = await cleanSeries(backend, c.data, {
        tr: 2,
        runs: c.runs,
        confounds: c.confounds,
        sampleMask: c.keep,
      });
      const ref = await reference(c);
      // The cosine, the sum and the zero column add nothing: 6 + 2 and 7 + 2.
      assert.deepEqual(ref.ranks, [8, 9]);
      assert.ok(out.data.every(Number.isFinite));
      const w = worstRatio(out, ref, c.runs);
      assert.ok(w < 1, `|brainorg − numpy| reaches ${w} × the float32 tolerance`);
    } finally {
      backend.dispose();
    }
  },
});

Deno.test("cleanSeries with every row kept and no confounds matches the plain high-pass path", async () => {
  const backend = await createCpuBackend();
  try {
    const c = makeCase();
    const plain = await cleanSeries(backend, c.data, { tr: 2, runs: c.runs });
    const masked = await cleanSeries(backend, c.data, {
      tr: 2,
      runs: c.runs,
      sampleMask: new Uint8Array(c.data.rows).fill(1),
    });
    let d = 0;
    for (let i = 0; i < plain.data.length; i++) {
      d = Math.max(d, Math.abs(plain.data[i] - masked.data[i]));
    }
    assert.ok(d < 1e-5, `max difference ${d}`);
  } finally {
    backend.dispose();
  }
});

Deno.test("cleanSeries rejects confounds or masks that do not fit, and a run with no degrees of freedom left", async () => {
  const backend = await createCpuBackend();
  try {
    const c = makeCase();
    const clean = (o: Partial<CleanOptions>) =>
      cleanSeries(backend, c.data, { tr: 2, runs: c.runs, ...o });
    await assert.rejects(clean({ confounds: matrix(119, 4) }), /119 × 4/);
    const nan = matrix(120, 1, new Float32Array(120).fill(1).fill(NaN, 7, 8));
    await assert.rejects(clean({ confounds: nan }), /row 7, column 0 is NaN/);
    await assert.rejects(clean({ sampleMask: new Uint8Array(12) }), /length is 12/);
    const few = new Uint8Array(120).fill(1).fill(0, 3, 50);
    await assert.rejects(
      clean({ confounds: c.confounds, sampleMask: few }),
      /run 1 has 3 kept volumes/,
    );
  } finally {
    backend.dispose();
  }
});
