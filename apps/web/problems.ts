/**
 * What is wrong with a results folder, said the way the rest of brainorg
 * says it: the file, the field, what was expected and what was found. The
 * dashboard shows these as cards instead of failing a page.
 *
 * @module
 */

/** One thing wrong with a file of a run. */
export interface Problem {
  /** The file, relative to the run's folder (`summary.json`, `models/x/atoms.csv`). */
  file: string;
  /** Where in the file: `field "stimulus.tr"`, `line 5, column "atom"`, `field "dim"`. */
  field?: string;
  /** What is wrong, when expected/found do not say it: `is missing`, `gzip stream is corrupt`. */
  message?: string;
  /** What a valid file has there. */
  expected?: string;
  /** What this file has there (see {@linkcode shown}). */
  found?: string;
}

/**
 * A problem as one sentence.
 *
 * @example
 * ```ts
 * problemText({ file: "summary.json", field: 'field "stimulus.tr"', expected: "a number", found: '"2 s"' });
 * // 'summary.json, field "stimulus.tr": expected a number, found "2 s"'
 * ```
 */
export function problemText(p: Problem): string {
  const what = [
    p.message,
    p.expected !== undefined ? `expected ${p.expected}, found ${p.found ?? "nothing"}` : undefined,
  ].filter(Boolean).join(": ");
  return `${p.file}${p.field ? `, ${p.field}` : ""}: ${what}`;
}

/**
 * A value as a problem's `found` part: strings quoted and cut at 80
 * characters (a hostile or binary field must not flood the page), numbers
 * as written, structures by their kind.
 *
 * @example
 * ```ts
 * shown("2 s"); // '"2 s"'
 * shown([1]); // "an array"
 * ```
 */
export function shown(value: unknown): string {
  if (value === undefined) return "nothing";
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") return "an object";
  if (typeof value === "string") {
    return JSON.stringify(value.length > 80 ? value.slice(0, 79) + "…" : value);
  }
  return String(value);
}

/**
 * Keep the first `limit` problems of one file and say how many more there
 * were, so a table with a bad column in every row reads as one card, not
 * thousands.
 */
export function capProblems(problems: Problem[], limit = 5): Problem[] {
  if (problems.length <= limit) return problems;
  return [
    ...problems.slice(0, limit),
    { file: problems[0].file, message: `and ${problems.length - limit} more problems like these` },
  ];
}
