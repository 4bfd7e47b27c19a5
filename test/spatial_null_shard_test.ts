/**
 * The spatial null is computed from the group maps after a sharded run's
 * merge, so a sharded study with `voxels.spatialNull` writes the single
 * process's spatial-null tables and counts (the rest of the folder is
 * shard_test.ts's to compare).
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { startAnalyze, writeSmallStudy } from "./small_study.ts";
import { brainorg } from "./sharded_results.ts";

/** A CSV's header line and rows as column → text. */
async function cells(path: string): Promise<{ head: string; rows: Record<string, string>[] }> {
  const [head, ...lines] = (await Deno.readTextFile(path)).trim().split("\n");
  const names = head.split(",");
  return {
    head,
    rows: lines.map((l) => Object.fromEntries(l.split(",").map((v, i) => [names[i], v]))),
  };
}

Deno.test({
  name: "a sharded study with the spatial null gives the single process's spatial-null results",
  sanitizeResources: false,
  sanitizeOps: false,
}, async () => {
  const dir = await Deno.makeTempDir({ prefix: "brainorg-spatial-shard-" });
  try {
    const config = await writeSmallStudy(dir);
    const study = JSON.parse(await Deno.readTextFile(config));
    study.voxels.spatialNull = 19;
    await Deno.writeTextFile(config, JSON.stringify(study));
    const reference = join(dir, "reference"), out = join(dir, "out");
    const ref = await startAnalyze([
      "--config",
      config,
      "--out",
      reference,
      "--cache-dir",
      join(dir, "reference-cache"),
    ]);
    assert.equal(ref.code, 0, ref.stderr.slice(-2000));
    assert.match(ref.stderr, /m: spatial null, 19 surrogates per atom/);
    const sharded = await brainorg([
      "analyze",
      "--offline",
      "--backend",
      "cpu",
      "--config",
      config,
      "--out",
      out,
      "--cache-dir",
      join(dir, "cache"),
      "--plan",
      join(dir, "plan"),
      "--shard-voxels",
      "500",
      "--local",
      "2",
    ]);
    assert.equal(sharded.code, 0, sharded.stderr.slice(-3000));
    // The whole folder is shard_test.ts's to compare; here the spatial null's own results.
    for (const model of ["m", "m-random"]) {
      const file = join("voxels", model, "spatial_null_Yeo-7.csv");
      const [a, b] = [await cells(join(reference, file)), await cells(join(out, file))];
      assert.match(a.head, /spatialP,spatialQ,spatialLinked,linkedBoth/);
      assert.equal(b.head, a.head);
      assert.equal(b.rows.length, a.rows.length);
      a.rows.forEach((row, i) => {
        // Counts-based: the p-values and verdicts are equal; Dice and q within rounding.
        for (const c of ["atom", "sign", "network", "p", "linked", "spatialP", "linkedBoth"]) {
          assert.equal(b.rows[i][c], row[c], `${file} row ${i}: ${c}`);
        }
        assert.ok(Math.abs(Number(b.rows[i].dice) - Number(row.dice)) < 1e-6);
      });
    }
    const spatial = async (dir: string) =>
      JSON.parse(await Deno.readTextFile(join(dir, "summary.json"))).voxel.spatialNull;
    const [x, y] = [await spatial(reference), await spatial(out)];
    assert.equal(x.surrogates, 19);
    assert.deepEqual(
      y.models.map((m: { templates: unknown }) => m.templates),
      x.models.map((m: { templates: unknown }) => m.templates),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
