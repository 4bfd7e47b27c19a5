/**
 * Conventions shared by every brainorg package: errors that name the input at
 * fault, progress reporting, atomic writes and cache entries (with the clean-up
 * after killed runs), hashing and provenance records.
 *
 * @example
 * ```ts
 * import { createProgress, writeJsonAtomic } from "@brainorg/common";
 * const p = createProgress({ label: "demo", total: 2, tty: false });
 * p.tick(2);
 * p.done();
 * await writeJsonAtomic("/tmp/brainorg-demo.json", { ok: true });
 * ```
 *
 * @module
 */

// Not re-exported: the fault points tests stop runs at (`_fault_points.ts`)
// and `holdExisting`, which only this package's writers call.

export * from "./errors.ts";
export * from "./atomic_write.ts";
export * from "./cache_entry.ts";
export * from "./raw_arrays.ts";
export {
  type Held,
  makeTempDir,
  makeTempFile,
  parseTempSibling,
  STALE_AFTER_MS,
  type SweepReport,
  sweepStaleTemps,
  sweepStaleTempsOnce,
  tempSibling,
} from "./temp_siblings.ts";
export * from "./hash.ts";
export * from "./npy.ts";
export * from "./progress.ts";
export * from "./provenance.ts";
export * from "./version.ts";
