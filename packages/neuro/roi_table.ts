/**
 * ROI time-course tables (rows = volumes, columns = regions), e.g. the Alice
 * data's `sNN-timecourses.txt`, and checks for series that cannot be used.
 *
 * @module
 */

import { InputError, unreadableFile } from "@brainorg/common";
import { isConstantRange } from "./series_checks.ts";

/** A table of ROI time courses. */
export interface RoiTable {
  /** Region names, one per column. */
  columns: string[];
  /** Number of rows (volumes). */
  rows: number;
  /** Shape (rows, columns), row-major. */
  data: Float64Array;
  /** The file read. */
  source: string;
}

/** Options of {@linkcode parseRoiTable}. */
export interface RoiTableOptions {
  /**
   * Column names for a table without a header row; a header row, when
   * present, is used instead. Default: `roi1`, `roi2`, ….
   */
  columns?: string[];
}

/**
 * Parse a whitespace-, comma- or tab-separated table of numbers, with or
 * without a header row. Blank lines and `#` comments are skipped; `NaN` and
 * `Inf` cells are read as such (for {@linkcode checkSeries} to find).
 *
 * @param text the table
 * @param file its name, for errors and `source`
 * @param options column names for a table without a header (see {@linkcode RoiTableOptions})
 * @returns the table: (rows × columns) row-major float64
 * @throws {InputError} naming the file, line and column for a cell that is not
 *   a number or a row of the wrong width, or for an empty table
 *
 * @example
 * ```ts
 * import { parseRoiTable } from "@brainorg/neuro";
 * const t = parseRoiTable("LATL RATL\n0.1 0.2\n0.3 NaN\n", "s01-timecourses.txt");
 * console.log(t.columns, t.rows, t.data); // ["LATL", "RATL"] 2 [0.1, 0.2, 0.3, NaN]
 * ```
 */
export function parseRoiTable(text: string, file: string, options: RoiTableOptions = {}): RoiTable {
  // A byte-order mark and any line ending (LF, CRLF, a lone CR) are accepted.
  const lines = text.replace(/^\uFEFF/, "").split(/\r\n|\r|\n/).map((l) => l.trim()).filter((l) =>
    l !== "" && !l.startsWith("#")
  );
  if (lines.length === 0) {
    throw new InputError("ROI table is empty", {
      file,
      field: "rows",
      expected: "rows of numbers",
      found: "no rows",
    });
  }
  const split = (l: string) => l.split(/[\s,;]+/);
  // NaN and Inf cells are numbers to the parser; checkSeries then finds them.
  const special = /^(nan|[-+]?inf(inity)?)$/i;
  const value = (c: string) =>
    special.test(c) ? (/nan/i.test(c) ? NaN : c.startsWith("-") ? -Infinity : Infinity) : Number(c);
  let header: string[] | undefined;
  if (split(lines[0]).some((c) => c !== "" && !Number.isFinite(Number(c)) && !special.test(c))) {
    header = split(lines.shift()!);
  }
  // A header without rows is a table of no volumes: the length check excludes it.
  const width = header && lines.length === 0 ? header.length : split(lines[0]).length;
  const columns = header ?? options.columns ??
    Array.from({ length: width }, (_, i) => `roi${i + 1}`);
  if (columns.length !== width) {
    throw new InputError("ROI table has a different number of columns than names", {
      file,
      field: header ? "header" : "columns option",
      expected: `${columns.length} columns (${columns.join(" ")})`,
      found: `${width} values in the first row`,
    });
  }
  const data = new Float64Array(lines.length * width);
  lines.forEach((line, r) => {
    const cells = split(line);
    const lineNo = r + 1 + (header ? 1 : 0);
    if (cells.length !== width) {
      throw new InputError(`ROI table row ${lineNo} has the wrong number of values`, {
        file,
        field: `line ${lineNo}`,
        expected: `${width} values`,
        found: `${cells.length}`,
      });
    }
    cells.forEach((c, k) => {
      const v = c === "" ? NaN : value(c);
      if (Number.isNaN(v) && !special.test(c)) {
        throw new InputError(`ROI table cell is not a number`, {
          file,
          field: `line ${lineNo}, column ${columns[k]}`,
          expected: "a number",
          found: JSON.stringify(c),
        });
      }
      data[r * width + k] = v;
    });
  });
  return { columns, rows: lines.length, data, source: file };
}

/**
 * Read an ROI table file (see {@linkcode parseRoiTable}).
 *
 * @param path the table's file
 * @param options column names for a table without a header (see {@linkcode RoiTableOptions})
 * @returns the table: (rows × columns) row-major float64
 * @throws {InputError} naming the file when it is missing, unreadable or malformed
 *
 * @example
 * ```ts
 * import { readRoiTable } from "@brainorg/neuro";
 * const t = await readRoiTable("s01-timecourses.txt");
 * console.log(t.columns, t.rows);
 * ```
 */
export async function readRoiTable(path: string, options: RoiTableOptions = {}): Promise<RoiTable> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (err) {
    throw unreadableFile(path, err);
  }
  return parseRoiTable(text, path, options);
}

/** Something that makes a series unusable. */
export interface SeriesProblem {
  /** The file. */
  source: string;
  /** The column (region), or `"*"` for the whole table. */
  column: string;
  /** Zero variance, NaN/Inf values, or a row count other than the stimulus's. */
  problem: "constant" | "non-finite" | "length";
  /** What was found, in words. */
  detail: string;
}

/**
 * Find unusable series: constant columns (zero variance), NaN/Inf values, and
 * a row count other than the stimulus's.
 *
 * @param table the ROI table
 * @param options `expectedRows`: the number of volumes the stimulus has
 * @returns one entry per problem; empty when the table is usable
 *
 * @example
 * ```ts
 * import { checkSeries, readRoiTable } from "@brainorg/neuro";
 * const t = await readRoiTable("s33-timecourses.txt");
 * console.log(checkSeries(t, { expectedRows: 362 })); // six "constant" problems
 * ```
 */
export function checkSeries(
  table: RoiTable,
  options: { expectedRows?: number } = {},
): SeriesProblem[] {
  const problems: SeriesProblem[] = [];
  const { rows, columns, data, source } = table;
  if (options.expectedRows !== undefined && rows !== options.expectedRows) {
    problems.push({
      source,
      column: "*",
      problem: "length",
      detail: `${rows} rows, but the stimulus has ${options.expectedRows} volumes`,
    });
  }
  const W = columns.length;
  columns.forEach((name, k) => {
    let bad = 0, min = Infinity, max = -Infinity;
    for (let r = 0; r < rows; r++) {
      const v = data[r * W + k];
      if (!Number.isFinite(v)) bad++;
      else {
        if (v < min) min = v;
        if (v > max) max = v;
      }
    }
    if (bad > 0) {
      problems.push({
        source,
        column: name,
        problem: "non-finite",
        detail: `${bad} NaN/Inf values`,
      });
    }
    if (rows > 1 && isConstantRange(min, max)) {
      problems.push({ source, column: name, problem: "constant", detail: `every value is ${min}` });
    }
  });
  return problems;
}
