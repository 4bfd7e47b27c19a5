import assert from "node:assert/strict";
import { join } from "node:path";
import { voxelFiles } from "@brainorg/core/results";
import { FileCache, fileCache } from "../../apps/web/file_cache.ts";
import { createHandler } from "../../apps/web/server.ts";
import { writeResultsFolder } from "./fixture.ts";

Deno.test("file cache: one read per file version; a rewrite or a replaced folder is read again", async () => {
  const dir = await Deno.makeTempDir({ prefix: "brainorg-file-cache-" });
  try {
    const cache = new FileCache();
    const folder = join(dir, "run"), file = join(folder, "a.txt");
    await Deno.mkdir(folder);
    await Deno.writeTextFile(file, "one");
    let reads = 0;
    const read = (f: string) => (reads++, Deno.readTextFile(f));
    assert.equal(await cache.get(file, "text", read), "one");
    assert.equal(await cache.get(file, "text", read), "one");
    assert.equal(reads, 1, "an unchanged file is not read again");
    assert.equal(cache.loads, 1);
    // Two values of one file are kept apart.
    assert.equal(await cache.get(file, "length", async (f) => (await read(f)).length), 3);
    assert.equal(reads, 2);

    // Rewritten in place with the same size: the modification time tells.
    await new Promise((r) => setTimeout(r, 20));
    await Deno.writeTextFile(file, "two");
    assert.equal(await cache.get(file, "text", read), "two");
    assert.equal(reads, 3);

    // The folder replaced atomically by one with a file of the same size and times: a new inode.
    const next = join(dir, "next");
    await Deno.mkdir(next);
    await Deno.writeTextFile(join(next, "a.txt"), "six");
    const stat = await Deno.stat(file);
    await Deno.utime(join(next, "a.txt"), stat.atime!, stat.mtime!);
    await Deno.rename(folder, join(dir, "old"));
    await Deno.rename(next, folder);
    assert.equal(await cache.get(file, "text", read), "six");
    assert.equal(reads, 4);
    assert.equal(await cache.get(file, "text", read), "six");
    assert.equal(reads, 4);

    // Absent: null, no read; a failed read is not kept.
    assert.equal(await cache.get(join(dir, "none"), "text", read), null);
    assert.equal(reads, 4);
    let fail = true;
    const flaky = (f: string) => fail ? Promise.reject(new Error("busy")) : Deno.readTextFile(f);
    await assert.rejects(cache.get(file, "flaky", flaky), /busy/);
    fail = false;
    assert.equal(await cache.get(file, "flaky", flaky), "six");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("file cache: the least recently used entries go first, within entries and bytes", async () => {
  const dir = await Deno.makeTempDir({ prefix: "brainorg-file-cache-" });
  try {
    const cache = new FileCache({ maxEntries: 2, maxBytes: 400 });
    const files = ["a", "b", "c"].map((n) => join(dir, n));
    for (const f of files) await Deno.writeTextFile(f, "x".repeat(10));
    let reads = 0;
    const read = (f: string) => (reads++, Deno.readTextFile(f));
    await cache.get(files[0], "t", read);
    await cache.get(files[1], "t", read);
    await cache.get(files[0], "t", read); // a used again: b is now the oldest
    await cache.get(files[2], "t", read); // evicts b
    assert.equal(reads, 3);
    await cache.get(files[0], "t", read);
    assert.equal(reads, 3, "a was kept");
    await cache.get(files[1], "t", read);
    assert.equal(reads, 4, "b was dropped");
    assert.deepEqual(cache.size, { entries: 2, bytes: 20 });
    // A value costing more than a quarter of the budget is not kept.
    await cache.get(files[2], "big", read, { bytes: () => 101 });
    await cache.get(files[2], "big", read, { bytes: () => 101 });
    assert.equal(reads, 6);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "dashboard: pages read each file once, and see a rewritten or replaced folder at once",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "brainorg-web-fresh-" });
    try {
      const run = join(dir, "run");
      const options = {
        atoms: 6,
        layers: 3,
        volumes: 60,
        words: 200,
        grid: [10, 12, 10] as [number, number, number],
        subjects: 1,
      };
      const { models } = await writeResultsFolder(run, options);
      const { handler } = await createHandler([run]);
      const page = async (path: string) => {
        const res = await handler(new Request(`http://127.0.0.1${path}`));
        assert.equal(res.status, 200, path);
        return await res.text();
      };
      const paths = [
        "/runs/run",
        `/runs/run/atoms/${models[0]}/1`,
        `/runs/run/models/${models[0]}`,
      ];
      for (const p of paths) await page(p);
      // The atom page starts its first view's picture and does not wait for it: awaited here
      // through its route, so that its reads are not counted as the second round's.
      await page(`/runs/run/atoms/${models[0]}/1/preview.png`);
      const loads = fileCache.loads;
      for (const p of paths) await page(p);
      assert.equal(fileCache.loads, loads, "an unchanged folder is not read again");

      // A table rewritten in place: the next request shows it.
      const table = join(run, voxelFiles(models[0]).networks("Yeo-7").path);
      const text = await Deno.readTextFile(table);
      await Deno.writeTextFile(table, text.replaceAll("2_Somatomotor_Area", "Renamed network"));
      assert.ok((await page("/runs/run")).includes("Renamed network"));
      assert.equal(fileCache.loads, loads + 1, "only the changed table is read");

      // The folder replaced by a new run's (renamed into place): its models, at once.
      const next = join(dir, "next");
      await writeResultsFolder(next, { ...options, models: ["gpt2-small", "gpt2-random"] });
      await Deno.rename(run, join(dir, "old"));
      await Deno.rename(next, run);
      const overview = await page("/runs/run");
      assert.ok(overview.includes("/runs/run/models/gpt2-small"), "the new run's models");
      assert.ok(!overview.includes(`/runs/run/models/${models[0]}`), "the old run's models");
      assert.ok((await page("/runs/run/models/gpt2-small")).includes('data-testid="members"'));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
