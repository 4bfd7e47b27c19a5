/**
 * The dashboard under load: `deno task web` started as its own process on
 * 127.0.0.1 (a free port), then a bounded mix of pages (runs, overview,
 * every atom, brain, ROIs, downloads, compare) and downloads (NIfTI maps,
 * CSV tables, JSON) from `--concurrency` clients until `--requests` are
 * done or `--duration` seconds have passed. Reports p50/p95/p99 latency per
 * kind, throughput, the server's peak memory, and every error; exits 1 on
 * any error or 5xx.
 *
 * The results folder is `--folder DIR` (e.g. `results/demo`), else one of
 * the demo's size written to a temporary folder (2 models × 16 atoms, 362
 * volumes, 2,127 words, 4 mm MNI maps).
 *
 * Usage: deno task bench:web [--requests 2000] [--concurrency 32] [--duration 120]
 *                            [--timeout 30] [--folder DIR] [--out FILE]
 *
 * @module
 */

import { parseArgs } from "node:util";
import { join } from "node:path";
import { loadRuns } from "../apps/web/runs.ts";
import { writeResultsFolder } from "../test/web/fixture.ts";
import { dashboardMix, type LoadReport, runLoad } from "../test/web/load.ts";

const ROOT = join(import.meta.dirname!, "..");

/** Start `apps/web/main.ts` on a free loopback port; resolves once it listens. */
async function startServer(folder: string) {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      "--allow-net",
      "--allow-env",
      "--allow-run",
      "--allow-sys",
      "apps/web/main.ts",
      "--host",
      "127.0.0.1",
      "--port",
      "0",
      folder,
    ],
    cwd: ROOT,
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const log: string[] = [];
  const lines = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let pending = "";
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("the server did not start in 120 s")), 120_000);
    (async () => {
      // Read stderr to its end, so that the server never blocks on a full pipe.
      for (let r = await lines.read(); !r.done; r = await lines.read()) {
        pending += r.value;
        const parts = pending.split("\n");
        pending = parts.pop()!;
        for (const line of parts) {
          log.push(line);
          const m = /^dashboard: (http:\/\/127\.0\.0\.1:\d+)\//.exec(line);
          if (m) (clearTimeout(timer), resolve(m[1]));
        }
      }
      clearTimeout(timer);
      reject(new Error(`the server exited before it listened:\n${log.join("\n")}`));
    })();
  });
  return {
    url,
    log,
    /** Peak resident memory of the server process (Linux), in MiB. */
    peakMiB: async () => {
      // Through `cat`: Deno reads another process's /proc entry only with --allow-all.
      try {
        const out = await new Deno.Command("cat", { args: [`/proc/${child.pid}/status`] }).output();
        const kB = /VmHWM:\s+(\d+) kB/.exec(new TextDecoder().decode(out.stdout))?.[1];
        return kB ? Number(kB) / 1024 : NaN;
      } catch {
        return NaN;
      }
    },
    stop: async () => {
      child.kill("SIGTERM");
      await child.status;
    },
  };
}

function table(report: LoadReport): string {
  const rows = [["kind", "n", "p50 ms", "p95 ms", "p99 ms", "max ms"]];
  for (const [kind, l] of [...Object.entries(report.byKind), ["all", report.latency] as const]) {
    rows.push([kind, String(l.n), ...[l.p50, l.p95, l.p99, l.max].map((x) => x.toFixed(1))]);
  }
  const width = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) =>
    r.map((c, i) => (i ? c.padStart(width[i]) : c.padEnd(width[i]))).join("  ")
  )
    .join("\n");
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      requests: { type: "string", default: "2000" },
      concurrency: { type: "string", default: "32" },
      duration: { type: "string", default: "120" },
      timeout: { type: "string", default: "30" },
      folder: { type: "string" },
      out: { type: "string" },
    },
  });
  const number = (name: "requests" | "concurrency" | "duration" | "timeout") => {
    const n = Number(values[name]);
    if (!(n > 0 && Number.isFinite(n))) {
      console.error(
        `error: --${name} must be a positive number: current value is "${values[name]}"`,
      );
      Deno.exit(2);
    }
    return n;
  };
  const options = {
    requests: Math.floor(number("requests")),
    concurrency: Math.floor(number("concurrency")),
    durationMs: number("duration") * 1000,
    timeoutMs: number("timeout") * 1000,
  };
  let temp: string | undefined, folder = values.folder;
  if (!folder) {
    temp = await Deno.makeTempDir({ prefix: "brainorg-web-bench-" });
    folder = join(temp, "demo");
    const t0 = performance.now();
    await writeResultsFolder(folder);
    console.error(`fixture: ${folder} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  }
  const [run] = await loadRuns([folder]);
  if (run.status !== "ready") {
    console.error(`error: ${run.problem}`);
    Deno.exit(3);
  }
  const models = run.summary!.models.map((m) => m.name);
  const mix = dashboardMix(run.id, models, Math.max(1, run.summary!.models[0]?.atoms ?? 1));
  const server = await startServer(folder);
  try {
    // Once each, unmeasured: the first request of a map or table reads and checks it.
    const t0 = performance.now();
    for (const t of mix) await (await fetch(server.url + t.path)).arrayBuffer();
    const warm = performance.now() - t0;
    const report = await runLoad(server.url, mix, options);
    const peak = await server.peakMiB();
    console.log(
      `dashboard load: ${report.requests} requests (${options.concurrency} concurrent, stopped by ` +
        `${report.stoppedBy}) in ${report.seconds.toFixed(1)} s = ${
          report.throughput.toFixed(0)
        } requests/s, ${
          (report.bytes / 2 ** 20).toFixed(0)
        } MiB; ${report.errors.length} errors, ` +
        `${report.serverErrors} 5xx; warm-up of ${mix.length} URLs ${warm.toFixed(0)} ms; ` +
        `server peak RSS ${peak.toFixed(0)} MiB; ${Deno.build.os}/${Deno.build.arch}, ` +
        `${navigator.hardwareConcurrency} CPUs`,
    );
    console.log(table(report));
    for (const e of report.errors.slice(0, 20)) console.log(`error: ${e.path}: ${e.problem}`);
    if (values.out) {
      await Deno.writeTextFile(
        values.out,
        JSON.stringify(
          { options, folder: values.folder ?? "fixture", warmMs: warm, peakMiB: peak, ...report },
          null,
          2,
        ),
      );
    }
    if (report.errors.length || report.serverErrors) Deno.exitCode = 1;
  } finally {
    await server.stop();
    if (temp) await Deno.remove(temp, { recursive: true });
  }
}
