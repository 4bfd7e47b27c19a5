import assert from "node:assert/strict";
import { join } from "node:path";
import { writeDirAtomic, writeFileAtomic, writeJsonAtomic } from "./atomic_write.ts";

Deno.test("writeFileAtomic creates parents and leaves no temporary file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "a", "b", "x.bin");
    await writeFileAtomic(path, new Uint8Array([1, 2, 3]));
    assert.deepEqual([...await Deno.readFile(path)], [1, 2, 3]);
    const names = [...Deno.readDirSync(join(dir, "a", "b"))].map((e) => e.name);
    assert.deepEqual(names, ["x.bin"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("writeJsonAtomic replaces an existing file whole", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "s.json");
    await writeJsonAtomic(path, { v: 1, long: "x".repeat(1000) });
    await writeJsonAtomic(path, { v: 2 });
    assert.deepEqual(JSON.parse(await Deno.readTextFile(path)), { v: 2 });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("writeDirAtomic keeps the old directory when the build fails", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const out = join(dir, "results");
    await writeDirAtomic(out, async (tmp) => {
      await Deno.writeTextFile(join(tmp, "summary.json"), "old");
    });
    await assert.rejects(
      writeDirAtomic(out, async (tmp) => {
        await Deno.writeTextFile(join(tmp, "summary.json"), "half");
        throw new Error("boom");
      }),
      /boom/,
    );
    assert.equal(await Deno.readTextFile(join(out, "summary.json")), "old");
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["results"]);
    await writeDirAtomic(out, async (tmp) => {
      await Deno.writeTextFile(join(tmp, "summary.json"), "new");
    });
    assert.equal(await Deno.readTextFile(join(out, "summary.json")), "new");
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["results"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
