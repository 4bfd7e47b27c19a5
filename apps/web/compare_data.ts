/**
 * What the comparison page reads for two models: which two (from the URL,
 * or a model and its random-weights control), their atoms matched one to
 * one by their time courses ({@linkcode matchAtoms}, the pipeline's own
 * matching), each atom's best network, and the numbers that say how
 * organized and how stable each model is.
 *
 * @module
 */

import { matchAtoms } from "@brainorg/core/stability";
import { modelFiles } from "@brainorg/core/results";
import type { Problem } from "./problems.ts";
import type { Run } from "./runs.ts";
import { atomCourses, type Cell, networkCells, VIEWER_ATLAS } from "./run_data.ts";
import { MAX_ATOMS, type MetricsView } from "./summary.ts";
import { readTable } from "./tables.ts";

/** One side of the comparison: a model of a ready run. */
export interface Side {
  run: Run;
  model: string;
}

/** The two sides, or why there are not two. */
export type Choice = { a: Side; b: Side } | { message: string };

/**
 * A side as the URL names it: `encodeURIComponent(run) + "/" +
 * encodeURIComponent(model)` (either may hold `/`).
 */
export function sideKey(run: string, model: string): string {
  return `${encodeURIComponent(run)}/${encodeURIComponent(model)}`;
}

/**
 * The two models compared. `?a=` and `?b=` name them ({@linkcode sideKey});
 * a side left out defaults to: A, the first model of the first ready run;
 * B, A's control (`<A>-random`) in A's run, else another model of that run,
 * else the first model of another ready run.
 *
 * @param runs every run the dashboard knows (only `ready` ones are used)
 * @param params the page's query
 * @returns both sides, or a message for the page when they cannot be two models
 */
export function chooseModels(runs: Run[], params: URLSearchParams): Choice {
  const ready = runs.filter((r) => r.status === "ready" && r.summary);
  const models = (r: Run) => r.summary!.models.map((m) => m.name);
  const named = (key: "a" | "b"): Side | string | undefined => {
    const value = params.get(key);
    if (value === null) return undefined;
    const parts = value.split("/");
    let runId = "", model = "";
    try {
      [runId, model] = parts.map(decodeURIComponent);
    } catch { /* a malformed escape: not a side */ }
    const run = ready.find((r) => r.id === runId);
    if (parts.length !== 2 || !run || !models(run).includes(model)) {
      return `Model ${key.toUpperCase()} ("${value}") is no model of a ready run.`;
    }
    return { run, model };
  };
  let a = named("a");
  if (typeof a === "string") return { message: a };
  if (!a) {
    const r = ready.find((x) => models(x).length);
    if (!r) return { message: "No readable run with a model." };
    a = { run: r, model: models(r)[0] };
  }
  const first = a;
  let b = named("b");
  if (typeof b === "string") return { message: b };
  if (!b) {
    const own = models(first.run).filter((m) => m !== first.model);
    const control = own.find((m) => m === `${first.model}-random`) ?? own[0];
    const other = ready.find((r) => r !== first.run && models(r).length);
    b = control !== undefined
      ? { run: first.run, model: control }
      : other && { run: other, model: models(other)[0] };
  }
  if (!b) {
    return {
      message: `Run ${first.run.id} has one model only (${first.model}), and no other run ` +
        "has one: a comparison needs two models.",
    };
  }
  return { a: first, b };
}

/** An atom's best network: the template cell with the largest Dice, either sign. */
export interface BestNetwork {
  network: string;
  sign: number;
  dice: number;
  linked: boolean;
}

/** One matched pair of atoms, A's and B's. */
export interface MatchedPair {
  atomA: number;
  atomB: number;
  /** Pearson r of the two time courses (signed; NaN when one is constant). */
  r: number;
  bestA?: BestNetwork;
  bestB?: BestNetwork;
}

/**
 * Pair A's atoms with B's one to one ({@linkcode matchAtoms}: Hungarian
 * assignment maximizing Σ|r|), sorted by |r| descending (NaN last, ties by A's atom).
 *
 * @param a A's atom time courses: K_A columns of T values (as {@linkcode atomCourses} returns)
 * @param b B's, K_B columns of the same T values
 * @returns `min(K_A, K_B)` pairs; none when either side has no atoms or T differs
 *
 * @example
 * ```ts
 * matchedPairs([[1, 2, 3]], [[3, 2, 1], [1, 2, 4]]); // [{ atomA: 0, atomB: 1, r: 0.98… }]
 * ```
 */
export function matchedPairs(a: number[][], b: number[][]): MatchedPair[] {
  const T = a[0]?.length ?? 0;
  if (!T || !b.length || a.some((c) => c.length !== T) || b.some((c) => c.length !== T)) return [];
  const pairs = matchAtoms(columnsToMatrix(a), columnsToMatrix(b));
  const key = (r: number) => Number.isNaN(r) ? -1 : Math.abs(r);
  return pairs.map((p) => ({ atomA: p.atom, atomB: p.matchedAtom, r: p.r }))
    .sort((x, y) => key(y.r) - key(x.r) || x.atomA - y.atomA);
}

/** K columns of T values → a (T × K) row-major float32 matrix, as matchAtoms takes it. */
function columnsToMatrix(cols: number[][]) {
  const T = cols[0].length, K = cols.length, data = new Float32Array(T * K);
  for (let k = 0; k < K; k++) for (let t = 0; t < T; t++) data[t * K + k] = cols[k][t];
  return { rows: T, cols: K, data };
}

/** Each atom's best network of {@linkcode VIEWER_ATLAS}, by atom. */
export function bestNetworks(cells: Cell[]): Map<number, BestNetwork> {
  const best = new Map<number, BestNetwork>();
  for (const c of cells) {
    const old = best.get(c.atom);
    if (Number.isFinite(c.dice) && (!old || c.dice > old.dice)) {
      best.set(c.atom, { network: c.networkName, sign: c.sign, dice: c.dice, linked: c.linked });
    }
  }
  return best;
}

/** A model's atom stability, summarized over its atoms (`stability.csv`, where computed). */
export interface StabilityView {
  atoms: number;
  mean: number;
  /** Standard deviation over atoms (n − 1). */
  sd: number;
  median: number;
  stable: number;
}

const STABILITY = {
  atom: { kind: "int", max: MAX_ATOMS - 1 },
  stability: { kind: "number" },
  stable: { kind: "bool" },
} as const;

/** Mean ± sd, median and stable count of a model's per-atom stability; undefined when not computed. */
export async function stabilityView(
  run: Run,
  model: string,
  problems: Problem[],
): Promise<StabilityView | undefined> {
  const { rows } = await readTable(run, {
    table: modelFiles(model).stability,
    columns: STABILITY,
    problems,
  });
  const xs = rows.map((r) => r.stability).filter(Number.isFinite).sort((x, y) => x - y);
  if (!xs.length) return undefined;
  const n = xs.length, mean = xs.reduce((s, x) => s + x, 0) / n;
  const sd = n > 1 ? Math.sqrt(xs.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - 1)) : NaN;
  const median = n % 2 ? xs[(n - 1) / 2] : (xs[n / 2 - 1] + xs[n / 2]) / 2;
  return { atoms: n, mean, sd, median, stable: rows.filter((r) => r.stable).length };
}

/** Everything the page shows of one side. */
export interface SideView {
  run: string;
  model: string;
  atoms: number;
  metrics?: MetricsView;
  /**
   * Bootstrap intervals of the metrics over subjects, by the summary's metric name
   * (`linkedAtoms`, …, `consistency.timeCourse`), where the run computed them.
   */
  intervals?: Record<string, { low: number; high: number }>;
  stability?: StabilityView;
  best: Map<number, BestNetwork>;
  /** Whether the run has a group t map for this model (the viewer's maps). */
  voxel: boolean;
}

/** Read one side: its courses, best networks, metrics of {@linkcode VIEWER_ATLAS} and stability. */
export async function sideView(
  side: Side,
  problems: Problem[],
): Promise<{ view: SideView; courses: number[][] }> {
  const { run, model } = side;
  const courses = await atomCourses(run, model, problems);
  const voxel = run.summary!.voxel?.models.find((m) => m.name === model);
  const template = voxel?.templates.find((t) => t.name === VIEWER_ATLAS);
  const best = template
    ? bestNetworks(await networkCells(run, model, VIEWER_ATLAS, problems))
    : new Map();
  return {
    courses,
    view: {
      run: run.id,
      model,
      atoms: courses.length,
      metrics: template?.metrics,
      ...(template?.intervals?.length
        ? {
          intervals: Object.fromEntries(
            template.intervals.map((i) => [i.metric, { low: i.low, high: i.high }]),
          ),
        }
        : {}),
      stability: await stabilityView(run, model, problems),
      best,
      voxel: !!voxel,
    },
  };
}

/** Share of pairs with |r| above `threshold` (default 0.5); NaN with no pairs. */
export function shareAbove(pairs: MatchedPair[], threshold = 0.5): number {
  return pairs.length ? pairs.filter((p) => Math.abs(p.r) > threshold).length / pairs.length : NaN;
}
