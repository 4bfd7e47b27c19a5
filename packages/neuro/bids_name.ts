/**
 * BIDS file names: `key-value` entities joined by `_`, then `_suffix.ext`,
 * e.g. `sub-001_task-pieman_space-MNI152NLin2009cAsym_desc-preproc_bold.nii.gz`.
 *
 * @module
 */

/**
 * Entity keys in the order BIDS file names list them (the BIDS schema's
 * `rules.entities`, 1.9). Keys not listed here (fMRIPrep's `from`, `to`,
 * `mode`, `cohort`, …) follow them in the order they were written.
 */
export const BIDS_ENTITY_ORDER: readonly string[] = [
  "sub",
  "ses",
  "sample",
  "task",
  "tracksys",
  "acq",
  "nuc",
  "voi",
  "ce",
  "trc",
  "stain",
  "rec",
  "dir",
  "run",
  "mod",
  "echo",
  "flip",
  "inv",
  "mt",
  "part",
  "proc",
  "hemi",
  "space",
  "split",
  "recording",
  "chunk",
  "seg",
  "res",
  "den",
  "label",
  "desc",
];

/** What a BIDS file name says. */
export interface BidsName {
  /**
   * Entity key → value, keys in {@linkcode BIDS_ENTITY_ORDER} (unknown keys
   * last, as written), e.g. `{ sub: "001", task: "pieman", desc: "preproc" }`.
   */
  entities: Record<string, string>;
  /** The last `_`-separated part before the extension, e.g. `bold`, `events`, `mask`. */
  suffix: string;
  /** Everything from the first dot, e.g. `.nii.gz`, `.tsv`, `.json`. */
  extension: string;
}

const KEY = /^[a-zA-Z]+$/;
const VALUE = /^[a-zA-Z0-9]+$/;
const SUFFIX = /^[a-zA-Z0-9]+$/;
const EXTENSION = /^(\.[a-zA-Z0-9]+)+$/;

/**
 * Split a BIDS file name into its entities, suffix and extension.
 *
 * Entities may be written in any order (the result lists them in BIDS
 * order); a key may appear once. Keys are letters, values letters and
 * digits (so `sub-01_task-my_story_bold.nii` is not a BIDS name: `my` is
 * not a key-value pair).
 *
 * @param fileName a file name, not a path (e.g. `sub-01_task-alice_bold.nii.gz`)
 * @returns the entities, suffix and extension; undefined when the name is
 *   not a BIDS name (no `_suffix`, no extension, a part without `-`, an
 *   empty or non-alphanumeric key or value, a repeated key)
 *
 * @example
 * ```ts
 * import { parseBidsName } from "@brainorg/neuro";
 * const n = parseBidsName("sub-001_task-pieman_space-MNI152NLin2009cAsym_res-2_desc-preproc_bold.nii.gz");
 * // n.entities: { sub: "001", task: "pieman", space: "MNI152NLin2009cAsym", res: "2", desc: "preproc" }
 * // n.suffix: "bold", n.extension: ".nii.gz"
 * console.log(parseBidsName("pieman_audio.wav")); // undefined
 * ```
 */
export function parseBidsName(fileName: string): BidsName | undefined {
  const dot = fileName.indexOf(".");
  if (dot <= 0) return undefined;
  const extension = fileName.slice(dot);
  if (!EXTENSION.test(extension)) return undefined;
  const parts = fileName.slice(0, dot).split("_");
  const suffix = parts.pop()!;
  if (!SUFFIX.test(suffix)) return undefined;
  const found: Record<string, string> = {};
  for (const part of parts) {
    const dash = part.indexOf("-");
    if (dash < 0) return undefined;
    const key = part.slice(0, dash), value = part.slice(dash + 1);
    if (!KEY.test(key) || !VALUE.test(value) || key in found) return undefined;
    found[key] = value;
  }
  return { entities: orderEntities(found), suffix, extension };
}

/**
 * The same entities with keys in BIDS order (unknown keys last, in their order).
 *
 * @param entities key → value
 * @returns a new record whose key order follows {@linkcode BIDS_ENTITY_ORDER}
 *
 * @example
 * ```ts
 * import { orderEntities } from "@brainorg/neuro";
 * console.log(Object.keys(orderEntities({ run: "1", sub: "01", task: "x" }))); // ["sub", "task", "run"]
 * ```
 */
export function orderEntities(entities: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of BIDS_ENTITY_ORDER) if (k in entities) out[k] = entities[k];
  for (const [k, v] of Object.entries(entities)) if (!(k in out)) out[k] = v;
  return out;
}

/**
 * The `key-value_key-value` text of entities, in BIDS order.
 *
 * @param entities key → value
 * @returns e.g. `sub-01_ses-1_task-alice_run-2`
 *
 * @example
 * ```ts
 * import { formatEntities } from "@brainorg/neuro";
 * console.log(formatEntities({ task: "alice", sub: "01" })); // "sub-01_task-alice"
 * ```
 */
export function formatEntities(entities: Record<string, string>): string {
  return Object.entries(orderEntities(entities)).map(([k, v]) => `${k}-${v}`).join("_");
}

/**
 * Whether every entity of `part` is in `whole` with the same value (the
 * test of BIDS inheritance: a sidecar applies to a file whose entities
 * include its own).
 *
 * @param part entities of the candidate (e.g. a top-level sidecar's `{ task: "pieman" }`)
 * @param whole entities of the data file
 * @returns true when `part` ⊆ `whole`
 *
 * @example
 * ```ts
 * import { entitiesSubset } from "@brainorg/neuro";
 * console.log(entitiesSubset({ task: "pieman" }, { sub: "001", task: "pieman" })); // true
 * ```
 */
export function entitiesSubset(
  part: Record<string, string>,
  whole: Record<string, string>,
): boolean {
  return Object.entries(part).every(([k, v]) => whole[k] === v);
}
