/**
 * A study split into shards (`analyze --plan DIR --local 2`) writes the
 * results folder a single process writes (within float tolerance); a shard
 * whose results are missing or were left half-written makes the merge
 * refuse and name it; run again alone, it lets the merge finish.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { writeSmallStudyReference } from "./small_study.ts";
import { assertResultsWithin, brainorg } from "./sharded_results.ts";

Deno.test({
  name: "shards run as 2 local processes give the single process's results; a lost shard is named",
  sanitizeResources: false,
  sanitizeOps: false,
}, async () => {
  const dir = await Deno.makeTempDir({ prefix: "brainorg-shard-" });
  try {
    const { config, reference } = await writeSmallStudyReference(dir);
    const out = join(dir, "out"), plan = join(dir, "plan");

    const study = ["--config", config, "--out", out, "--cache-dir", join(dir, "cache")];
    const sharded = await brainorg([
      "analyze",
      "--offline",
      "--backend",
      "cpu",
      ...study,
      "--plan",
      plan,
      "--shard-voxels",
      "500",
      "--local",
      "2",
    ]);
    assert.equal(sharded.code, 0, sharded.stderr.slice(-3000));
    // 1,000 voxels in blocks of 500 for each of the two models (the study's and its control).
    const written = JSON.parse(await Deno.readTextFile(join(plan, "plan.json")));
    assert.equal(written.shards.length, 4);
    assert.deepEqual(written.shards[3].voxels, [500, 1000]);
    assert.equal(written.inputs[0].role, "config");
    // The study's arguments, less those that said how to shard it.
    assert.deepEqual(written.args, ["--offline", "--backend", "cpu", ...study]);
    assert.match(sharded.stderr, /plan: 4 shards \(2 models × blocks of ≤ 500 of 1000 voxels/);
    assert.match(sharded.stderr, /m-random: merged from 2 shards/);
    // The merge learns no dictionary: it reads the plan step's atoms, as the shards do.
    assert.match(sharded.stderr, /m-random: \d+ ANs .*\(atoms read from the cache\)/);
    await assertResultsWithin(reference, out);

    // Shard 1 lost, shard 2 stopped mid-write (its temporary folder left): the merge refuses.
    await Deno.remove(join(plan, "shards", "00001"), { recursive: true });
    await Deno.remove(join(plan, "shards", "00002"), { recursive: true });
    await Deno.mkdir(join(plan, "shards", ".00002.tmp-999999-m3x1k2-9f8e7d"));
    await Deno.remove(out, { recursive: true });
    const refused = await brainorg(["merge", plan]);
    assert.equal(refused.code, 3, refused.stderr);
    assert.match(refused.stderr, /2 of 4 shards have no results/);
    assert.match(refused.stderr, /shard 1 \(m, voxels 500–1000\): not run/);
    assert.match(refused.stderr, /shard 2 \(m-random, voxels 0–500\): only a temporary folder/);
    await assert.rejects(() => Deno.stat(out), Deno.errors.NotFound);

    // Each rerun alone; shard 0, whose results are whole, is run again and replaced.
    const before = (await Deno.stat(join(plan, "shards", "00000", "block.json"))).mtime!;
    const reruns = await Promise.all(["1", "2", "0"].map((n) => brainorg(["shard", plan, n])));
    reruns.forEach((r, i) => {
      assert.equal(r.code, 0, r.stderr.slice(-2000));
      assert.match(r.stderr, new RegExp(`shard ${["1", "2", "0"][i]} \\(.*\\) done in`));
    });
    const after = (await Deno.stat(join(plan, "shards", "00000", "block.json"))).mtime!;
    assert.ok(after > before, "shard 0's results were replaced");
    const merged = await brainorg(["merge", plan]);
    assert.equal(merged.code, 0, merged.stderr.slice(-2000));
    await assertResultsWithin(reference, out);

    // A changed input makes every later step refuse: the plan no longer describes the study.
    await Deno.writeTextFile(
      config,
      (await Deno.readTextFile(config)).replace(`"atoms":8`, `"atoms":7`),
    );
    const stale = await brainorg(["shard", plan, "2"]);
    assert.equal(stale.code, 3, stale.stderr);
    assert.match(stale.stderr, /changed since the plan was written/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("shard and merge refuse bad usage: no plan, a shard number out of range", async () => {
  const dir = await Deno.makeTempDir({ prefix: "brainorg-shard-" });
  try {
    const none = await brainorg(["merge", dir]);
    assert.equal(none.code, 3, none.stderr);
    assert.match(none.stderr, /no readable shard plan/);
    const args = await brainorg(["shard", dir]);
    assert.equal(args.code, 2, args.stderr);
    assert.match(args.stderr, /expected DIR N/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
