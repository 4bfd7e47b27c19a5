/**
 * The OpenBLAS core type chosen by timing: each candidate `OPENBLAS_CORETYPE`
 * is loaded in a child process of its own (_blas_probe.ts; OpenBLAS reads
 * the core type once, when the library loads), SGEMM is timed at
 * {@linkcode PROBE_SHAPES}, and the faster candidate is used
 * ({@linkcode chooseCoreType}). The result is cached per machine in
 * brainorg's cache folder, so the probe runs once.
 *
 * @module
 */

import { fileIdentity, type LibraryFile } from "./_blas_probe_library.ts";
import { PROBE_SHAPES, type ProbeReport } from "./_blas_probe.ts";

export { PROBE_SHAPES };
export type { ProbeReport };

// No node: modules here: the npm build type-checks what mod.ts reaches,
// this file included, without Node's types.
const join = (...parts: string[]) => parts.join("/");

/** FNV-1a, 64 bits, as 16 hex digits: a file name for a key, never a check of it. */
function fnv1a64(text: string): string {
  let h = 0xcbf29ce484222325n;
  for (const byte of new TextEncoder().encode(text)) {
    h = ((h ^ BigInt(byte)) * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return h.toString(16).padStart(16, "0");
}

/** Within this fraction of the fastest, the core type brainorg names wins (a stable choice). */
export const TIE_TOLERANCE = 0.03;

/** One candidate's figures. */
export interface CoreTypeRate {
  /** The `OPENBLAS_CORETYPE` it loaded with; null: none, OpenBLAS detected the CPU. */
  coreType: string | null;
  /** The core OpenBLAS said it runs (`openblas_get_corename`). */
  core: string;
  /** Best GFLOP/s at each of {@linkcode PROBE_SHAPES}. */
  gflops: number[];
  /** Their geometric mean: the figure compared. */
  rate: number;
}

/**
 * Figures for one candidate from its child's report.
 *
 * @param report the child's report
 * @returns the core type, core, rates and their geometric mean
 */
export function rateOf(report: ProbeReport): CoreTypeRate {
  const rate = Math.exp(
    report.gflops.reduce((s, g) => s + Math.log(g), 0) / Math.max(1, report.gflops.length),
  );
  return { coreType: report.coreTypeEnv, core: report.core, gflops: report.gflops, rate };
}

/**
 * The faster candidate; the one brainorg names wins unless another is
 * faster by more than `tolerance` (timings on a busy machine wobble by a
 * few percent, and a choice that flips between runs would make results'
 * last digits flip with it).
 *
 * @param rates the candidates measured (at least one)
 * @param named the core type brainorg names (`openBlasCoreType`)
 * @param tolerance the fraction within which rates tie. Default: {@linkcode TIE_TOLERANCE}
 * @returns the candidate to load
 * @throws {RangeError} for no candidates or a rate that is not positive
 *
 * @example
 * ```ts
 * import { chooseCoreType } from "./_blas_probe_choice.ts";
 * chooseCoreType([
 *   { coreType: "SkylakeX", core: "SkylakeX", gflops: [300], rate: 300 },
 *   { coreType: null, core: "Cooperlake", gflops: [305], rate: 305 },
 * ], "SkylakeX").coreType; // "SkylakeX": within 3%
 * ```
 */
export function chooseCoreType(
  rates: CoreTypeRate[],
  named: string,
  tolerance = TIE_TOLERANCE,
): CoreTypeRate {
  if (rates.length === 0) throw new RangeError("chooseCoreType: no candidates measured");
  for (const r of rates) {
    if (!(r.rate > 0)) {
      throw new RangeError(
        `chooseCoreType: rate of ${
          r.coreType ?? "OpenBLAS's own"
        } must be positive: current value is ${r.rate}`,
      );
    }
  }
  const fastest = rates.reduce((a, b) => (b.rate > a.rate ? b : a));
  const mine = rates.find((r) => r.coreType === named);
  return mine && mine.rate >= fastest.rate * (1 - tolerance) ? mine : fastest;
}

/** The CPU fields a cached choice depends on (`CpuInfo` from blas_ffi.ts fits). */
export interface CpuIdentity {
  vendor: string;
  modelName: string;
  family?: number;
  model?: number;
  flags: string[];
}

/** What a cached choice is valid for, before the library is loaded. */
export interface CoreTypeCacheKey {
  vendor: string;
  modelName: string;
  family: number | null;
  model: number | null;
  /** All the CPU's flags, sorted. */
  flags: string[];
  /** The core type brainorg names. */
  named: string;
}

/**
 * The cache key for a CPU and the core type brainorg names for it.
 *
 * @param cpu the CPU
 * @param named the core type brainorg names
 * @returns the key, its fields in a fixed order
 */
export function coreTypeCacheKey(cpu: CpuIdentity, named: string): CoreTypeCacheKey {
  return {
    vendor: cpu.vendor,
    modelName: cpu.modelName,
    family: cpu.family ?? null,
    model: cpu.model ?? null,
    flags: [...cpu.flags].sort(),
    named,
  };
}

/** A cached probe: the key, the library it timed and the figures. */
export interface CoreTypeCacheEntry {
  key: CoreTypeCacheKey;
  /** The library name that loaded. */
  library: string;
  /** The file it came from; the entry holds while this file is unchanged. */
  file: LibraryFile | null;
  /** `openblas_get_config()` in the first candidate's child: OpenBLAS's version and build. */
  config: string;
  /** OpenBLAS's threads in the children (the rates depend on them; the choice hardly). */
  threads: number;
  rates: CoreTypeRate[];
  /** The chosen `OPENBLAS_CORETYPE`; null: none (OpenBLAS detects). */
  chosen: string | null;
  /** When it was measured (ISO 8601). */
  measured: string;
}

/**
 * brainorg's per-user cache folder, by the rule of `cacheDirFor` in
 * @brainorg/datasets (which the kernels cannot import).
 *
 * @param env reads a variable. Default: the process's
 * @returns `$BRAINORG_CACHE`, else `$XDG_CACHE_HOME/brainorg`, else `$HOME/.cache/brainorg`
 */
export function coreTypeCacheDir(
  env: (name: string) => string | undefined = (n) => Deno.env.get(n),
): string {
  const explicit = env("BRAINORG_CACHE");
  if (explicit) return explicit;
  const xdg = env("XDG_CACHE_HOME");
  if (xdg) return join(xdg, "brainorg");
  return join(env("HOME") ?? ".", ".cache", "brainorg");
}

/**
 * Where the entry for `key` lives.
 *
 * @param key the key ({@linkcode coreTypeCacheKey})
 * @param dir the cache folder ({@linkcode coreTypeCacheDir})
 * @returns `<dir>/openblas/coretype-<16 hex digits hashed from the key>.json`
 *   (the entry holds the whole key, compared on reading)
 */
export function coreTypeCachePath(key: CoreTypeCacheKey, dir: string): string {
  return join(dir, "openblas", `coretype-${fnv1a64(JSON.stringify(key))}.json`);
}

/**
 * The cached choice for `key`, if it still holds: same key, and the library
 * file it timed still there with the same size and modification time.
 *
 * @param key the key
 * @param dir the cache folder
 * @returns `{ entry }`, or `{ miss }` saying why there is none
 */
export function readCoreTypeCache(
  key: CoreTypeCacheKey,
  dir: string,
): { entry: CoreTypeCacheEntry } | { miss: string } {
  const path = coreTypeCachePath(key, dir);
  let entry: CoreTypeCacheEntry;
  try {
    entry = JSON.parse(Deno.readTextFileSync(path));
  } catch (err) {
    return {
      miss: err instanceof Deno.errors.NotFound ? "not cached" : `unreadable cache ${path}`,
    };
  }
  if (JSON.stringify(entry?.key) !== JSON.stringify(key)) return { miss: "cached for another key" };
  if (
    !Array.isArray(entry.rates) || entry.rates.length === 0 ||
    !entry.rates.some((r) => r.coreType === entry.chosen)
  ) {
    return { miss: `malformed cache ${path}` };
  }
  if (entry.file) {
    const now = fileIdentity(entry.file.path);
    if (!now || now.size !== entry.file.size || now.mtimeMs !== entry.file.mtimeMs) {
      return { miss: `library changed since the probe (${entry.file.path})` };
    }
  }
  return { entry };
}

/**
 * Write an entry: to a temporary file beside it, then renamed over it, so a
 * reader never sees half a file and concurrent writers leave one whole one.
 *
 * @param entry the entry
 * @param dir the cache folder
 * @returns the path written
 */
export function writeCoreTypeCache(entry: CoreTypeCacheEntry, dir: string): string {
  const path = coreTypeCachePath(entry.key, dir);
  Deno.mkdirSync(join(dir, "openblas"), { recursive: true });
  const tmp = `${path}.${Deno.pid}.${crypto.randomUUID().slice(0, 8)}.tmp`;
  try {
    Deno.writeTextFileSync(tmp, JSON.stringify(entry, null, 2) + "\n");
    Deno.renameSync(tmp, path);
  } catch (err) {
    try {
      Deno.removeSync(tmp);
    } catch { /* never written */ }
    throw err;
  }
  return path;
}

/** What {@linkcode runCoreTypeProbe} measured. */
export interface CoreTypeProbe {
  /** One per candidate, in the order asked; each shape's best over the rounds. */
  rates: CoreTypeRate[];
  /** The first child's report (library, file, config). */
  report: ProbeReport;
  /** Wall time of the whole probe, ms. */
  ms: number;
}

/**
 * Whether this process may run the probe's children: Deno with
 * `Deno.Command`, its own executable known, `--allow-run` for it and
 * `--allow-env` (queried, never prompted for).
 *
 * @returns the executable, or `{ reason }`
 */
export function probeExecutable(): { exec: string } | { reason: string } {
  try {
    if (typeof Deno?.Command !== "function") return { reason: "no Deno.Command" };
    // In a `deno compile` binary, Deno.execPath() is the program itself.
    if ((Deno.build as { standalone?: boolean }).standalone) {
      return { reason: "a compiled program cannot run the probe's module" };
    }
    const exec = Deno.execPath();
    const state = Deno.permissions.querySync({ name: "run", command: exec }).state;
    if (state !== "granted") return { reason: "no --allow-run" };
    // The children get this process's environment, read whole.
    if (Deno.permissions.querySync({ name: "env" }).state !== "granted") {
      return { reason: "no --allow-env" };
    }
    return { exec };
  } catch (err) {
    return { reason: `cannot find Deno's executable (${(err as Error).message.split("\n")[0]})` };
  }
}

/**
 * Run the child (_blas_probe.ts) for each candidate core type, each with
 * only `--allow-ffi --allow-env --allow-read`, this process's environment
 * but `OPENBLAS_CORETYPE` set to the candidate (or removed: null).
 * Synchronous: the children run one after the other, the caller waits.
 *
 * @param candidates `OPENBLAS_CORETYPE` values to try; null: OpenBLAS's own detection.
 *   The caller never passes one the CPU cannot run.
 * @param options.exec Deno's executable. Default: {@linkcode probeExecutable}'s
 * @param options.script the child module. Default: _blas_probe.ts beside this file
 * @param options.rounds children per candidate, in mirrored order; each
 *   shape's best rate over them counts. Default: 2
 * @returns the figures, or `{ reason }` when a child could not run or report
 */
export function runCoreTypeProbe(
  candidates: (string | null)[],
  options: { exec?: string; script?: URL; rounds?: number } = {},
): CoreTypeProbe | { reason: string } {
  const rounds = options.rounds ?? 2;
  if (!Number.isInteger(rounds) || rounds < 1) {
    throw new RangeError(`rounds must be a positive integer: current value is ${rounds}`);
  }
  const t0 = performance.now();
  let exec = options.exec;
  if (!exec) {
    const found = probeExecutable();
    if ("reason" in found) return found;
    exec = found.exec;
  }
  const target = (options.script ?? new URL("./_blas_probe.ts", import.meta.url)).href;
  // Rounds in mirrored order (A B, B A): a neighbour's load that comes or
  // goes during the probe weighs on both candidates alike.
  const order = Array.from(
    { length: rounds },
    (_, r) => (r % 2 === 0 ? candidates : [...candidates].reverse()),
  ).flat();
  const best = new Map<string | null, ProbeReport>();
  for (const coreType of order) {
    const env = Deno.env.toObject();
    delete env.OPENBLAS_CORETYPE;
    if (coreType !== null) env.OPENBLAS_CORETYPE = coreType;
    env.NO_COLOR = "1"; // plain text in the reasons quoted from its stderr
    let out;
    try {
      out = new Deno.Command(exec, {
        // --no-config: the child imports only its neighbours; no workspace,
        // lock file or node_modules to resolve.
        args: [
          "run",
          "--quiet",
          "--no-config",
          "--allow-ffi",
          "--allow-env",
          "--allow-read",
          target,
        ],
        env,
        clearEnv: true,
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).outputSync();
    } catch (err) {
      return { reason: `probe child did not start: ${(err as Error).message.split("\n")[0]}` };
    }
    const who = coreType ?? "OpenBLAS's own";
    const lines = new TextDecoder().decode(out.stdout).trim().split("\n");
    let report: ProbeReport & { error?: string };
    try {
      report = JSON.parse(lines[lines.length - 1]);
    } catch {
      const err = new TextDecoder().decode(out.stderr).trim().split("\n").slice(-3).join(" ⏎ ");
      return { reason: `probe child (${who}) exited ${out.code}: ${err}` };
    }
    if (report.error !== undefined || !out.success) {
      return { reason: `probe child (${who}): ${report.error ?? `exit ${out.code}`}` };
    }
    if (report.coreTypeEnv !== coreType) {
      return { reason: `probe child (${who}) saw OPENBLAS_CORETYPE=${report.coreTypeEnv}` };
    }
    if (!report.gflops.every((g) => g > 0)) {
      return { reason: `probe child (${who}) timed ${report.gflops.join(", ")} GFLOP/s` };
    }
    const seen = best.get(coreType);
    best.set(
      coreType,
      !seen
        ? report
        : { ...seen, gflops: seen.gflops.map((g, i) => Math.max(g, report.gflops[i])) },
    );
  }
  const first = best.get(candidates[0]);
  if (!first) return { reason: "no candidates to probe" };
  return {
    rates: candidates.map((c) => rateOf(best.get(c)!)),
    report: first,
    ms: performance.now() - t0,
  };
}
