import assert from "node:assert/strict";
import { join } from "node:path";
import {
  checkWritableDir,
  writeDirAtomic,
  writeFileAtomic,
  writeJsonAtomic,
  writeTextFileAtomic,
} from "./atomic_write.ts";
import { OutputError } from "./errors.ts";
import { tempSibling } from "./temp_siblings.ts";

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

Deno.test("a write the file system refuses is an OutputError naming the folder; the old folder stays, nothing else", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const out = join(dir, "results");
    await writeDirAtomic(out, (tmp) => writeTextFileAtomic(join(tmp, "summary.json"), "old"));
    const err = await writeDirAtomic(out, async (tmp) => {
      await writeTextFileAtomic(join(tmp, "models"), "a file where a folder must go");
      await writeTextFileAtomic(join(tmp, "models", "atoms.csv"), "1,2");
    }, { what: "the results folder" }).catch((e) => e);
    assert.ok(err instanceof OutputError, String(err));
    assert.equal(err.path, out);
    assert.match(
      err.message,
      new RegExp(`^cannot write the results folder ${out}: .*\\(os error \\d+\\)`),
    );
    assert.equal(await Deno.readTextFile(join(out, "summary.json")), "old");
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["results"]);
    // Errors that are not the file system's pass through as they are.
    await assert.rejects(
      writeDirAtomic(out, () => Promise.reject(new RangeError("a bug"))),
      RangeError,
    );
    // Checked up front: a parent that is a file.
    const blocked = join(dir, "results", "summary.json", "out");
    const early = await checkWritableDir(blocked, { what: "the results folder" }).catch((e) => e);
    assert.ok(early instanceof OutputError, String(early));
    assert.match(early.message, /^cannot write the results folder .*summary\.json\/out: /);
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["results"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a folder a killed replacement left moved aside is put back before anything else is written", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const out = join(dir, "results");
    // Moved aside by a run that died before putting the new folder in: nobody holds it.
    const aside = tempSibling(out, "old");
    await Deno.mkdir(aside);
    await Deno.writeTextFile(join(aside, "summary.json"), "previous");
    await checkWritableDir(out);
    assert.equal(await Deno.readTextFile(join(out, "summary.json")), "previous");
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["results"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
