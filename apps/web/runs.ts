/**
 * Results folders as the dashboard sees them: each one checked (missing,
 * partial, corrupt or ready), its summary parsed, its tables read on
 * demand, and its files resolved only inside the folder.
 *
 * @module
 */

import { basename, join, normalize, relative, resolve, sep } from "node:path";

/** A results folder given on the command line. */
export interface Run {
  /** URL-safe, unique name. */
  id: string;
  dir: string;
  status: "ready" | "missing" | "partial" | "corrupt";
  /** What is wrong, for the error page. */
  problem?: string;
  // deno-lint-ignore no-explicit-any
  summary?: any;
  createdAt?: string;
}

function slug(text: string): string {
  return text.replace(/[^A-Za-z0-9._-]+/g, "-").replace(/^-+|-+$/g, "") || "run";
}

/** Check one folder. */
export async function loadRun(dir: string, id: string): Promise<Run> {
  const run: Run = { id, dir: resolve(dir), status: "ready" };
  try {
    if (!(await Deno.stat(dir)).isDirectory) throw new Deno.errors.NotFound();
  } catch {
    return { ...run, status: "missing", problem: `${dir} does not exist or is not a folder` };
  }
  let text: string;
  try {
    text = await Deno.readTextFile(join(dir, "summary.json"));
  } catch {
    return {
      ...run,
      status: "partial",
      problem:
        `${join(dir, "summary.json")} is missing: the run did not finish, or this is not a ` +
        `results folder of 'deno task analyze'`,
    };
  }
  try {
    run.summary = JSON.parse(text);
  } catch (err) {
    return {
      ...run,
      status: "corrupt",
      problem: `${join(dir, "summary.json")} is not valid JSON (${(err as Error).message})`,
    };
  }
  if (
    typeof run.summary?.schema !== "string" || !run.summary.schema.startsWith("brainorg.results/")
  ) {
    return {
      ...run,
      status: "corrupt",
      problem: `${join(dir, "summary.json")} has no brainorg results schema (field "schema": ` +
        `expected "brainorg.results/N", found ${JSON.stringify(run.summary?.schema)})`,
    };
  }
  try {
    run.createdAt = JSON.parse(await Deno.readTextFile(join(dir, "provenance.json"))).createdAt;
  } catch { /* provenance is optional for display */ }
  return run;
}

/** Check every folder; ids from folder names, made unique. */
export async function loadRuns(dirs: string[]): Promise<Run[]> {
  const seen = new Map<string, number>();
  const runs: Run[] = [];
  for (const dir of dirs) {
    let id = slug(basename(resolve(dir)));
    const n = seen.get(id) ?? 0;
    seen.set(id, n + 1);
    if (n > 0) id = `${id}-${n + 1}`;
    runs.push(await loadRun(dir, id));
  }
  return runs;
}

/**
 * A file inside the run's folder, or null when the path leaves it (`..`,
 * absolute paths, symlinks pointing out) or does not exist.
 */
export async function resolveRunFile(run: Run, path: string): Promise<string | null> {
  if (path.includes("\0")) return null;
  const target = normalize(join(run.dir, path));
  const rel = relative(run.dir, target);
  if (rel === "" || rel.startsWith("..") || rel.startsWith(sep) || /^[A-Za-z]:/.test(rel)) {
    return null;
  }
  try {
    const real = await Deno.realPath(target);
    const realRoot = await Deno.realPath(run.dir);
    const r = relative(realRoot, real);
    if (r.startsWith("..") || r.startsWith(sep)) return null;
    return (await Deno.stat(real)).isFile ? real : null;
  } catch {
    return null;
  }
}

/** Parse a CSV written by brainorg (header row; quoted cells allowed). */
export function parseCsv(text: string): Record<string, string>[] {
  const rows: string[][] = [];
  let row: string[] = [], cell = "", quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') (cell += '"'), i++;
      else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") (row.push(cell), (cell = ""));
    else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i++;
      row.push(cell);
      rows.push(row);
      (row = []), (cell = "");
    } else cell += c;
  }
  if (cell !== "" || row.length) (row.push(cell), rows.push(row));
  const [header, ...body] = rows.filter((r) => r.length > 1 || r[0] !== "");
  return body.map((r) => Object.fromEntries(header.map((h, i) => [h, r[i] ?? ""])));
}

/** A CSV of the run, or [] when it is absent. */
export async function readRunCsv(run: Run, path: string): Promise<Record<string, string>[]> {
  const file = await resolveRunFile(run, path);
  if (!file) return [];
  return parseCsv(await Deno.readTextFile(file));
}

/** Every file of the run, relative paths, sorted. */
export async function listRunFiles(run: Run, dir = ""): Promise<{ path: string; size: number }[]> {
  const out: { path: string; size: number }[] = [];
  for await (const e of Deno.readDir(join(run.dir, dir))) {
    const rel = dir ? `${dir}/${e.name}` : e.name;
    if (e.isDirectory) out.push(...await listRunFiles(run, rel));
    else if (e.isFile) out.push({ path: rel, size: (await Deno.stat(join(run.dir, rel))).size });
  }
  return out.sort((a, b) => a.path.localeCompare(b.path));
}
