/**
 * The CSV tables of a results folder, read with their columns checked: a
 * missing column, a cell that is not a number, an index out of range, each
 * becomes a {@linkcode Problem} naming the file, line and column, and the
 * page shows what remains. Parsed files are kept in memory while their size
 * and modification time stay the same, so pages under load do not parse
 * the same words table on every request.
 *
 * @module
 */

import { capProblems, type Problem, shown } from "./problems.ts";
import { resolveRunFile, type Run } from "./runs.ts";

/** Larger tables are not read (a results CSV is at most a few MiB). */
export const MAX_TABLE_BYTES = 64 * 2 ** 20;

/** How a column's cells are read. */
export type ColumnSpec =
  | { kind: "string" }
  | { kind: "bool" }
  /** A number; "NaN" and "" are NaN (the writer writes non-finite values as NaN). */
  | { kind: "number" }
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

/** Parse a CSV written by brainorg (header row; RFC 4180 quoting). */
export function parseCsv(text: string): CsvText {
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

const cache = new Map<string, { key: string; csv: CsvText | Problem }>();
/**
 * Rows already typed, per parsed file and spec object: pages declare their
 * specs once, so under load a table is converted once per file version.
 */
const typed = new WeakMap<CsvText, Map<TableSpec, { rows: unknown[]; problems: Problem[] }>>();
const CACHE_ENTRIES = 256, CACHE_MAX_BYTES = 16 * 2 ** 20;

/**
 * A CSV of the run, parsed: null when the file is absent (or outside the
 * folder), a problem when it cannot be read as text.
 */
export async function readCsv(run: Run, path: string): Promise<CsvText | Problem | null> {
  const file = await resolveRunFile(run, path);
  if (!file) return null;
  let stat: Deno.FileInfo;
  try {
    stat = await Deno.stat(file);
  } catch {
    return null;
  }
  const key = `${stat.size}:${stat.mtime?.getTime()}`;
  const hit = cache.get(file);
  if (hit?.key === key) return hit.csv;
  let csv: CsvText | Problem;
  if (stat.size > MAX_TABLE_BYTES) {
    csv = {
      file: path,
      message: "too large to show",
      expected: `at most ${MAX_TABLE_BYTES / 2 ** 20} MiB`,
      found: `${(stat.size / 2 ** 20).toFixed(0)} MiB`,
    };
  } else {
    try {
      csv = parseCsv(new TextDecoder("utf-8", { fatal: true }).decode(await Deno.readFile(file)));
    } catch (err) {
      csv = { file: path, message: `cannot be read as UTF-8 text (${(err as Error).message})` };
    }
  }
  if (stat.size <= CACHE_MAX_BYTES) {
    if (cache.size >= CACHE_ENTRIES) cache.delete(cache.keys().next().value!);
    cache.set(file, { key, csv });
  }
  return csv;
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
  const { table: { path, columns: written }, columns: spec, problems } = request;
  // A page reading a column the writer never writes is the dashboard's bug, not the folder's.
  const unknown = Object.keys(spec).filter((c) => !written.includes(c));
  if (unknown.length) {
    throw new Error(`${path} has no column ${unknown.join(", ")} in the results schema`);
  }
  const csv = await readCsv(run, path);
  if (csv === null) {
    if (request.required) problems.push({ file: path, message: "is missing" });
    return { rows: [], missing: true };
  }
  if (isProblem(csv)) {
    problems.push(csv);
    return { rows: [], missing: false };
  }
  const absent = Object.keys(spec).filter((c) => !csv.header.includes(c));
  if (absent.length) {
    problems.push({
      file: path,
      field: "header",
      expected: `the columns ${Object.keys(spec).join(", ")}`,
      found: csv.header.length ? `no column ${absent.join(", ")}` : "an empty file",
    });
    return { rows: [], missing: false };
  }
  const memo = typed.get(csv)?.get(spec);
  if (memo) {
    problems.push(...memo.problems);
    return { rows: memo.rows as Row<S>[], missing: false };
  }
  const index = Object.keys(spec).map((c) => [c, csv.header.indexOf(c), spec[c]] as const);
  const mine: Problem[] = [], rows: Row<S>[] = [];
  csv.rows.forEach((cells, r) => {
    const row: Record<string, string | number | boolean> = {};
    let keep = true;
    for (const [name, i, col] of index) {
      const read = readCell(cells[i] ?? "", col);
      if ("value" in read) {
        row[name] = read.value;
        continue;
      }
      mine.push({
        file: path,
        field: `line ${r + 2}, column "${name}"`,
        expected: read.expected,
        found: shown(cells[i] ?? ""),
      });
      if (col.kind === "int") keep = false;
      else row[name] = col.kind === "bool" ? false : NaN;
    }
    if (keep) rows.push(row as Row<S>);
  });
  const capped = capProblems(mine);
  if (!typed.has(csv)) typed.set(csv, new Map());
  typed.get(csv)!.set(spec, { rows, problems: capped });
  problems.push(...capped);
  return { rows, missing: false };
}
