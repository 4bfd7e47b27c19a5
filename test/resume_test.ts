/**
 * Runs that survive faults: `deno task analyze --config` killed with SIGKILL
 * at one point after another (in the capture, in dictionary learning, in the
 * voxel null, around cache and results writes), each time started again on
 * the same cache, ends with the results of a run that was never interrupted,
 * and leaves no temporary debris in the cache or beside the results.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { checkCacheEntry, parseTempSibling } from "@brainorg/common";
import {
  assertSameResults,
  type CliRun,
  startAnalyze,
  writeSmallStudyReference,
} from "./small_study.ts";

/** Temporary siblings (see packages/common/temp_siblings.ts) anywhere under `dir`. */
async function debrisUnder(dir: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (d: string) => {
    for await (const e of Deno.readDir(d)) {
      if (parseTempSibling(e.name)) found.push(join(d, e.name));
      else if (e.isDirectory) await walk(join(d, e.name));
    }
  };
  await walk(dir);
  return found;
}

Deno.test({
  name: "a run killed at any point and started again ends with the results of an uninterrupted run",
  sanitizeResources: false,
  sanitizeOps: false,
}, async () => {
  const dir = await Deno.makeTempDir({ prefix: "brainorg-resume-" });
  try {
    const { config, reference } = await writeSmallStudyReference(dir);

    const cache = join(dir, "cache"), out = join(dir, "out");
    const args = ["--config", config, "--out", out, "--cache-dir", cache];
    const killed = async (what: string, run: Promise<CliRun>) => {
      const r = await run;
      assert.equal(
        r.signal,
        "SIGKILL",
        `${what}: not killed (exit ${r.code})\n${r.stderr.slice(-1500)}`,
      );
      return r;
    };
    const at = (point: string) => startAnalyze(args, { env: { BRAINORG_TEST_KILL_AT: point } });
    const onLine = (re: RegExp) => startAnalyze(args, { killWhen: (l) => re.test(l) });

    // Each run resumes from what the runs before it left.
    await killed("first cache entry built, not yet in place", at("entry-built"));
    const left = [...Deno.readDirSync(join(cache, "activations"))].map((e) => e.name);
    assert.equal(left.length, 1, `${left}`);
    assert.ok(parseTempSibling(left[0]), `only the unfinished entry's temporary folder: ${left}`);
    await killed("dictionary learning of m", onLine(/^m capture: done/));
    await killed("capture of m-random", onLine(/^m: \d+ ANs/));
    await killed("voxel null of m", onLine(/^voxels: /));
    await killed("just after a cache entry went in", at("entry-committed"));
    await killed("results complete in their temporary folder", at("dir-built"));
    await assert.rejects(() => Deno.stat(out), Deno.errors.NotFound);
    assert.equal((await debrisUnder(dir)).filter((p) => p.includes("/.out.tmp-")).length, 1);

    const done = await startAnalyze(args);
    assert.equal(done.code, 0, done.stderr.slice(-2000));
    assert.doesNotMatch(done.stderr, /warning/, "no cache entry was found damaged");
    assert.match(done.stderr, /m: activations read from the cache/);
    assert.match(done.stderr, /m-random: activations read from the cache/);
    await assertSameResults(reference, out);

    // Killed while replacing a results folder: moved aside, then put back.
    await killed("old results moved aside, new ones not yet in", at("dir-swap"));
    await assert.rejects(() => Deno.stat(out), Deno.errors.NotFound);
    await killed("writing the results' third file", at("file-written#3"));
    await assertSameResults(reference, out); // the previous results, intact
    const last = await startAnalyze(args);
    assert.equal(last.code, 0, last.stderr.slice(-2000));
    assert.match(last.stderr, /m-random: voxel results read from the cache/);
    await assertSameResults(reference, out);

    assert.deepEqual(await debrisUnder(dir), [], "temporary siblings of killed runs are removed");
    for (const kind of ["activations", "voxels"]) {
      const entries = [...Deno.readDirSync(join(cache, kind))];
      assert.equal(entries.length, 2, `${kind}: one entry per model`);
      for (const e of entries) {
        const found = await checkCacheEntry(join(cache, kind, e.name));
        assert.equal(found.state, "whole", `${kind}/${e.name}: ${JSON.stringify(found)}`);
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
