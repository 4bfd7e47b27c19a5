import assert from "node:assert/strict";
import { join } from "node:path";
import { InputError } from "@brainorg/common";
import {
  CONFOUND_PRESETS,
  type ConfoundsTable,
  parseConfoundsTable,
  readConfoundsTable,
  selectConfounds,
  stackConfoundRuns,
} from "./confounds.ts";

const T = 30;

/** fMRIPrep ≥ 21's column names (a subset of its ~200), values from a fixed generator. */
function header(): string[] {
  const expand = (b: string) => [b, `${b}_derivative1`, `${b}_power2`, `${b}_derivative1_power2`];
  const n = (p: string, k: number) =>
    Array.from({ length: k }, (_, i) => `${p}${String(i).padStart(2, "0")}`);
  return [
    ...expand("global_signal"),
    ...expand("csf"),
    ...expand("white_matter"),
    "std_dvars",
    "dvars",
    "framewise_displacement",
    "rmsd",
    ...n("t_comp_cor_", 3),
    ...n("c_comp_cor_", 2),
    ...n("w_comp_cor_", 4),
    ...n("a_comp_cor_", 6),
    ...n("cosine", 4),
    "non_steady_state_outlier00",
    ...["trans_x", "trans_y", "trans_z", "rot_x", "rot_y", "rot_z"].flatMap(expand),
  ];
}

/** One row per volume; derivatives, FD and std DVARS are n/a in the first row, as fMRIPrep writes. */
function tsv(
  columns = header(),
  cell: (c: string, t: number) => string = (c, t) => {
    if (t === 0 && /derivative1|dvars|framewise/.test(c)) return "n/a";
    if (c === "non_steady_state_outlier00") return t === 0 ? "1" : "0";
    if (c === "framewise_displacement") return "0.1";
    if (c === "std_dvars") return "1.0";
    return (Math.sin(7 * t + c.length * 1.3 + c.charCodeAt(c.length - 1)) * 2).toExponential(6);
  },
): string {
  const rows = Array.from({ length: T }, (_, t) => columns.map((c) => cell(c, t)).join("\t"));
  return [columns.join("\t"), ...rows].join("\n") + "\n";
}

const table = parseConfoundsTable(tsv(), "sub-01_task-a_desc-confounds_timeseries.tsv");

function rejects(f: () => unknown, parts: (string | RegExp)[]): InputError {
  let caught: unknown;
  try {
    f();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof InputError, `expected an InputError, got ${caught}`);
  for (const p of parts) {
    assert.ok(
      typeof p === "string" ? caught.message.includes(p) : p.test(caught.message),
      `${p} in ${caught.message}`,
    );
  }
  return caught;
}

Deno.test("parseConfoundsTable reads names, numbers and n/a as NaN", () => {
  assert.equal(table.rows, T);
  assert.deepEqual(table.columns, header());
  const W = table.columns.length, fd = table.columns.indexOf("framewise_displacement");
  assert.ok(Number.isNaN(table.data[fd]));
  assert.equal(table.data[W + fd], 0.1);
  const t = parseConfoundsTable("\uFEFFa\tb\r\n-8.71736E-05\tn/a\r\n.5\t+3\r\n\r\n", "x.tsv");
  assert.deepEqual([t.rows, ...t.data], [2, -8.71736e-5, NaN, 0.5, 3]);
});

Deno.test("parseConfoundsTable rejects what is not a confounds TSV, naming file, field and value", () => {
  const f = "bad.tsv";
  const no = rejects(() => parseConfoundsTable("0.1\t0.2\n0.3\t0.4\n", f), [
    "no header",
    "bad.tsv",
    '"0.1"',
  ]);
  assert.equal(no.field, "header");
  rejects(() => parseConfoundsTable("csf,white_matter\n1,2\n", f), ["not tab-separated"]);
  rejects(() => parseConfoundsTable("", f), ["empty"]);
  const ragged = rejects(() => parseConfoundsTable("csf\twhite_matter\n1\t2\n3\n", f), ["line 3"]);
  assert.deepEqual([ragged.expected, ragged.found], ["2 tab-separated cells, as the header", "1"]);
  const cell = rejects(() => parseConfoundsTable("csf\twhite_matter\n1\t2\n3\tabc\n", f), [
    "not a number",
  ]);
  assert.deepEqual([cell.field, cell.found, cell.file], [
    "line 3, column white_matter",
    '"abc"',
    f,
  ]);
  rejects(() => parseConfoundsTable("csf\tcsf\n1\t2\n", f), ["twice"]);
  rejects(() => parseConfoundsTable("csf\n\n1\n", f), ["line 2"]); // a blank line inside is a row of one empty cell
});

Deno.test("readConfoundsTable reads a file and names a missing one", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "sub-01_desc-confounds_timeseries.tsv");
    await Deno.writeTextFile(path, tsv());
    const t = await readConfoundsTable(path);
    assert.deepEqual([t.file, t.rows, t.columns.length], [path, T, header().length]);
    await assert.rejects(
      readConfoundsTable(join(dir, "none.tsv")),
      (e: Error) => e instanceof InputError && e.message.includes("none.tsv"),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("each strategy takes nilearn's columns: 6/12/12/24 motion, 2/4/4/8 WM+CSF, 1/2/2/4 global", () => {
  const count = { basic: 1, derivatives: 2, power2: 2, full: 4 } as const;
  for (const model of ["basic", "derivatives", "power2", "full"] as const) {
    const m = selectConfounds(table, { motion: model });
    assert.equal(m.columns.length, 6 * count[model], model);
    assert.deepEqual(m.columns.slice(0, 6), [
      "trans_x",
      "trans_y",
      "trans_z",
      "rot_x",
      "rot_y",
      "rot_z",
    ]);
    assert.equal(selectConfounds(table, { wmCsf: model }).columns.length, 2 * count[model]);
    assert.equal(selectConfounds(table, { globalSignal: model }).columns.length, count[model]);
  }
  assert.ok(
    selectConfounds(table, { motion: "derivatives" }).columns.includes("rot_z_derivative1"),
  );
  assert.ok(!selectConfounds(table, { motion: "derivatives" }).columns.includes("rot_z_power2"));
  assert.deepEqual(selectConfounds(table, { highPass: true }).columns, [
    "cosine00",
    "cosine01",
    "cosine02",
    "cosine03",
  ]);
  const cc = (kind: Parameters<typeof selectConfounds>[1]["compcor"]) =>
    selectConfounds(table, { highPass: true, compcor: kind }).columns.filter((c) =>
      c.includes("comp_cor")
    );
  assert.deepEqual(cc({ kind: "anat_combined", components: "all" }).length, 6);
  assert.deepEqual(cc({ kind: "anat_combined", components: 2 }), [
    "a_comp_cor_00",
    "a_comp_cor_01",
  ]);
  assert.deepEqual(cc({ kind: "temporal", components: "all" }), [
    "t_comp_cor_00",
    "t_comp_cor_01",
    "t_comp_cor_02",
  ]);
  assert.deepEqual(cc({ kind: "anat_separated", components: 3 }), [
    "w_comp_cor_00",
    "w_comp_cor_01",
    "w_comp_cor_02",
    "c_comp_cor_00",
    "c_comp_cor_01",
  ]);
  assert.deepEqual(cc({ kind: "temporal_anat_combined", components: 1 }), [
    "t_comp_cor_00",
    "a_comp_cor_00",
  ]);
  assert.equal(cc({ kind: "temporal_anat_separated", components: "all" }).length, 3 + 4 + 2);
  // The presets: nilearn 0.13's simple, scrubbing, compcor.
  const n = (p: keyof typeof CONFOUND_PRESETS) =>
    selectConfounds(table, CONFOUND_PRESETS[p]).columns.length;
  assert.deepEqual([n("none"), n("simple"), n("scrubbing"), n("compcor")], [
    0,
    4 + 24 + 2,
    4 + 24 + 8,
    4 + 24 + 6,
  ]);
});

Deno.test("first-row n/a takes the second row's value, then columns are demeaned over kept volumes", () => {
  const s = selectConfounds(table, { motion: "full" });
  const W = table.columns.length, C = s.columns.length;
  const j = s.columns.indexOf("trans_x_derivative1"),
    k = table.columns.indexOf("trans_x_derivative1");
  const raw = Array.from({ length: T }, (_, t) => table.data[t * W + k]);
  raw[0] = raw[1];
  // Volume 0 is non-steady-state: censored, out of the mean.
  assert.deepEqual([s.sampleMask[0], s.censored], [0, 1]);
  const mean = raw.slice(1).reduce((a, b) => a + b, 0) / (T - 1);
  for (let t = 0; t < T; t++) {
    assert.ok(Math.abs(s.matrix.data[t * C + j] - (raw[t] - mean)) < 1e-6);
  }
  assert.equal(s.matrix.data[0 * C + j], s.matrix.data[1 * C + j]);
  const raw0 = selectConfounds(table, { motion: "full" }, { demean: false });
  assert.ok(Math.abs(raw0.matrix.data[5 * C + j] - raw[5]) < 1e-6);
  assert.equal(
    selectConfounds(table, {}).censored,
    1,
    "non-steady-state volumes are censored with no confounds too",
  );
});

Deno.test("scrubbing censors FD and std DVARS outliers, and kept runs shorter than minSegment", () => {
  const fd: Record<number, string> = { 10: "0.51", 13: "0.9", 20: "0.5" }; // 0.5 is not above 0.5
  const dvars: Record<number, string> = { 27: "1.6", 0: "n/a" };
  const text = tsv(header(), (c, t) => {
    if (c === "framewise_displacement") return t === 0 ? "n/a" : fd[t] ?? "0.1";
    if (c === "std_dvars") return dvars[t] ?? "1.0";
    if (c === "non_steady_state_outlier00") return t === 0 ? "1" : "0";
    return t === 0 && c.includes("derivative1") ? "n/a" : String(t % 7);
  });
  const t = parseConfoundsTable(text, "scrub.tsv");
  const censored = (minSegment: number) => {
    const s = selectConfounds(t, { scrub: { ...CONFOUND_PRESETS.scrubbing.scrub!, minSegment } });
    assert.equal(s.censored, s.sampleMask.length - s.sampleMask.reduce((a, b) => a + b, 0));
    return [...s.sampleMask.keys()].filter((i) => !s.sampleMask[i]);
  };
  // Outliers 10, 13, 27; volume 0 is non-steady-state.
  assert.deepEqual(censored(0), [0, 10, 13, 27]);
  // minSegment 5: 11–12 (2 kept between outliers) and 28–29 (2 kept at the end) go;
  // 1–9 (9 kept) and 14–26 stay; the start rule looks at the first outlier (10), not volume 0.
  assert.deepEqual(censored(5), [0, 10, 11, 12, 13, 27, 28, 29]);
  // minSegment 10: volumes 0–9 count as 10 before the first outlier (nilearn counts the
  // non-steady-state volume in), so they stay; with 11 they go.
  assert.deepEqual(censored(10), censored(5));
  assert.deepEqual(censored(11), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 27, 28, 29]);
  rejects(
    () =>
      selectConfounds(
        parseConfoundsTable("csf\tstd_dvars\n1\t1\n", "x.tsv"),
        CONFOUND_PRESETS.scrubbing,
      ),
    ["needs"],
  );
});

Deno.test("a column the strategy needs and the table lacks is an error naming file, column and what is there", () => {
  const cols = header().filter((c) => c !== "trans_x_derivative1_power2");
  const t = parseConfoundsTable(tsv(cols), "sub-02_desc-confounds_timeseries.tsv");
  const err = rejects(() => selectConfounds(t, { motion: "full" }), [
    "the motion strategy 'full' needs trans_x_derivative1_power2",
    "sub-02_desc-confounds_timeseries.tsv",
    "a_comp_cor_00 … a_comp_cor_05 (6)",
  ]);
  assert.equal(err.field, "column trans_x_derivative1_power2");
  selectConfounds(t, { motion: "derivatives" }); // what it has is enough for less
  const noSeparate = parseConfoundsTable(
    tsv(header().filter((c) => !/^[wc]_comp_cor/.test(c))),
    "old.tsv",
  );
  rejects(
    () =>
      selectConfounds(noSeparate, {
        highPass: true,
        compcor: { kind: "anat_separated", components: 2 },
      }),
    [
      "w_comp_cor_00",
      "sidecar",
    ],
  );
  rejects(() => selectConfounds(table, { compcor: { kind: "anat_combined", components: 2 } }), [
    "strategy.highPass",
  ]);
  rejects(() => selectConfounds(table, { motion: "all" as "full" }), ["strategy.motion"]);
  rejects(
    () => selectConfounds(table, { highPass: true, compcor: { kind: "temporal", components: 0 } }),
    [
      "strategy.compcor.components",
    ],
  );
  // n/a after the first row of a chosen column.
  const gap = parseConfoundsTable("csf\twhite_matter\n1\t2\n3\tn/a\n4\t5\n", "gap.tsv");
  const e = rejects(() => selectConfounds(gap, { wmCsf: "basic" }), ["white_matter", "gap.tsv"]);
  assert.equal(e.field, "line 3, column white_matter");
});

Deno.test("with the sidecar, old tables' a_comp_cor are split by mask as nilearn does", () => {
  const cols = ["csf", ...Array.from({ length: 6 }, (_, i) => `a_comp_cor_0${i}`), "cosine00"];
  const t = parseConfoundsTable(tsv(cols), "old_desc-confounds_regressors.tsv");
  const masks = ["combined", "combined", "CSF", "WM", "CSF", "WM"];
  const sidecar = {
    file: "old.json",
    entries: Object.fromEntries(masks.map((m, i) => [`a_comp_cor_0${i}`, { Mask: m }])),
  };
  const pick = (kind: "anat_combined" | "anat_separated", components: number | "all") =>
    selectConfounds(t, { highPass: true, compcor: { kind, components } }, { sidecar }).columns
      .slice(1);
  assert.deepEqual(pick("anat_combined", "all"), ["a_comp_cor_00", "a_comp_cor_01"]);
  assert.deepEqual(pick("anat_separated", "all"), [
    "a_comp_cor_03",
    "a_comp_cor_05",
    "a_comp_cor_02",
    "a_comp_cor_04",
  ]);
  assert.deepEqual(pick("anat_separated", 1), ["a_comp_cor_03", "a_comp_cor_02"]);
});

Deno.test("stackConfoundRuns puts runs end to end, zeros where a run lacks a column", () => {
  const small = (cols: string[], file: string): ConfoundsTable =>
    parseConfoundsTable(tsv(cols), file);
  const a = selectConfounds(
    small(["cosine00", "a_comp_cor_00", "a_comp_cor_01", "non_steady_state_outlier00"], "a.tsv"),
    {
      highPass: true,
      compcor: { kind: "anat_combined", components: "all" },
    },
  );
  const b = selectConfounds(small(["cosine00", "a_comp_cor_00"], "b.tsv"), {
    highPass: true,
    compcor: { kind: "anat_combined", components: "all" },
  });
  const s = stackConfoundRuns([a, b]);
  assert.deepEqual(s.columns, ["cosine00", "a_comp_cor_00", "a_comp_cor_01"]);
  assert.deepEqual([s.matrix.rows, s.matrix.cols, s.censored], [2 * T, 3, 1]);
  assert.deepEqual([s.sampleMask[0], s.sampleMask[T]], [0, 1]);
  for (let t = 0; t < T; t++) {
    assert.equal(s.matrix.data[t * 3 + 2], a.matrix.data[t * 3 + 2]);
    assert.equal(s.matrix.data[(T + t) * 3 + 2], 0);
    assert.equal(s.matrix.data[(T + t) * 3 + 1], b.matrix.data[t * 2 + 1]);
  }
});
