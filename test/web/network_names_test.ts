import assert from "node:assert/strict";
import { join } from "node:path";
import { renderReport } from "@brainorg/core";
import { RESULT_FILES, type ResultsSummary, voxelFiles } from "@brainorg/core/results";
import { createHandler } from "../../apps/web/server.ts";
import { writeResultsFolder } from "./fixture.ts";

Deno.test({
  name: "pages and the report name networks as people read them; the CSVs keep the labels",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "brainorg-web-names-" });
    try {
      const run = join(dir, "run");
      // 8 atoms: the fixture links atom k to network k mod 7 + 1, so atom 4 to Limbic.
      const { models } = await writeResultsFolder(run, {
        atoms: 8,
        volumes: 60,
        words: 200,
        grid: [10, 12, 10],
        subjects: 1,
      });
      const { handler } = await createHandler([run]);
      const page = async (path: string) => {
        const res = await handler(new Request(`http://127.0.0.1${path}`));
        assert.equal(res.status, 200, path);
        return await res.text();
      };
      const overview = await page("/runs/run");
      const atom = await page(`/runs/run/atoms/${models[0]}/4`);
      const brain = await page("/runs/run/brain");
      for (const [name, html] of [["overview", overview], ["atom", atom], ["brain", brain]]) {
        assert.ok(html.includes("Limbic"), `${name} page names Limbic`);
        assert.ok(!html.includes("Lymbic"), `${name} page shows a raw label`);
        assert.ok(!html.includes("_Area"), `${name} page shows a raw label`);
      }
      // The overview's heatmap columns, in label order.
      for (const n of ["Visual", "Somatomotor", "Dorsal attention", "Default"]) {
        assert.ok(overview.includes(n), n);
      }
      // One template set at a time: the others are a link away.
      assert.ok(overview.includes('href="/runs/run?set=Giles-39"'));
      assert.ok(!overview.includes("metric (Giles-39)"));
      const giles = await page("/runs/run?set=Giles-39");
      assert.ok(giles.includes("metric (Giles-39)") && !giles.includes("Limbic"));
      assert.ok(giles.includes('href="/runs/run?set=Yeo-7"'));
      // The files keep the raw labels.
      const csv = await Deno.readTextFile(join(run, voxelFiles(models[0]).networks("Yeo-7").path));
      assert.ok(csv.includes("5_Lymbic_Area"));

      const summary: ResultsSummary = JSON.parse(
        await Deno.readTextFile(join(run, RESULT_FILES.summary)),
      );
      // The phantom's planted links are printed too.
      summary.voxel!.phantom!.links = [{
        atom: 2,
        network: 4,
        sign: 1 as const,
        atomName: "atom 2",
        networkName: "5_Lymbic_Area",
      }];
      const report = renderReport(summary, "2025-01-01");
      assert.match(report, /<td>Limbic<\/td>/);
      assert.match(report, /atom 2 \+ → Limbic/);
      assert.ok(!report.includes("Lymbic"));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
