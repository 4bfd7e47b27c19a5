import assert from "node:assert/strict";
import { join } from "node:path";
import { voxelFiles } from "@brainorg/core/results";
import { createHandler } from "../../apps/web/server.ts";
import { type FixtureOptions, writeResultsFolder } from "./fixture.ts";

/** The cells of a table by its test id, one array per body row (header cells apart). */
function table(html: string, id: string): { head: string[]; rows: string[][] } {
  const body = new RegExp(`<table data-testid="${id}">(.*?)</table>`, "s").exec(html)?.[1];
  assert.ok(body, `no table ${id}`);
  const [, head, ...rows] = body.split("<tr");
  return {
    head: [...head.matchAll(/<th>(.*?)<\/th>/gs)].map((m) => m[1]),
    rows: rows.map((r) => [...r.matchAll(/<td>(.*?)<\/td>/gs)].map((m) => m[1])),
  };
}

Deno.test({
  name:
    "atom page: each network cell's spatial-null p beside the shift null's, where the run has one",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "brainorg-web-spatial-" });
    let server: Deno.HttpServer<Deno.NetAddr> | undefined;
    try {
      const options: FixtureOptions = {
        atoms: 4,
        layers: 2,
        volumes: 30,
        words: 100,
        grid: [12, 14, 12],
      };
      const run = join(dir, "run"), plain = join(dir, "plain");
      const { models } = await writeResultsFolder(run, options);
      await writeResultsFolder(plain, options);
      const model = models[0], files = voxelFiles(model);
      // The spatial null's table from the networks table: spatial p = 0.5 × p + 0.0123, both = linked.
      const lines = (await Deno.readTextFile(join(run, files.networks("Yeo-7").path))).trim()
        .split("\n");
      const head = lines[0].split(",");
      const col = (name: string) => head.indexOf(name);
      const spatial = files.spatialNull("Yeo-7");
      const rows = lines.slice(1).map((l) => {
        const c = l.split(",");
        const p = Number(c[col("p")]);
        const cell: Record<string, string | number> = {
          atom: c[col("atom")],
          sign: c[col("sign")],
          network: c[col("network")],
          networkName: c[col("networkName")],
          voxels: c[col("voxels")],
          dice: c[col("dice")],
          p,
          q: c[col("q")],
          linked: c[col("linked")],
          spatialP: 0.5 * p + 0.0123,
          spatialQ: 0.5,
          spatialLinked: c[col("linked")],
          linkedBoth: c[col("linked")],
        };
        return spatial.columns.map((h) => cell[h]).join(",");
      });
      await Deno.writeTextFile(
        join(run, spatial.path),
        [spatial.columns.join(","), ...rows].join("\n") + "\n",
      );
      const { handler } = await createHandler([run, plain]);
      server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, handler);
      const base = `http://127.0.0.1:${server.addr.port}`;
      const page = await (await fetch(`${base}/runs/run/atoms/${model}/1`)).text();
      const t = table(page, "networks-Yeo-7");
      assert.deepEqual(t.head.slice(-3), ["linked", "spatial p", "both nulls"]);
      assert.ok(t.rows.length > 0 && t.rows.some((r) => r[6] === "yes"));
      for (const r of t.rows) {
        const [p, spatialP] = [Number(r[4]), Number(r[7])];
        assert.ok(Math.abs(spatialP - (0.5 * p + 0.0123)) < 2e-3, `${r}`);
        assert.equal(r[8], r[6] === "yes" ? "yes" : "");
      }
      // A run without the table: the columns are left out, no problem reported.
      const without = await (await fetch(`${base}/runs/plain/atoms/${model}/1`)).text();
      assert.ok(!table(without, "networks-Yeo-7").head.includes("spatial p"));
      assert.ok(!without.includes("spatial_null_"));
    } finally {
      await server?.shutdown();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
