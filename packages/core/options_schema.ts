/**
 * A small declarative schema for options. Each value is described once (its
 * type, range or choices, default and a doc line); from that description come
 * the reader that checks it (errors name the JSON path, what was expected and
 * what was found, and suggest the closest name for an unknown field), its
 * TypeScript type ({@linkcode Infer}), the reading of a command-line flag's
 * text, and the words that `--help` and the README show. `options.ts` uses it
 * to describe brainorg's analysis file and command-line options.
 *
 * @example
 * ```ts
 * import { schema } from "@brainorg/core";
 * const STUDY = schema.object({
 *   atoms: schema.integer({ min: 1, max: 4096, default: 64, doc: "atoms per model" }),
 * }, { doc: "a study" });
 * type Study = schema.Infer<typeof STUDY>; // { atoms: number }
 * const study: Study = schema.readDocument(STUDY, { atoms: 16 }, { file: "study.json" });
 * console.log(study.atoms); // 16
 * ```
 *
 * @module
 */

import { dirname, isAbsolute, resolve } from "node:path";
import { InputError } from "@brainorg/common";

/**
 * Whether a field may be absent and what absence means: `required` (an
 * error), `default` (the default is used), `optional` (left out).
 */
export type Presence = "required" | "default" | "optional";

/** Where a value is being read, and how a bad one is reported. */
export interface Cursor {
  /** JSON path of the value, e.g. `stimulus.runs[0].volumes`; `(root)` for the document. */
  readonly path: string;
  /** Folder that relative file paths are resolved against; `""`: paths are kept as given. */
  readonly base: string;
  /**
   * Report a bad value; never returns.
   *
   * @param path the JSON path at fault
   * @param expected what a valid value is, in words
   * @param found the value found (shown as JSON), or words when `words` is true
   */
  fail(path: string, expected: string, found: unknown, words?: boolean): never;
  /** A hint for an unknown field (e.g. `did you mean "permutations"?`), if any name is close. */
  hint(key: string, siblings: readonly string[], path: string): string | undefined;
}

/**
 * One value's description. `T` is the value read, `P` its presence in an
 * object. Built by {@linkcode integer}, {@linkcode number},
 * {@linkcode choice}, {@linkcode boolean}, {@linkcode text},
 * {@linkcode filePath}, {@linkcode custom}, {@linkcode list} and
 * {@linkcode object}.
 */
export interface Spec<T = unknown, P extends Presence = Presence> {
  /** What kind of value: a leaf (integer … custom) or a container (list, object). */
  readonly kind:
    | "integer"
    | "number"
    | "choice"
    | "boolean"
    | "text"
    | "path"
    | "custom"
    | "list"
    | "object";
  /** What the value means, one line. */
  readonly doc: string;
  /** Whether the field may be absent, and what absence means. */
  readonly presence: P;
  /** The value used when the field is absent (presence `default`). */
  readonly default?: T;
  /** What a valid value is, as an error's `expected` says it: `a whole number ≥ 1 and ≤ 4096`. */
  readonly expected: string;
  /** The same for a command-line flag's text: `auto, webgpu or cpu` (no JSON quotes). */
  readonly expectedText: string;
  /** The allowed values of a choice. */
  readonly choices?: readonly (string | number)[];
  /** The value's TypeScript type, for a custom value (generated declarations say it). */
  readonly tsType?: string;
  /**
   * Check a value read from JSON and return it (file paths resolved against `at.base`).
   *
   * @throws whatever `at.fail` throws, for a bad value
   */
  read(value: unknown, at: Cursor): T;
  /** The value of a flag's text, or undefined when the text is not valid; leaves only. */
  readText?(text: string): T | undefined;
  /**
   * A copy with another default or lower bound (what a mode of the command
   * line changes); the new default is checked.
   */
  with(overrides: { default?: unknown; min?: number; doc?: string }): Spec<T>;
}

/** The type of the value a spec reads. */
export type Infer<S> = S extends { read(value: unknown, at: Cursor): infer T } ? T : never;

/** An object spec: its fields (by JSON key) and the keys renamed in the value it reads. */
export interface ObjectSpec<
  F extends Record<string, Spec> = Record<string, Spec>,
  R extends Record<string, string> = Record<string, string>,
  P extends Presence = Presence,
> extends Spec<ObjectValue<F, R>, P> {
  /** Always `object`. */
  readonly kind: "object";
  /** Each field's spec, by JSON key, in reading order. */
  readonly fields: F;
  /** JSON key → property of the value read, for the keys that differ. */
  readonly rename: R;
}

/** A list spec and the spec of its items. */
export interface ListSpec<S extends Spec = Spec, P extends Presence = Presence>
  extends Spec<Infer<S>[], P> {
  /** Always `list`. */
  readonly kind: "list";
  /** The spec every item follows. */
  readonly item: S;
}

/** `T` as one object type (intersections flattened), for readable inferred types. */
export type Simplify<T> = { [K in keyof T]: T[K] } & unknown;

/** The property name of JSON key `K` under renames `R`. */
export type Renamed<K, R> = K extends keyof R ? R[K] & string : K & string;

/** The value an object spec with fields `F` (renames `R`) reads: optional fields with `?`. */
export type ObjectValue<F extends Record<string, Spec>, R> = Simplify<
  & {
    -readonly [K in keyof F as F[K]["presence"] extends "optional" ? never : Renamed<K, R>]: Infer<
      F[K]
    >;
  }
  & {
    -readonly [K in keyof F as F[K]["presence"] extends "optional" ? Renamed<K, R> : never]?: Infer<
      F[K]
    >;
  }
>;

/** What every spec's options hold: a doc line and, optionally, a default or optional presence. */
export interface BaseOptions<T> {
  /** What the value means, one line. */
  doc: string;
  /** The value used when the field is absent. */
  default?: T;
  /** Absent is allowed and means "not set" (no default). */
  optional?: boolean;
}

/** The presence that options `O` give. */
export type PresenceOf<O> = O extends { default: unknown } ? "default"
  : O extends { optional: true } ? "optional"
  : "required";

/** Bounds of a number: `min`/`max` inclusive, `above`/`below` exclusive. */
export interface NumberOptions extends BaseOptions<number> {
  /** Smallest allowed value. */
  min?: number;
  /** Largest allowed value. */
  max?: number;
  /** Values must be greater than this. */
  above?: number;
  /** Values must be smaller than this. */
  below?: number;
}

/**
 * Keys starting with `_` or `$` are comments in every object of a document.
 *
 * @example
 * ```ts
 * import { schema } from "@brainorg/core";
 * console.log(schema.isCommentKey("_note"), schema.isCommentKey("atoms")); // true false
 * ```
 */
export function isCommentKey(key: string): boolean {
  return key.startsWith("_") || key.startsWith("$");
}

/**
 * A found value as an error shows it: JSON, cut to 120 characters.
 *
 * @example
 * ```ts
 * import { schema } from "@brainorg/core";
 * console.log(schema.shown({ a: "x".repeat(200) }).length); // 120
 * ```
 */
export function shown(v: unknown): string {
  const text = JSON.stringify(v) ?? String(v);
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

/** `a, b or c`, each item through `quote`. */
function alternatives(items: readonly (string | number)[], quote: (x: string | number) => string) {
  const q = items.map(quote);
  return q.length < 2 ? q.join("") : `${q.slice(0, -1).join(", ")} or ${q.at(-1)}`;
}

const json = (x: string | number) => JSON.stringify(x);

/**
 * The common part of every spec: presence from the options, `with` rebuilding
 * the spec from its options (so that a mode's variant is checked the same
 * way), and a default that the spec itself must accept.
 */
function build<T, O extends BaseOptions<T>>(
  make: (o: O) => Omit<Spec<T>, "doc" | "presence" | "default" | "with">,
  o: O,
): Spec<T> {
  const core = make(o);
  const spec: Spec<T> = {
    ...core,
    doc: o.doc,
    presence: o.default !== undefined ? "default" : o.optional ? "optional" : "required",
    ...(o.default !== undefined ? { default: o.default } : {}),
    with: (overrides) => build(make, { ...o, ...overrides } as O),
  };
  if (o.default !== undefined) {
    // A default the spec refuses is a mistake in the schema, found on load.
    spec.read(o.default, {
      path: "(default)",
      base: "/",
      fail: (_p, expected) => {
        throw new TypeError(`default ${shown(o.default)} is not ${expected} (${o.doc})`);
      },
      hint: () => undefined,
    });
  }
  return spec;
}

/** A number's range in words: `a whole number ≥ 1 and ≤ 4096`, `a number > 0`. */
function rangeWords(integerOnly: boolean, o: NumberOptions): string {
  const lower = o.above !== undefined ? `> ${o.above}` : o.min !== undefined ? `≥ ${o.min}` : "";
  const upper = o.below !== undefined ? `< ${o.below}` : o.max !== undefined ? `≤ ${o.max}` : "";
  return [integerOnly ? "a whole number" : "a number", lower, lower && upper ? "and" : "", upper]
    .filter(Boolean).join(" ");
}

function numeric(integerOnly: boolean, o: NumberOptions): Spec<number> {
  return build((o) => {
    const expected = rangeWords(integerOnly, o);
    const ok = (v: unknown): v is number =>
      typeof v === "number" && Number.isFinite(v) &&
      !(o.min !== undefined && v < o.min) && !(o.max !== undefined && v > o.max) &&
      !(o.above !== undefined && !(v > o.above)) && !(o.below !== undefined && !(v < o.below)) &&
      (!integerOnly || Number.isInteger(v));
    return {
      kind: integerOnly ? "integer" : "number",
      expected,
      expectedText: expected,
      read: (v, at) => ok(v) ? v : at.fail(at.path, expected, v),
      // Number("") is 0 and Number("0x10") is 16: only plain decimal notation is a number here.
      readText: (t) => {
        if (!/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(t.trim())) return undefined;
        const v = Number(t);
        return ok(v) ? v : undefined;
      },
    };
  }, o);
}

/**
 * A whole number in a range.
 *
 * @param o `min` (inclusive, required), `max` (inclusive), `doc`, `default` or `optional`
 * @returns its spec; the error's expected reads `a whole number ≥ min and ≤ max`
 *
 * @example
 * ```ts
 * import { schema } from "@brainorg/core";
 * const atoms = schema.integer({ min: 1, max: 4096, default: 64, doc: "atoms per model" });
 * console.log(atoms.expected, atoms.readText?.("16")); // a whole number ≥ 1 and ≤ 4096 16
 * ```
 */
export function integer<const O extends NumberOptions & { min: number }>(
  o: O,
): Spec<number, PresenceOf<O>> {
  return numeric(true, o) as Spec<number, PresenceOf<O>>;
}

/**
 * A finite number in a range.
 *
 * @param o `min`/`max` (inclusive) or `above`/`below` (exclusive), `doc`, `default` or `optional`
 * @returns its spec; the error's expected reads e.g. `a number > 0 and < 1`
 *
 * @example
 * ```ts
 * import { schema } from "@brainorg/core";
 * const share = schema.number({ above: 0, below: 1, default: 0.2, doc: "share of non-zero codes" });
 * console.log(share.readText?.("1.5")); // undefined
 * ```
 */
export function number<const O extends NumberOptions>(o: O): Spec<number, PresenceOf<O>> {
  return numeric(false, o) as Spec<number, PresenceOf<O>>;
}

/**
 * One of a fixed set of strings or numbers.
 *
 * @param choices the allowed values, in the order errors list them
 * @param o `doc`, `default` or `optional`
 *
 * @example
 * ```ts
 * import { schema } from "@brainorg/core";
 * const hrf = schema.choice(["spm", "glover"], { default: "spm", doc: "haemodynamic response" });
 * console.log(hrf.expected); // "spm" or "glover"
 * ```
 */
export function choice<
  const C extends readonly (string | number)[],
  const O extends BaseOptions<C[number]>,
>(choices: C, o: O): Spec<C[number], PresenceOf<O>> {
  return build((_o) => ({
    kind: "choice",
    choices,
    expected: alternatives(choices, json),
    expectedText: alternatives(choices, String),
    read: (v, at) =>
      (choices as readonly unknown[]).includes(v)
        ? v as C[number]
        : at.fail(at.path, alternatives(choices, json), v),
    readText: (t) => choices.find((c) => String(c) === t),
  }), o) as Spec<C[number], PresenceOf<O>>;
}

/**
 * `true` or `false`; on the command line, a switch.
 *
 * @example
 * ```ts
 * import { schema } from "@brainorg/core";
 * const control = schema.boolean({ default: true, doc: "add a random-weights control" });
 * console.log(control.default); // true
 * ```
 */
export function boolean<const O extends BaseOptions<boolean>>(o: O): Spec<boolean, PresenceOf<O>> {
  return build((_o) => ({
    kind: "boolean",
    expected: "true or false",
    expectedText: "true or false",
    read: (v, at) => typeof v === "boolean" ? v : at.fail(at.path, "true or false", v),
    readText: (t) => t === "true" ? true : t === "false" ? false : undefined,
  }), o) as Spec<boolean, PresenceOf<O>>;
}

/** Options of {@linkcode text}. */
export interface TextOptions extends BaseOptions<string> {
  /** What a valid text is, in words. Default: `a non-empty text`. */
  expected?: string;
  /** Whether a text is valid. Default: not empty once trimmed. */
  test?: (s: string) => boolean;
}

/**
 * A string, checked by `test`.
 *
 * @example
 * ```ts
 * import { schema } from "@brainorg/core";
 * const tier = schema.text({ optional: true, expected: "the name of a TextGrid tier", doc: "words tier" });
 * console.log(tier.readText?.("words")); // words
 * ```
 */
export function text<const O extends TextOptions>(o: O): Spec<string, PresenceOf<O>> {
  return build((o) => {
    const expected = o.expected ?? "a non-empty text";
    const ok = (v: unknown): v is string =>
      typeof v === "string" && (o.test ? o.test(v) : v.trim() !== "");
    return {
      kind: "text",
      expected,
      expectedText: expected,
      read: (v, at) => ok(v) ? v : at.fail(at.path, expected, v),
      readText: (t) => ok(t) ? t : undefined,
    };
  }, o) as Spec<string, PresenceOf<O>>;
}

/**
 * A file or folder path; read from a document it is resolved against the
 * document's folder (`Cursor.base`), from a flag it is kept as given.
 *
 * @example
 * ```ts
 * import { schema } from "@brainorg/core";
 * console.log(schema.readDocument(schema.filePath({ doc: "a mask" }), "m.nii.gz", { file: "/s/a.json" })); // /s/m.nii.gz
 * ```
 */
export function filePath<const O extends BaseOptions<string>>(o: O): Spec<string, PresenceOf<O>> {
  const expected = "a file path (relative to the analysis file), or data:<reference file>";
  const ok = (v: unknown): v is string =>
    typeof v === "string" && v.trim() !== "" && !v.includes("\0");
  return build((_o) => ({
    kind: "path",
    expected,
    expectedText: "a path",
    // `data:<registry path>` names a reference file, resolved (and fetched,
    // checked) by the data layer when the run starts.
    read: (v, at) =>
      ok(v)
        ? (v.startsWith("data:") || isAbsolute(v) || at.base === "" ? v : resolve(at.base, v))
        : at.fail(at.path, expected, v),
    readText: (t) => ok(t) ? t : undefined,
  }), o) as Spec<string, PresenceOf<O>>;
}

/** Options of {@linkcode custom}. */
export interface CustomOptions<T, Opt extends boolean> {
  /** What the value means, one line. */
  doc: string;
  /** Absent is allowed and means "not set". Default: false. */
  optional?: Opt;
  /** What a valid value is, in words. */
  expected: string;
  /** The value's TypeScript type (e.g. `string`), for generated declarations. */
  tsType: string;
  /** Check and convert a value; report a bad one with `at.fail`. */
  read: (value: unknown, at: Cursor) => T;
}

/**
 * A value with its own check (e.g. a model source: a folder or `hf:owner/name`).
 *
 * @example
 * ```ts
 * import { schema } from "@brainorg/core";
 * const even = schema.custom({
 *   doc: "an even count",
 *   expected: "an even whole number",
 *   tsType: "number",
 *   read: (v, at) =>
 *     Number.isInteger(v) && (v as number) % 2 === 0
 *       ? v as number
 *       : at.fail(at.path, "an even whole number", v),
 * });
 * console.log(even.expected);
 * ```
 */
export function custom<T, const Opt extends boolean = false>(
  o: CustomOptions<T, Opt>,
): Spec<T, Opt extends true ? "optional" : "required"> {
  return build<T, BaseOptions<T>>(() => ({
    kind: "custom",
    expected: o.expected,
    expectedText: o.expected,
    tsType: o.tsType,
    read: o.read,
  }), { doc: o.doc, optional: o.optional }) as Spec<T, Opt extends true ? "optional" : "required">;
}

/** Options of {@linkcode list}. */
export interface ListOptions<T> extends BaseOptions<T[]> {
  /** Fewest items. Default: 1. */
  min?: number;
  /** What too short a list's error expects. Default: `a non-empty list`. */
  tooFew?: string;
  /**
   * Items that must differ: `by` an object field (the error names that field
   * of the repeated item) or, without `by`, by value.
   */
  unique?: { by?: string; expected: string };
  /** A check over the items read (e.g. names that must not meet). */
  check?: (items: T[], at: Cursor) => void;
}

/**
 * A list of items that each follow `item`.
 *
 * @example
 * ```ts
 * import { schema } from "@brainorg/core";
 * const networks = schema.list(schema.choice(["yeo7", "giles"], { doc: "a template set" }), {
 *   default: ["yeo7"],
 *   unique: { expected: "each template set once" },
 *   doc: "network templates",
 * });
 * console.log(networks.expected); // a non-empty list
 * ```
 */
export function list<S extends Spec, const O extends ListOptions<Infer<S>>>(
  item: S,
  o: O,
): ListSpec<S, PresenceOf<O>> {
  return build((o) => {
    const min = o.min ?? 1;
    const expected = min <= 1 ? "a non-empty list" : o.tooFew ?? `a list of at least ${min}`;
    return {
      kind: "list",
      item,
      expected,
      // On the command line: items separated by commas, each read as the item's flag text.
      expectedText: item.readText ? `a comma-separated list, each ${item.expectedText}` : expected,
      ...(item.readText
        ? {
          readText: (t: string) => {
            const parts = t.split(",").map((p) => p.trim());
            const items = parts.map((p) => (p === "" ? undefined : item.readText!(p)));
            return items.length >= min && items.every((x) => x !== undefined)
              ? items as Infer<S>[]
              : undefined;
          },
        }
        : {}),
      read: (v, at) => {
        if (!Array.isArray(v) || v.length < min) {
          if (Array.isArray(v) && v.length > 0) {
            at.fail(at.path, expected, `${v.length} ${v.length === 1 ? "entry" : "entries"}`, true);
          }
          at.fail(at.path, expected, v);
        }
        const items = (v as unknown[]).map((x, i) =>
          item.read(x, { ...at, path: `${at.path}[${i}]` })
        );
        if (o.unique) {
          const { by, expected } = o.unique;
          const seen = new Set<string>();
          items.forEach((x, i) => {
            const value = by ? (x as Record<string, unknown>)[by] : x;
            const key = JSON.stringify(value);
            if (seen.has(key)) at.fail(`${at.path}[${i}]${by ? `.${by}` : ""}`, expected, value);
            seen.add(key);
          });
        }
        o.check?.(items as Infer<S>[], at);
        return items as Infer<S>[];
      },
    };
  }, o as ListOptions<Infer<S>>) as unknown as ListSpec<S, PresenceOf<O>>;
}

/** Options of {@linkcode object}. */
export interface ObjectOptions<T, R extends Record<string, string>, Opt extends boolean> {
  /** What the object holds, one line. */
  doc: string;
  /** The whole object may be absent (it is then left out). Default: false. */
  optional?: Opt;
  /** JSON key → property name of the value read, for keys that are not good names (`null`). */
  rename?: R;
  /** What a non-object's error expects. Default: `an object`. */
  expected?: string;
  /** A check across fields once each is read (e.g. one of two fields). */
  check?: (value: T, at: Cursor) => void;
}

/**
 * An object with named fields. A key it does not have is an error, with the
 * closest field's name as a hint; keys starting with `_` or `$` are comments.
 *
 * @param fields each field's spec, by JSON key, in the order they are read and documented
 * @param o `doc`, `optional`, `rename`, `expected`, `check`
 *
 * @example
 * ```ts
 * import { schema } from "@brainorg/core";
 * const S = schema.object({ seed: schema.integer({ min: 0, default: 0, doc: "seed" }) }, { doc: "settings" });
 * try {
 *   schema.readDocument(S, { sed: 1 }, { file: "s.json" });
 * } catch (err) {
 *   console.log((err as Error).message); // …an unknown field "sed" (did you mean "seed"?)…
 * }
 * ```
 */
export function object<
  const F extends Record<string, Spec>,
  const R extends Record<string, string> = Record<never, never>,
  const Opt extends boolean = false,
>(
  fields: F,
  o: ObjectOptions<ObjectValue<F, R>, R, Opt>,
): ObjectSpec<F, R, Opt extends true ? "optional" : "required"> {
  const rename: Record<string, string> = o.rename ?? {};
  const names = Object.keys(fields);
  const expected = o.expected ?? "an object";
  type Out = ObjectValue<F, R>;
  return build<Out, BaseOptions<Out>>(() => ({
    kind: "object",
    fields,
    rename,
    expected,
    expectedText: expected,
    read: (v, at) => {
      if (typeof v !== "object" || v === null || Array.isArray(v)) at.fail(at.path, expected, v);
      const raw = v as Record<string, unknown>;
      const child = (key: string) => at.path === "(root)" ? key : `${at.path}.${key}`;
      for (const key of Object.keys(raw)) {
        if (Object.hasOwn(fields, key) || isCommentKey(key)) continue;
        const hint = at.hint(key, names, at.path);
        at.fail(
          child(key),
          `one of the fields ${names.join(", ")} (or a comment key starting with _)`,
          `an unknown field "${key}"${hint ? ` (${hint})` : ""}`,
          true,
        );
      }
      const out: Record<string, unknown> = {};
      for (const [key, spec] of Object.entries(fields)) {
        const name = rename[key] ?? key;
        if (raw[key] === undefined) {
          if (spec.presence === "required") at.fail(child(key), spec.expected, undefined);
          if (spec.presence === "default") out[name] = structuredClone(spec.default);
          continue;
        }
        out[name] = spec.read(raw[key], { ...at, path: child(key) });
      }
      o.check?.(out as Out, at);
      return out as Out;
    },
  }), { doc: o.doc, optional: o.optional }) as unknown as ObjectSpec<
    F,
    R,
    Opt extends true ? "optional" : "required"
  >;
}

/**
 * The distance between two names: edits (insert, delete, replace, swap two
 * neighbours) that turn one into the other, ignoring case.
 *
 * @example
 * ```ts
 * import { schema } from "@brainorg/core";
 * console.log(schema.nameDistance("permutaions", "permutations")); // 1
 * ```
 */
export function nameDistance(a: string, b: string): number {
  const x = a.toLowerCase(), y = b.toLowerCase();
  const d = Array.from({ length: x.length + 1 }, (_, i) => {
    const row = new Array<number>(y.length + 1).fill(0);
    row[0] = i;
    return row;
  });
  for (let j = 0; j <= y.length; j++) d[0][j] = j;
  for (let i = 1; i <= x.length; i++) {
    for (let j = 1; j <= y.length; j++) {
      const cost = x[i - 1] === y[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && x[i - 1] === y[j - 2] && x[i - 2] === y[j - 1]) {
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[x.length][y.length];
}

/**
 * The candidate closest to `name`, if one is close enough to be a slip of
 * the keyboard: at most a third of its length in edits (at least 1).
 *
 * @returns the candidate, or undefined when none is close
 *
 * @example
 * ```ts
 * import { schema } from "@brainorg/core";
 * console.log(schema.closestName("permutaions", ["atoms", "permutations", "seed"])); // permutations
 * console.log(schema.closestName("frobnicate", ["atoms", "seed"])); // undefined
 * ```
 */
export function closestName(name: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined, bestDistance = Infinity;
  for (const c of candidates) {
    const d = nameDistance(name, c);
    if (d <= Math.max(1, Math.floor(c.length / 3)) && d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}

/**
 * Every field of a document spec, depth first, with the JSON path of the
 * object holding it (`""` for the top level, `stimulus.runs[]` for the items
 * of a list).
 *
 * @param spec a document's spec
 * @param at the path of `spec` itself (for the recursion)
 *
 * @example
 * ```ts
 * import { ANALYSIS_FILE, schema } from "@brainorg/core";
 * console.log(schema.fieldsOf(ANALYSIS_FILE).map((f) => `${f.parent}.${f.key}`).slice(0, 3));
 * // [".stimulus", "stimulus.transcript", "stimulus.tier"]
 * ```
 */
export function fieldsOf(spec: Spec, at = ""): { key: string; parent: string; spec: Spec }[] {
  if (spec.kind === "list") return fieldsOf((spec as ListSpec).item, `${at}[]`);
  if (spec.kind !== "object") return [];
  return Object.entries((spec as ObjectSpec).fields).flatMap(([key, s]) => [
    { key, parent: at, spec: s },
    ...fieldsOf(s, at ? `${at}.${key}` : key),
  ]);
}

/** Options of {@linkcode readDocument}. */
export interface ReadDocumentOptions {
  /** The document's file: errors name it, relative paths inside are resolved against its folder. */
  file: string;
  /** What the error's message says before the details. Default: `invalid analysis file`. */
  message?: string;
}

/**
 * Read a parsed JSON document with its spec: every value checked, defaults
 * filled in, unknown fields refused with the closest known name (a sibling,
 * or a field elsewhere in the document: `did you mean "voxelP" in "voxels"?`).
 *
 * @param spec the document's spec
 * @param value the parsed JSON
 * @returns the value read, of the spec's type
 * @throws {InputError} naming the file, the field (a JSON path), what was expected and what was found
 *
 * @example
 * ```ts
 * import { schema } from "@brainorg/core";
 * const S = schema.object({ atoms: schema.integer({ min: 1, default: 64, doc: "atoms" }) }, { doc: "study" });
 * console.log(schema.readDocument(S, {}, { file: "s.json" }).atoms); // 64
 * ```
 */
export function readDocument<S extends Spec>(
  spec: S,
  value: unknown,
  options: ReadDocumentOptions,
): Infer<S> {
  const { file } = options;
  const known = fieldsOf(spec);
  return spec.read(value, {
    path: "(root)",
    base: dirname(resolve(file)),
    fail: (field, expected, found, words = false) => {
      throw new InputError(options.message ?? "invalid analysis file", {
        file,
        field,
        expected,
        found: words ? String(found) : found === undefined ? "nothing" : shown(found),
      });
    },
    hint: (key, siblings, path) => {
      const near = closestName(key, siblings);
      // A field of another object, misplaced or misspelt: where it belongs, unless a
      // sibling is at least as close (`voxelP` at the top level is the voxels' field,
      // not a slip for "voxels").
      const here = path === "(root)" ? "" : path.replace(/\[\d+\]/g, "[]");
      const elsewhere = known.filter((f) => f.parent !== here);
      const name = closestName(key, elsewhere.map((f) => f.key));
      if (
        name !== undefined &&
        (near === undefined || nameDistance(key, name) < nameDistance(key, near))
      ) {
        const parent = elsewhere.find((f) => f.key === name)!.parent;
        return `did you mean "${name}" ${parent === "" ? "at the top level" : `in "${parent}"`}?`;
      }
      return near && `did you mean "${near}"?`;
    },
  }) as Infer<S>;
}

/**
 * The spec of a field by its JSON path through objects (`voxels.voxelP`).
 *
 * @throws {TypeError} when the document has no such field (a mistake in the schema)
 *
 * @example
 * ```ts
 * import { ANALYSIS_FILE, schema } from "@brainorg/core";
 * console.log(schema.fieldAt(ANALYSIS_FILE, "voxels.voxelP").default); // 0.01
 * ```
 */
export function fieldAt(spec: Spec, path: string): Spec {
  let at: Spec = spec;
  for (const key of path.split(".")) {
    if (at.kind !== "object" || !Object.hasOwn((at as ObjectSpec).fields, key)) {
      throw new TypeError(`the schema has no field "${path}"`);
    }
    at = (at as ObjectSpec).fields[key];
  }
  return at;
}

/**
 * A copy of a value read with `spec` in which the field at JSON path `path`
 * (through objects) is `value`: a command-line override of a document's field.
 *
 * @example
 * ```ts
 * import { schema } from "@brainorg/core";
 * const S = schema.object({ atoms: schema.integer({ min: 1, default: 64, doc: "atoms" }) }, { doc: "study" });
 * console.log(schema.setField(S, { atoms: 64 }, "atoms", 8)); // { atoms: 8 }
 * ```
 */
export function setField<V>(spec: Spec, read: V, path: string, value: unknown): V {
  const [key, ...rest] = path.split(".");
  const obj = spec as ObjectSpec;
  const field = fieldAt(spec, key);
  const name = obj.rename[key] ?? key;
  const current = read as Record<string, unknown>;
  if (rest.length && current[name] === undefined) {
    throw new RangeError(`cannot set "${path}": the document has no "${key}"`);
  }
  return {
    ...current,
    [name]: rest.length ? setField(field, current[name], rest.join("."), value) : value,
  } as V;
}
