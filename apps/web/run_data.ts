/**
 * What the pages read from a results folder's tables, checked and
 * aggregated on the server so that no per-AN array reaches the browser.
 * Every reader adds what it could not use to the page's `problems`.
 *
 * @module
 */

import { h } from "preact";
import { htmlResponse } from "./render.ts";
import { ErrorPage } from "./components/ErrorPage.tsx";
import { capProblems, type Problem, shown } from "./problems.ts";
import type { RouteContext } from "./router.ts";
import type { Run } from "./runs.ts";
import { MAX_ATOMS } from "./summary.ts";
import { isProblem, readCell, readCsv, readTable } from "./tables.ts";
import { modelFiles, networkDisplayName, templateFiles, voxelFiles } from "@brainorg/core/results";

/** The most layers, networks and volumes a table may index (far above any real run). */
export const MAX_LAYERS = 1024, MAX_NETWORKS = 1024, MAX_VOLUMES = 100_000;

/** The run named in the URL, or an error page (404 unknown, 422 not readable). */
export function findRun(ctx: RouteContext): Run | Response {
  const run = ctx.runs.find((r) => r.id === ctx.params.run);
  const page = (title: string, message: string, status: number) =>
    htmlResponse(h(ErrorPage, { title, message }), status);
  if (!run) return page("Unknown run", `No results folder is called "${ctx.params.run}".`, 404);
  if (run.status !== "ready" || !run.summary) {
    return page(`Run ${run.id} is ${run.status}`, run.problem ?? "", 422);
  }
  return run;
}

/** The label template drawn as outlines in the brain viewer (every voxel-level run writes it). */
export const VIEWER_ATLAS = "Yeo-7";

/**
 * Where the viewer starts its colour threshold for a map of the run: a group
 * t map at the run's own map threshold (`summary.voxel.threshold`), a mean r
 * map at 0.1, the noise ceiling at 0.2 (the smallest ceiling a fraction is
 * read against), an R² map at 0.02, a label map at 0.5 (every label), anything else (a
 * subject's coefficient z) at |z| 2; the user can move it.
 */
export function viewerThreshold(run: Run, map: string): number {
  const t = run.summary?.voxel?.threshold;
  if (/group_t\.nii/.test(map) && typeof t === "number" && Number.isFinite(t) && t > 0) {
    return Number(t.toFixed(1));
  }
  if (map.includes("noise_ceiling")) return 0.2;
  // R² maps (a subject's CV R², the variance partitioning's unique and shared parts).
  if (/_r2\.nii/.test(map)) return 0.02;
  return map.includes("mean_r") ? 0.1 : map.includes("labels") ? 0.5 : 2;
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

const CELL = {
  atom: { kind: "int", max: MAX_ATOMS - 1 },
  sign: { kind: "int", min: -1, max: 1 },
  network: { kind: "int", max: MAX_NETWORKS },
  networkName: { kind: "string" },
  dice: { kind: "number" },
  overlap: { kind: "number" },
  p: { kind: "number" },
  q: { kind: "number" },
  pFWE: { kind: "number" },
  voxels: { kind: "number" },
  linked: { kind: "bool" },
} as const;

/**
 * Cells with readable network names, per table version's rows (shared, like
 * the rows): a page under load names a table once, not once per request.
 */
const named = new WeakMap<object, Cell[]>();

/**
 * Every cell of a model × template set (`voxels/<model>/networks_<set>.csv`),
 * `networkName` as people read it ({@linkcode networkDisplayName}: `Limbic`,
 * not the file's `5_Lymbic_Area`). Read them, never change them.
 */
export async function networkCells(
  run: Run,
  model: string,
  set: string,
  problems: Problem[],
): Promise<Cell[]> {
  const table = voxelFiles(model).networks(set);
  const { rows } = await readTable(run, { table, columns: CELL, problems, required: true });
  let cells = named.get(rows);
  if (!cells) {
    cells = rows.map((r) => ({ ...r, networkName: networkDisplayName(set, r.networkName) }));
    named.set(rows, cells);
  }
  return cells;
}

/** A cell's spatial null (`spatial_null_<set>.csv`), where the run computed one. */
export interface SpatialCell {
  spatialP: number;
  linkedBoth: boolean;
}

const SPATIAL = {
  atom: { kind: "int", max: MAX_ATOMS - 1 },
  sign: { kind: "int", min: -1, max: 1 },
  network: { kind: "int", max: MAX_NETWORKS },
  spatialP: { kind: "number" },
  linkedBoth: { kind: "bool" },
} as const;

/**
 * The spatial null of every cell of a model × template set, keyed
 * `atom/sign/network`; empty where the run has none (the table is optional).
 */
export async function spatialNullCells(
  run: Run,
  model: string,
  set: string,
  problems: Problem[],
): Promise<Map<string, SpatialCell>> {
  const table = voxelFiles(model).spatialNull(set);
  const { rows } = await readTable(run, { table, columns: SPATIAL, problems });
  return new Map(rows.map((r) => [`${r.atom}/${r.sign}/${r.network}`, r]));
}

/**
 * Atom time courses of a model (`models/<model>/atoms.csv`: `volume,atom0,…`),
 * as K columns of T values (NaN where a cell is not a number).
 */
export async function atomCourses(
  run: Run,
  model: string,
  problems: Problem[],
): Promise<number[][]> {
  const path = modelFiles(model).atoms;
  const csv = await readCsv(run, path);
  if (csv === null) return (problems.push({ file: path, message: "is missing" }), []);
  if (isProblem(csv)) return (problems.push(csv), []);
  const columns = csv.header.map((name, i) => ({
    name,
    i,
    k: Number(/^atom(\d+)$/.exec(name)?.[1]),
  }))
    .filter((c) => Number.isInteger(c.k) && c.k < MAX_ATOMS).sort((a, b) => a.k - b.k);
  if (!columns.length) {
    problems.push({
      file: path,
      field: "header",
      expected: "columns volume, atom0, atom1, …",
      found: csv.header.length ? csv.header.slice(0, 5).join(", ") : "an empty file",
    });
    return [];
  }
  if (csv.rows.length > MAX_VOLUMES) {
    problems.push({
      file: path,
      message: "has more volumes than the dashboard draws; the first are shown",
      expected: `at most ${MAX_VOLUMES}`,
      found: String(csv.rows.length),
    });
  }
  const rows = csv.rows.slice(0, MAX_VOLUMES), mine: Problem[] = [];
  const courses = columns.map((c) =>
    rows.map((cells, r) => {
      const read = readCell(cells[c.i] ?? "", { kind: "number" });
      if ("value" in read) return read.value as number;
      mine.push({
        file: path,
        field: `line ${r + 2}, column "${c.name}"`,
        expected: read.expected,
        found: shown(cells[c.i] ?? ""),
      });
      return NaN;
    })
  );
  problems.push(...capProblems(mine));
  return courses;
}

const SUBGROUP = {
  atom: { kind: "int", max: MAX_ATOMS - 1 },
  layer: { kind: "int", max: MAX_LAYERS - 1 },
  positive: { kind: "number" },
  negative: { kind: "number" },
} as const;

/** Per atom, its sub-group's AN count per layer (K × layers), positive and negative. */
export async function layerCounts(
  run: Run,
  model: string,
  problems: Problem[],
): Promise<{ positive: number[][]; negative: number[][] }> {
  const { rows } = await readTable(run, {
    table: modelFiles(model).subgroups,
    columns: SUBGROUP,
    problems,
    required: true,
  });
  // A loop, not Math.max(...rows): a long table would overflow the argument list.
  const K = rows.reduce((m, r) => Math.max(m, r.atom + 1), 0);
  const L = rows.reduce((m, r) => Math.max(m, r.layer + 1), 0);
  const positive = Array.from({ length: K }, () => new Array<number>(L).fill(0));
  const negative = Array.from({ length: K }, () => new Array<number>(L).fill(0));
  for (const r of rows) {
    positive[r.atom][r.layer] = r.positive;
    negative[r.atom][r.layer] = r.negative;
  }
  return { positive, negative };
}

const NAMES = { index: { kind: "int", max: MAX_NETWORKS }, name: { kind: "string" } } as const;

/**
 * Names of the template networks, by label (from `voxels/networks_<set>.csv`),
 * as people read them ({@linkcode networkDisplayName}).
 */
export async function networkNames(
  run: Run,
  set: string,
  problems: Problem[],
): Promise<Record<string, string>> {
  const { rows } = await readTable(run, {
    table: templateFiles(set).names,
    columns: NAMES,
    problems,
  });
  return Object.fromEntries(rows.map((r) => [String(r.index), networkDisplayName(set, r.name)]));
}

/** Format a number (or a CSV cell) for tables; "—" for missing, null (a JSON NaN) or non-finite. */
export function fmt(x: unknown, digits = 3): string {
  if (x === null || x === undefined || x === "") return "—";
  const n = Number(x);
  return Number.isFinite(n) ? n.toFixed(digits) : "—";
}
