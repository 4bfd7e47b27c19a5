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

/**
 * Parse and check an analysis file.
 * @throws {InputError} naming the file, the field (a JSON path) and what was expected
 */
export function parseAnalysisConfig(text: string, file: string): AnalysisConfig {
  const fail = (field: string, expected: string, found: unknown): never => {
    throw new InputError("invalid analysis file", {
      file,
      field,
      expected,
      found: found === undefined ? "nothing" : JSON.stringify(found),
    });
  };
  let raw: Json;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    return fail("(the whole file)", "JSON", (err as Error).message);
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    fail("(root)", "an object", raw);
  }
  const base = dirname(resolve(file));
  const path = (v: unknown, field: string) =>
    typeof v === "string" && v !== ""
      ? (isAbsolute(v) ? v : resolve(base, v))
      : fail(field, "a file path (relative to the analysis file)", v);
  const num = (v: unknown, field: string, min: number, def?: number, integer = false) => {
    if (v === undefined && def !== undefined) return def;
    if (typeof v !== "number" || !(v >= min) || (integer && !Number.isInteger(v))) {
      return fail(field, `${integer ? "a whole number" : "a number"} ≥ ${min}`, v);
    }
    return v;
  };
  const obj = (v: unknown, field: string) =>
    typeof v === "object" && v !== null && !Array.isArray(v)
      ? v as Json
      : fail(field, "an object", v);
  const list = (v: unknown, field: string) =>
    Array.isArray(v) && v.length > 0 ? v : fail(field, "a non-empty list", v);

  const st = obj(raw.stimulus, "stimulus");
  const hrf = st.hrf ?? "spm";
  if (hrf !== "spm" && hrf !== "glover") return fail("stimulus.hrf", '"spm" or "glover"', hrf);
  if (raw.voxels === undefined && raw.rois === undefined) {
    fail("voxels", '"voxels" (4-D NIfTI and a mask) or "rois" (tables), or both', undefined);
  }
  const subjectList = (v: unknown, field: string, fileKey: string) => {
    const ids = new Set<string>();
    return list(v, field).map((s, i) => {
      const o = obj(s, `${field}[${i}]`);
      const id = typeof o.id === "string" && /^[A-Za-z0-9._-]+$/.test(o.id)
        ? o.id
        : fail(`${field}[${i}].id`, "a name of letters, digits, . _ -", o.id);
      if (ids.has(id)) fail(`${field}[${i}].id`, "a name used once", id);
      ids.add(id);
      return { id, file: path(o[fileKey], `${field}[${i}].${fileKey}`) };
    });
  };
  const vx = raw.voxels === undefined ? undefined : obj(raw.voxels, "voxels");
  const subjects = vx ? subjectList(vx.subjects, "voxels.subjects", "bold") : [];
  if (vx && subjects.length < 2) {
    fail("voxels.subjects", "at least 2 subjects (group maps)", subjects.length);
  }
  const ro = raw.rois === undefined ? undefined : obj(raw.rois, "rois");
  if (
    ro?.columns !== undefined &&
    !(Array.isArray(ro.columns) && ro.columns.every((c) => typeof c === "string"))
  ) {
    fail("rois.columns", "a list of region names", ro.columns);
  }
  const networks = (raw.networks ?? ["yeo7"]) as unknown[];
  list(networks, "networks").forEach((n, i) => {
    if (!["yeo7", "yeo17", "giles"].includes(n as string)) {
      fail(`networks[${i}]`, '"yeo7", "yeo17" or "giles"', n);
    }
  });
  const names = new Set<string>();
  const models = list(raw.models, "models").map((m, i) => {
    const o = obj(m, `models[${i}]`);
    const name = typeof o.name === "string" && /^[A-Za-z0-9._-]+$/.test(o.name)
      ? o.name
      : fail(`models[${i}].name`, "a name of letters, digits, . _ -", o.name);
    if (names.has(name)) fail(`models[${i}].name`, "a name used once", name);
    names.add(name);
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
    if (o.engine !== undefined && o.engine !== "typescript" && o.engine !== "onnx") {
      fail(`models[${i}].engine`, '"typescript" or "onnx"', o.engine);
    }
    if (
      o.units !== undefined && !["ffn_out", "ffn_hidden", "residual"].includes(o.units as string)
    ) {
      fail(`models[${i}].units`, '"ffn_out", "ffn_hidden" or "residual"', o.units);
    }
    if (
      o.tensors !== undefined &&
      !(Array.isArray(o.tensors) && o.tensors.every((t) => typeof t === "string"))
    ) {
      fail(`models[${i}].tensors`, "a list of tensor names, one per layer", o.tensors);
    }
    return {
      name,
      ...(o.gguf !== undefined ? { gguf: path(o.gguf, `models[${i}].gguf`) } : {
        hf: typeof o.hf === "string" && o.hf.startsWith("hf:")
          ? o.hf
          : path(o.hf, `models[${i}].hf`),
      }),
      ...(o.engine ? { engine: o.engine as "typescript" | "onnx" } : {}),
      ...(o.units ? { units: o.units as "ffn_out" | "ffn_hidden" | "residual" } : {}),
      ...(o.tensors ? { tensors: o.tensors as string[] } : {}),
      randomControl: o.randomControl !== false,
    };
  });
  const atoms = num(raw.atoms, "atoms", 1, 64, true);
  const method = st.method ?? "hrf";
  if (method !== "hrf" && method !== "lanczos" && method !== "fir") {
    fail("stimulus.method", '"hrf", "lanczos" or "fir"', method);
  }
  const nullMethod = raw.null ?? "shift";
  if (nullMethod !== "shift" && nullMethod !== "phase") {
    fail("null", '"shift" or "phase"', nullMethod);
  }
  const density = num(raw.targetDensity, "targetDensity", 0, 0.2);
  if (density <= 0 || density >= 1) fail("targetDensity", "a number between 0 and 1", density);
  return {
    file: resolve(file),
    stimulus: {
      transcript: path(st.transcript, "stimulus.transcript"),
      ...(typeof st.tier === "string" ? { tier: st.tier } : {}),
      tr: num(st.tr, "stimulus.tr", 0.01),
      runs: list(st.runs, "stimulus.runs").map((r, i) => {
        const o = obj(r, `stimulus.runs[${i}]`);
        return {
          volumes: num(o.volumes, `stimulus.runs[${i}].volumes`, 1, undefined, true),
          discarded: num(o.discarded, `stimulus.runs[${i}].discarded`, 0, 0, true),
          stimulusOffset: num(o.stimulusOffset, `stimulus.runs[${i}].stimulusOffset`, 0, 0),
        };
      }),
      hrf,
      method: method as "hrf" | "lanczos" | "fir",
    },
    models,
    ...(vx
      ? {
        voxels: {
          mask: path(vx.mask, "voxels.mask"),
          subjects: subjects.map((s) => ({ id: s.id, bold: s.file })),
          discarded: num(vx.discarded, "voxels.discarded", 0, 0, true),
          highPassSeconds: num(vx.highPassSeconds, "voxels.highPassSeconds", 0, 128),
          voxelP: num(vx.voxelP, "voxels.voxelP", 1e-12, 0.01),
          maps: vx.maps === undefined || vx.maps === "ridge"
            ? "ridge"
            : vx.maps === "lasso"
            ? "lasso"
            : fail("voxels.maps", '"ridge" or "lasso"', vx.maps),
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
          ...(ro.columns ? { columns: ro.columns as string[] } : {}),
          discarded: num(ro.discarded, "rois.discarded", 0, 0, true),
        },
      }
      : {}),
    networks: networks as NetworkChoice[],
    atoms,
    targetDensity: density,
    ...(raw.dictionaryAlpha !== undefined
      ? { dictionaryAlpha: num(raw.dictionaryAlpha, "dictionaryAlpha", 1e-12) }
      : {}),
    nullMethod: nullMethod as "shift" | "phase",
    permutations: num(raw.permutations, "permutations", 2, 100, true),
    seed: num(raw.seed, "seed", 0, 0, true),
  };
}
