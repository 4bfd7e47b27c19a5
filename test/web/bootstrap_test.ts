import assert from "node:assert/strict";
import { join } from "node:path";
import { createHandler } from "../../apps/web/server.ts";
import { writeResultsFolder } from "./fixture.ts";

Deno.test({
  name: "the run overview shows the metrics' bootstrap intervals and the links' reappearance",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "brainorg-web-bootstrap-" });
    try {
      const run = join(dir, "run");
      await writeResultsFolder(run, {
        atoms: 4,
        volumes: 60,
        words: 200,
        grid: [10, 12, 10],
        subjects: 1,
      });
      // The fixture's summary, with a bootstrap on its first model's first template set.
      const file = join(run, "summary.json");
      const summary = JSON.parse(await Deno.readTextFile(file));
      summary.voxel.bootstrap = { resamples: 150, seed: 0, level: 0.95, note: "test" };
      const t = summary.voxel.models[0].templates[0];
      t.links = [{ atom: 2, sign: -1, network: 0, networkName: "Visual", reappearance: 0.875 }];
      t.metricIntervals = [
        { metric: "networksEngaged", value: 3, ciLow: 1, ciHigh: 3, finite: 150 },
        { metric: "consistency.mapOverlap", value: 0.5, ciLow: 0.25, ciHigh: 0.625, finite: 90 },
      ];
      await Deno.writeTextFile(file, JSON.stringify(summary));
      const { handler } = await createHandler([run]);
      const page = await (await handler(new Request("http://127.0.0.1/runs/run"))).text();
      const text = page.replace(/<!--.*?-->/g, "").replace(/\s+/g, " ");
      const box = text.match(/data-testid="reappearance"[\s\S]*?<\/details>/);
      assert.ok(box, "no reappearance table on the overview");
      assert.match(box[0], /150 bootstrap resamples/);
      assert.match(box[0], /<td>2<\/td><td>deactivated<\/td><td>Visual<\/td><td>0\.88<\/td>/);
      const metrics = text.match(/data-testid="metrics"[\s\S]*?<\/table>/);
      assert.ok(metrics, "no metrics table");
      assert.match(metrics[0], /95% interval/);
      assert.match(metrics[0], /networks engaged<\/td><td>[^<]*<\/td><td>1 – 3<\/td>/);
      assert.match(metrics[0], /map overlap<\/td><td>[^<]*<\/td><td>0\.250 – 0\.625<\/td>/);
      // The other model has no bootstrap: no interval column, no reappearance.
      assert.equal(text.match(/data-testid="reappearance"/g)?.length, 1);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
