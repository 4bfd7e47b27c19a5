/**
 * The command line of `analyze` and `phantom`, made from the options'
 * descriptions in `@brainorg/core` (`OPTIONS`): the flags parseArgs accepts,
 * their checks, the modes they apply to and the options part of `--help`.
 * Nothing here restates a default or a range.
 *
 * @module
 */

import { parseArgs } from "node:util";
import {
  ANALYSIS_FILE,
  defaultIn,
  flagIn,
  type Mode,
  type OptionDef,
  type OptionName,
  OPTIONS,
  schema,
  specIn,
} from "@brainorg/core";
import { UsageError } from "./usage_error.ts";

/** A command whose flags come from `OPTIONS`. */
export interface CommandLine {
  /** Its modes: the first without a selector, the second with one. */
  readonly modes: readonly Mode[];
  /** The options whose flags choose the second mode (`--config`, `--bids`). */
  readonly selectors?: readonly OptionName[];
}

/** `deno task analyze`: the demo, or an analysis file with `--config` (or a dataset with `--bids`). */
export const ANALYZE: CommandLine = {
  modes: ["demo", "config"],
  selectors: ["config", "bidsRoot"],
};

/** `deno task phantom`. */
export const PHANTOM: CommandLine = { modes: ["phantom"] };

/** How the modes are named in messages and help. */
const MODE_WORDS: Record<Mode, string> = {
  demo: "the demo",
  config: "--config",
  phantom: "deno task phantom",
};

interface Flag {
  name: string;
  option: OptionName;
  def: OptionDef;
  /** The command's modes where this flag applies. */
  modes: Mode[];
}

/** The command's flags by name, each with the option it sets and its modes. */
function flagsOf(command: CommandLine): Map<string, Flag> {
  const flags = new Map<string, Flag>();
  for (const [option, def] of Object.entries(OPTIONS) as [OptionName, OptionDef][]) {
    for (const mode of command.modes) {
      const name = flagIn(def, mode);
      if (name === undefined) continue;
      const flag = flags.get(name) ?? { name, option, def, modes: [] };
      flag.modes.push(mode);
      flags.set(name, flag);
    }
  }
  return flags;
}

/** What {@linkcode readCommandLine} found. */
export type CommandLineValues =
  | { help: true }
  | {
    help: false;
    /** The mode the flags chose. */
    mode: Mode;
    /** Values of the options given, by option name, checked against their mode's description. */
    given: Record<string, unknown>;
    /** With --config: values for the analysis file's fields, by JSON path. */
    overrides: Record<string, unknown>;
  };

/**
 * Read a command's arguments: unknown flags refused with the closest valid
 * one, each flag checked against its description in the chosen mode, and a
 * flag that does not apply in that mode refused, naming the flag and the mode.
 *
 * @param args the arguments after the command's name
 * @param command which command
 * @param help its help text, shown with a usage error
 * @throws {UsageError} for anything the command line cannot be run with
 *
 * @example
 * ```ts
 * import { ANALYZE, readCommandLine } from "./args.ts";
 * const r = readCommandLine(["--config", "study.json", "--seed", "3"], ANALYZE, "help");
 * if (!r.help) console.log(r.mode, r.overrides); // config { seed: 3 }
 * ```
 */
export function readCommandLine(
  args: string[],
  command: CommandLine,
  help: string,
): CommandLineValues {
  const flags = flagsOf(command);
  const options = Object.fromEntries([
    ...[...flags.values()].map((f) => [
      f.name,
      { type: f.def.arg === undefined ? "boolean" as const : "string" as const },
    ]),
    ["help", { type: "boolean" as const, short: "h" }],
  ]);
  // Unknown flags first, with the closest known one: parseArgs would only say "unknown".
  const { tokens } = parseArgs({ args, options, strict: false, tokens: true });
  for (const t of tokens) {
    if (t.kind !== "option" || Object.hasOwn(options, t.name)) continue;
    const known = [...flags.keys(), "help"];
    const near = schema.closestName(t.name, known);
    // An analysis file's field tried as a flag: say where it is set instead.
    const field = near || !command.modes.includes("config") ? undefined : fileFieldNear(t.name);
    throw new UsageError(
      `unknown option "${t.rawName}"` +
        (near
          ? ` (did you mean "--${near}"?)`
          : field
          ? ` (no flag sets it: "${field}" is a field of the analysis file given with --config)`
          : ""),
      help,
    );
  }
  let values: Record<string, string | boolean | undefined>;
  try {
    // Every option is a single string or switch: no `multiple`.
    values = parseArgs({ args, options, allowPositionals: false }).values as typeof values;
  } catch (err) {
    throw new UsageError((err as Error).message, help);
  }
  if (values.help) return { help: true };
  const givenFlags = new Set(Object.keys(values).filter((k) => values[k] !== undefined));
  const mode =
    (command.selectors ?? []).some((o) => givenFlags.has(flagIn(OPTIONS[o], command.modes[1])!))
      ? command.modes[1]
      : command.modes[0];
  const given: Record<string, unknown> = {};
  const overrides: Record<string, unknown> = {};
  for (const name of givenFlags) {
    const flag = flags.get(name)!;
    if (!flag.modes.includes(mode)) {
      throw new UsageError(
        `--${name} cannot be used with ${MODE_WORDS[mode]}: it applies to ` +
          `${flag.modes.map((m) => MODE_WORDS[m]).join(" and ")} only`,
        help,
      );
    }
    const text = values[name];
    let value: unknown;
    if (typeof text === "boolean") value = flag.def.negated ? !text : text;
    else {
      const spec = specIn(flag.def, mode);
      value = spec.readText?.(text!);
      if (value === undefined) {
        throw new UsageError(
          `--${name} must be ${spec.expectedText}: current value is "${text}"`,
          help,
        );
      }
    }
    if (mode === "config" && flag.def.file) overrides[flag.def.file] = value;
    else given[flag.option] = value;
  }
  return { help: false, mode, given, overrides };
}

/** A field of the analysis file whose name is close to a flag's (`--target-density`). */
function fileFieldNear(flag: string): string | undefined {
  const camel = flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
  const fields = schema.fieldsOf(ANALYSIS_FILE);
  const near = schema.closestName(camel, fields.map((f) => f.key));
  const field = fields.find((f) => f.key === near);
  return field && (field.parent ? `${field.parent}.${field.key}` : field.key);
}

/**
 * The error for a value the options' cross-checks refuse, naming the flag
 * (for `resolveSettings`' `fail`).
 *
 * @example
 * ```ts
 * import { resolveSettings } from "@brainorg/core";
 * import { flagFailure } from "./args.ts";
 * resolveSettings("demo", { atoms: 3 }, { scope: "analysis", fail: flagFailure("demo", "help") });
 * // throws UsageError: --atoms must be ≥ 7 for the phantom, …
 * ```
 */
export function flagFailure(
  mode: Mode,
  help: string,
): (option: OptionName, expected: string, found: unknown) => never {
  return (option: OptionName, expected: string, found: unknown): never => {
    const name = flagIn(OPTIONS[option], mode) ?? option;
    throw new UsageError(`--${name} must be ${expected}: current value is "${found}"`, help);
  };
}

const WIDTH = 100, COLUMN = 25;

/** `text` wrapped at {@linkcode WIDTH}, every line after the first indented to `indent`. */
function wrap(text: string, first: string, indent: number): string {
  const lines: string[] = [];
  let line = first.length >= indent ? (lines.push(first), "") : first.padEnd(indent);
  let fresh = true;
  for (const word of text.split(" ")) {
    if (line.length === 0) line = " ".repeat(indent);
    if (!fresh && line.length + 1 + word.length > WIDTH) {
      lines.push(line);
      line = " ".repeat(indent);
      fresh = true;
    }
    line += (fresh ? "" : " ") + word;
    fresh = false;
  }
  lines.push(line);
  return lines.join("\n");
}

/** A flag's help line: doc and, per mode of the command, its default or the field it sets. */
function helpLine(flag: Flag): string {
  const [first] = flag.modes;
  const firstDefault = defaultIn(flag.def, first);
  const notes = flag.modes.map((mode) => {
    if (mode === first) return firstDefault === undefined ? "" : `default: ${firstDefault}`;
    if (mode === "config" && flag.def.file) {
      const fileDefault = flag.def.spec.default;
      return `with --config: sets the file's "${flag.def.file}"` +
        (fileDefault === undefined ? "" : `, whose default is ${JSON.stringify(fileDefault)}`);
    }
    const d = defaultIn(flag.def, mode);
    return d === undefined || d === firstDefault ? "" : `with ${MODE_WORDS[mode]}: ${d}`;
  }).filter(Boolean);
  const doc = specIn(flag.def, first).doc;
  const usage = `  --${flag.name}${flag.def.arg ? ` ${flag.def.arg}` : ""}`;
  return wrap(`${doc}${notes.length ? ` (${notes.join("; ")})` : ""}`, usage, COLUMN);
}

/**
 * The options part of a command's help, from the options' descriptions:
 * those of the run, then the analysis options, then those of one mode only
 * (a command with one mode lists them together), each flag with its doc
 * line and defaults.
 *
 * @example
 * ```ts
 * import { ANALYZE, optionsHelp } from "./args.ts";
 * console.log(optionsHelp(ANALYZE));
 * ```
 */
export function optionsHelp(command: CommandLine): string {
  const flags = [...flagsOf(command).values()];
  const shared = (f: Flag) =>
    f.modes.length === command.modes.length || (command.selectors ?? []).includes(f.option);
  const section = (title: string, of: Flag[], extra = "") =>
    of.length ? `${title}\n${of.map(helpLine).join("\n")}${extra}` : "";
  const help = `\n${"  -h, --help".padEnd(COLUMN)}this help`;
  const analysis = flags.filter((f) => shared(f) && f.def.scope === "analysis");
  const run = flags.filter((f) => shared(f) && f.def.scope === "run");
  const sections = command.modes.length === 1
    ? [section("Options:", [...analysis, ...run], help)]
    : [
      section("Options:", run, help),
      section(
        "Analysis options (with --config, each sets the analysis file's field of that name):",
        analysis,
      ),
      ...command.modes.map((mode) => {
        const others = command.modes.filter((m) => m !== mode).map((m) => MODE_WORDS[m]);
        return section(
          `Only for ${MODE_WORDS[mode]} (refused with ${others.join(", ")}):`,
          flags.filter((f) => !shared(f) && f.modes.includes(mode)),
        );
      }),
    ];
  return sections.filter(Boolean).join("\n\n");
}

/** The environment variables of a computing command, for its help (not options: read elsewhere). */
export const ENVIRONMENT_HELP = `Environment:
  BRAINORG_BLAS          the CPU's product library: off, openblas, mlas or typescript (default:
                         OpenBLAS if it loads, else MLAS from onnxruntime-node)
  BRAINORG_THREADS, BRAINORG_CACHE, BRAINORG_DATA, BRAINORG_OFFLINE
                         defaults of --threads, --cache-dir, --data-dir, --offline`;

/**
 * Reference-data settings from resolved run options.
 *
 * @example
 * ```ts
 * import { dataSettings } from "./args.ts";
 * console.log(dataSettings({ cacheDir: "/tmp/c", offline: true })); // { cacheDir: "/tmp/c", download: false }
 * ```
 */
export function dataSettings(
  values: { dataDir?: string; cacheDir?: string; offline?: boolean },
): { dataDir?: string; cacheDir?: string; download?: false } {
  return {
    ...(values.dataDir ? { dataDir: values.dataDir } : {}),
    ...(values.cacheDir ? { cacheDir: values.cacheDir } : {}),
    ...(values.offline ? { download: false as const } : {}),
  };
}
