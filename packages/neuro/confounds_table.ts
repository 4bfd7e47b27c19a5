/**
 * fMRIPrep's confounds table (`*_desc-confounds_timeseries.tsv`) and its
 * JSON sidecar, read with errors that name the file, line and column.
 *
 * @module
 */

import { InputError, unreadableFile } from "@brainorg/common";

/** An fMRIPrep confounds table: one row per volume, one column per confound. */
export interface ConfoundsTable {
  /** The file read, for errors and provenance. */
  file: string;
  /** Column names from the header row, in file order. */
  columns: string[];
  /** Number of volumes (rows after the header). */
  rows: number;
  /** Shape (rows, columns), row-major; `n/a` cells are NaN. */
  data: Float64Array;
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const MISSING = new Set(["n/a", "NaN", "nan"]);

/**
 * Parse a confounds table: tab-separated, a header row of names, numbers or
 * `n/a` (fMRIPrep writes `n/a` in the first row of derivative columns).
 *
 * @param text the file's content
 * @param file its name, for errors
 * @returns the table, (rows × columns) row-major float64, NaN for `n/a`
 * @throws {InputError} naming the file, the field, what was expected and found:
 *   no header row, a table that is not tab-separated, a duplicated column,
 *   a row of another width, a cell that is neither a number nor `n/a`
 *
 * @example
 * ```ts
 * import { parseConfoundsTable } from "@brainorg/neuro";
 * const t = parseConfoundsTable("csf\tframewise_displacement\n1.5\tn/a\n1.7\t0.12\n", "conf.tsv");
 * t.columns; // ["csf", "framewise_displacement"]
 * t.data; // [1.5, NaN, 1.7, 0.12]
 * ```
 */
export function parseConfoundsTable(text: string, file: string): ConfoundsTable {
  const lines = text.replace(/^\uFEFF/, "").split(/\r\n|\r|\n/);
  while (lines.length > 0 && lines[lines.length - 1].trim() === "") lines.pop();
  if (lines.length === 0) {
    throw new InputError("confounds table is empty", {
      file,
      field: "header",
      expected: "a tab-separated header row of confound names",
      found: "no lines",
    });
  }
  const columns = lines[0].split("\t").map((c) => c.trim());
  if (columns.length === 1 && /[\s,;]/.test(columns[0])) {
    throw new InputError("confounds table is not tab-separated", {
      file,
      field: "header",
      expected: "names separated by tabs",
      found: JSON.stringify(lines[0].slice(0, 80)),
    });
  }
  const bad = columns.find((c) => c === "" || NUMBER.test(c) || MISSING.has(c));
  if (bad !== undefined) {
    throw new InputError("confounds table has no header row", {
      file,
      field: "header",
      expected: "confound names (e.g. trans_x, csf) in the first row",
      found: JSON.stringify(bad),
    });
  }
  const seen = new Set<string>();
  for (const c of columns) {
    if (seen.has(c)) {
      throw new InputError("confounds table names a column twice", {
        file,
        field: `column ${c}`,
        expected: "unique column names",
        found: `${c} twice`,
      });
    }
    seen.add(c);
  }
  const W = columns.length, rows = lines.length - 1;
  const data = new Float64Array(rows * W);
  for (let r = 0; r < rows; r++) {
    const cells = lines[r + 1].split("\t");
    const line = r + 2;
    if (cells.length !== W) {
      throw new InputError(`confounds table line ${line} has the wrong number of cells`, {
        file,
        field: `line ${line}`,
        expected: `${W} tab-separated cells, as the header`,
        found: `${cells.length}`,
      });
    }
    for (let k = 0; k < W; k++) {
      const c = cells[k].trim();
      if (MISSING.has(c)) data[r * W + k] = NaN;
      else if (NUMBER.test(c)) data[r * W + k] = Number(c);
      else {
        throw new InputError("confounds table cell is not a number", {
          file,
          field: `line ${line}, column ${columns[k]}`,
          expected: "a number or n/a",
          found: JSON.stringify(c),
        });
      }
    }
  }
  return { file, columns, rows, data };
}

/**
 * Read fMRIPrep's `*_desc-confounds_timeseries.tsv` (see {@linkcode parseConfoundsTable}).
 *
 * @param path the TSV file
 * @returns the table, (rows × columns) row-major float64, NaN for `n/a`
 * @throws {InputError} naming the file when it is missing, unreadable or malformed
 *
 * @example
 * ```ts
 * import { readConfoundsTable } from "@brainorg/neuro";
 * const t = await readConfoundsTable("sub-01_task-alice_desc-confounds_timeseries.tsv");
 * console.log(t.rows, t.columns.length);
 * ```
 */
export async function readConfoundsTable(path: string): Promise<ConfoundsTable> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (err) {
    throw unreadableFile(path, err);
  }
  return parseConfoundsTable(text, path);
}

/** fMRIPrep's JSON sidecar of a confounds table, as far as the selection uses it. */
export interface ConfoundsSidecar {
  /** The JSON file, for errors. */
  file: string;
  /** Per column: `Mask` is "combined", "WM" or "CSF" for anatomical CompCor components. */
  entries: Record<string, { Mask?: string }>;
}

/**
 * Read the JSON sidecar of a confounds table (`*_desc-confounds_timeseries.json`).
 *
 * @param path the JSON file
 * @returns its entries, keyed by column name
 * @throws {InputError} naming the file when it is missing, unreadable or not a JSON object
 *
 * @example
 * ```ts
 * import { readConfoundsSidecar } from "@brainorg/neuro";
 * const s = await readConfoundsSidecar("sub-01_task-alice_desc-confounds_timeseries.json");
 * s.entries["a_comp_cor_00"]?.Mask; // "combined"
 * ```
 */
export async function readConfoundsSidecar(path: string): Promise<ConfoundsSidecar> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (err) {
    throw unreadableFile(path, err);
  }
  let entries: unknown;
  try {
    entries = JSON.parse(text);
  } catch (err) {
    throw new InputError("confounds sidecar is not valid JSON", {
      file: path,
      field: "(file)",
      expected: "a JSON object keyed by confound name",
      found: String((err as Error).message),
      cause: err,
    });
  }
  if (typeof entries !== "object" || entries === null || Array.isArray(entries)) {
    throw new InputError("confounds sidecar is not a JSON object", {
      file: path,
      field: "(file)",
      expected: "a JSON object keyed by confound name",
      found: Array.isArray(entries) ? "an array" : typeof entries,
    });
  }
  return { file: path, entries: entries as ConfoundsSidecar["entries"] };
}
