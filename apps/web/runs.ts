/**
 * Results folders as the dashboard sees them: each one checked (missing,
 * partial, corrupt or ready), its summary and provenance read once per
 * version of their files into checked views with their problems (a new run
 * writing the folder is seen on the next request), and its files resolved
 * only inside the folder.
 *
 * @module
 */

import { basename, join, normalize, relative, resolve, sep } from "node:path";
import { type Problem, problemText, shown } from "./problems.ts";
import { readSummary, type SummaryView } from "./summary.ts";
import { fileCache } from "./file_cache.ts";

/** What the run overview shows of `provenance.json`. */
export interface ProvenanceView {
  createdAt?: string;
  seed?: string;
  /** Parameter name and its value as JSON text. */
  parameters: [string, string][];
  inputs: number;
}

/** A results folder given on the command line. */
export interface Run {
  /** URL-safe, unique name. */
  id: string;
  /** The folder, absolute. */
  dir: string;
  /** The folder as given on the command line (its messages name it so). */
  given?: string;
  status: "ready" | "missing" | "partial" | "corrupt";
  /** What makes the run unreadable (status other than ready), for its card and error page. */
  problem?: string;
  /** The checked summary (ready runs only). */
  summary?: SummaryView;
  /** Fields of `summary.json` and `provenance.json` that the pages could not use. */
  problems: Problem[];
  provenance: ProvenanceView;
}

function slug(text: string): string {
  return text.replace(/[^A-Za-z0-9._-]+/g, "-").replace(/^-+|-+$/g, "") || "run";
}

/** Larger summary or provenance files are not read (the demo's summary is about 100 KiB). */
export const MAX_JSON_BYTES = 64 * 2 ** 20;

/** Text of a file, or why there is none: absent, too large, not UTF-8, or unreadable. */
async function readText(
  path: string,
): Promise<{ text: string } | { missing: true } | { error: string }> {
  let bytes: Uint8Array;
  try {
    const size = (await Deno.stat(path)).size;
    if (size > MAX_JSON_BYTES) {
      const mib = (n: number) => `${(n / 2 ** 20).toFixed(0)} MiB`;
      return {
        error: `it is ${mib(size)}, more than the ${mib(MAX_JSON_BYTES)} the dashboard reads`,
      };
    }
    bytes = await Deno.readFile(path);
  } catch (err) {
    return err instanceof Deno.errors.NotFound
      ? { missing: true }
      : { error: (err as Error).message };
  }
  try {
    return { text: new TextDecoder("utf-8", { fatal: true }).decode(bytes) };
  } catch {
    return { error: "not UTF-8 text" };
  }
}

/** `provenance.json` checked, kept in {@linkcode fileCache} until it changes. */
async function readProvenance(dir: string): Promise<{ view: ProvenanceView; problems: Problem[] }> {
  const file = "provenance.json";
  return await fileCache.get(join(dir, file), "provenance", checkProvenance) ??
    { view: { parameters: [], inputs: 0 }, problems: [{ file, message: "is missing" }] };
}

async function checkProvenance(
  path: string,
): Promise<{ view: ProvenanceView; problems: Problem[] }> {
  const file = "provenance.json", view: ProvenanceView = { parameters: [], inputs: 0 };
  const read = await readText(path);
  if ("missing" in read) return { view, problems: [{ file, message: "is missing" }] };
  if ("error" in read) {
    return { view, problems: [{ file, message: `cannot be read: ${read.error}` }] };
  }
  let p: unknown;
  try {
    p = JSON.parse(read.text);
  } catch (err) {
    return { view, problems: [{ file, message: `is not valid JSON (${(err as Error).message})` }] };
  }
  if (p === null || typeof p !== "object" || Array.isArray(p)) {
    return { view, problems: [{ file, expected: "an object", found: shown(p) }] };
  }
  const o = p as Record<string, unknown>, problems: Problem[] = [];
  if (typeof o.createdAt === "string") view.createdAt = o.createdAt;
  else if (o.createdAt !== undefined) {
    problems.push({
      file,
      field: 'field "createdAt"',
      expected: "a string",
      found: shown(o.createdAt),
    });
  }
  if (o.seed !== undefined) view.seed = String(o.seed);
  if (o.parameters !== null && typeof o.parameters === "object" && !Array.isArray(o.parameters)) {
    view.parameters = Object.entries(o.parameters).map(([k, v]) => [k, JSON.stringify(v) ?? ""]);
  } else if (o.parameters !== undefined) {
    problems.push({
      file,
      field: 'field "parameters"',
      expected: "an object",
      found: shown(o.parameters),
    });
  }
  view.inputs = Array.isArray(o.inputs) ? o.inputs.length : 0;
  return { view, problems };
}

/** What a run's `summary.json` makes of it: its status, or its checked summary. */
type SummaryOutcome = Pick<Run, "status" | "problem" | "summary" | "problems">;

async function checkSummary(file: string): Promise<SummaryOutcome> {
  const read = await readText(file);
  if ("missing" in read) {
    return {
      status: "partial",
      problem: `${file} is missing: the run did not finish, or this is not a ` +
        `results folder of 'deno task analyze'`,
      problems: [],
    };
  }
  if ("error" in read) {
    return { status: "corrupt", problem: `${file} cannot be read: ${read.error}`, problems: [] };
  }
  let raw: unknown;
  try {
    raw = JSON.parse(read.text);
  } catch (err) {
    return {
      status: "corrupt",
      problem: `${file} is not valid JSON (${(err as Error).message})`,
      problems: [],
    };
  }
  const { summary, problems, fatal } = readSummary(raw, "summary.json");
  if (!summary) {
    return { status: "corrupt", problem: problemText({ ...fatal!, file }), problems: [] };
  }
  return { status: "ready", summary, problems };
}

/**
 * Check one folder. Its summary and provenance are read once per version
 * of their files (kept in {@linkcode fileCache}), so checking a folder
 * again costs a few `stat` calls unless a new run rewrote or replaced it.
 */
export async function loadRun(dir: string, id: string): Promise<Run> {
  const run: Run = {
    id,
    dir: resolve(dir),
    status: "ready",
    problems: [],
    provenance: { parameters: [], inputs: 0 },
  };
  try {
    if (!(await Deno.stat(dir)).isDirectory) throw new Deno.errors.NotFound();
  } catch {
    return { ...run, status: "missing", problem: `${dir} does not exist or is not a folder` };
  }
  const file = join(dir, "summary.json");
  const outcome = await fileCache.get(resolve(file), "summary", () => checkSummary(file)) ??
    await checkSummary(file);
  if (outcome.status !== "ready") return { ...run, ...outcome };
  const provenance = await readProvenance(run.dir);
  return {
    ...run,
    summary: outcome.summary,
    problems: [...outcome.problems, ...provenance.problems],
    provenance: provenance.view,
  };
}

/**
 * The runs as their folders are now, in place: a folder rewritten or
 * replaced by a new run since it was last checked is read again (same id),
 * an unchanged one costs a few `stat` calls and keeps its checked views.
 *
 * @param runs the runs to refresh (changed in place, and returned)
 */
export async function refreshRuns(runs: Run[]): Promise<Run[]> {
  const fresh = await Promise.all(
    runs.map(async (r) => ({ ...(await loadRun(r.given ?? r.dir, r.id)), given: r.given })),
  );
  fresh.forEach((r, i) => (runs[i] = r));
  return runs;
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
    runs.push({ ...(await loadRun(dir, id)), given: dir });
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
    if (r === "" || r.startsWith("..") || r.startsWith(sep)) return null;
    return (await Deno.stat(real)).isFile ? real : null;
  } catch {
    return null;
  }
}

/** The most files the downloads page lists, and how deep it looks. */
export const MAX_LISTED_FILES = 10_000, MAX_DEPTH = 16;

/**
 * Every regular file of the run (symlinks are not followed), relative
 * paths with `/`, sorted; at most {@linkcode MAX_LISTED_FILES}, at most
 * {@linkcode MAX_DEPTH} folders deep. Unreadable folders are skipped and
 * named in `problems`. `options.sizes: false` skips the sizes (NaN), for
 * pages that need the names only (default: true).
 */
export async function listRunFiles(
  run: Run,
  problems: Problem[] = [],
  options: { sizes?: boolean } = {},
): Promise<{ path: string; size: number }[]> {
  const out: { path: string; size: number }[] = [];
  const walk = async (dir: string, depth: number): Promise<void> => {
    let entries: Deno.DirEntry[];
    try {
      entries = await Array.fromAsync(Deno.readDir(join(run.dir, dir)));
    } catch (err) {
      problems.push({ file: dir || ".", message: `cannot be listed: ${(err as Error).message}` });
      return;
    }
    const files = entries.filter((e) => e.isFile).slice(0, MAX_LISTED_FILES - out.length);
    // Sizes in parallel: one round trip per folder, not one per file (NaN when not asked for).
    const sizes = options.sizes === false ? files.map(() => NaN) : await Promise.all(
      files.map((e) => Deno.stat(join(run.dir, dir, e.name)).then((s) => s.size, () => -1)),
    );
    files.forEach((e, i) => {
      if (!(sizes[i] < 0)) out.push({ path: dir ? `${dir}/${e.name}` : e.name, size: sizes[i] });
    });
    for (const e of entries) {
      if (e.isDirectory && depth < MAX_DEPTH && out.length < MAX_LISTED_FILES) {
        await walk(dir ? `${dir}/${e.name}` : e.name, depth + 1);
      }
    }
  };
  await walk("", 0);
  if (out.length >= MAX_LISTED_FILES) {
    problems.push({
      file: ".",
      message: `has more than ${MAX_LISTED_FILES} files; the first are listed`,
    });
  }
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
