/**
 * The analysis of a user's own data, described in a JSON file: a story's
 * transcript and timing, GGUF models, subjects' 4-D NIfTI on a mask, and the
 * network templates. Paths are relative to the file.
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

import { dirname, isAbsolute, resolve } from "node:path";
import { InputError } from "@brainorg/common";
import type { NetworkChoice } from "./phantom_files.ts";
import type { ModelSpec } from "./capture_atoms.ts";

/** A validated analysis description, paths absolute. */
export interface AnalysisConfig {
  file: string;
  stimulus: {
    transcript: string;
    tier?: string;
    tr: number;
    runs: { volumes: number; discarded: number; stimulusOffset: number }[];
    hrf: "spm" | "glover";
    /** Words → volumes: HRF convolution, Lanczos resampling, or Lanczos + FIR delays. */
    method: "hrf" | "lanczos" | "fir";
  };
  models: ModelSpec[];
  /** ROI time courses per subject (tables: volumes × regions), as for the Alice data. */
  rois?: {
    subjects: { id: string; table: string }[];
    /** Region names for tables without a header row. */
    columns?: string[];
    discarded: number;
  };
  voxels?: {
    mask: string;
    subjects: { id: string; bold: string }[];
    /** Volumes at the start of each file that are not part of the runs' kept volumes. */
    discarded: number;
    highPassSeconds: number;
    voxelP: number;
    /** Coefficient maps by ridge (default) or LASSO with α per voxel by CV (the paper's choice). */
    maps: "ridge" | "lasso";
    /**
     * Largest share of the mask's voxels a kept subject may lose to
     * non-finite or constant values (those voxels are then dropped for every
     * subject); a subject over it, or with a lost volume, is excluded. Default: 0.1.
     */
    maxBadVoxelShare: number;
  };
  networks: NetworkChoice[];
  atoms: number;
  targetDensity: number;
  /** An explicit sparsity penalty instead of calibrating it to `targetDensity`. */
  dictionaryAlpha?: number;
  /** Surrogates of the null: circular shifts (default) or phase randomization. */
  nullMethod: "shift" | "phase";
  permutations: number;
  seed: number;
}

type Json = Record<string, unknown>;

/** The fields each object of an analysis file may hold (keys starting with `_` or `$` are comments). */
const FIELDS = {
  "(root)": [
    "stimulus",
    "models",
    "rois",
    "voxels",
    "networks",
    "atoms",
    "targetDensity",
    "dictionaryAlpha",
    "null",
    "permutations",
    "seed",
  ],
  stimulus: ["transcript", "tier", "tr", "runs", "hrf", "method"],
  run: ["volumes", "discarded", "stimulusOffset"],
  model: ["name", "gguf", "hf", "engine", "units", "tensors", "randomControl"],
  voxels: [
    "mask",
    "subjects",
    "discarded",
    "highPassSeconds",
    "voxelP",
    "maps",
    "maxBadVoxelShare",
  ],
  rois: ["subjects", "columns", "discarded"],
} as const;

// Upper bounds keep a typing slip (an extra digit, a wrong unit) from
// becoming an allocation of terabytes or a run of years; each is far
// beyond any real study.
const MAX_VOLUMES = 100_000;
const MAX_ATOMS = 4096;
const MAX_PERMUTATIONS = 100_000;

/**
 * Parse and check an analysis file. Every field is checked for its type
 * and range; a field the format does not have is an error too (a misspelt
 * option must not be silently ignored). Keys starting with `_` or `$` are
 * comments.
 *
 * @param text the file's content
 * @param file its path: paths inside are relative to it, and errors name it
 * @returns the validated description, paths absolute
 * @throws {InputError} naming the file, the field (a JSON path) and what was expected
 *
 * @example
 * ```ts
 * import { parseAnalysisConfig } from "@brainorg/core";
 * const config = parseAnalysisConfig(await Deno.readTextFile("study.json"), "study.json");
 * console.log(config.stimulus.tr, config.models.map((m) => m.name));
 * ```
 */
export function parseAnalysisConfig(text: string, file: string): AnalysisConfig {
  // `found` is shown as JSON, cut short, unless it is already words.
  const fail = (field: string, expected: string, found: unknown, words = false): never => {
    throw new InputError("invalid analysis file", {
      file,
      field,
      expected,
      found: words ? String(found) : found === undefined ? "nothing" : shown(found),
    });
  };
  let raw: Json;
  try {
    raw = JSON.parse(text.replace(/^\uFEFF/, ""));
  } catch (err) {
    return fail("(the whole file)", "JSON", (err as Error).message);
  }
  const base = dirname(resolve(file));
  const obj = (v: unknown, field: string, kind: keyof typeof FIELDS): Json => {
    if (typeof v !== "object" || v === null || Array.isArray(v)) fail(field, "an object", v);
    const allowed: readonly string[] = FIELDS[kind];
    for (const key of Object.keys(v as Json)) {
      if (allowed.includes(key) || key.startsWith("_") || key.startsWith("$")) continue;
      fail(
        field === "(root)" ? key : `${field}.${key}`,
        `one of the fields ${allowed.join(", ")} (or a comment key starting with _)`,
        `an unknown field "${key}"`,
        true,
      );
    }
    return v as Json;
  };
  const path = (v: unknown, field: string) =>
    typeof v === "string" && v.trim() !== "" && !v.includes("\0")
      ? (isAbsolute(v) ? v : resolve(base, v))
      : fail(field, "a file path (relative to the analysis file)", v);
  const num = (
    v: unknown,
    field: string,
    range: { min: number; max?: number; def?: number; integer?: boolean; above?: boolean },
  ): number => {
    if (v === undefined && range.def !== undefined) return range.def;
    const max = range.max ?? Number.MAX_VALUE;
    if (
      typeof v !== "number" || !Number.isFinite(v) ||
      (range.above ? !(v > range.min) : v < range.min) ||
      v > max || (range.integer && !Number.isInteger(v))
    ) {
      const kind = range.integer ? "a whole number" : "a number";
      const lower = range.above ? `> ${range.min}` : `≥ ${range.min}`;
      return fail(
        field,
        range.max === undefined ? `${kind} ${lower}` : `${kind} ${lower} and ≤ ${range.max}`,
        v,
      );
    }
    return v;
  };
  const list = (v: unknown, field: string) =>
    Array.isArray(v) && v.length > 0 ? v : fail(field, "a non-empty list", v);
  const oneOf = <T extends string>(v: unknown, field: string, options: readonly T[], def: T): T =>
    v === undefined
      ? def
      : options.includes(v as T)
      ? v as T
      : fail(field, options.map((o) => `"${o}"`).join(", ").replace(/, ([^,]*)$/, " or $1"), v);
  const strings = (v: unknown, field: string, what: string): string[] => {
    const items = list(v, field);
    items.forEach((x, i) => {
      if (typeof x !== "string" || x.trim() === "") fail(`${field}[${i}]`, what, x);
    });
    const seen = new Set<string>();
    items.forEach((x, i) => {
      if (seen.has(x as string)) fail(`${field}[${i}]`, `${what}, each used once`, x);
      seen.add(x as string);
    });
    return items as string[];
  };

  obj(raw, "(root)", "(root)");
  const st = obj(raw.stimulus, "stimulus", "stimulus");
  if (raw.voxels === undefined && raw.rois === undefined) {
    fail("voxels", '"voxels" (4-D NIfTI and a mask) or "rois" (tables), or both', undefined);
  }
  const subjectList = (v: unknown, field: string, fileKey: "bold" | "table") => {
    const ids = new Set<string>();
    return list(v, field).map((s, i) => {
      if (typeof s !== "object" || s === null || Array.isArray(s)) {
        fail(`${field}[${i}]`, `an object {"id", "${fileKey}"}`, s);
      }
      const o = s as Json;
      for (const key of Object.keys(o)) {
        if (key !== "id" && key !== fileKey && !key.startsWith("_") && !key.startsWith("$")) {
          fail(
            `${field}[${i}].${key}`,
            `the fields id and ${fileKey}`,
            `an unknown field "${key}"`,
            true,
          );
        }
      }
      const id = typeof o.id === "string" && /^[A-Za-z0-9._-]+$/.test(o.id) && o.id.length <= 100
        ? o.id
        : fail(`${field}[${i}].id`, "a name of letters, digits, . _ - (at most 100)", o.id);
      if (ids.has(id)) fail(`${field}[${i}].id`, "a name used once", id);
      ids.add(id);
      return { id, file: path(o[fileKey], `${field}[${i}].${fileKey}`) };
    });
  };
  const vx = raw.voxels === undefined ? undefined : obj(raw.voxels, "voxels", "voxels");
  const subjects = vx ? subjectList(vx.subjects, "voxels.subjects", "bold") : [];
  if (vx && subjects.length < 2) {
    fail("voxels.subjects", "at least 2 subjects (group maps)", subjects.length);
  }
  const ro = raw.rois === undefined ? undefined : obj(raw.rois, "rois", "rois");
  const columns = ro?.columns === undefined
    ? undefined
    : strings(ro.columns, "rois.columns", "a region name");
  const networks = raw.networks === undefined
    ? ["yeo7" as const]
    : list(raw.networks, "networks").map((n, i) =>
      oneOf(n, `networks[${i}]`, ["yeo7", "yeo17", "giles"] as const, "yeo7")
    );
  networks.forEach((n, i) => {
    if (networks.indexOf(n) !== i) fail(`networks[${i}]`, "each template set once", n);
  });
  // Results are filed by model name, controls as "<name>-random": no two may meet.
  const names = new Set<string>();
  const models = list(raw.models, "models").map((m, i) => {
    const o = obj(m, `models[${i}]`, "model");
    const name = typeof o.name === "string" && /^[A-Za-z0-9._-]+$/.test(o.name) &&
        o.name.length <= 100
      ? o.name
      : fail(`models[${i}].name`, "a name of letters, digits, . _ - (at most 100)", o.name);
    const outputs = o.randomControl === false ? [name] : [name, `${name}-random`];
    if (outputs.some((n) => names.has(n))) {
      fail(`models[${i}].name`, "a name used once (controls are named <name>-random)", name);
    }
    outputs.forEach((n) => names.add(n));
    if (o.randomControl !== undefined && typeof o.randomControl !== "boolean") {
      fail(`models[${i}].randomControl`, "true or false", o.randomControl);
    }
    if ((o.gguf === undefined) === (o.hf === undefined)) {
      fail(
        `models[${i}]`,
        '"gguf" (a GGUF file) or "hf" (a Hugging Face layout folder), one of them',
        Object.keys(o),
      );
    }
    const engine = o.engine === undefined
      ? undefined
      : oneOf(o.engine, `models[${i}].engine`, ["typescript", "onnx"] as const, "typescript");
    const units = o.units === undefined ? undefined : oneOf(
      o.units,
      `models[${i}].units`,
      ["ffn_out", "ffn_hidden", "residual"] as const,
      "ffn_out",
    );
    const tensors = o.tensors === undefined
      ? undefined
      : strings(o.tensors, `models[${i}].tensors`, "a tensor name, one per layer");
    return {
      name,
      ...(o.gguf !== undefined ? { gguf: path(o.gguf, `models[${i}].gguf`) } : {
        hf: typeof o.hf === "string" && o.hf.startsWith("hf:")
          ? (/^hf:[\w.-]+\/[\w.-]+(@[\w.-]+)?$/.test(o.hf)
            ? o.hf
            : fail(`models[${i}].hf`, "hf:owner/name or hf:owner/name@revision", o.hf))
          : path(o.hf, `models[${i}].hf`),
      }),
      ...(engine ? { engine } : {}),
      ...(units ? { units } : {}),
      ...(tensors ? { tensors } : {}),
      randomControl: o.randomControl !== false,
    };
  });
  const density = num(raw.targetDensity, "targetDensity", {
    min: 0,
    max: 1,
    def: 0.2,
    above: true,
  });
  if (density >= 1) fail("targetDensity", "a number between 0 and 1", density);
  if (st.tier !== undefined && (typeof st.tier !== "string" || st.tier === "")) {
    fail("stimulus.tier", "the name of a TextGrid tier", st.tier);
  }
  const dropped = { min: 0, max: MAX_VOLUMES, def: 0, integer: true };
  return {
    file: resolve(file),
    stimulus: {
      transcript: path(st.transcript, "stimulus.transcript"),
      ...(typeof st.tier === "string" ? { tier: st.tier } : {}),
      tr: num(st.tr, "stimulus.tr", { min: 0.01, max: 100 }),
      runs: list(st.runs, "stimulus.runs").map((r, i) => {
        const o = obj(r, `stimulus.runs[${i}]`, "run");
        return {
          volumes: num(o.volumes, `stimulus.runs[${i}].volumes`, {
            min: 1,
            max: MAX_VOLUMES,
            integer: true,
          }),
          discarded: num(o.discarded, `stimulus.runs[${i}].discarded`, dropped),
          stimulusOffset: num(o.stimulusOffset, `stimulus.runs[${i}].stimulusOffset`, {
            min: 0,
            max: 1e6,
            def: 0,
          }),
        };
      }),
      hrf: oneOf(st.hrf, "stimulus.hrf", ["spm", "glover"] as const, "spm"),
      method: oneOf(st.method, "stimulus.method", ["hrf", "lanczos", "fir"] as const, "hrf"),
    },
    models,
    ...(vx
      ? {
        voxels: {
          mask: path(vx.mask, "voxels.mask"),
          subjects: subjects.map((s) => ({ id: s.id, bold: s.file })),
          discarded: num(vx.discarded, "voxels.discarded", dropped),
          highPassSeconds: num(vx.highPassSeconds, "voxels.highPassSeconds", {
            min: 0,
            max: 1e5,
            def: 128,
          }),
          voxelP: num(vx.voxelP, "voxels.voxelP", { min: 1e-12, max: 0.5, def: 0.01 }),
          maps: oneOf(vx.maps, "voxels.maps", ["ridge", "lasso"] as const, "ridge"),
          maxBadVoxelShare: num(vx.maxBadVoxelShare, "voxels.maxBadVoxelShare", {
            min: 0,
            max: 1,
            def: 0.1,
          }),
        },
      }
      : {}),
    ...(ro
      ? {
        rois: {
          subjects: subjectList(ro.subjects, "rois.subjects", "table").map((s) => ({
            id: s.id,
            table: s.file,
          })),
          ...(columns ? { columns } : {}),
          discarded: num(ro.discarded, "rois.discarded", dropped),
        },
      }
      : {}),
    networks: networks as NetworkChoice[],
    atoms: num(raw.atoms, "atoms", { min: 1, max: MAX_ATOMS, def: 64, integer: true }),
    targetDensity: density,
    ...(raw.dictionaryAlpha !== undefined
      ? { dictionaryAlpha: num(raw.dictionaryAlpha, "dictionaryAlpha", { min: 0, above: true }) }
      : {}),
    nullMethod: oneOf(raw.null, "null", ["shift", "phase"] as const, "shift"),
    permutations: num(raw.permutations, "permutations", {
      min: 2,
      max: MAX_PERMUTATIONS,
      def: 100,
      integer: true,
    }),
    seed: num(raw.seed, "seed", { min: 0, max: 2 ** 32 - 1, def: 0, integer: true }),
  };
}

/** A found value as the error shows it: JSON, cut short. */
function shown(v: unknown): string {
  const text = JSON.stringify(v) ?? String(v);
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}
