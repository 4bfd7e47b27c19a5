import assert from "node:assert/strict";
import { join } from "node:path";
import { createHandler } from "../../apps/web/server.ts";
import { SMALL_FOLDER, writeResultsFolder } from "./fixture.ts";

Deno.test({
  name: "the run overview shows the metrics' bootstrap intervals and the links' reappearance",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "brainorg-web-bootstrap-" });
    try {
      const run = join(dir, "run");
      await writeResultsFolder(run, SMALL_FOLDER);
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

Deno.test({
  name:
    "the ROI page shows the bootstrap intervals where the table has them, and reads older tables",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "brainorg-web-roi-ci-" });
    try {
      const run = join(dir, "run");
      await writeResultsFolder(run, { atoms: 4, volumes: 60, words: 200, grid: [10, 12, 10] });
      const file = join(run, "encoding", "models_group.csv");
      const header = "model,variant,roi,subjects,meanR,t,significant,gainOverBaseline,tGain";
      const row = "m,atoms+baseline,LATL,4,0.2,3,1,0.074,3.7";
      const page = async () => {
        const { handler } = await createHandler([run]);
        const html = await (await handler(new Request("http://127.0.0.1/runs/run/rois"))).text();
        return html.replace(/<!--.*?-->/g, "").replace(/\s+/g, " ");
      };
      // A folder written before the intervals: no interval column, and no problem.
      await Deno.writeTextFile(file, `${header}\n${row}\n`);
      let text = await page();
      assert.doesNotMatch(text, /95% interval/);
      assert.doesNotMatch(text, /models_group\.csv/);
      assert.match(text, /<td>LATL<\/td><td>0\.200<\/td>/);
      // With intervals.
      await Deno.writeTextFile(
        file,
        `${header},meanRLow,meanRHigh,gainLow,gainHigh\n${row},0.15,0.25,0.041,0.112\n`,
      );
      text = await page();
      assert.match(text, /<th>95% interval<\/th>/);
      assert.match(text, /data-testid="mean-r-interval">\[0\.150, 0\.250\]/);
      assert.match(text, /data-testid="gain-interval">\[0\.041, 0\.112\]/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
