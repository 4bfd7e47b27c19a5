/**
 * What the pages read from a results folder, aggregated on the server so
 * that no per-AN array reaches the browser.
 *
 * @module
 */

import { h } from "preact";
import { htmlResponse } from "./render.ts";
import { ErrorPage } from "./components/ErrorPage.tsx";
import type { RouteContext } from "./router.ts";
import { readRunCsv, type Run } from "./runs.ts";

/** The run named in the URL, or an error page (404 unknown, 422 not readable). */
export function findRun(ctx: RouteContext): Run | Response {
  const run = ctx.runs.find((r) => r.id === ctx.params.run);
  const page = (title: string, message: string, status: number) =>
    htmlResponse(h(ErrorPage, { title, message }), status);
  if (!run) return page("Unknown run", `No results folder is called "${ctx.params.run}".`, 404);
  if (run.status !== "ready") {
    return page(`Run ${run.id} is ${run.status}`, run.problem ?? "", 422);
  }
  return run;
}

/** One network-matching cell as read from `networks_<set>.csv`. */
export interface Cell {
  atom: number;
  sign: number;
  network: number;
  networkName: string;
  dice: number;
  overlap: number;
  p: number;
  q: number;
  pFWE: number;
  voxels: number;
  linked: boolean;
}

/** Every cell of a model × template set. */
export async function networkCells(run: Run, model: string, set: string): Promise<Cell[]> {
  const rows = await readRunCsv(run, `voxels/${model}/networks_${set}.csv`);
  return rows.map((r) => ({
    atom: Number(r.atom),
    sign: Number(r.sign),
    network: Number(r.network),
    networkName: r.networkName,
    dice: Number(r.dice),
    overlap: Number(r.overlap),
    p: Number(r.p),
    q: Number(r.q),
    pFWE: Number(r.pFWE),
    voxels: Number(r.voxels),
    linked: r.linked === "true",
  }));
}

/** Atom time courses (T × K) of a model, as columns. */
export async function atomCourses(run: Run, model: string): Promise<number[][]> {
  const rows = await readRunCsv(run, `models/${model}/atoms.csv`);
  if (!rows.length) return [];
  const keys = Object.keys(rows[0]).filter((k) => k.startsWith("atom"));
  return keys.map((k) => rows.map((r) => Number(r[k])));
}

/** Per atom, its sub-group's AN count per layer (K × layers), positive and negative. */
export async function layerCounts(
  run: Run,
  model: string,
): Promise<{ positive: number[][]; negative: number[][] }> {
  const rows = await readRunCsv(run, `models/${model}/subgroups.csv`);
  const K = Math.max(-1, ...rows.map((r) => Number(r.atom))) + 1;
  const L = Math.max(-1, ...rows.map((r) => Number(r.layer))) + 1;
  const positive = Array.from({ length: K }, () => new Array(L).fill(0));
  const negative = Array.from({ length: K }, () => new Array(L).fill(0));
  for (const r of rows) {
    positive[Number(r.atom)][Number(r.layer)] = Number(r.positive);
    negative[Number(r.atom)][Number(r.layer)] = Number(r.negative);
  }
  return { positive, negative };
}

/** Names of the template networks, by label (from `voxels/networks_<set>.csv`). */
export async function networkNames(run: Run, set: string): Promise<Record<string, string>> {
  const rows = await readRunCsv(run, `voxels/networks_${set}.csv`);
  return Object.fromEntries(rows.map((r) => [r.index, r.name]));
}

/** Format a number (or a CSV cell) for tables; "—" for missing, null (a JSON NaN) or non-finite. */
export function fmt(x: unknown, digits = 3): string {
  if (x === null || x === undefined || x === "") return "—";
  const n = Number(x);
  return Number.isFinite(n) ? n.toFixed(digits) : "—";
}
