import assert from "node:assert/strict";
import { join } from "node:path";
import { createHandler } from "../../apps/web/server.ts";
import { SMALL_FOLDER, writeResultsFolder } from "./fixture.ts";

Deno.test({
  name: "the run overview shows the metrics' range across dictionary seeds beside the intervals",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "brainorg-web-seed-spread-" });
    try {
      const run = join(dir, "run");
      await writeResultsFolder(run, SMALL_FOLDER);
      const file = join(run, "summary.json");
      const summary = JSON.parse(await Deno.readTextFile(file));
      summary.voxel.seedSpread = { seeds: [1, 2], note: "test" };
      const spread = (metric: string, min: number, max: number) => ({
        metric,
        value: min,
        perSeed: [min, max],
        min,
        max,
        sd: 0.1,
        finite: 3,
      });
      summary.voxel.models[0].templates[0].seedMetrics = [
        spread("networksEngaged", 2, 4),
        spread("consistency.timeCourse", 0.125, 0.375),
      ];
      await Deno.writeTextFile(file, JSON.stringify(summary));
      const { handler } = await createHandler([run]);
      const page = await (await handler(new Request("http://127.0.0.1/runs/run"))).text();
      const text = page.replace(/<!--.*?-->/g, "").replace(/\s+/g, " ");
      const tables = text.match(/data-testid="metrics"[\s\S]*?<\/table>/g) ?? [];
      assert.ok(tables.length >= 1, "no metrics table");
      const first = tables[0]!;
      assert.match(first, /seeds' range/);
      assert.match(first, /networks engaged<\/td><td>[^<]*<\/td><td[^>]*>2 – 4<\/td>/);
      assert.match(first, /time courses<\/td><td>[^<]*<\/td><td[^>]*>0\.125 – 0\.375<\/td>/);
      // A metric the summary has no spread for: a dash, not a missing cell.
      assert.match(first, /links<\/td><td>[^<]*<\/td><td[^>]*>—<\/td>/);
      // The other model has none: no column.
      for (const t of tables.slice(1)) assert.doesNotMatch(t, /seeds' range/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
