/**
 * A bounded load generator for the dashboard (loopback only): a fixed mix
 * of pages and file downloads requested by `concurrency` workers until
 * `requests` have been sent or `durationMs` has passed, whichever comes
 * first, each request with its own timeout. Used by the load test and by
 * `deno task bench:web`.
 *
 * @module
 */

/** One URL of the mix and the status it must answer with. */
export interface Target {
  /** A label for the report, e.g. `page:atom`, `file:nifti`. */
  kind: string;
  /** Path and query on the server. */
  path: string;
  /** Expected status. Default: 200. */
  status?: number;
  /** How often it is drawn relative to the others. Default: 1. */
  weight?: number;
}

/** Bounds of a load run. */
export interface LoadOptions {
  /** Requests to send at most. */
  requests: number;
  /** Requests in flight at once. */
  concurrency: number;
  /** No request starts after this many milliseconds. */
  durationMs: number;
  /** A request that takes longer is aborted and counted as an error. Default: 30,000. */
  timeoutMs?: number;
  /** Seed of the order in which the mix is drawn. Default: 1. */
  seed?: number;
}

/** Latency percentiles in milliseconds (nearest rank). */
export interface Latency {
  n: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

/** What a load run measured. */
export interface LoadReport {
  /** Requests answered or failed. */
  requests: number;
  /** Whether it stopped at the request count or at the time limit. */
  stoppedBy: "count" | "time";
  seconds: number;
  /** Requests per second over the run. */
  throughput: number;
  /** Response bytes read. */
  bytes: number;
  /** Answers with a status of 500 or more. */
  serverErrors: number;
  /** Every request that failed: wrong status, network error or timeout. */
  errors: { path: string; problem: string }[];
  latency: Latency;
  byKind: Record<string, Latency>;
}

/** Nearest-rank percentiles of a list of milliseconds. */
export function latencyOf(ms: number[]): Latency {
  const s = [...ms].sort((a, b) => a - b), n = s.length;
  const at = (q: number) => (n ? s[Math.min(n - 1, Math.ceil(q * n) - 1)] : NaN);
  return {
    n,
    p50: at(0.5),
    p95: at(0.95),
    p99: at(0.99),
    max: n ? s[n - 1] : NaN,
    mean: n ? s.reduce((a, b) => a + b, 0) / n : NaN,
  };
}

/** The mix drawn in a fixed pseudo-random order by weight (mulberry32). */
function* draw(targets: Target[], seed: number): Generator<Target> {
  const total = targets.reduce((a, t) => a + (t.weight ?? 1), 0);
  let a = seed >>> 0;
  while (true) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    let x = (((t ^ (t >>> 14)) >>> 0) / 4294967296) * total;
    for (const target of targets) {
      x -= target.weight ?? 1;
      if (x < 0) {
        yield target;
        break;
      }
    }
  }
}

/**
 * Send the mix to `base` within the bounds; stops by itself.
 *
 * @param base the server, e.g. `http://127.0.0.1:8123` (the caller keeps it on loopback)
 * @param targets the mix (at least one)
 * @param options the bounds: request count, concurrency, duration, per-request timeout
 * @returns latencies overall and per kind, throughput, and every error
 *
 * @example
 * ```ts
 * const report = await runLoad("http://127.0.0.1:8000", [{ kind: "page", path: "/" }], {
 *   requests: 100, concurrency: 8, durationMs: 10_000,
 * });
 * console.log(report.latency.p95);
 * ```
 */
export async function runLoad(
  base: string,
  targets: Target[],
  options: LoadOptions,
): Promise<LoadReport> {
  if (!targets.length) throw new RangeError("`targets` must hold at least one URL: it is empty");
  for (const name of ["requests", "concurrency", "durationMs", "timeoutMs"] as const) {
    const v = options[name];
    if (name === "timeoutMs" && v === undefined) continue;
    if (!(typeof v === "number" && v > 0 && Number.isFinite(v))) {
      throw new RangeError(
        `load option \`${name}\` must be a positive number: current value is ${v}`,
      );
    }
  }
  const order = draw(targets, options.seed ?? 1), timeout = options.timeoutMs ?? 30_000;
  const start = performance.now(), deadline = start + options.durationMs;
  const times: { kind: string; ms: number }[] = [], errors: LoadReport["errors"] = [];
  let sent = 0, bytes = 0, serverErrors = 0, stoppedBy: LoadReport["stoppedBy"] = "count";
  const worker = async () => {
    while (sent < options.requests) {
      if (performance.now() >= deadline) return void (stoppedBy = "time");
      sent++;
      const target = order.next().value as Target, t0 = performance.now();
      try {
        const res = await fetch(base + target.path, { signal: AbortSignal.timeout(timeout) });
        bytes += (await res.arrayBuffer()).byteLength;
        if (res.status >= 500) serverErrors++;
        if (res.status !== (target.status ?? 200)) {
          errors.push({ path: target.path, problem: `status ${res.status}` });
        }
      } catch (err) {
        errors.push({ path: target.path, problem: String((err as Error).message ?? err) });
      }
      times.push({ kind: target.kind, ms: performance.now() - t0 });
    }
  };
  await Promise.all(
    Array.from({ length: Math.min(options.concurrency, options.requests) }, worker),
  );
  const seconds = (performance.now() - start) / 1000;
  const kinds = [...new Set(times.map((t) => t.kind))].sort();
  return {
    requests: times.length,
    stoppedBy,
    seconds,
    throughput: times.length / seconds,
    bytes,
    serverErrors,
    errors,
    latency: latencyOf(times.map((t) => t.ms)),
    byKind: Object.fromEntries(
      kinds.map((k) => [k, latencyOf(times.filter((t) => t.kind === k).map((t) => t.ms))]),
    ),
  };
}

/**
 * The dashboard's mix for one run: every kind of page (runs, overview,
 * atoms of each model, brain, ROIs, downloads, compare), the islands'
 * bundle, and downloads of NIfTI maps, CSV tables and JSON.
 *
 * @param run the run's id
 * @param models its model names
 * @param atoms atoms per model
 */
export function dashboardMix(run: string, models: string[], atoms: number): Target[] {
  const r = `/runs/${encodeURIComponent(run)}`, m = models.map(encodeURIComponent);
  const file = (p: string) => `${r}/files/${p}`;
  return [
    { kind: "page:runs", path: "/", weight: 2 },
    { kind: "page:overview", path: r, weight: 2 },
    ...m.flatMap((name) =>
      Array.from({ length: atoms }, (_, k) => ({
        kind: "page:atom",
        path: `${r}/atoms/${name}/${k}`,
        weight: 6 / (m.length * atoms),
      }))
    ),
    { kind: "page:brain", path: `${r}/brain`, weight: 2 },
    { kind: "page:rois", path: `${r}/rois`, weight: 2 },
    { kind: "page:compare", path: "/compare", weight: 1 },
    { kind: "page:downloads", path: `${r}/downloads`, weight: 1 },
    { kind: "page:not-found", path: `${r}/files/..%2F..%2Fetc%2Fpasswd`, status: 404, weight: 0.5 },
    { kind: "asset:islands", path: "/_islands.js", weight: 1 },
    { kind: "file:nifti", path: file(`voxels/${m[0]}/group_t.nii.gz`), weight: 1 },
    { kind: "file:nifti", path: file("voxels/anatomy.nii.gz"), weight: 1 },
    { kind: "file:nifti", path: file("voxels/networks_Yeo-7.nii.gz"), weight: 1 },
    { kind: "file:csv", path: file("stimulus/words.csv"), weight: 1 },
    { kind: "file:csv", path: file(`models/${m[0]}/atoms.csv`), weight: 1 },
    { kind: "file:csv", path: file(`voxels/${m[0]}/networks_Yeo-7.csv`), weight: 1 },
    { kind: "file:json", path: file("summary.json"), weight: 1.5 },
    { kind: "file:json", path: file("provenance.json"), weight: 0.5 },
  ];
}
