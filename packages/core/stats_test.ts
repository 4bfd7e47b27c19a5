import assert from "node:assert/strict";
import { permutationPValues, rng } from "@brainorg/kernels";
import { havePython, runPython } from "../../test/python.ts";
import {
  benjaminiHochberg,
  CONSTANT_RELATIVE_SD,
  FISHER_R_LIMIT,
  fisherZ,
  incompleteBeta,
  median,
  normalUpper,
  oneSampleT,
  oneSampleTFromSums,
  pairedT,
  pearson,
  permutationPValue,
  studentTQuantileUpper,
  studentTTwoSided,
  studentTUpper,
  twoSampleT,
  zscoreColumns,
} from "./stats.ts";

const noScipy = !havePython(["scipy"], "statistics reference (scipy)");

/** Standard normal draws (Box–Muller) from a seeded generator. */
function normals(n: number, seed: number): number[] {
  const rand = rng(seed);
  return Array.from({ length: n }, () => {
    const u = Math.max(rand(), 1e-12), v = rand();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  });
}

// JSON has no NaN or ±∞: both sides carry them as strings ("NaN", "Infinity", "-Infinity").
type Json = number | string | Json[];
const encode = (x: unknown): Json =>
  Array.isArray(x) || ArrayBuffer.isView(x)
    ? Array.from(x as ArrayLike<unknown>, encode)
    : Number.isFinite(x as number)
    ? x as number
    : String(x);
const decode = (x: Json): number => (typeof x === "string" ? Number(x) : x as number);

/** Run `body` in Python with `a` (decoded to float64 nested lists) and print `out` back. */
function scipy<T = Json>(body: string, a: unknown): Promise<T> {
  const script = `import json, sys, math, warnings
import numpy as np
from scipy import stats, special
warnings.simplefilter("ignore")
def dec(o): return [dec(v) for v in o] if isinstance(o, list) else float(o)
def enc(o):
    if isinstance(o, (list, tuple, np.ndarray)): return [enc(v) for v in o]
    v = float(o)
    return v if math.isfinite(v) else ("NaN" if v != v else ("Infinity" if v > 0 else "-Infinity"))
a = dec(json.loads(sys.argv[1]))
${body}
print(json.dumps(enc(out)))`;
  return runPython<T>(script, [JSON.stringify(encode(a))], ["scipy"]);
}

/** |got − want| ≤ rtol·|want| + atol, with NaN equal to NaN and ±∞ to itself. */
function close(got: number, want: number, rtol: number, atol: number, what: string): void {
  if (Number.isNaN(want) || !Number.isFinite(want)) {
    assert.ok(Object.is(got, want), `${what}: ${got}, expected ${want}`);
    return;
  }
  assert.ok(
    Math.abs(got - want) <= rtol * Math.abs(want) + atol,
    `${what}: ${got}, expected ${want} (rtol ${rtol}, atol ${atol})`,
  );
}

Deno.test({
  name: "pearson and median match scipy.stats.pearsonr and numpy.median",
  ignore: noScipy,
}, async () => {
  const x = normals(41, 1), y = normals(41, 2).map((v, i) => v + 0.5 * x[i]);
  const constant = new Array(41).fill(3);
  const [r, rConstant, m41, m40] = (await scipy<Json[]>(
    `x, y, c = map(np.array, a)
out = [stats.pearsonr(x, y)[0], stats.pearsonr(x, c)[0], np.median(x), np.median(x[:40])]`,
    [x, y, constant],
  )).map(decode);
  // Two float64 passes each: a few ulps apart at most.
  close(pearson(x, y), r, 1e-14, 1e-15, "pearson");
  close(pearson(x, constant), rConstant, 0, 0, "pearson with a constant series (NaN)");
  close(median(x), m41, 0, 0, "median of 41");
  close(median(x.slice(0, 40)), m40, 1e-15, 0, "median of 40");
  assert.throws(() => pearson([1, 2], [1, 2, 3]), RangeError);
});

Deno.test({
  name: "zscoreColumns matches scipy.stats.zscore (ddof 0); constant columns become 0",
  ignore: noScipy,
}, async () => {
  const T = 40, cols = 8, n = normals(T * cols, 3), data = new Float32Array(T * cols);
  for (let t = 0; t < T; t++) {
    const g = (c: number) => n[t * cols + c];
    data.set([
      g(0), // plain
      1e-20 * g(1), // tiny scale: an absolute floor would zero it
      1e30 + 1e29 * g(2), // huge level and spread
      7.25, // constant
      0, // zero
      1e4 + 1e-3 * g(5), // ±1 float32 ulp of jitter on a level of 10⁴: constant
      t === 5 ? NaN : g(6), // a NaN: the column becomes NaN
      100 + g(7), // BOLD-like: 1% fluctuation on a level
    ], t * cols);
  }
  const z = zscoreColumns({ rows: T, cols, data });
  assert.deepEqual([...z.constant], [0, 0, 0, 1, 1, 1, 0, 0]);
  const rows: number[][] = Array.from(
    { length: T },
    (_, t) => [...data.subarray(t * cols, (t + 1) * cols)],
  );
  const ref = (await scipy<Json[][]>("out = stats.zscore(np.array(a), axis=0, ddof=0)", rows))
    .map((row) => row.map(decode));
  for (let t = 0; t < T; t++) {
    for (let c = 0; c < cols; c++) {
      const got = z.data[t * cols + c];
      if (z.constant[c]) assert.equal(got, 0, `constant column ${c}, row ${t}`);
      // The output is float32: its rounding (6e-8 relative) is the tolerance.
      else close(got, ref[t][c], 1.2e-7, 1e-12, `column ${c}, row ${t}`);
    }
  }
  // scipy z-scores the jitter column into unit-variance noise; the rule is what stops it.
  assert.ok(Math.abs(ref[0][5]) > 1e-3 || Math.abs(ref[1][5]) > 1e-3);

  // Two rows: ±1 in every varying column.
  const two = zscoreColumns({ rows: 2, cols: 2, data: Float32Array.of(1, 5, 3, 5) });
  assert.deepEqual([...two.data], [-1, 0, 1, 0]);
  // The rule is judged on the original's RMS when one is given.
  const residual = { rows: 3, cols: 1, data: Float32Array.of(-1e-3, 0, 1e-3) };
  assert.deepEqual([...zscoreColumns(residual).constant], [0]);
  const original = { rows: 3, cols: 1, data: Float32Array.of(1e4, 1e4, 1e4) };
  assert.deepEqual([...zscoreColumns(residual, { original }).data], [0, 0, 0]);
  assert.throws(() => zscoreColumns(residual, { original: { ...original, rows: 1 } }), RangeError);
  assert.equal(CONSTANT_RELATIVE_SD, 1e-5);
});

Deno.test({
  name: "fisherZ is numpy's arctanh within ±FISHER_R_LIMIT and clamped beyond",
  ignore: noScipy,
}, async () => {
  const r = [
    ...normals(50, 4).map((v) => Math.tanh(2 * v)),
    0,
    0.999999,
    -0.999999,
    0.9999999,
    -1,
    1,
    1.5,
    NaN,
  ];
  const ref = (await scipy<Json[]>(
    `r = np.array(a)
out = np.arctanh(np.clip(r, -${FISHER_R_LIMIT}, ${FISHER_R_LIMIT}))`,
    r,
  )).map(decode);
  // Math.atanh and numpy's arctanh are both libm's: a few ulps apart at most.
  r.forEach((v, i) => close(fisherZ(v), ref[i], 1e-15, 1e-16, `fisherZ(${v})`));
  assert.equal(fisherZ(1), fisherZ(FISHER_R_LIMIT));
  assert.ok(Number.isFinite(fisherZ(-Infinity)));
});

Deno.test({
  name: "oneSampleT and pairedT match scipy's ttest_1samp and ttest_rel (t, df, p)",
  ignore: noScipy,
}, async () => {
  const S = 8, n = 30, g = normals(S * n, 5);
  const samples = Array.from({ length: S }, (_, s) =>
    Array.from({ length: n }, (_, i) => {
      const x = g[s * n + i] + 0.1 * i;
      if (i === 0) return 0.3; // constant: ±∞, as in scipy
      if (i === 1) return 0; // all zero: 0 here, NaN in scipy
      if (i === 2) return s === 3 ? NaN : x; // NaN propagates
      if (i === 3) return 1e20 + 1e19 * x; // huge
      if (i === 4) return 1e-30 * (1 + x); // tiny
      return x;
    }));
  const two = samples.slice(0, 2);
  const a = samples.map((x) => x.slice(5)),
    b = a.map((x, s) => x.map((v, i) => 0.7 * v + g[s + i]));
  b.forEach((x, s) => (x[0] = a[s][0])); // identical pair: 0 here, NaN in scipy
  const [t1, p1, df1, t2, p2, tr, pr, dfr] = await scipy<Json[][]>(
    `m, two, x, y = [np.array(v) for v in a]
one = stats.ttest_1samp(m, 0)
small = stats.ttest_1samp(two, 0)
rel = stats.ttest_rel(x, y)
out = [one.statistic, one.pvalue, one.df, small.statistic, small.pvalue,
       rel.statistic, rel.pvalue, rel.df]`,
    [samples, two, a, b],
  );
  const check = (
    got: { t: Float64Array; df: number },
    t: Json[],
    p: Json[],
    what: string,
    zeroWhereNaN: number[],
  ) => {
    got.t.forEach((v, i) => {
      if (zeroWhereNaN.includes(i)) {
        assert.ok(Number.isNaN(decode(t[i])) && v === 0, `${what} entry ${i}: ${v}`);
        return;
      }
      // Float64 sums over ≤ 12 samples; the p-values through the incomplete beta.
      close(v, decode(t[i]), 1e-12, 1e-300, `${what} t, entry ${i}`);
      close(studentTTwoSided(v, got.df), decode(p[i]), 1e-9, 1e-300, `${what} p, entry ${i}`);
    });
  };
  const one = oneSampleT(samples);
  assert.equal(one.df, S - 1);
  assert.equal(decode(df1[0]), S - 1);
  check(one, t1, p1, "ttest_1samp", [1]);
  check(oneSampleT(two), t2, p2, "ttest_1samp (2 samples)", [1]);
  const rel = pairedT(a, b);
  assert.equal(rel.df, decode(dfr[1]));
  check(rel, tr, pr, "ttest_rel", [0]);
  // One sample: no t (scipy: NaN too); mismatched inputs are refused.
  assert.ok(Number.isNaN(oneSampleT([[1, 2]]).t[0]) && oneSampleT([[1, 2]]).df === 0);
  assert.throws(() => oneSampleT([[1, 2], [3]]), RangeError);
  assert.throws(() => pairedT([[1], [2]], [[1]]), RangeError);
});

Deno.test({
  name: "twoSampleT matches scipy's Welch ttest_ind and the Welch–Satterthwaite df",
  ignore: noScipy,
}, async () => {
  const Sa = 7, Sb = 11, n = 20, g = normals((Sa + Sb) * n, 6);
  const a = Array.from(
    { length: Sa },
    (_, s) =>
      Array.from({ length: n }, (_, i) => (i === 0 || i === 1 ? 1 : 0.3 * g[s * n + i] + 0.05 * i)),
  );
  const b = Array.from(
    { length: Sb },
    (_, s) => Array.from({ length: n }, (_, i) => (i === 0 ? 2 : 2 * g[(Sa + s) * n + i])),
  );
  const [t, p, df] = await scipy<Json[][]>(
    `x, y = np.array(a[0]), np.array(a[1])
r = stats.ttest_ind(x, y, equal_var=False)
ea, eb = x.var(axis=0, ddof=1) / len(x), y.var(axis=0, ddof=1) / len(y)
out = [r.statistic, r.pvalue, (ea + eb) ** 2 / (ea ** 2 / (len(x) - 1) + eb ** 2 / (len(y) - 1))]`,
    [a, b],
  );
  const got = twoSampleT(a, b);
  // Entry 0: both groups constant, means apart: −∞ in both; df undefined (NaN in both).
  assert.equal(got.t[0], -Infinity);
  assert.equal(decode(t[0]), -Infinity);
  for (let i = 0; i < n; i++) {
    close(got.t[i], decode(t[i]), 1e-12, 0, `Welch t, entry ${i}`);
    close(got.df[i], decode(df[i]), 1e-12, 0, `Welch df, entry ${i}`);
    if (i > 0) {
      close(
        studentTTwoSided(got.t[i], got.df[i]),
        decode(p[i]),
        1e-9,
        1e-300,
        `Welch p, entry ${i}`,
      );
    }
  }
  assert.ok(twoSampleT([[1]], [[2], [3]]).t.every(Number.isNaN));
  assert.throws(() => twoSampleT([[1, 2], [2, 3]], [[1], [2]]), RangeError);
});

Deno.test("oneSampleTFromSums gives oneSampleT's t from running sums", () => {
  const S = 6, g = normals(S * 50, 7);
  const samples = Array.from(
    { length: S },
    (_, s) =>
      Array.from(
        { length: 50 },
        (_, i) => (i === 0 ? 0 : i === 1 ? -2.5 : g[s * 50 + i] + 0.02 * i),
      ),
  );
  const { t } = oneSampleT(samples);
  for (let i = 0; i < 50; i++) {
    let sum = 0, sq = 0;
    for (const x of samples) (sum += x[i]), (sq += x[i] * x[i]);
    // Σx² − n·mean² cancels: relative 1e-16 of Σx² becomes ≈ 1e-10 of a t near 0.
    close(oneSampleTFromSums(sum, sq, S), t[i], 1e-9, 1e-9, `entry ${i}`);
  }
  assert.equal(oneSampleTFromSums(0, 0, S), 0);
  assert.equal(oneSampleTFromSums(-2.5 * S, 6.25 * S, S), -Infinity);
});

Deno.test({
  name: "Student t tails and quantiles match scipy.stats.t; the incomplete beta matches betainc",
  ignore: noScipy,
}, async () => {
  const tails = [
    [0, 3],
    [1.5, 2],
    [-2, 5],
    [3.1, 27],
    [6, 4],
    [12, 7],
    [-0.3, 1],
    [2.5, 200],
    [50, 3],
    [1e3, 1],
    [-40, 10],
    [0.5, 1e4],
    [3, 0.5],
    [Infinity, 5],
  ];
  const quantiles = [
    [1e-12, 1],
    [1e-3, 5],
    [0.05, 27],
    [1e-4, 3],
    [0.3, 2],
    [0.5, 7],
    [0.9, 4],
    [0.999, 30],
    [1e-8, 200],
  ];
  const betas = [[0.5, 2, 2], [0.1, 0.5, 13.5], [0.97, 30, 0.5], [0.3, 1e3, 2]];
  const [sf, isf, beta] = await scipy<Json[][]>(
    `tails, qs, bs = a
out = [[stats.t.sf(t, d) for t, d in tails], [stats.t.isf(p, d) for p, d in qs],
       [special.betainc(a_, b_, x) for x, a_, b_ in bs]]`,
    [tails, quantiles, betas],
  );
  // The continued fraction converges to ≈ 1e-13 relative; tails far out keep it.
  tails.forEach(([t, d], i) =>
    close(studentTUpper(t, d), decode(sf[i]), 1e-11, 1e-300, `t.sf(${t}, ${d})`)
  );
  quantiles.forEach(([p, d], i) =>
    close(studentTQuantileUpper(p, d), decode(isf[i]), 1e-9, 1e-12, `t.isf(${p}, ${d})`)
  );
  betas.forEach(([x, a, b], i) =>
    close(incompleteBeta(x, a, b), decode(beta[i]), 1e-11, 1e-300, `betainc(${a}, ${b}, ${x})`)
  );
  assert.ok(Number.isNaN(studentTUpper(NaN, 3)) && Number.isNaN(studentTTwoSided(NaN, 3)));
  assert.throws(() => studentTQuantileUpper(0, 5), RangeError);
  assert.throws(() => studentTQuantileUpper(0.1, 0), RangeError);
});

Deno.test({
  name: "normalUpper matches scipy.stats.norm.sf to Numerical Recipes' 1.2e-7",
  ignore: noScipy,
}, async () => {
  const z = Array.from({ length: 91 }, (_, i) => -8 + i * 0.5);
  const ref = (await scipy<Json[]>("out = stats.norm.sf(np.array(a))", z)).map(decode);
  z.forEach((v, i) => close(normalUpper(v), ref[i], 1.2e-7, 0, `norm.sf(${v})`));
  assert.ok(Number.isNaN(normalUpper(NaN)));
});

Deno.test({
  name:
    "benjaminiHochberg: Benjamini & Hochberg's (1995) example, and numpy's BH with ties and NaN",
  ignore: noScipy,
}, async () => {
  // The worked example of Benjamini & Hochberg (1995): at FDR 0.05 the four smallest of these
  // 15 p-values are rejected (Bonferroni rejects three).
  const published = [
    0.0001,
    0.0004,
    0.0019,
    0.0095,
    0.0201,
    0.0278,
    0.0298,
    0.0344,
    0.0459,
    0.324,
    0.4262,
    0.5719,
    0.6528,
    0.759,
    1,
  ];
  const q15 = benjaminiHochberg(published);
  assert.deepEqual([...q15].map((q) => q <= 0.05), published.map((_, i) => i < 4));

  const rand = rng(8);
  const p = Array.from({ length: 60 }, (_, i) => (i % 3 ? rand() : rand() * 0.01));
  p[7] = p[8] = p[9] = 0.004; // ties
  p[11] = p[30] = p[59] = NaN; // tests not run
  const ref = (await scipy<Json[]>(
    `p = np.array(a); q = np.full(p.shape, np.nan); ok = ~np.isnan(p); x = p[ok]; m = len(x)
o = np.argsort(x, kind="stable")
r = np.minimum(np.minimum.accumulate((x[o] * m / np.arange(1, m + 1))[::-1])[::-1], 1)
y = np.empty(m); y[o] = r; q[ok] = y
out = q`,
    p,
  )).map(decode);
  const q = benjaminiHochberg(p);
  ref.forEach((r, i) => close(q[i], r, 1e-15, 0, `q[${i}]`));
  assert.ok(q[7] === q[8] && q[8] === q[9]);
  assert.deepEqual([...benjaminiHochberg([NaN, NaN])].map(Number.isNaN), [true, true]);
  assert.equal(benjaminiHochberg([]).length, 0);
  assert.throws(() => benjaminiHochberg([0.1, 1.5]), RangeError);
  assert.throws(() => benjaminiHochberg([-0.1]), RangeError);
});

Deno.test("permutationPValue counts as the kernels' permutationPValues do", () => {
  const P = 37, V = 25, rand = rng(9);
  const observed = Float32Array.from({ length: V }, () => rand());
  const nul = { rows: P, cols: V, data: Float32Array.from({ length: P * V }, () => rand()) };
  const theirs = permutationPValues(observed, nul);
  for (let v = 0; v < V; v++) {
    let count = 0;
    for (let k = 0; k < P; k++) if (nul.data[k * V + v] >= observed[v]) count++;
    assert.equal(permutationPValue(count, P), theirs[v]);
  }
  assert.equal(permutationPValue(0, 99), 0.01);
  assert.equal(permutationPValue(99, 99), 1);
  assert.throws(() => permutationPValue(100, 99), RangeError);
  assert.throws(() => permutationPValue(-1, 99), RangeError);
});
