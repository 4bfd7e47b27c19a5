/**
 * Finding the runs of a BIDS dataset and its fMRIPrep derivatives: every
 * `sub-*[/ses-*]/func/` folder, its files sorted into raw BOLD series,
 * preprocessed BOLD series, brain masks and confounds tables, grouped by
 * run; files whose names break BIDS are set aside with the reason. Private
 * to `@brainorg/neuro`.
 *
 * @module
 */

import { join } from "node:path";
import { type BidsName, formatEntities, parseBidsName } from "./bids_name.ts";
import type { BidsFsCache } from "./_bids_fs.ts";

/** A file of a func folder, with its parsed name. */
export interface FuncFile {
  path: string;
  file: string;
  name: BidsName;
}

/** The files of one run (subject, session, task, run, and acq/ce/rec/dir when present). */
export interface UnitFiles {
  /** Entities that identify the run, in BIDS order. */
  key: Record<string, string>;
  id: string;
  /** The raw func folder the run's files are (or would be) in. */
  rawDir: string;
  raw: FuncFile[];
  preproc: FuncFile[];
  masks: FuncFile[];
  /** `desc-confounds_timeseries.tsv`, then fMRIPrep < 20.2's `desc-confounds_regressors.tsv`. */
  confounds: FuncFile[];
}

/** A file in a func folder that cannot be placed, and why. */
export interface Misnamed {
  path: string;
  file: string;
  subject: string;
  task?: string;
  reason: string;
}

/** Output qualifiers: the same run in several spaces, resolutions, echoes is one run. */
const NOT_KEY = new Set([
  "space",
  "res",
  "den",
  "desc",
  "cohort",
  "echo",
  "part",
  "hemi",
  "label",
  "from",
  "to",
  "mode",
]);

const LABEL = /^[a-zA-Z0-9]+$/;
const NIFTI = new Set([".nii", ".nii.gz"]);
const NEED_TASK = new Set(["bold", "sbref", "events", "physio", "stim"]);

/** The entities that identify a file's run. */
export function runKey(entities: Record<string, string>): Record<string, string> {
  const key: Record<string, string> = {};
  for (const [k, v] of Object.entries(entities)) if (!NOT_KEY.has(k)) key[k] = v;
  return key;
}

/** A subject's func folders: `sub-X/func` and `sub-X/ses-Y/func`. */
export interface FuncFolder {
  subject: string;
  session?: string;
  dir: string;
}

/**
 * The func folders of the subjects of `base` (a dataset or derivatives
 * folder) that `keep` accepts; folders named `sub-…` with a label that is
 * not alphanumeric are reported in `skipped`.
 */
export async function funcFolders(
  cache: BidsFsCache,
  base: string,
  keep: (subject: string) => boolean,
): Promise<{ folders: FuncFolder[]; subjects: string[]; skipped: string[] }> {
  const folders: FuncFolder[] = [], subjects: string[] = [], skipped: string[] = [];
  for (const e of await cache.list(base)) {
    if (!e.isDir || !e.name.startsWith("sub-")) continue;
    const subject = e.name.slice(4);
    if (!LABEL.test(subject)) {
      skipped.push(join(base, e.name));
      continue;
    }
    subjects.push(subject);
    if (!keep(subject)) continue;
    const subDir = join(base, e.name);
    const inside = await cache.list(subDir);
    if (inside.some((s) => s.isDir && s.name === "func")) {
      folders.push({ subject, dir: join(subDir, "func") });
    }
    for (const s of inside) {
      if (!s.isDir || !s.name.startsWith("ses-")) continue;
      const session = s.name.slice(4);
      if (!LABEL.test(session)) {
        skipped.push(join(subDir, s.name));
        continue;
      }
      const sesDir = join(subDir, s.name);
      if ((await cache.list(sesDir)).some((f) => f.isDir && f.name === "func")) {
        folders.push({ subject, session, dir: join(sesDir, "func") });
      }
    }
  }
  return { folders, subjects, skipped };
}

/** Why a file's name does not fit its folder, or undefined when it does. */
function misfit(name: BidsName | undefined, folder: FuncFolder): string | undefined {
  if (!name) {
    return "misnamed: not a BIDS name (key-value entities joined by _, then _suffix.extension)";
  }
  const e = name.entities;
  if (e.sub === undefined) return `misnamed: no sub- entity (the folder is sub-${folder.subject})`;
  if (e.sub !== folder.subject) {
    return `misnamed: sub-${e.sub} in the folder of sub-${folder.subject}`;
  }
  if (folder.session !== undefined && e.ses !== folder.session) {
    return e.ses === undefined
      ? `misnamed: no ses- entity (the folder is ses-${folder.session})`
      : `misnamed: ses-${e.ses} in the folder of ses-${folder.session}`;
  }
  if (folder.session === undefined && e.ses !== undefined) {
    return `misnamed: ses-${e.ses} in a folder without sessions`;
  }
  if (NEED_TASK.has(name.suffix) && e.task === undefined) {
    return `misnamed: a _${name.suffix} file without task-`;
  }
  if (e.run !== undefined && !/^\d+$/.test(e.run)) {
    return `misnamed: run-${e.run} is not a number`;
  }
  return undefined;
}

/**
 * Sort the files of func folders into runs. Raw folders contribute raw
 * BOLD series, derivative folders preprocessed BOLD series, brain masks and
 * confounds tables; misnamed files of either go to `misnamed`. A run is
 * made by any of its files.
 */
export async function collectRuns(
  cache: BidsFsCache,
  root: string,
  raw: FuncFolder[],
  derived: FuncFolder[],
  keepTask: (task: string) => boolean,
): Promise<{ units: Map<string, UnitFiles>; misnamed: Misnamed[] }> {
  const units = new Map<string, UnitFiles>();
  const misnamed: Misnamed[] = [];
  const unitOf = (f: FuncFile, folder: FuncFolder): UnitFiles => {
    const key = runKey(f.name.entities);
    const id = formatEntities(key);
    let u = units.get(id);
    if (!u) {
      const rawDir = join(
        root,
        `sub-${folder.subject}`,
        ...(folder.session !== undefined ? [`ses-${folder.session}`] : []),
        "func",
      );
      u = { key, id, rawDir, raw: [], preproc: [], masks: [], confounds: [] };
      units.set(id, u);
    }
    return u;
  };
  const visit = async (folder: FuncFolder, derivative: boolean) => {
    for (const e of await cache.list(folder.dir)) {
      if (e.isDir) continue;
      const name = parseBidsName(e.name);
      const path = join(folder.dir, e.name);
      const task = name?.entities.task;
      if (task !== undefined && !keepTask(task)) continue;
      const why = misfit(name, folder);
      if (why) {
        misnamed.push({ path, file: e.name, subject: folder.subject, task, reason: why });
        continue;
      }
      const n = name!;
      if (task === undefined) continue;
      const f: FuncFile = { path, file: e.name, name: n };
      const nifti = NIFTI.has(n.extension);
      if (!derivative) {
        if (n.suffix === "bold" && nifti) unitOf(f, folder).raw.push(f);
        continue;
      }
      const desc = n.entities.desc;
      if (n.suffix === "bold" && nifti && desc === "preproc") unitOf(f, folder).preproc.push(f);
      else if (n.suffix === "mask" && nifti && desc === "brain") unitOf(f, folder).masks.push(f);
      else if (
        desc === "confounds" && n.extension === ".tsv" &&
        (n.suffix === "timeseries" || n.suffix === "regressors")
      ) unitOf(f, folder).confounds.push(f);
    }
  };
  for (const folder of raw) await visit(folder, false);
  for (const folder of derived) await visit(folder, true);
  for (const u of units.values()) {
    // timeseries before regressors, .nii.gz before .nii: the preferred file first.
    u.confounds.sort((a, b) =>
      (a.name.suffix === "timeseries" ? -1 : 0) - (b.name.suffix === "timeseries" ? -1 : 0)
    );
    for (const list of [u.raw, u.preproc, u.masks]) {
      list.sort((a, b) =>
        (b.name.extension === ".nii.gz" ? 1 : 0) - (a.name.extension === ".nii.gz" ? 1 : 0) ||
        (a.file < b.file ? -1 : a.file > b.file ? 1 : 0)
      );
    }
  }
  return { units, misnamed };
}
