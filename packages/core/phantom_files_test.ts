import assert from "node:assert/strict";
import { join } from "node:path";
import { checkCacheEntry } from "@brainorg/common";
import { createCpuBackend, type Matrix, rng } from "@brainorg/kernels";
import { cachedPhantom, phantomFiles } from "./phantom_files.ts";

Deno.test("a cached phantom is generated once, read back after, and regenerated when a file is cut", async () => {
  const backend = await createCpuBackend();
  const dir = await Deno.makeTempDir();
  try {
    const next = rng(2), T = 60, K = 8;
    const atoms: Matrix = { rows: T, cols: K, data: Float32Array.from({ length: T * K }, next) };
    const entry = join(dir, "phantom", "key");
    const space = { resolution: 4 as const, networks: "yeo7" as const };
    let misses = 0;
    const warnings: string[] = [];
    const get = () =>
      cachedPhantom(entry, backend, atoms, space, {
        subjects: 3,
        r2: 0.1,
        seed: 1,
        onMiss: () => misses++,
        warn: (l) => warnings.push(l),
      });
    const first = await get();
    assert.equal(first.cached, false);
    assert.equal((await checkCacheEntry(entry)).state, "whole");
    const second = await get();
    assert.deepEqual([second.cached, misses], [true, 1]);
    assert.deepEqual(second.truth.links, first.truth.links);

    const bold = phantomFiles(entry, 3).subjects[1].path;
    const bytes = await Deno.readFile(bold);
    await Deno.writeFile(bold, bytes.slice(0, bytes.length - 100));
    const third = await get();
    assert.deepEqual([third.cached, misses], [false, 2]);
    assert.match(warnings.join("\n"), /cached phantom in .* is not usable \(sub-02_bold\.nii has/);
    assert.deepEqual(await Deno.readFile(bold), bytes, "the same phantom, generated again");
    assert.deepEqual([...Deno.readDirSync(join(dir, "phantom"))].map((e) => e.name), ["key"]);
  } finally {
    backend.dispose();
    await Deno.remove(dir, { recursive: true });
  }
});
