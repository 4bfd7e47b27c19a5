/**
 * CSV tables for results: a header row, RFC 4180 quoting where needed.
 *
 * @module
 */

function cell(v: unknown): string {
  const s = typeof v === "number" ? (Number.isFinite(v) ? String(v) : "NaN") : String(v ?? "");
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
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
  const lines = [columns.map(cell).join(",")];
  for (const r of rows) lines.push(columns.map((c) => cell(r[c])).join(","));
  return lines.join("\n") + "\n";
}
