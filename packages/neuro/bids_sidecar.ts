/**
 * The BIDS inheritance principle: a metadata file applies to every data
 * file at its folder's level or below whose entities include its own and
 * whose suffix is its suffix; closer files override farther ones.
 *
 * @module
 */

import { basename, dirname, join, relative, resolve, sep } from "node:path";
import { InputError } from "@brainorg/common";
import { type BidsName, entitiesSubset, parseBidsName } from "./bids_name.ts";
import { BidsFsCache } from "./_bids_fs.ts";

/** A data file's metadata, merged from every applicable JSON sidecar. */
export interface BidsSidecar {
  /** The merged fields (e.g. `RepetitionTime` in seconds, `SliceTiming`, `TaskName`). */
  metadata: Record<string, unknown>;
  /** The sidecars merged, farthest (applied first) to closest (wins). */
  files: string[];
}

/**
 * The folders from `root` down to `dir`, `root` first.
 *
 * @throws {InputError} when `dir` is not `root` or inside it
 */
function levels(root: string, dir: string, file: string): string[] {
  const rel = relative(resolve(root), resolve(dir));
  if (rel.startsWith("..") || rel.startsWith(sep) || /^[a-zA-Z]:/.test(rel)) {
    throw new InputError("the data file is not inside the dataset", {
      file,
      field: "path",
      expected: `a file under ${root}`,
      found: file,
    });
  }
  const out = [root];
  let at = root;
  for (const part of rel.split(sep).filter((p) => p !== "")) out.push(at = join(at, part));
  return out;
}

/**
 * Every file with `suffix` and `extension` that applies to a file with
 * `entities` in `dir`, by BIDS inheritance: from `root` down to `dir`,
 * farthest first; within one folder, fewer entities first (the more
 * specific file wins). BIDS 1.9 allows one applicable file per folder;
 * ordering by specificity handles datasets that have more, as pybids does.
 */
export async function applicableFiles(
  cache: BidsFsCache,
  root: string,
  dir: string,
  target: Pick<BidsName, "entities" | "suffix">,
  extension: string,
  file = dir,
): Promise<string[]> {
  const out: string[] = [];
  for (const level of levels(root, dir, file)) {
    const found: { path: string; n: number }[] = [];
    for (const e of await cache.list(level)) {
      if (e.isDir) continue;
      const n = parseBidsName(e.name);
      if (!n || n.extension !== extension || n.suffix !== target.suffix) continue;
      if (!entitiesSubset(n.entities, target.entities)) continue;
      found.push({ path: join(level, e.name), n: Object.keys(n.entities).length });
    }
    found.sort((a, b) => a.n - b.n || (a.path < b.path ? -1 : 1));
    out.push(...found.map((f) => f.path));
  }
  return out;
}

/** {@linkcode readSidecar} with a scan's shared cache. */
export async function sidecarWithCache(
  cache: BidsFsCache,
  root: string,
  dataFile: string,
): Promise<BidsSidecar> {
  const name = parseBidsName(basename(dataFile));
  if (!name) {
    throw new InputError("not a BIDS file name", {
      file: dataFile,
      field: "name",
      expected: "key-value entities joined by _, then _suffix.extension",
      found: basename(dataFile),
    });
  }
  const files = await applicableFiles(cache, root, dirname(dataFile), name, ".json", dataFile);
  const metadata: Record<string, unknown> = {};
  for (const f of files) Object.assign(metadata, await cache.json(f));
  return { metadata, files };
}

/**
 * A data file's JSON metadata by the BIDS inheritance principle: every
 * `.json` from the dataset's top level down to the file's folder whose
 * entities are a subset of the file's and whose suffix is the file's,
 * merged so that closer files override farther ones (within a folder, a
 * file with more entities overrides one with fewer). The data file itself
 * need not exist.
 *
 * @param root the dataset's top folder (for fMRIPrep outputs, the derivatives folder)
 * @param dataFile a file under `root`, e.g. `ROOT/sub-01/func/sub-01_task-alice_bold.nii.gz`
 * @returns the merged fields and the sidecars they came from (see {@linkcode BidsSidecar})
 * @throws {InputError} when `dataFile` is not a BIDS name or not under `root`,
 *   or an applicable sidecar is not a JSON object
 *
 * @example
 * ```ts
 * import { readSidecar } from "@brainorg/neuro";
 * // ROOT/task-pieman_bold.json holds {"RepetitionTime": 1.5}; a subject's own sidecar may override it.
 * const { metadata, files } = await readSidecar("ROOT", "ROOT/sub-001/func/sub-001_task-pieman_bold.nii.gz");
 * console.log(metadata.RepetitionTime, files);
 * ```
 */
export function readSidecar(root: string, dataFile: string): Promise<BidsSidecar> {
  return sidecarWithCache(new BidsFsCache(), root, dataFile);
}
