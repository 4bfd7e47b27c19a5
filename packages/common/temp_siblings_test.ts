import assert from "node:assert/strict";
import { join } from "node:path";
import {
  holdExisting,
  makeTempDir,
  makeTempFile,
  parseTempSibling,
  sweepStaleTemps,
  tempSibling,
} from "./temp_siblings.ts";

Deno.test("a temporary sibling's name says whose it is and when it was made", () => {
  const before = Date.now();
  const path = tempSibling("/data/results/demo");
  const info = parseTempSibling(path.slice("/data/results/".length));
  assert.ok(info, path);
  assert.equal(info.target, "demo");
  assert.equal(info.kind, "tmp");
  assert.equal(info.pid, Deno.pid);
  assert.ok(info.time >= before && info.time <= Date.now(), `${info.time}`);
  assert.equal(parseTempSibling(tempSibling("/x/y.json", "old").slice(3))?.kind, "old");
  assert.notEqual(tempSibling("/a/b"), tempSibling("/a/b"));
  for (const other of [".hidden", "demo", "x.tmp-1", ".demo.tmp-12-abc"]) {
    assert.equal(parseTempSibling(other), null, other);
  }
});

Deno.test("sweeping removes what no one holds, restores a folder moved aside, keeps what a writer holds", async () => {
  const dir = await Deno.makeTempDir();
  const held: { release: () => void }[] = [];
  try {
    // Left by killed runs: nobody holds them.
    const deadTmp = tempSibling(join(dir, "entry"));
    const movedAside = tempSibling(join(dir, "results"), "old"); // killed between the two renames
    const superseded = tempSibling(join(dir, "kept"), "old"); // killed before removing the old one
    for (const p of [deadTmp, movedAside, superseded]) {
      await Deno.mkdir(p);
      await Deno.writeTextFile(join(p, "file"), p);
    }
    await Deno.mkdir(join(dir, "kept"));
    // A live writer's folder and file, and a folder it is replacing.
    const liveDir = await makeTempDir(join(dir, "entry"));
    const liveFile = await makeTempFile(join(dir, "x.json"));
    const replacing = tempSibling(join(dir, "busy"), "old");
    await Deno.mkdir(replacing);
    const busy = await holdExisting(replacing);
    held.push(liveDir, { release: () => liveFile.file.close() }, busy!);
    await Deno.writeTextFile(join(dir, ".hidden"), "not a temporary sibling");

    const report = await sweepStaleTemps(dir);
    assert.deepEqual(report.removed.sort(), [deadTmp, superseded].sort());
    assert.deepEqual(report.restored, [join(dir, "results")]);
    assert.equal(await Deno.readTextFile(join(dir, "results", "file")), movedAside);
    const left = [...Deno.readDirSync(dir)].map((e) => join(dir, e.name)).sort();
    assert.deepEqual(
      left,
      [".hidden", "kept", "results"].map((n) => join(dir, n))
        .concat([liveDir.path, liveFile.path, replacing]).sort(),
    );
    // Once the writer is gone (a killed process's locks go with it), they are stale.
    held.splice(0).forEach((h) => h.release());
    const later = await sweepStaleTemps(dir);
    assert.deepEqual(later.removed.sort(), [liveDir.path, liveFile.path].sort());
    assert.deepEqual(later.restored, [join(dir, "busy")]);
    assert.deepEqual(await sweepStaleTemps(join(dir, "absent")), { removed: [], restored: [] });
  } finally {
    held.forEach((h) => h.release());
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("of several old copies of a missing folder, the newest is restored", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const now = Date.now();
    for (const [age, tag] of [[60_000, "older"], [1_000, "newer"]] as const) {
      const n = `.out.old-1-${(now - age).toString(36)}-${tag}`;
      await Deno.mkdir(join(dir, n));
      await Deno.writeTextFile(join(dir, n, "tag"), tag);
    }
    const report = await sweepStaleTemps(dir);
    assert.equal(report.removed.length, 1);
    assert.equal(await Deno.readTextFile(join(dir, "out", "tag")), "newer");
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["out"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
