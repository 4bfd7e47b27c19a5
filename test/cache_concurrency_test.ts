/**
 * Two runs of `deno task analyze --config` sharing one cache at the same time
 * (made to put the same entry in place at the same moment) both succeed with
 * the same results and leave the cache whole: a third run reads every entry
 * from it (seen in its log) and finds nothing damaged.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { checkCacheEntry, parseTempSibling } from "@brainorg/common";
import { assertSameResults, startAnalyze, writeSmallStudy } from "./small_study.ts";

Deno.test({
  name: "two runs sharing a cache at once both succeed alike, and leave it whole for a third",
  sanitizeResources: false,
  sanitizeOps: false,
}, async () => {
  const dir = await Deno.makeTempDir({ prefix: "brainorg-concurrent-" });
  try {
    const config = await writeSmallStudy(dir);
    const cache = join(dir, "cache"), gate = join(dir, "gate");
    const run = (out: string, env: Record<string, string> = {}) =>
      startAnalyze(["--config", config, "--out", join(dir, out), "--cache-dir", cache], { env });
    // Both wait with their first cache entry (m's activations) built and not
    // yet in place, then rename it at the same moment: one finds the other's.
    const both = Promise.all(
      ["a", "b"].map((out) => run(out, { BRAINORG_TEST_HOLD_AT: `entry-built@${gate}` })),
    );
    const deadline = Date.now() + 120_000;
    while ([...Deno.readDirSync(dir)].filter((e) => e.name.startsWith("gate.ready-")).length < 2) {
      assert.ok(Date.now() < deadline, "the two runs did not both reach their first cache entry");
      await new Promise((r) => setTimeout(r, 20));
    }
    await Deno.writeTextFile(gate, "");
    const [a, b] = await both;
    assert.equal(a.code, 0, a.stderr.slice(-2000));
    assert.equal(b.code, 0, b.stderr.slice(-2000));
    for (const r of [a, b]) assert.doesNotMatch(r.stderr, /warning/);
    assert.doesNotMatch(a.stderr + b.stderr, /\nm: activations read from the cache/);
    await assertSameResults(join(dir, "a"), join(dir, "b"));

    for (const kind of ["activations", "voxels"]) {
      const names = [...Deno.readDirSync(join(cache, kind))].map((e) => e.name);
      assert.deepEqual(names.filter((n) => parseTempSibling(n)), [], `${kind}: no debris`);
      assert.equal(names.length, 2, `${kind}: one entry per model, ${names}`);
      for (const n of names) {
        const found = await checkCacheEntry(join(cache, kind, n));
        assert.equal(found.state, "whole", `${kind}/${n}: ${JSON.stringify(found)}`);
      }
    }
    const c = await run("c");
    assert.equal(c.code, 0, c.stderr.slice(-2000));
    assert.doesNotMatch(c.stderr, /warning/);
    for (const model of ["m", "m-random"]) {
      assert.match(c.stderr, new RegExp(`\\n${model}: activations read from the cache`));
      assert.match(c.stderr, new RegExp(`\\n${model}: voxel results read from the cache`));
    }
    await assertSameResults(join(dir, "a"), join(dir, "c"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
