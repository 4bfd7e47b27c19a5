/**
 * The NIfTI maps of a results folder, checked on the server before a page
 * hands them to the brain viewer: a missing, truncated or corrupt map is
 * named on the page (file and field, from the same decoder the pipeline
 * uses) instead of a viewer that fails in the browser. A check is kept
 * in {@linkcode fileCache} while the file stays the same version; concurrent
 * requests decode a map once.
 *
 * @module
 */

import { InputError } from "@brainorg/common";
import { decodeNifti, readNiftiHeaderInfo } from "@brainorg/neuro";
import { fileCache } from "./file_cache.ts";
import type { Problem } from "./problems.ts";
import { resolveRunFile, type Run } from "./runs.ts";

/** Larger maps are not offered to the browser, which would have to decode them whole. */
export const MAX_MAP_BYTES = 512 * 2 ** 20;

/**
 * Maps up to this size are decoded whole (the check the viewer's decoder
 * makes, affine included); larger ones (a 2 mm group t map of 64 atoms is
 * 60 MiB gzipped, 231 MB inflated, seconds to decode) have their header read
 * and their size checked against it (the gzip trailer, or inflating the
 * stream natively when it disagrees), which finds the truncated and the
 * non-NIfTI files in milliseconds.
 */
export const FULL_CHECK_BYTES = 16 * 2 ** 20;

/** A map that decodes, with its grid; or what is wrong with it. */
export type MapCheck =
  | { ok: true; path: string; shape: number[]; volumes: number }
  | { ok: false; path: string; problem: Problem };

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
    if (size <= FULL_CHECK_BYTES) {
      const img = decodeNifti(await Deno.readFile(file), path);
      return { ok: true, path, shape: img.shape, volumes: img.shape[3] ?? 1 };
    }
    const h = await readNiftiHeaderInfo(file);
    if (h.size.status !== "complete") {
      return {
        ok: false,
        path,
        problem: {
          file: path,
          field: 'field "dim"',
          message: `the data are ${h.size.status} (${h.size.method})`,
          expected: `${h.size.expected.toLocaleString("en-US")} bytes for ${
            h.dims.join("×")
          } voxels`,
          found: h.size.detail,
        },
      };
    }
    return { ok: true, path, shape: h.dims, volumes: h.volumes };
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
  // A check is a few numbers: it costs nothing against the cache's budget.
  const check = file
    ? await fileCache.get(file, "map", (f, stat) => decode(f, path, stat.size), { bytes: () => 0 })
    : null;
  return check ?? { ok: false, path, problem: { file: path, message: "is missing" } };
}
