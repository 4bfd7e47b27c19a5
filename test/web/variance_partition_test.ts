import assert from "node:assert/strict";
import { join } from "node:path";
import { createHandler } from "../../apps/web/server.ts";
import { SMALL_FOLDER, writeResultsFolder } from "./fixture.ts";

Deno.test({
  name: "the run overview and model page state each model's variance partitioning",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "brainorg-web-varpart-" });
    try {
      const run = join(dir, "run");
      const { models } = await writeResultsFolder(run, SMALL_FOLDER);
      // The fixture's summary, with a partition added to each model as the pipeline writes it.
      const file = join(run, "summary.json");
      const summary = JSON.parse(await Deno.readTextFile(file));
      summary.voxel.models.forEach((m: Record<string, unknown>, i: number) => {
        m.variancePartition = {
          lowLevel: ["word rate", "sndpwr.txt"],
          alphas: [0.1, 1],
          subjects: 6,
          medianR2Joint: 0.05,
          medianUniqueAtoms: 0.0123 + i,
          medianUniqueLowLevel: -0.0004,
          medianShared: 0.0002,
          positiveUniqueAtoms: 0.7,
          topVoxels: 12,
          topMedianUniqueAtoms: 0.2345,
          topMedianUniqueLowLevel: 0,
          topMedianShared: 0,
        };
      });
      await Deno.writeTextFile(file, JSON.stringify(summary));
      const { handler } = await createHandler([run]);
      const page = await (await handler(new Request("http://127.0.0.1/runs/run"))).text();
      const line = page.match(/<p[^>]*data-testid="variance-partition"[^>]*>([\s\S]*?)<\/p>/);
      assert.ok(line, "no variance-partition line on the overview");
      const text = line[1].replace(/<!--.*?-->/g, "").replace(/\s+/g, " ");
      assert.match(text, /against word rate \+ sndpwr\.txt/);
      assert.ok(text.includes(`${models[0]} unique atoms 0.0123 (top 12 voxels 0.2345)`), text);
      const model = await (await handler(
        new Request(`http://127.0.0.1/runs/run/models/${encodeURIComponent(models[0])}`),
      )).text();
      const own = model.match(/<p[^>]*data-testid="variance-partition"[^>]*>([\s\S]*?)<\/p>/);
      assert.ok(own, "no variance-partition line on the model page");
      assert.match(own[1], /unique_atoms_r2\.nii\.gz/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
