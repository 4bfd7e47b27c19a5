/**
 * Which `OPENBLAS_CORETYPE` `loadBlas` loads OpenBLAS with, and how that
 * was decided ({@linkcode CoreTypeChoice}): as set in the environment, the
 * one brainorg names, or the faster of that and OpenBLAS's own detection,
 * timed once per machine (_blas_probe_choice.ts) and cached. Deno only.
 *
 * @module
 */

import { coreTypeCandidates, coreTypeConflict, parseCpuInfo, readCpuInfo } from "./_blas_cpu.ts";
import {
  chooseCoreType,
  coreTypeCacheDir,
  type CoreTypeCacheEntry,
  coreTypeCacheKey,
  coreTypeCachePath,
  type CoreTypeRate,
  probeExecutable,
  readCoreTypeCache,
  runCoreTypeProbe,
  writeCoreTypeCache,
} from "./_blas_probe_choice.ts";
import { loadedLibraryFile } from "./_blas_probe_library.ts";

/** How the core type OpenBLAS loaded with was chosen. */
export interface CoreTypeChoice {
  /**
   * `user`: `OPENBLAS_CORETYPE` from the environment, kept; `named`: the
   * one brainorg names, unprobed (`summary` says why); `probed`: the faster
   * of brainorg's and OpenBLAS's own, timed in child processes (`rates`);
   * `openblas`: none named, OpenBLAS detected (`BRAINORG_NO_CORETYPE`, or a
   * CPU brainorg names none for).
   */
  how: "user" | "named" | "probed" | "openblas";
  /** The `OPENBLAS_CORETYPE` the library loaded with; null: none. */
  coreType: string | null;
  /** The probe's figures, one per candidate (`how` = `probed`). */
  rates?: CoreTypeRate[];
  /** Whether the figures came from the cache (`how` = `probed`). */
  cached?: boolean;
  /**
   * One line for reports, e.g. `probed (cached): SkylakeX 352.1 GFLOP/s,
   * OpenBLAS's own (Cooperlake) 347.9 GFLOP/s → SkylakeX`.
   */
  summary: string;
}

/**
 * One line describing the probe's figures.
 *
 * @param rates the candidates' figures
 * @param chosen the chosen core type (null: OpenBLAS's own)
 * @returns e.g. `SkylakeX 352.1 GFLOP/s, OpenBLAS's own (Cooperlake) 347.9 GFLOP/s → SkylakeX`
 */
export function describeRates(rates: CoreTypeRate[], chosen: string | null): string {
  const name = (r: CoreTypeRate) =>
    r.coreType === null
      ? `OpenBLAS's own (${r.core})`
      : r.coreType === r.core
      ? r.core
      : `${r.coreType} (${r.core})`;
  const pick = rates.find((r) => r.coreType === chosen);
  return `${rates.map((r) => `${name(r)} ${r.rate.toFixed(1)} GFLOP/s`).join(", ")} → ${
    pick ? name(pick) : chosen
  }`;
}

/** This process's choice: OpenBLAS is loaded once per process, so the first one holds. */
let processChoice: { choice: CoreTypeChoice; env: string | undefined } | undefined;

interface Decision {
  choice: CoreTypeChoice;
  /** The cache entry a `probed (cached)` choice came from, and its path. */
  entry?: CoreTypeCacheEntry;
  cachePath?: string;
}

function env(name: string): string | undefined {
  try {
    return Deno.env.get(name) || undefined;
  } catch {
    return undefined;
  }
}

function granted(desc: { name: "read" | "write"; path: string }): boolean {
  try {
    return Deno.permissions.querySync(desc).state === "granted";
  } catch {
    return false;
  }
}

/** Choose the core type (see `loadBlas`); `{ reason }` for one the CPU cannot run. */
function decideCoreType(cpuInfo: string | undefined): Decision | { reason: string } {
  const current = env("OPENBLAS_CORETYPE");
  if (processChoice && cpuInfo === undefined && processChoice.env === current) {
    return { choice: processChoice.choice };
  }
  if (current) {
    // A core type the CPU cannot run would kill this process, not fail a call.
    const conflict = coreTypeConflict(current, parseCpuInfo(cpuInfo ?? readCpuInfo()));
    if (conflict) return { reason: conflict };
    return {
      choice: { how: "user", coreType: current, summary: `OPENBLAS_CORETYPE=${current} as set` },
    };
  }
  if (env("BRAINORG_NO_CORETYPE")) {
    return {
      choice: {
        how: "openblas",
        coreType: null,
        summary: "OpenBLAS's own detection (BRAINORG_NO_CORETYPE set)",
      },
    };
  }
  const cpu = parseCpuInfo(cpuInfo ?? readCpuInfo());
  const candidates = coreTypeCandidates(cpu);
  const named = candidates[0];
  if (named === null) {
    return {
      choice: {
        how: "openblas",
        coreType: null,
        summary: "OpenBLAS's own detection (brainorg names no core type for this CPU)",
      },
    };
  }
  const unprobed = (why: string): Decision => ({
    choice: { how: "named", coreType: named, summary: `${named}, named by CPU flags (${why})` },
  });
  if (env("BRAINORG_CORETYPE_PROBE") === "0") return unprobed("BRAINORG_CORETYPE_PROBE=0");
  // Another CPU's description (tests): timing this one would say nothing about it.
  if (cpuInfo !== undefined) return unprobed("the CPU described is not this one");
  const key = coreTypeCacheKey(cpu, named);
  const dir = coreTypeCacheDir(env);
  // Queried, never asked for: a permission prompt in the middle of loading
  // a library would be a surprise.
  if (!granted({ name: "read", path: dir })) return unprobed("no read permission for the cache");
  const hit = readCoreTypeCache(key, dir);
  if ("entry" in hit) {
    const { entry } = hit;
    return {
      choice: {
        how: "probed",
        coreType: entry.chosen,
        rates: entry.rates,
        cached: true,
        summary: `probed (cached): ${describeRates(entry.rates, entry.chosen)}`,
      },
      entry,
      cachePath: coreTypeCachePath(key, dir),
    };
  }
  const runner = probeExecutable();
  if ("reason" in runner) return unprobed(`probe not run: ${runner.reason}`);
  if (!granted({ name: "write", path: dir })) {
    return unprobed("probe not run: no write permission for the cache");
  }
  const probe = runCoreTypeProbe(candidates, { exec: runner.exec });
  if ("reason" in probe) return unprobed(`probe failed: ${probe.reason}`);
  const chosen = chooseCoreType(probe.rates, named).coreType;
  let stored = "";
  try {
    writeCoreTypeCache({
      key,
      library: probe.report.library,
      file: probe.report.file,
      config: probe.report.config,
      threads: probe.report.threads,
      rates: probe.rates,
      chosen,
      measured: new Date().toISOString(),
    }, dir);
  } catch (err) {
    stored = `; not cached: ${(err as Error).message.split("\n")[0]}`;
  }
  return {
    choice: {
      how: "probed",
      coreType: chosen,
      rates: probe.rates,
      cached: false,
      summary: `probed in ${(probe.ms / 1000).toFixed(1)} s: ${
        describeRates(probe.rates, chosen)
      }${stored}`,
    },
  };
}

/** The core type settled for a load: the choice, made effective in the environment. */
export interface SettledCoreType {
  choice: CoreTypeChoice;
  /** Whether `OPENBLAS_CORETYPE` was set by brainorg (not the user). */
  setByBrainorg: boolean;
  /**
   * The choice checked against the library as loaded (`library`, the name
   * it loaded by; `core`, the core it reports): a cached choice the loaded
   * library contradicts is dropped from the cache and says so.
   */
  verify(library: string, core: string): CoreTypeChoice;
}

/**
 * Decide the core type for loading OpenBLAS in this process and set
 * `OPENBLAS_CORETYPE` accordingly (see `loadBlas` for the rules).
 *
 * @param cpuInfo another CPU's /proc/cpuinfo text (tests; never probed).
 *   Default: this machine's
 * @returns the settled choice, or `{ reason }` for an `OPENBLAS_CORETYPE`
 *   the CPU cannot run
 */
export function settleCoreType(cpuInfo?: string): SettledCoreType | { reason: string } {
  const decision = decideCoreType(cpuInfo);
  if ("reason" in decision) return decision;
  let { choice } = decision;
  let setByBrainorg = false;
  if (choice.coreType !== null && choice.how !== "user") {
    try {
      Deno.env.set("OPENBLAS_CORETYPE", choice.coreType);
      setByBrainorg = true;
    } catch {
      // No env permission: OpenBLAS detects.
      choice = {
        how: "openblas",
        coreType: null,
        summary: "OpenBLAS's own detection (no env permission)",
      };
    }
  }
  if (cpuInfo === undefined) processChoice = { choice, env: env("OPENBLAS_CORETYPE") };
  const { entry, cachePath } = decision;
  return {
    choice,
    setByBrainorg,
    verify: (library, core) =>
      entry && cachePath ? checkCached(choice, entry, cachePath, library, core) : choice,
  };
}

/**
 * A cached choice checked against the library actually loaded: another
 * file, or another core than the probe saw under the same core type, means
 * the entry is stale. It is removed, so the next process probes again;
 * this one keeps the core type, which the CPU can run either way.
 */
function checkCached(
  choice: CoreTypeChoice,
  entry: CoreTypeCacheEntry,
  path: string,
  library: string,
  core: string,
): CoreTypeChoice {
  const want = entry.rates.find((r) => r.coreType === entry.chosen);
  const file = entry.file ? loadedLibraryFile(library) : undefined;
  const stale = library !== entry.library
    ? `loaded ${library}, probed ${entry.library}`
    : want && want.core !== core
    ? `core ${core}, probed ${want.core}`
    : entry.file && file && file.path !== entry.file.path
    ? `loaded ${file.path}, probed ${entry.file.path}`
    : undefined;
  if (!stale) return choice;
  try {
    Deno.removeSync(path);
  } catch { /* already gone */ }
  return { ...choice, summary: `${choice.summary} (stale: ${stale}; probed again next time)` };
}
