/**
 * The README's option tables, made from the options' descriptions
 * (`options.ts`): every field of the analysis file, and every flag of
 * `analyze` and `phantom` with its default in each mode. The README holds
 * them between `<!-- generated: options NAME -->` and `<!-- /generated -->`;
 * `tools/generate_options.ts` writes them there and a test checks that they
 * are current.
 *
 * @example
 * ```ts
 * import { updateOptionTables } from "@brainorg/core";
 * const readme = await Deno.readTextFile("README.md");
 * console.log(updateOptionTables(readme) === readme); // true while the README is current
 * ```
 *
 * @module
 */

import {
  ANALYSIS_FILE,
  defaultIn,
  flagIn,
  type Mode,
  MODES,
  type OptionDef,
  OPTIONS,
  optionsIn,
  type Scope,
  specIn,
} from "./options.ts";
import { fieldsOf, type ListSpec, type ObjectSpec, type Spec } from "./options_schema.ts";

/**
 * A Markdown table, each column padded to its widest cell (as `deno fmt`
 * lays tables out), `|` in cells escaped.
 *
 * @param header the column titles
 * @param rows the cells, row by row
 * @param right the columns to align right
 *
 * @example
 * ```ts
 * import { markdownTable } from "@brainorg/core";
 * console.log(markdownTable(["a", "b"], [["1", "2"]]));
 * ```
 */
export function markdownTable(header: string[], rows: string[][], right: number[] = []): string {
  // `|` would end the cell, `<name>` would be read as HTML.
  const cells = [header, ...rows].map((r) =>
    r.map((c) => c.replaceAll("|", "\\|").replace(/<(?=[A-Za-z/!?])/g, "\\<"))
  );
  const widths = header.map((_, j) => Math.max(3, ...cells.map((r) => [...r[j]].length)));
  const line = (r: string[]) =>
    `| ${
      r.map((c, j) =>
        right.includes(j) ? c.padStart(widths[j] - [...c].length + c.length) : c.padEnd(
          widths[j] - [...c].length + c.length,
        )
      ).join(" | ")
    } |`;
  const rule = `| ${
    widths.map((w, j) => right.includes(j) ? `${"-".repeat(w - 1)}:` : "-".repeat(w)).join(" | ")
  } |`;
  return [line(cells[0]), rule, ...cells.slice(1).map(line)].join("\n");
}

/** A value's allowed values in words; a list of plain values says what each item is. */
function allowed(spec: Spec): string {
  if (spec.kind === "list") {
    const item = (spec as ListSpec).item;
    return item.kind === "object" ? spec.expected : `${spec.expected}, each ${item.expected}`;
  }
  return spec.expected;
}

/**
 * Every field of the analysis file: JSON path, allowed values, default, and
 * what it means (with the flag that sets it under `--config`, if any).
 *
 * @example
 * ```ts
 * import { analysisFileTable } from "@brainorg/core";
 * console.log(analysisFileTable().split("\n").length); // header, rule, one row per field
 * ```
 */
export function analysisFileTable(): string {
  const flags = new Map(
    (Object.values(OPTIONS) as OptionDef[]).filter((d) => d.file && d.modes.config).map((d) => [
      d.file!,
      flagIn(d, "config")!,
    ]),
  );
  const rows = fieldsOf(ANALYSIS_FILE).map(({ key, parent, spec }) => {
    const path = parent ? `${parent}.${key}` : key;
    const flag = flags.get(path);
    return [
      `\`${path}\``,
      allowed(spec),
      spec.presence === "required"
        ? "required"
        : spec.presence === "optional"
        ? "—"
        : `\`${JSON.stringify(spec.default)}\``,
      `${spec.doc}${flag ? ` (\`--${flag}\` sets it)` : ""}`,
    ];
  });
  return markdownTable(["field", "allowed", "default", "what"], rows);
}

const MODE_TITLES: Record<Mode, string> = {
  demo: "demo",
  config: "`--config`",
  phantom: "`phantom`",
};

/** Each flag of `scope`'s options with its definition and the modes it applies to. */
function flagRows(scope: OptionDef["scope"]) {
  const rows = new Map<string, { def: OptionDef; usage: string; modes: Mode[] }>();
  for (const def of Object.values(OPTIONS) as OptionDef[]) {
    if (def.scope !== scope) continue;
    for (const mode of MODES) {
      const flag = flagIn(def, mode);
      if (flag === undefined) continue;
      const usage = `\`--${flag}${def.arg ? ` ${def.arg}` : ""}\``;
      const row = rows.get(usage) ?? { def, usage, modes: [] };
      row.modes.push(mode);
      rows.set(usage, row);
    }
  }
  return [...rows.values()];
}

/** A flag's default in a mode, in words: `off` for a switch, `none` where it has none. */
function defaultCell(def: OptionDef, mode: Mode): string {
  if (mode === "config" && def.file) return `sets \`"${def.file}"\``;
  return specIn(def, mode).kind === "boolean" ? "off" : defaultIn(def, mode) ?? "none";
}

/**
 * The flags that change the results: their default in each mode (the demo,
 * `--config`, the phantom command), `sets "field"` where they set an
 * analysis file's field, `—` where they are not an option.
 *
 * @example
 * ```ts
 * import { analysisFlagsTable } from "@brainorg/core";
 * console.log(analysisFlagsTable());
 * ```
 */
export function analysisFlagsTable(): string {
  return markdownTable(
    ["option", ...MODES.map((m) => MODE_TITLES[m]), "what"],
    flagRows("analysis").map(({ def, usage, modes }) => [
      usage,
      ...MODES.map((m) => modes.includes(m) ? defaultCell(def, m) : "—"),
      specIn(def, modes[0]).doc,
    ]),
  );
}

/**
 * The flags of a run (folders, backend, output), with their default and,
 * where it differs, the default of the other modes.
 *
 * @example
 * ```ts
 * import { runFlagsTable } from "@brainorg/core";
 * console.log(runFlagsTable());
 * ```
 */
export function runFlagsTable(): string {
  return markdownTable(
    ["option", "default", "what"],
    flagRows("run").map(({ def, usage, modes }) => {
      const [first, ...others] = modes;
      const lead = defaultCell(def, first);
      const more = others.map((m) => [m, defaultCell(def, m)] as const).filter(([, d]) =>
        d !== lead
      ).map(([m, d]) => `; ${MODE_TITLES[m]}: ${d}`);
      return [usage, `${lead}${more.join("")}`, specIn(def, first).doc];
    }),
  );
}

/** The generated tables by the name their README markers carry. */
export const OPTION_TABLES: Readonly<Record<string, () => string>> = {
  "analysis-file": analysisFileTable,
  "analysis-flags": analysisFlagsTable,
  "run-flags": runFlagsTable,
};

const BLOCK = /(<!-- generated: options ([\w-]+) -->\n)[\s\S]*?(\n<!-- \/generated -->)/g;

/**
 * `text` (a README) with every block between `<!-- generated: options NAME -->`
 * and `<!-- /generated -->` replaced by the table `NAME` of
 * {@linkcode OPTION_TABLES}.
 *
 * @throws {RangeError} for a marker naming no table
 *
 * @example
 * ```ts
 * import { updateOptionTables } from "@brainorg/core";
 * console.log(updateOptionTables("<!-- generated: options run-flags -->\n\n<!-- /generated -->"));
 * ```
 */
export function updateOptionTables(text: string): string {
  return text.replace(BLOCK, (_all, open: string, name: string, close: string) => {
    const table = OPTION_TABLES[name];
    if (!table) {
      throw new RangeError(
        `README marker names no table: "${name}" (known: ${Object.keys(OPTION_TABLES).join(", ")})`,
      );
    }
    return `${open}\n${table()}\n${close}`;
  });
}

/**
 * The option tables a README holds, by name, each as rows of trimmed cells
 * (so that a layout change by `deno fmt` is not a difference).
 *
 * @example
 * ```ts
 * import { optionTablesIn } from "@brainorg/core";
 * console.log(Object.keys(optionTablesIn(await Deno.readTextFile("README.md"))));
 * ```
 */
export function optionTablesIn(text: string): Record<string, string[][]> {
  const out: Record<string, string[][]> = {};
  for (const m of text.matchAll(BLOCK)) out[m[2]] = tableCells(m[0]);
  return out;
}

/**
 * The rows of the Markdown tables in `text`, cells trimmed, the rule rows left out.
 *
 * @example
 * ```ts
 * import { tableCells } from "@brainorg/core";
 * console.log(tableCells("| a | b |\n| - | - |\n| 1 | 2 |")); // [["a", "b"], ["1", "2"]]
 * ```
 */
export function tableCells(text: string): string[][] {
  return text.split("\n").filter((l) => l.startsWith("|") && !/^\|[\s:|-]+\|$/.test(l)).map((
    l,
  ) => l.slice(1, -1).split(/(?<!\\)\|/).map((c) => c.trim()));
}

const WIDTH = 100;

/** A doc comment at `indent`, on one line where it fits, its first letter a capital. */
function docComment(doc: string, indent: string): string {
  const text = doc.charAt(0).toUpperCase() + doc.slice(1);
  const one = `${indent}/** ${text} */`;
  if (one.length <= WIDTH) return one;
  const lines: string[] = [];
  let line = `${indent} *`;
  for (const word of text.split(" ")) {
    if (line.length + 1 + word.length > WIDTH && line !== `${indent} *`) {
      lines.push(line);
      line = `${indent} *`;
    }
    line += ` ${word}`;
  }
  lines.push(line);
  return [`${indent}/**`, ...lines, `${indent} */`].join("\n");
}

/** A value's TypeScript type; objects laid out over lines at `indent`. */
function tsType(spec: Spec, indent: string): string {
  switch (spec.kind) {
    case "integer":
    case "number":
      return "number";
    case "boolean":
      return "boolean";
    case "text":
    case "path":
      return "string";
    case "choice":
      return spec.choices!.map((c) => JSON.stringify(c)).join(" | ");
    case "custom":
      return spec.tsType!;
    case "list": {
      const item = (spec as ListSpec).item;
      const t = tsType(item, indent);
      return item.kind === "choice" ? `(${t})[]` : `${t}[]`;
    }
    case "object":
      return `{\n${objectMembers(spec as ObjectSpec, `${indent}  `)}\n${indent}}`;
  }
}

/** The members of an object spec's value, each with its doc line and default. */
function objectMembers(spec: ObjectSpec, indent: string): string {
  return Object.entries(spec.fields).map(([key, s]) => {
    const name = spec.rename[key] ?? key;
    const note = s.presence === "default" ? ` Default: \`${JSON.stringify(s.default)}\`.` : "";
    const json = name === key ? "" : ` (\`"${key}"\` in the file)`;
    return `${docComment(`${s.doc}${json}.${note}`, indent)}\n${indent}${name}${
      s.presence === "optional" ? "?" : ""
    }: ${tsType(s, indent)};`;
  }).join("\n");
}

const SETTINGS_NAMES: Record<Mode, Partial<Record<Scope, string>>> = {
  demo: { analysis: "DemoSettings", run: "DemoRunSettings" },
  config: { run: "ConfigRunSettings" },
  phantom: { analysis: "PhantomSettings", run: "PhantomRunSettings" },
};

const MODE_NAMES: Record<Mode, string> = {
  demo: "The built-in demo",
  config: "An analysis file (`--config`): its analysis settings are the file's",
  phantom: "The phantom command",
};

const SETTINGS_DOCS: Record<string, string> = {
  DemoSettings: "The demo's analysis settings, as run and as recorded in `provenance.json`.",
  DemoRunSettings: "How and where the demo runs.",
  ConfigRunSettings: "How and where an analysis file's run goes (its analysis is the file's).",
  PhantomSettings: "The phantom command's settings.",
  PhantomRunSettings: "How and where the phantom command runs.",
};

/** One mode's settings of one scope as an interface, each option with its doc and default. */
function settingsInterface(mode: Mode, scope: Scope, name: string): string {
  const members = optionsIn(mode).filter(([, d]) =>
    d.scope === scope && !(mode === "config" && d.file)
  ).map(([key, def]) => {
    const spec = specIn(def, mode);
    const flag = flagIn(def, mode);
    const d = spec.kind === "boolean" ? String(spec.default) : defaultIn(def, mode);
    // A negated switch's doc says what the flag does; the value is the option's own.
    const doc = `${def.negated ? def.spec.doc : spec.doc}. ` +
      (flag ? `Flag: \`--${flag}\`` : "No flag: its default is used") +
      (def.negated ? " (sets it false)" : "") +
      (d === undefined ? "." : `. Default: ${d}.`) +
      (def.file ? ` The analysis file's \`${def.file}\`.` : "");
    return `${docComment(doc, "  ")}\n  ${key}${spec.default === undefined ? "?" : ""}: ${
      tsType(spec, "  ")
    };`;
  });
  return `${docComment(SETTINGS_DOCS[name], "")}\nexport interface ${name} {\n${
    members.join("\n")
  }\n}`;
}

/**
 * The TypeScript declarations of the options' values, generated from their
 * descriptions: `AnalysisFile` (the analysis file as read), `OptionName`,
 * and each mode's settings. Written to `packages/core/options_types.ts` by
 * `tools/generate_options.ts`; a test checks that the file is current and
 * that each type equals the one TypeScript infers from the descriptions.
 *
 * @example
 * ```ts
 * import { renderOptionTypes } from "@brainorg/core";
 * console.log(renderOptionTypes().split("\n")[0]);
 * ```
 */
export function renderOptionTypes(): string {
  const names = Object.keys(OPTIONS).map((k) => `  | "${k}"`).join("\n");
  const byMode = MODES.map((m) =>
    `  /** ${MODE_NAMES[m]}. */\n  ${m}: { analysis: ${
      SETTINGS_NAMES[m].analysis ?? "Record<never, never>"
    }; run: ${SETTINGS_NAMES[m].run} };`
  ).join("\n");
  return [
    "// Generated by tools/generate_options.ts from packages/core/_options_spec.ts: do not edit;",
    "// run `deno run --allow-read --allow-write tools/generate_options.ts`.",
    "",
    "/**",
    " * The types of brainorg's option values, generated from their descriptions",
    " * (`_options_spec.ts`), each member with its doc line and default.",
    " *",
    " * @module",
    " */",
    "",
    docComment(
      "An analysis file as read by `parseAnalysisConfig`: defaults filled in, paths absolute.",
      "",
    ),
    `export interface AnalysisFile {\n${objectMembers(ANALYSIS_FILE, "  ")}\n}`,
    "",
    "/** The options' names (`OPTIONS`). */",
    `export type OptionName =\n${names};`,
    "",
    ...MODES.flatMap((m) =>
      (["analysis", "run"] as const).flatMap((scope) => {
        const name = SETTINGS_NAMES[m][scope];
        return name ? [settingsInterface(m, scope, name), ""] : [];
      })
    ),
    "/** Each mode's settings, by scope (what `resolveSettings` returns). */",
    `export interface SettingsByMode {\n${byMode}\n}`,
    "",
  ].join("\n");
}
