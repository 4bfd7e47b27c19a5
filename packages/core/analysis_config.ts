/**
 * The analysis of a user's own data, described in a JSON file: a story's
 * transcript and timing, models, subjects' 4-D NIfTI on a mask and/or ROI
 * tables, and the network templates. Paths are relative to the file. Its
 * fields, their ranges and defaults are described once, in
 * {@linkcode ANALYSIS_FILE} (`options.ts`); this module reads a file with it.
 *
 * ```json
 * {
 *   "stimulus": { "transcript": "story.TextGrid", "tr": 2, "runs": [{ "volumes": 362, "discarded": 10 }] },
 *   "models": [{ "name": "stories260K", "gguf": "stories260K.gguf", "randomControl": true }],
 *   "voxels": { "mask": "mask.nii.gz", "subjects": [{ "id": "sub-01", "bold": "sub-01_bold.nii.gz" }] },
 *   "networks": ["yeo7", "giles"],
 *   "atoms": 16, "targetDensity": 0.2, "permutations": 100, "seed": 0
 * }
 * ```
 *
 * @module
 */

import { dirname, resolve } from "node:path";
import { InputError } from "@brainorg/common";
import { FILE_SPEC } from "./_options_spec.ts";
import { ANALYSIS_FILE, type AnalysisFile } from "./options.ts";
import { fieldAt, readDocument, setField, shown } from "./options_schema.ts";

/**
 * A validated analysis description: every field of {@linkcode ANALYSIS_FILE}
 * with its default where the file had none, paths absolute, the file's
 * `null` as `nullMethod`, and the file's own absolute path. Its `stimulus`
 * is absent where `bids` names a dataset (see `bids_input.ts`).
 */
export type AnalysisDescription = AnalysisFile & { file: string };

/**
 * An analysis ready to run: a description whose inputs are all named — the
 * stimulus given, or found in the BIDS dataset with the subjects' files.
 */
export type AnalysisConfig = AnalysisDescription & {
  stimulus: NonNullable<AnalysisFile["stimulus"]>;
};

/**
 * Parse and check an analysis file. Every field is checked for its type
 * and range; a field the format does not have is an error too (a misspelt
 * option must not be silently ignored), naming the closest valid field.
 * Keys starting with `_` or `$` are comments.
 *
 * @param text the file's content
 * @param file its path: paths inside are relative to it, and errors name it
 * @returns the validated description, paths absolute
 * @throws {InputError} naming the file, the field (a JSON path), what was expected and what was found
 *
 * @example
 * ```ts
 * import { parseAnalysisConfig } from "@brainorg/core";
 * const config = parseAnalysisConfig(await Deno.readTextFile("study.json"), "study.json");
 * console.log(config.stimulus.tr, config.models.map((m) => m.name));
 * ```
 */
export function parseAnalysisConfig(text: string, file: string): AnalysisDescription {
  let raw: unknown;
  try {
    raw = JSON.parse(text.replace(/^\uFEFF/, ""));
  } catch (err) {
    throw new InputError("invalid analysis file", {
      file,
      field: "(the whole file)",
      expected: "JSON",
      found: (err as Error).message,
    });
  }
  // The precisely typed description: its value's type is checked equal to AnalysisFile.
  return { file: resolve(file), ...readDocument(FILE_SPEC, raw, { file }) };
}

/**
 * An analysis description with some fields set from elsewhere (the command
 * line's `--seed`, `--atoms`, `--permutations`), each checked as the file's
 * own value would be.
 *
 * @param config a description from {@linkcode parseAnalysisConfig}
 * @param overrides values by the file's JSON path (`atoms`, `voxels.voxelP`)
 * @returns a new description; `config` is unchanged
 * @throws {InputError} for a value the field does not allow (the field is named, the file is `source`)
 *
 * @example
 * ```ts
 * import { overrideAnalysisConfig, parseAnalysisConfig } from "@brainorg/core";
 * const config = parseAnalysisConfig(await Deno.readTextFile("study.json"), "study.json");
 * console.log(overrideAnalysisConfig(config, { seed: 3 }).seed); // 3
 * ```
 */
export function overrideAnalysisConfig<T extends AnalysisDescription>(
  config: T,
  overrides: Readonly<Record<string, unknown>>,
  source = "the command line",
): T {
  let out = config;
  for (const [path, value] of Object.entries(overrides)) {
    // Through the field's own description: an override gets the file's checks.
    const checked = fieldAt(ANALYSIS_FILE, path).read(value, {
      path,
      base: dirname(config.file),
      fail: (field, expected, found) => {
        throw new InputError("invalid override of the analysis file", {
          file: source,
          field,
          expected,
          found: shown(found),
        });
      },
      hint: () => undefined,
    });
    out = setField(ANALYSIS_FILE, out, path, checked);
  }
  return out;
}

/**
 * A description as an analysis ready to run, where it names its stimulus
 * (a `bids` description is made one by `bidsAnalysis`).
 *
 * @throws {InputError} when it has none (a `bids` description)
 */
export function withStimulus(d: AnalysisDescription): AnalysisConfig {
  if (!d.stimulus) {
    throw new InputError("the analysis names no stimulus", {
      file: d.file,
      field: "stimulus",
      expected: "a stimulus, or bids (read through runAnalysis)",
      found: "none",
    });
  }
  return d as AnalysisConfig;
}
