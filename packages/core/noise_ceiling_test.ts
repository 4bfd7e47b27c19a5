import assert from "node:assert/strict";
import { join } from "node:path";
import { type Backend, createCpuBackend, type Matrix, rng } from "@brainorg/kernels";
import { BACKEND_KINDS, ignoreBackend, once, withBackend } from "../kernels/_test_backends.ts";
import { normal } from "../kernels/_testing.ts";
import { havePython, runPython } from "../../test/python.ts";
import {
  ceilingFromIsc,
  fractionOfCeiling,
  MIN_CEILING,
  noiseCeiling,
  type NoiseCeilingSubject,
} from "./noise_ceiling.ts";
import { renderReport } from "./report.ts";
import { RESULT_FILES, RESULTS_SCHEMA, type ResultsSummary } from "./results.ts";
import type { TemplateSet } from "./templates.ts";
import {
  medianFractionOfCeiling,
  noiseCeilingSummary,
  noiseCeilingTable,
  type VoxelAnalysis,
} from "./voxel_analysis.ts";
import type { ModelVoxelResult } from "./voxel_encoding.ts";

const REFERENCE = await Deno.readTextFile(
  new URL("../../test/python/noise_ceiling.py", import.meta.url),
);

/**
 * S subjects, (T × V) each: a shared series per voxel of variance a (voxel
 * v's a grows with v so ISCs span a range), plus independent unit noise;
 * columns z-scored as the pipeline's cleaned data are.
 */
function sharedSignal(S: number, T: number, V: number, seed: number): Matrix[] {
  const rand = rng(seed);
  const g = normal(rand, T * V);
  return Array.from({ length: S }, () => {
    const e = normal(rand, T * V), y = new Float32Array(T * V);
    for (let v = 0; v < V; v++) {
      const amp = Math.sqrt((2 * v) / V);
      let m = 0, ss = 0;
      for (let t = 0; t < T; t++) m += y[t * V + v] = amp * g[t * V + v] + e[t * V + v];
      m /= T;
      for (let t = 0; t < T; t++) ss += (y[t * V + v] - m) ** 2;
      const sd = Math.sqrt(ss / T);
      for (let t = 0; t < T; t++) y[t * V + v] = (y[t * V + v] - m) / sd;
    }
    return { rows: T, cols: V, data: y };
  });
}

type Reference = { perSubject: (number | null)[]; isc: number[]; ceiling: number[] };

/** The problem with and without censored rows, and numpy's values for each. */
const references = once(async () => {
  const S = 5, T = 60, V = 40;
  const data = sharedSignal(S, T, V, 3);
  const rand = rng(4);
  const keep = data.map(() => Uint8Array.from({ length: T }, () => (rand() < 0.85 ? 1 : 0)));
  // Row 0 kept by subject 0 alone (no other to average: dropped for it); subject 4 keeps 2 rows
  // (too few: no r, NaN, and left out of the average).
  keep.forEach((k, s) => (k[0] = s === 0 ? 1 : 0));
  keep[4].fill(0, 2);
  const dir = await Deno.makeTempDir();
  try {
    const out: Reference[] = [];
    for (const k of [null, keep]) {
      const file = join(dir, "in.json");
      await Deno.writeTextFile(
        file,
        JSON.stringify({
          S,
          T,
          V,
          data: data.flatMap((m) => [...m.data]),
          keep: k && k.flatMap((m) => [...m]),
        }),
      );
      out.push(await runPython<Reference>(REFERENCE, [file]));
    }
    return { S, V, data, keep, plain: out[0], censored: out[1] };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

function assertClose(actual: ArrayLike<number>, expected: (number | null)[], what: string) {
  assert.equal(actual.length, expected.length, what);
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i] ?? NaN;
    if (Number.isNaN(e)) assert.ok(Number.isNaN(actual[i]), `${what}[${i}]: ${actual[i]}, not NaN`);
    else assert.ok(Math.abs(actual[i] - e) <= 3e-6, `${what}[${i}]: ${actual[i]} vs numpy ${e}`);
  }
}

for (const kind of BACKEND_KINDS) {
  Deno.test({
    name: `noise ceiling (${kind}) matches numpy, with and without censored rows`,
    ignore: !havePython(["numpy"], "noise ceiling parity with numpy") || await ignoreBackend(kind),
    fn: () =>
      withBackend(kind, async (backend) => {
        const { S, V, data, keep, plain, censored } = await references();
        const subjects = (k?: Uint8Array[]): NoiseCeilingSubject[] =>
          data.map((d, s) => ({ id: `s${s}`, data: d, ...(k ? { keep: k[s] } : {}) }));
        for (const [ref, k] of [[plain, undefined], [censored, keep]] as const) {
          const what = k ? "censored" : "plain";
          const got = await noiseCeiling(backend, subjects(k), { perSubject: true });
          assert.equal(got.subjects, S);
          assert.deepEqual([got.perSubject!.rows, got.perSubject!.cols], [S, V]);
          assertClose(got.perSubject!.data, ref.perSubject, `${what} perSubject`);
          assertClose(got.isc, ref.isc, `${what} isc`);
          assertClose(got.ceiling, ref.ceiling, `${what} ceiling`);
        }
        // The ISCs span a range (not all ~0 or ~1), so the comparison means something.
        const { isc } = plain;
        assert.ok(Math.min(...isc) < 0.15 && Math.max(...isc) > 0.6, `ISC range ${isc}`);
        // Subject 4 has too few rows once censored: NaN, and only its row.
        assert.ok(censored.perSubject.slice(4 * V).every((r) => r === null));
        assert.ok(censored.perSubject.slice(0, 4 * V).every((r) => r !== null));
      }),
  });
}

/** A backend that counts the correlations it is asked for, to observe the streaming. */
function counting(backend: Backend): { backend: Backend; calls: () => number } {
  let n = 0;
  return {
    backend: {
      ...backend,
      info: backend.info,
      columnCorrelation: (a, b) => (n++, backend.columnCorrelation(a, b)),
    },
    calls: () => n,
  };
}

Deno.test("a planted shared signal gives the expected ISC, and a perfect model reaches the ceiling", async () => {
  const cpu = await createCpuBackend();
  try {
    // Voxels 0–999: shared g of variance a = 0.25 plus noise of variance b = 1; 1000–1999: noise.
    const S = 6, T = 400, V = 2000, driven = 1000, a = 0.25, b = 1, rand = rng(21);
    const g = normal(rand, T * driven);
    const data = Array.from({ length: S }, (_, s) => {
      const e = normal(rand, T * V), y = new Float32Array(T * V);
      for (let t = 0; t < T; t++) {
        for (let v = 0; v < V; v++) {
          y[t * V + v] = (v < driven ? Math.sqrt(a) * g[t * driven + v] : 0) + e[t * V + v];
        }
      }
      return { id: `s${s}`, data: { rows: T, cols: V, data: y } };
    });
    const { backend, calls } = counting(cpu);
    const nc = await noiseCeiling(backend, data);
    // One correlation per subject, each against the mean of the others from one running sum.
    assert.equal(calls(), S);
    const mean = (x: ArrayLike<number>, from: number, to: number) => {
      let m = 0;
      for (let v = from; v < to; v++) m += x[v];
      return m / (to - from);
    };
    const expectedIsc = a / Math.sqrt((a + b) * (a + b / (S - 1)));
    // Per voxel the ISC's sampling SD is ≈ (1 − ISC²)/√(T·S) ≈ 0.02; over 1000 voxels ≈ 0.0007.
    const iscDriven = mean(nc.isc, 0, driven);
    assert.ok(Math.abs(iscDriven - expectedIsc) < 0.005, `ISC ${iscDriven} vs ${expectedIsc}`);
    const ceilingDriven = mean(nc.ceiling, 0, driven), expected = Math.sqrt(a / (a + b));
    assert.ok(Math.abs(ceilingDriven - expected) < 0.01, `ceiling ${ceilingDriven} vs ${expected}`);
    // LOSO ISC itself sits well below what a perfect model reaches with 6 subjects.
    assert.ok(expected - expectedIsc > 0.08);
    // A perfect model predicts g: its r with each subject, averaged, is the ceiling (fraction ≈ 1).
    const perfect = new Float32Array(V);
    for (const s of data) {
      const r = await cpu.columnCorrelation(
        { rows: T, cols: driven, data: g },
        { rows: T, cols: driven, data: s.data.data, rowStride: V },
      );
      for (let v = 0; v < driven; v++) perfect[v] += r[v] / S;
    }
    const f = fractionOfCeiling(perfect, nc.ceiling);
    const fDriven = mean(f, 0, driven);
    assert.ok(
      Math.abs(fDriven - 1) < 0.03,
      `a perfect model's fraction of the ceiling: ${fDriven}`,
    );
    // Noise voxels: ISC about 0; the ceiling rarely clears MIN_CEILING (the share is the rule's
    // false positives at this T and S: 0.4% measured).
    const iscNoise = mean(nc.isc, driven, V);
    assert.ok(Math.abs(iscNoise) < 0.003, `noise ISC ${iscNoise}`);
    let above = 0;
    for (let v = driven; v < V; v++) above += nc.ceiling[v] > MIN_CEILING ? 1 : 0;
    assert.ok(above / (V - driven) < 0.02, `noise voxels above ${MIN_CEILING}: ${above}`);
    assert.ok(
      f.slice(driven).every((x, i) => Number.isNaN(x) === !(nc.ceiling[driven + i] > MIN_CEILING)),
    );
  } finally {
    cpu.dispose();
  }
});

Deno.test("ceilingFromIsc inverts the leave-one-out ISC of the shared-plus-noise model", () => {
  for (const S of [2, 3, 6, 100]) {
    for (const rho of [0.001, 0.01, 0.1, 0.5, 0.9, 1]) {
      const isc = rho / Math.sqrt(rho + (1 - rho) / (S - 1));
      assert.ok(Math.abs(ceilingFromIsc(isc, S) - Math.sqrt(rho)) < 1e-9, `S ${S}, ρ ${rho}`);
    }
  }
  // Two subjects: the leave-one-out ISC is the pairwise one, and the ceiling its square root.
  assert.ok(Math.abs(ceilingFromIsc(0.25, 2) - 0.5) < 1e-12);
  assert.equal(ceilingFromIsc(0, 6), 0);
  assert.equal(ceilingFromIsc(-0.2, 6), 0);
  assert.ok(Number.isNaN(ceilingFromIsc(NaN, 6)));
});

Deno.test("fractionOfCeiling divides where the ceiling clears the minimum, else NaN", () => {
  const f = fractionOfCeiling([0.2, 0.2, NaN, 0.05], [0.4, 0.2, 0.5, 0.25]);
  assert.ok(Math.abs(f[0] - 0.5) < 1e-7);
  assert.ok(Number.isNaN(f[1])); // 0.2 is not above the default minimum
  assert.ok(Number.isNaN(f[2]));
  assert.ok(Math.abs(f[3] - 0.2) < 1e-7);
  assert.ok(Math.abs(fractionOfCeiling([0.02], [0.05], { minCeiling: 0.01 })[0] - 0.4) < 1e-7);
  assert.throws(() => fractionOfCeiling([1, 2], [1]), /one value per voxel/);
});

Deno.test("noiseCeiling rejects too few subjects, unequal shapes and a keep of the wrong length", async () => {
  const backend = await createCpuBackend();
  try {
    const m = (rows: number, cols: number): Matrix => ({
      rows,
      cols,
      data: new Float32Array(rows * cols),
    });
    await assert.rejects(noiseCeiling(backend, [{ id: "a", data: m(5, 2) }]), /at least 2/);
    await assert.rejects(
      noiseCeiling(backend, [{ id: "a", data: m(5, 2) }, { id: "b", data: m(5, 3) }]),
      /subject b's data must be 5 × 2 like a's: current shape is 5 × 3/,
    );
    await assert.rejects(
      noiseCeiling(backend, [
        { id: "a", data: m(5, 2) },
        { id: "b", data: m(5, 2), keep: new Uint8Array(4) },
      ]),
      /subject b's keep must have one entry per row \(5\): current length is 4/,
    );
  } finally {
    backend.dispose();
  }
});

/** A model's result with only what the noise-ceiling summaries read: its mean r. */
function modelResult(name: string, meanR: number[]): ModelVoxelResult {
  return {
    model: name,
    subjects: [],
    group: {
      subjects: 2,
      t: { rows: 0, cols: meanR.length, data: new Float32Array() },
      p: new Float64Array(),
      meanR: Float32Array.from(meanR),
      pR: new Float64Array(),
      qR: new Float64Array(),
    },
    threshold: 3,
    templates: [],
  };
}

Deno.test("the voxel level's noise-ceiling summary and table: medians per network and model", () => {
  const analysis: VoxelAnalysis = {
    models: [modelResult("m", [0.1, 0.2, 0.3, 0.0, 0.05, NaN])],
    noiseCeiling: {
      isc: Float32Array.from([0.2, 0.3, 0.4, 0.01, 0.02, 0.3]),
      ceiling: Float32Array.from([0.4, 0.5, 0.6, 0.05, 0.08, 0.5]),
      subjects: 6,
    },
  };
  const templates: TemplateSet[] = [{
    name: "Two",
    kind: "labels",
    networks: [
      { index: 1, name: "A", values: Float32Array.from([1, 1, 1, 0, 0, 0]) },
      { index: 2, name: "B", values: Float32Array.from([0, 0, 0, 1, 1, 1]) },
    ],
  }];
  const summary = noiseCeilingSummary(analysis.noiseCeiling);
  assert.ok(Math.abs(summary.median - 0.45) < 1e-6);
  assert.ok(Math.abs(summary.medianIsc - 0.25) < 1e-6);
  assert.equal(summary.voxelsAboveMin, 4);
  assert.equal(summary.minCeiling, MIN_CEILING);
  assert.match(summary.definition, /leave-one-subject-out/);
  // Fractions 0.25, 0.4, 0.5 (voxels 0–2), NaN for the mean r of voxel 5.
  assert.ok(
    Math.abs(medianFractionOfCeiling(analysis.models[0], analysis.noiseCeiling) - 0.4) < 1e-6,
  );
  const table = noiseCeilingTable(analysis, templates);
  assert.equal(table.path, RESULT_FILES.noiseCeilingNetworks.path);
  const rows = table.rows as Record<string, unknown>[];
  assert.deepEqual(rows.map((r) => [r.set, r.network, r.networkName, r.voxels, r.model]), [
    ["Two", 0, "A", 3, "m"],
    ["Two", 1, "B", 3, "m"],
  ]);
  const near = (x: unknown, y: number) => Math.abs((x as number) - y) < 1e-6;
  assert.ok(near(rows[0].medianCeiling, 0.5) && near(rows[0].medianIsc, 0.3));
  assert.ok(near(rows[0].medianR, 0.2) && near(rows[0].medianFraction, 0.4));
  // Network B: only voxel 5's ceiling clears the minimum, and its mean r is NaN.
  assert.ok(near(rows[1].medianCeiling, 0.08) && near(rows[1].medianR, 0.025));
  assert.ok(Number.isNaN(rows[1].medianFraction as number));
});

Deno.test("the report's voxel section states the noise ceiling and each model's fraction", () => {
  const summary: ResultsSummary = {
    schema: RESULTS_SCHEMA,
    brainorg: "0.1.0",
    steps: [],
    backend: { name: "cpu", implementation: "typescript", details: {} },
    stimulus: { transcript: "t", words: 1, dropped: 0, volumes: 5, tr: 2, discarded: [0] },
    models: [],
    voxel: {
      dataset: "user",
      subjects: 6,
      voxels: 100,
      permutations: 10,
      voxelP: 0.01,
      threshold: 3,
      noiseCeiling: {
        median: 0.123,
        medianIsc: 0.0456,
        minCeiling: 0.1,
        voxelsAboveMin: 60,
        definition: "ceiling <defined>",
      },
      models: [{
        name: "m<1>",
        subjects: [],
        voxelsMeanRQ05: 0,
        medianFractionOfCeiling: 0.25,
        templates: [{
          name: "Yeo-7",
          links: [],
          metrics: {
            atoms: 2,
            linkedAtoms: 0,
            links: 0,
            networks: 7,
            networksEngaged: 0,
            assignmentEntropy: 0,
            normalizedEntropy: 0,
            layerSpread: NaN,
            consistency: { timeCourse: NaN, mapOverlap: NaN, perNetwork: [] },
          },
        }],
      }],
    },
  };
  const html = renderReport(summary, "2026-01-01T00:00:00Z");
  assert.match(html, /Noise ceiling/);
  assert.match(html, /median 0\.123/);
  assert.match(html, /0\.046/);
  assert.match(html, /60 of 100 voxels/);
  assert.match(html, /m&lt;1&gt;: 0\.25/);
  assert.match(html, /ceiling &lt;defined&gt;/);
  // An older summary without the ceiling has no such paragraph.
  const { noiseCeiling: _, ...older } = summary.voxel!;
  assert.doesNotMatch(renderReport({ ...summary, voxel: older }, "x"), /Noise ceiling/);
});
