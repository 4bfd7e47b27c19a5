/**
 * Every option of brainorg, each described once: the analysis file's fields
 * ({@linkcode ANALYSIS_FILE}) and the command line's options
 * ({@linkcode OPTIONS}: flag, value, default, and the modes it applies to:
 * the built-in demo, an analysis file given with `--config`, the phantom
 * command). The analysis file's reader, its TypeScript types
 * (`options_types.ts`, generated), the commands' flags and `--help`, the
 * README's option tables and the values recorded in `provenance.json` all
 * come from here. The descriptions themselves are in `_options_spec.ts`.
 *
 * @example
 * ```ts
 * import { resolveSettings } from "@brainorg/core";
 * const demo = resolveSettings("demo", { atoms: 8 }, { scope: "analysis" });
 * console.log(demo.atoms, demo.permutations, demo.targetDensity); // 8 200 0.2
 * ```
 *
 * @module
 */

import {
  FILE_SPEC,
  type Mode,
  MODE_CHECKS as CHECKS,
  type ModeCheck,
  OPTION_DEFS,
  type OptionDef,
  type Scope,
} from "./_options_spec.ts";
import { type ObjectSpec, shown, type Spec } from "./options_schema.ts";
import type { OptionName, SettingsByMode } from "./options_types.ts";

export type * from "./options_types.ts";
export { PLANTED_ATOMS } from "./_options_spec.ts";
export type { Mode, ModeCheck, ModeUse, OptionDef, Scope } from "./_options_spec.ts";

/**
 * The analysis file (`deno task analyze --config FILE`): a story's transcript
 * and timing, models, brain data (voxels, ROI tables or both), network
 * templates and the method's settings; each field with its type, range,
 * default and doc line. Read with `parseAnalysisConfig`; its value's type is
 * {@linkcode AnalysisFile}.
 */
export const ANALYSIS_FILE: ObjectSpec = FILE_SPEC;

/** The modes, in the order help and tables list them. */
export const MODES: readonly Mode[] = ["demo", "config", "phantom"];

/**
 * The options of the commands (`analyze`, `phantom`) and of the runs they
 * start, by property name, in the order help lists them. Each says its flag,
 * its value and the modes it applies to; a flag outside its modes is refused.
 */
export const OPTIONS: Readonly<Record<OptionName, OptionDef>> = OPTION_DEFS;

/** Checks across options: a value that is fine alone but not with another. */
export const MODE_CHECKS: readonly ModeCheck[] = CHECKS;

/**
 * The options that apply in `mode`, as [name, definition] in help order.
 *
 * @example
 * ```ts
 * import { optionsIn } from "@brainorg/core";
 * console.log(optionsIn("phantom").map(([name]) => name));
 * ```
 */
export function optionsIn(mode: Mode): [OptionName, OptionDef][] {
  return (Object.entries(OPTIONS) as [OptionName, OptionDef][]).filter(([, d]) =>
    d.modes[mode] !== undefined
  );
}

/**
 * An option's flag in `mode`, without `--`; undefined where it has none there.
 *
 * @example
 * ```ts
 * import { flagIn, OPTIONS } from "@brainorg/core";
 * console.log(flagIn(OPTIONS.phantomSubjects, "phantom")); // subjects
 * ```
 */
export function flagIn(def: OptionDef, mode: Mode): string | undefined {
  const use = def.modes[mode];
  if (!use || use.flag === false) return undefined;
  return use.flag ?? def.flag;
}

/**
 * An option's value description in `mode`: its own, with the mode's default,
 * lower bound and doc line where they differ.
 *
 * @example
 * ```ts
 * import { OPTIONS, specIn } from "@brainorg/core";
 * console.log(specIn(OPTIONS.atoms, "phantom").expected); // a whole number ≥ 7 and ≤ 4096
 * ```
 */
export function specIn(def: OptionDef, mode: Mode): Spec {
  const use = def.modes[mode] ?? {};
  if (use.default === undefined && use.min === undefined && use.doc === undefined) return def.spec;
  return def.spec.with({
    ...(use.default !== undefined ? { default: use.default } : {}),
    ...(use.min !== undefined ? { min: use.min } : {}),
    ...(use.doc !== undefined ? { doc: use.doc } : {}),
  });
}

/**
 * An option's default in `mode` in words (for help and the README), or
 * undefined for a switch or an option without one.
 *
 * @example
 * ```ts
 * import { defaultIn, OPTIONS } from "@brainorg/core";
 * console.log(defaultIn(OPTIONS.out, "demo"), defaultIn(OPTIONS.out, "config"));
 * // results/demo results/<name of the analysis file>
 * ```
 */
export function defaultIn(def: OptionDef, mode: Mode): string | undefined {
  const use = def.modes[mode] ?? {};
  if (use.defaultDoc !== undefined) return use.defaultDoc;
  const spec = specIn(def, mode);
  if (spec.kind === "boolean" || spec.default === undefined) return undefined;
  return typeof spec.default === "string" ? spec.default : JSON.stringify(spec.default);
}

/**
 * An option value that is not what its description allows (a library
 * caller's mistake; the command line reports the flag instead).
 *
 * @example
 * ```ts
 * import { OptionError } from "@brainorg/core";
 * console.log(new OptionError("atoms", "a whole number ≥ 1", 0).message);
 * // `atoms` must be a whole number ≥ 1: current value is 0
 * ```
 */
export class OptionError extends RangeError {
  /** The option, by property name. */
  readonly option: string;
  /** What it must be. */
  readonly expected: string;
  /** What it was. */
  readonly found: unknown;

  /**
   * An error naming the option, what it must be and what it was.
   *
   * @param option the option's name
   * @param expected what it must be, in words
   * @param found the value given
   */
  constructor(option: string, expected: string, found: unknown) {
    super(`\`${option}\` must be ${expected}: current value is ${shown(found)}`);
    this.name = "OptionError";
    this.option = option;
    this.expected = expected;
    this.found = found;
  }
}

/** Options of {@linkcode resolveSettings}. */
export interface ResolveSettingsOptions<S extends Scope> {
  /** Which options: those that change the results, or those of the run. */
  scope: S;
  /**
   * Report a bad value; never returns. Default: throw an
   * {@linkcode OptionError}. The command line names the flag instead.
   */
  fail?: (option: OptionName, expected: string, found: unknown) => never;
}

/**
 * The options of a mode, resolved: each given value checked against its
 * description in that mode, every other one at its default, then the checks
 * across options ({@linkcode MODE_CHECKS}). Keys of `given` that are not
 * options of the mode are ignored (a caller's other options pass through).
 *
 * @param mode which mode's options and defaults
 * @param given values by option name (`undefined`: not given)
 * @returns the settings, as used and as recorded in provenance
 * @throws {OptionError} for a value its description does not allow (unless `fail` says otherwise)
 *
 * @example
 * ```ts
 * import { resolveSettings } from "@brainorg/core";
 * console.log(resolveSettings("phantom", { r2: 0.05 }, { scope: "analysis" }));
 * // { atoms: 16, seed: 0, phantomSubjects: 6, resolution: 4, networks: "yeo7", r2: 0.05 }
 * ```
 */
export function resolveSettings<M extends Mode, S extends Scope>(
  mode: M,
  given: { readonly [K in OptionName]?: unknown },
  options: ResolveSettingsOptions<S>,
): SettingsByMode[M][S] {
  const fail = options.fail ??
    ((option: string, expected: string, found: unknown): never => {
      throw new OptionError(option, expected, found);
    });
  const out: Record<string, unknown> = {};
  for (const [key, def] of optionsIn(mode)) {
    if (def.scope !== options.scope) continue;
    if (mode === "config" && def.file) continue;
    const spec = specIn(def, mode);
    const value = given[key];
    if (value !== undefined) {
      out[key] = spec.read(value, {
        path: key,
        // Command-line paths stay as given: relative to where the command runs.
        base: "",
        fail: (_path, expected, found) => fail(key, expected, found),
        hint: () => undefined,
      });
    } else if (spec.default !== undefined) {
      out[key] = structuredClone(spec.default);
    }
  }
  for (const check of MODE_CHECKS) {
    if (check.mode === mode && check.option in out && !check.holds(out)) {
      fail(check.option, check.expected, out[check.option]);
    }
  }
  // Built from the same descriptions the types are generated from (and checked against).
  return out as SettingsByMode[M][S];
}
