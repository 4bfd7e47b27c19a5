import assert from "node:assert/strict";
import { join } from "node:path";
import { createHandler } from "../../apps/web/server.ts";
import { writeResultsFolder } from "./fixture.ts";
import { dashboardMix, latencyOf, runLoad } from "./load.ts";

Deno.test({
  name: "dashboard under concurrent load: every page and download answers, no error, no 5xx",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "brainorg-web-load-" });
    let server: Deno.HttpServer<Deno.NetAddr> | undefined;
    try {
      const run = join(dir, "run");
      const { models } = await writeResultsFolder(run, {
        atoms: 8,
        volumes: 120,
        words: 600,
        grid: [20, 24, 20],
        subjects: 1,
      });
      // A second, broken folder shares the server, as it would in real use.
      await Deno.mkdir(join(dir, "broken"));
      await Deno.writeTextFile(join(dir, "broken", "summary.json"), '{"schema": "brainorg.res');
      const { handler } = await createHandler([run, join(dir, "broken")]);
      server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, handler);
      const mix = [
        ...dashboardMix("run", models, 8),
        { kind: "page:broken", path: "/runs/broken", status: 422 },
      ];
      const report = await runLoad(`http://127.0.0.1:${server.addr.port}`, mix, {
        requests: 400,
        concurrency: 16,
        durationMs: 120_000,
        timeoutMs: 60_000,
      });
      // Timings are reported, never asserted: the machine is shared.
      console.log(
        `${report.requests} requests in ${report.seconds.toFixed(1)} s ` +
          `(${report.throughput.toFixed(0)}/s, 16 concurrent): p50 ${
            report.latency.p50.toFixed(1)
          } ms, p95 ${report.latency.p95.toFixed(1)} ms, p99 ${report.latency.p99.toFixed(1)} ms`,
      );
      assert.deepEqual(report.errors, []);
      assert.equal(report.serverErrors, 0);
      assert.ok(report.requests > 0);
      const kinds = new Set(mix.map((t) => t.kind));
      if (report.stoppedBy === "count") {
        assert.equal(report.requests, 400);
        assert.deepEqual(Object.keys(report.byKind).sort(), [...kinds].sort());
      }
    } finally {
      try {
        await server?.shutdown();
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    }
  },
});

Deno.test({
  name: "load generator: stops by itself at its time limit, and counts wrong answers as errors",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    let served = 0;
    const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
      served++;
      await new Promise((r) => setTimeout(r, 40));
      return new URL(req.url).pathname === "/bad"
        ? new Response("boom", { status: 503 })
        : new Response("ok");
    });
    try {
      const base = `http://127.0.0.1:${server.addr.port}`;
      // 100,000 requests of 40 ms over 4 workers would take 1,000 s: the 300 ms limit ends it.
      const report = await runLoad(
        base,
        [{ kind: "ok", path: "/" }, { kind: "bad", path: "/bad" }],
        {
          requests: 100_000,
          concurrency: 4,
          durationMs: 300,
        },
      );
      assert.equal(report.stoppedBy, "time");
      assert.ok(report.requests < 1000, `${report.requests} requests`);
      assert.equal(report.requests, served);
      assert.ok(report.serverErrors > 0 && report.serverErrors === report.byKind.bad.n);
      assert.equal(report.errors.length, report.serverErrors);
      assert.deepEqual(report.errors[0], { path: "/bad", problem: "status 503" });
      // And at its count.
      const counted = await runLoad(base, [{ kind: "ok", path: "/" }], {
        requests: 7,
        concurrency: 3,
        durationMs: 60_000,
      });
      assert.equal(counted.stoppedBy, "count");
      assert.equal(counted.requests, 7);
      assert.deepEqual(counted.errors, []);
      await assert.rejects(
        () =>
          runLoad(base, [{ kind: "ok", path: "/" }], {
            requests: 0,
            concurrency: 1,
            durationMs: 1,
          }),
        /`requests` must be a positive number: current value is 0/,
      );
    } finally {
      await server.shutdown();
    }
  },
});

Deno.test("latency percentiles are nearest-rank", () => {
  const l = latencyOf(Array.from({ length: 100 }, (_, i) => 100 - i));
  assert.deepEqual([l.n, l.p50, l.p95, l.p99, l.max, l.mean], [100, 50, 95, 99, 100, 50.5]);
  assert.ok(Number.isNaN(latencyOf([]).p50));
});
