/**
 * The NIfTI maps of a results folder, checked on the server before a page
 * hands them to the brain viewer: a missing, truncated or corrupt map is
 * named on the page (file and field, from the same decoder the pipeline
 * uses) instead of a viewer that fails in the browser. A check is kept
 * while the file's size and modification time stay the same.
 *
 * @module
 */

import { InputError } from "@brainorg/common";
import { decodeNifti } from "@brainorg/neuro";
import type { Problem } from "./problems.ts";
import { resolveRunFile, type Run } from "./runs.ts";

/** Larger maps are not offered to the browser, which would have to decode them whole. */
export const MAX_MAP_BYTES = 512 * 2 ** 20;

/** A map that decodes, with its grid; or what is wrong with it. */
export type MapCheck =
  | { ok: true; path: string; shape: number[]; volumes: number }
  | { ok: false; path: string; problem: Problem };

const checks = new Map<string, { key: string; check: Promise<MapCheck> }>();
const CHECK_ENTRIES = 1024;

async function decode(file: string, path: string, size: number): Promise<MapCheck> {
  if (size > MAX_MAP_BYTES) {
    return {
      ok: false,
      path,
      problem: {
        file: path,
        message: "too large for the brain viewer",
        expected: `at most ${MAX_MAP_BYTES / 2 ** 20} MiB`,
        found: `${(size / 2 ** 20).toFixed(0)} MiB`,
      },
    };
  }
  try {
    const img = decodeNifti(await Deno.readFile(file), path);
    return { ok: true, path, shape: img.shape, volumes: img.shape[3] ?? 1 };
  } catch (err) {
    if (!(err instanceof InputError)) {
      return { ok: false, path, problem: { file: path, message: String((err as Error).message) } };
    }
    // InputError's message repeats its details in parentheses; the card shows them as fields.
    return {
      ok: false,
      path,
      problem: {
        file: path,
        field: err.field ? `field "${err.field}"` : undefined,
        message: err.message.replace(/ \(.*\)$/s, ""),
        expected: err.expected,
        found: err.found,
      },
    };
  }
}

/**
 * Check that a map of the run exists and decodes as NIfTI.
 *
 * @param run the run
 * @param path relative to the run's folder, e.g. `voxels/x/group_t.nii.gz`
 * @returns its shape and volume count, or the problem (missing, truncated, not NIfTI)
 *
 * @example
 * ```ts
 * const check = await checkMap(run, "voxels/anatomy.nii.gz");
 * if (!check.ok) console.log(problemText(check.problem));
 * ```
 */
export async function checkMap(run: Run, path: string): Promise<MapCheck> {
  const file = await resolveRunFile(run, path);
  let stat: Deno.FileInfo | undefined;
  try {
    if (file) stat = await Deno.stat(file);
  } catch { /* gone since it was resolved: missing */ }
  if (!file || !stat) return { ok: false, path, problem: { file: path, message: "is missing" } };
  const key = `${stat.size}:${stat.mtime?.getTime()}`;
  const hit = checks.get(file);
  if (hit?.key === key) return hit.check;
  // The promise is kept, not its result, so concurrent requests decode a map once.
  const check = decode(file, path, stat.size);
  if (checks.size >= CHECK_ENTRIES) checks.delete(checks.keys().next().value!);
  checks.set(file, { key, check });
  return check;
}
