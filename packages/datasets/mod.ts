/**
 * Reference data, offline-first: a registry of the files brainorg uses (with
 * SHA-256, size, licence, citation and download URLs) and a resolver that
 * finds each one locally or downloads it into a cache, never using a file
 * whose checksum is wrong.
 *
 * Search order: `--data-dir` → `$BRAINORG_DATA` → `shared/data` beside the
 * checkout → `~/.cache/brainorg` (or `$BRAINORG_CACHE`, `$XDG_CACHE_HOME`) →
 * download into that cache (unless `BRAINORG_OFFLINE=1`).
 *
 * @example
 * ```ts
 * import { resolveDataFile } from "@brainorg/datasets";
 * const yeo = await resolveDataFile("atlases/Yeo-7_space-MNI152NLin6_res-4x4x4.nii.gz");
 * console.log(yeo.path);
 * ```
 *
 * @module
 */

export * from "./registry.ts";
export * from "./locations.ts";
export * from "./resolve.ts";
