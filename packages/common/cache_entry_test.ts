import assert from "node:assert/strict";
import { join } from "node:path";
import { checkCacheEntry, readCacheEntryFile, writeCacheEntry } from "./cache_entry.ts";
import { sha256 } from "./hash.ts";
import { tempSibling } from "./temp_siblings.ts";

const bytes = (n: number, seed: number) =>
  Uint8Array.from({ length: n }, (_, i) => (i * seed) & 255);

async function fill(tmp: string, tag: string) {
  await Deno.writeTextFile(join(tmp, "tag.txt"), tag);
  await Deno.mkdir(join(tmp, "maps"));
  await Deno.writeFile(join(tmp, "maps", "a.f32"), bytes(4000, 7));
}

Deno.test("an entry is written whole with a manifest of its files' sizes and SHA-256", async () => {
  const root = await Deno.makeTempDir();
  try {
    const dir = join(root, "voxels", "abc");
    assert.deepEqual(await checkCacheEntry(dir), { state: "absent" });
    assert.deepEqual(await writeCacheEntry(dir, (tmp) => fill(tmp, "first")), { written: true });
    const found = await checkCacheEntry(dir);
    assert.equal(found.state, "whole");
    if (found.state !== "whole") return;
    assert.deepEqual(found.manifest.files, {
      "maps/a.f32": { bytes: 4000, sha256: sha256(bytes(4000, 7)) },
      "tag.txt": { bytes: 5, sha256: sha256("first") },
    });
    assert.deepEqual(await readCacheEntryFile(dir, found.manifest, "maps/a.f32"), bytes(4000, 7));
    assert.deepEqual([...Deno.readDirSync(join(root, "voxels"))].map((e) => e.name), ["abc"]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("a changed byte, a cut file or a missing manifest make an entry damaged, and it is replaced", async () => {
  const root = await Deno.makeTempDir();
  try {
    const dir = join(root, "e");
    await writeCacheEntry(dir, (tmp) => fill(tmp, "first"));
    const file = join(dir, "maps", "a.f32");
    const good = await Deno.readFile(file);
    const flipped = good.slice();
    flipped[1234] ^= 1;
    await Deno.writeFile(file, flipped);
    const found = await checkCacheEntry(dir);
    assert.deepEqual(found, {
      state: "damaged",
      reason: "maps/a.f32 does not match its SHA-256 in manifest.json",
    });
    // Sizes only: whole, but reading the file itself still catches the change.
    const sized = await checkCacheEntry(dir, { hashes: false });
    assert.equal(sized.state, "whole");
    if (sized.state === "whole") {
      await assert.rejects(
        () => readCacheEntryFile(dir, sized.manifest, "maps/a.f32"),
        /maps\/a\.f32 does not match its SHA-256/,
      );
    }
    await Deno.writeFile(file, good.slice(0, 10));
    assert.deepEqual(await checkCacheEntry(dir, { hashes: false }), {
      state: "damaged",
      reason: "maps/a.f32 has 10 bytes, not 4000",
    });
    // A damaged entry in place does not block a new one.
    assert.deepEqual(await writeCacheEntry(dir, (tmp) => fill(tmp, "again")), { written: true });
    assert.equal((await checkCacheEntry(dir)).state, "whole");
    assert.equal(await Deno.readTextFile(join(dir, "tag.txt")), "again");
    await Deno.remove(join(dir, "manifest.json"));
    const missing = await checkCacheEntry(dir);
    assert.equal(missing.state, "damaged");
    assert.match((missing as { reason: string }).reason, /manifest\.json is missing/);
    assert.deepEqual([...Deno.readDirSync(root)].map((e) => e.name), ["e"]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("a whole entry in place is kept; the later copy is discarded unless replacing is asked for", async () => {
  const root = await Deno.makeTempDir();
  try {
    const dir = join(root, "e");
    // The second writer finishes its build after the first put its entry in place.
    let inner: { written: boolean } | undefined;
    const outer = await writeCacheEntry(dir, async (tmp) => {
      await fill(tmp, "outer");
      inner = await writeCacheEntry(dir, (t) => fill(t, "inner"));
    });
    assert.deepEqual(inner, { written: true });
    assert.deepEqual(outer, { written: false });
    assert.equal(await Deno.readTextFile(join(dir, "tag.txt")), "inner");
    assert.deepEqual(
      await writeCacheEntry(dir, (tmp) => fill(tmp, "forced"), { replace: true }),
      { written: true },
    );
    assert.equal(await Deno.readTextFile(join(dir, "tag.txt")), "forced");
    assert.equal((await checkCacheEntry(dir)).state, "whole");
    assert.deepEqual([...Deno.readDirSync(root)].map((e) => e.name), ["e"]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("a failed build leaves nothing; what a killed writer left is removed by the next write", async () => {
  const root = await Deno.makeTempDir();
  try {
    const dir = join(root, "e");
    await assert.rejects(
      () =>
        writeCacheEntry(dir, async (tmp) => {
          await fill(tmp, "x");
          throw new Error("the model crashed");
        }),
      /the model crashed/,
    );
    assert.deepEqual([...Deno.readDirSync(root)], []);
    // A folder this process has not written to yet: its first write sweeps it.
    const kind = join(root, "kind");
    await Deno.mkdir(kind);
    const debris = tempSibling(join(kind, "e")); // as a killed writer leaves it: held by no one
    await Deno.mkdir(debris);
    await Deno.writeFile(join(debris, "layer_00.f32"), new Uint8Array(100));
    await writeCacheEntry(join(kind, "other"), (tmp) => fill(tmp, "y"));
    assert.deepEqual([...Deno.readDirSync(kind)].map((e) => e.name), ["other"]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test({
  name:
    "two processes writing the same entry at the same moment: one is put in place whole, the other kept out",
  sanitizeResources: false,
}, async () => {
  const root = await Deno.makeTempDir();
  try {
    const dir = join(root, "activations", "key");
    const gate = join(root, "gate");
    const module = new URL("./cache_entry.ts", import.meta.url).href;
    // Each builds 4 MB tagged with its pid, says it is ready, and waits at the
    // gate, so that both renames come within a few milliseconds.
    const script = `
      import { writeCacheEntry } from "${module}";
      const r = await writeCacheEntry(${JSON.stringify(dir)}, async (tmp) => {
        await Deno.writeTextFile(tmp + "/pid.txt", String(Deno.pid));
        await Deno.writeFile(tmp + "/data.bin", new Uint8Array(4 << 20).fill(Deno.pid & 255));
        await Deno.writeTextFile(${JSON.stringify(root)} + "/ready-" + Deno.pid, "");
        while (true) {
          try { await Deno.stat(${
      JSON.stringify(gate)
    }); break; } catch { await new Promise((r) => setTimeout(r, 5)); }
        }
      });
      console.log(JSON.stringify({ pid: Deno.pid, ...r }));`;
    const children = [0, 1].map(() =>
      new Deno.Command(Deno.execPath(), {
        args: ["eval", script],
        stdout: "piped",
        stderr: "piped",
      }).spawn()
    );
    const deadline = Date.now() + 60_000;
    while ([...Deno.readDirSync(root)].filter((e) => e.name.startsWith("ready-")).length < 2) {
      assert.ok(Date.now() < deadline, "the writers did not get ready");
      await new Promise((r) => setTimeout(r, 20));
    }
    await Deno.writeTextFile(gate, "");
    const outs = await Promise.all(children.map((c) => c.output()));
    for (const o of outs) assert.equal(o.code, 0, new TextDecoder().decode(o.stderr));
    const results = outs.map((o) => JSON.parse(new TextDecoder().decode(o.stdout)));
    assert.deepEqual(results.map((r) => r.written).sort(), [false, true]);
    const winner = results.find((r) => r.written).pid;
    const found = await checkCacheEntry(dir);
    assert.equal(found.state, "whole");
    assert.equal(await Deno.readTextFile(join(dir, "pid.txt")), String(winner));
    const data = await Deno.readFile(join(dir, "data.bin"));
    assert.ok(data.every((b) => b === (winner & 255)), "the data are the winner's, whole");
    assert.deepEqual([...Deno.readDirSync(join(root, "activations"))].map((e) => e.name), ["key"]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
