/**
 * CSV tables for results: a header row, RFC 4180 quoting where needed.
 *
 * @module
 */

function cell(v: unknown): string {
  // A number's text never needs quotes: the test is for strings only (tables of 10⁶ rows).
  if (typeof v === "number") return Number.isFinite(v) ? String(v) : "NaN";
  const s = String(v ?? "");
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function line<T extends object>(columns: readonly (keyof T & string)[], row: T): string {
  let out = cell(row[columns[0]]);
  for (let c = 1; c < columns.length; c++) out += "," + cell(row[columns[c]]);
  return out + "\n";
}

/**
 * Format rows as CSV.
 *
 * @param columns header names; each row is read by these keys
 * @param rows objects with those keys
 * @returns the CSV text, ending with a newline
 *
 * @example
 * ```ts
 * import { toCsv } from "@brainorg/core";
 * toCsv(["a", "b"], [{ a: 1, b: "x,y" }]); // 'a,b\n1,"x,y"\n'
 * ```
 */
export function toCsv<T extends object>(
  columns: readonly (keyof T & string)[],
  rows: readonly T[],
): string {
  return [...csvChunks(columns, rows)].join("");
}

/**
 * Format rows as CSV in pieces of about `chunkChars` characters, so that a
 * table of millions of rows is written without being held as one string.
 * The pieces joined are {@linkcode toCsv}'s text.
 *
 * @param columns header names; each row is read by these keys
 * @param rows objects with those keys (read once, in order: a generator will do)
 * @param chunkChars the size a piece reaches before it is handed out. Default: 1 Mi characters.
 * @returns the header's piece first, then the rows', each ending with a newline
 *
 * @example
 * ```ts
 * import { csvChunks } from "@brainorg/core";
 * [...csvChunks(["a"], [{ a: 1 }, { a: 2 }], 4)]; // ["a\n1\n", "2\n"]
 * ```
 */
export function* csvChunks<T extends object>(
  columns: readonly (keyof T & string)[],
  rows: Iterable<T>,
  chunkChars = 2 ** 20,
): Generator<string> {
  let piece = columns.map(cell).join(",") + "\n";
  for (const r of rows) {
    piece += line(columns, r);
    if (piece.length >= chunkChars) {
      yield piece;
      piece = "";
    }
  }
  if (piece) yield piece;
}
