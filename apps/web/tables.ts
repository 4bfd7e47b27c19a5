/**
 * The CSV tables of a results folder, read with their columns checked: a
 * missing column, a cell that is not a number, an index out of range, each
 * becomes a {@linkcode Problem} naming the file, line and column, and the
 * page shows what remains. Parsed files are kept in memory while the file
 * stays the same version (see {@linkcode fileCache}), so pages under load
 * do not parse the same words table on every request.
 *
 * @module
 */

import { capProblems, type Problem, shown } from "./problems.ts";
import { fileCache } from "./file_cache.ts";
import { resolveRunFile, type Run } from "./runs.ts";

/** Larger tables are not read (a results CSV is at most a few MiB). */
export const MAX_TABLE_BYTES = 64 * 2 ** 20;

/** How a column's cells are read. */
export type ColumnSpec =
  | { kind: "string" }
  | { kind: "bool" }
  /**
   * A number; "NaN" and "" are NaN (the writer writes non-finite values as
   * NaN). `optional`: a column added to the schema later, NaN in folders
   * written before it, rather than a problem.
   */
  | { kind: "number"; optional?: boolean }
  /** A whole number in [min, max] (default min 0); a row with another value is dropped. */
  | { kind: "int"; min?: number; max: number };

/** Columns by name. */
export type TableSpec = Record<string, ColumnSpec>;

/** A row as typed by its spec. */
export type Row<S extends TableSpec> = {
  [K in keyof S]: S[K] extends { kind: "string" } ? string
    : S[K] extends { kind: "bool" } ? boolean
    : number;
};

/** A table's rows and whether its file was there at all. */
export interface Table<S extends TableSpec> {
  rows: Row<S>[];
  missing: boolean;
}

/** A parsed CSV: its header and its rows of cells. */
export interface CsvText {
  header: string[];
  rows: string[][];
}

/**
 * Parse a CSV written by brainorg (header row; RFC 4180 quoting). Blank
 * lines are skipped. A text without quotes (every numeric table: a members
 * table of 1.7 × 10⁶ rows parses in about a second instead of ten) is split
 * by lines and commas; with quotes, read character by character.
 */
export function parseCsv(text: string): CsvText {
  if (!text.includes('"')) {
    const rows: string[][] = [];
    for (const line of text.split(/\r\n?|\n/)) if (line !== "") rows.push(line.split(","));
    const [header = [], ...body] = rows;
    return { header, rows: body };
  }
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
  const [header = [], ...body] = rows.filter((r) => r.length > 1 || r[0] !== "");
  return { header, rows: body };
}

/**
 * Rows already typed, per parsed file and spec object: pages declare their
 * specs once, so under load a table is converted once per file version.
 */
const typed = new WeakMap<CsvText, Map<TableSpec, { rows: unknown[]; problems: Problem[] }>>();
/** Larger tables are parsed per request (the members table has its own reduced cache). */
const CACHE_MAX_BYTES = 16 * 2 ** 20;

async function parseFile(file: string, path: string, size: number): Promise<CsvText | Problem> {
  if (size > MAX_TABLE_BYTES) {
    return {
      file: path,
      message: "too large to show",
      expected: `at most ${MAX_TABLE_BYTES / 2 ** 20} MiB`,
      found: `${(size / 2 ** 20).toFixed(0)} MiB`,
    };
  }
  try {
    return parseCsv(new TextDecoder("utf-8", { fatal: true }).decode(await Deno.readFile(file)));
  } catch (err) {
    return { file: path, message: `cannot be read as UTF-8 text (${(err as Error).message})` };
  }
}

/**
 * A CSV of the run, parsed: null when the file is absent (or outside the
 * folder), a problem when it cannot be read as text. Kept in
 * {@linkcode fileCache} until the file changes.
 */
export async function readCsv(run: Run, path: string): Promise<CsvText | Problem | null> {
  const file = await resolveRunFile(run, path);
  if (!file) return null;
  return await fileCache.get(file, "csv", (f, stat) => parseFile(f, path, stat.size), {
    bytes: (stat) => (stat.size > CACHE_MAX_BYTES ? Infinity : stat.size),
  });
}

/** Whether a parse result is a problem rather than a table. */
export function isProblem(x: CsvText | Problem | null): x is Problem {
  return x !== null && "file" in x;
}

/**
 * Read one cell by its spec.
 *
 * @returns the value, or a description of what was expected when the cell does not fit
 */
export function readCell(
  cell: string,
  spec: ColumnSpec,
): { value: string | number | boolean } | { expected: string } {
  switch (spec.kind) {
    case "string":
      return { value: cell };
    case "bool":
      return cell === "true" || cell === "false"
        ? { value: cell === "true" }
        : { expected: '"true" or "false"' };
    case "number": {
      if (cell === "" || cell === "NaN") return { value: NaN };
      const n = Number(cell);
      return Number.isFinite(n) ? { value: n } : { expected: "a finite number or NaN" };
    }
    case "int": {
      const n = Number(cell), min = spec.min ?? 0;
      return cell !== "" && Number.isInteger(n) && n >= min && n <= spec.max
        ? { value: n }
        : { expected: `a whole number from ${min} to ${spec.max}` };
    }
  }
}

/** What {@linkcode readTable} reads, and where it reports. */
export interface TableRequest<S extends TableSpec> {
  /**
   * The table as `@brainorg/core/results` describes it (path relative to the
   * run's folder, columns as written), e.g. `RESULT_FILES.modelsGroup`.
   */
  table: { readonly path: string; readonly columns: readonly string[] };
  /**
   * The columns the page uses (others are ignored), each a column the table
   * has in the results schema; declare it once, as a constant.
   */
  columns: S;
  /**
   * Where problems are added: a missing file when `required`, a missing
   * column (then no rows), cells that do not fit (an int: the row is
   * dropped; a number or bool: NaN or false).
   */
  problems: Problem[];
  /** A missing file is a problem. Default: false. */
  required?: boolean;
}

/**
 * A table of the run with its columns checked.
 *
 * @param run the run
 * @param request the file, its columns, where problems go, whether it must exist
 * @returns the rows, shared with later calls on the same file and `columns`
 *   object: read them, never change them
 *
 * @example
 * ```ts
 * const problems: Problem[] = [];
 * const ID = { id: { kind: "string" } } as const;
 * const { rows } = await readTable(run, { table: RESULT_FILES.roiSubjects, columns: ID, problems });
 * ```
 */
export async function readTable<S extends TableSpec>(
  run: Run,
  request: TableRequest<S>,
): Promise<Table<S>> {
  const { table: { path }, columns: spec, problems } = request;
  checkSpec(request);
  const csv = await readCsv(run, path);
  if (csv === null) {
    if (request.required) problems.push({ file: path, message: "is missing" });
    return { rows: [], missing: true };
  }
  if (isProblem(csv)) {
    problems.push(csv);
    return { rows: [], missing: false };
  }
  const memo = typed.get(csv)?.get(spec);
  if (memo) {
    problems.push(...memo.problems);
    return { rows: memo.rows as Row<S>[], missing: false };
  }
  const rows: Row<S>[] = [], mine: Problem[] = [];
  const typer = rowTyper(path, spec, csv.header, mine);
  if (typer) csv.rows.forEach((cells, r) => typer(cells, r + 2, (row) => rows.push(row)));
  const capped = capProblems(mine);
  if (!typed.has(csv)) typed.set(csv, new Map());
  typed.get(csv)!.set(spec, { rows, problems: capped });
  problems.push(...capped);
  return { rows, missing: false };
}

/** A page reading a column the writer never writes is the dashboard's bug, not the folder's. */
function checkSpec<S extends TableSpec>(request: TableRequest<S>): void {
  const { table: { path, columns: written }, columns: spec } = request;
  const unknown = Object.keys(spec).filter((c) => !written.includes(c));
  if (unknown.length) {
    throw new Error(`${path} has no column ${unknown.join(", ")} in the results schema`);
  }
}

/**
 * Types rows of cells by the spec, for a table with this header: hands each
 * kept row to `take`, adds each cell that does not fit to `problems` (an
 * int: the row is dropped; a number or bool: NaN or false). Null, with the
 * problem added, when the header lacks a column of the spec.
 */
function rowTyper<S extends TableSpec>(
  path: string,
  spec: S,
  header: string[],
  problems: Problem[],
): ((cells: string[], line: number, take: (row: Row<S>) => void) => void) | null {
  const absent = Object.keys(spec).filter((c) =>
    !header.includes(c) && !(spec[c].kind === "number" && spec[c].optional)
  );
  if (absent.length) {
    problems.push({
      file: path,
      field: "header",
      expected: `the columns ${Object.keys(spec).join(", ")}`,
      found: header.length ? `no column ${absent.join(", ")}` : "an empty file",
    });
    return null;
  }
  const index = Object.keys(spec).map((c) => [c, header.indexOf(c), spec[c]] as const);
  return (cells, line, take) => {
    const row: Record<string, string | number | boolean> = {};
    let keep = true;
    for (const [name, i, col] of index) {
      const read = readCell(i < 0 ? "" : cells[i] ?? "", col);
      if ("value" in read) {
        row[name] = read.value;
        continue;
      }
      // Past the few a page shows, only the count matters: no more text is made.
      if (problems.length <= 5) {
        problems.push({
          file: path,
          field: `line ${line}, column "${name}"`,
          expected: read.expected,
          found: shown(cells[i] ?? ""),
        });
      } else problems.push(problems[5]);
      if (col.kind === "int") keep = false;
      else row[name] = col.kind === "bool" ? false : NaN;
    }
    if (keep) take(row as Row<S>);
  };
}

/**
 * Every row of a large table, typed and handed to `take` one at a time
 * without keeping them: for tables reduced on the server (a members table of
 * 1.7 × 10⁶ rows), where {@linkcode readTable}'s array of rows would cost
 * hundreds of MB. Nothing is cached here; cache what `take` builds.
 * Problems as {@linkcode readTable} reports them.
 *
 * @returns whether the file was missing
 *
 * @example
 * ```ts
 * let n = 0;
 * await scanTable(run, { table: modelFiles(m).members, columns: MEMBER, problems }, () => n++);
 * ```
 */
export async function scanTable<S extends TableSpec>(
  run: Run,
  request: TableRequest<S>,
  take: (row: Row<S>) => void,
): Promise<{ missing: boolean }> {
  const { table: { path }, columns: spec, problems } = request;
  checkSpec(request);
  const file = await resolveRunFile(run, path);
  const stat = file ? await Deno.stat(file).catch(() => null) : null;
  if (!file || !stat) {
    if (request.required) problems.push({ file: path, message: "is missing" });
    return { missing: true };
  }
  let text: string;
  try {
    if (stat.size > MAX_TABLE_BYTES) throw new RangeError("large");
    text = new TextDecoder("utf-8", { fatal: true }).decode(await Deno.readFile(file));
  } catch {
    // Too large or not text: readCsv says which, in its words.
    const csv = await parseFile(file, path, stat.size);
    if (isProblem(csv)) problems.push(csv);
    return { missing: false };
  }
  const mine: Problem[] = [];
  if (text.includes('"')) {
    const csv = parseCsv(text), typer = rowTyper(path, spec, csv.header, mine);
    if (typer) csv.rows.forEach((cells, r) => typer(cells, r + 2, take));
  } else {
    // Line by line: no array of 10⁶ rows of cells is ever built.
    const lineAt = (from: number) => {
      const end = text.indexOf("\n", from);
      return { text: text.slice(from, end < 0 ? text.length : end).replace(/\r$/, ""), end };
    };
    let next = lineAt(0);
    const typer = rowTyper(path, spec, next.text === "" ? [] : next.text.split(","), mine);
    for (let line = 2; typer && next.end >= 0; line++) {
      next = lineAt(next.end + 1);
      if (next.text !== "") typer(next.text.split(","), line, take);
    }
  }
  problems.push(...capProblems(mine));
  return { missing: false };
}
