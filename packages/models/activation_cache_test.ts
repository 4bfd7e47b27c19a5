import assert from "node:assert/strict";
import { join } from "node:path";
import { cachedCapture } from "./activation_cache.ts";
import type { WordActivations } from "./capture.ts";

function fake(words: number, layers: number, per: number): WordActivations {
  const units = layers * per;
  return {
    data: Float32Array.from({ length: words * units }, (_, i) => i * 0.5 - 3),
    words,
    units,
    index: Array.from({ length: units }, (_, c) => ({ layer: Math.floor(c / per), unit: c % per })),
    tokens: Array.from({ length: words }, (_, w) => [w + 10]),
  };
}

Deno.test("activations are computed once, then read back identical; any key change misses", async () => {
  const dir = await Deno.makeTempDir();
  try {
    let runs = 0;
    const compute = () => (runs++, fake(3, 3, 4));
    const key = { model: "abc", words: ["Alice", "was", "here"], options: { context: 64 } };
    const first = await cachedCapture(dir, key, 3, compute);
    assert.equal(first.cached, false);
    const second = await cachedCapture(dir, key, 3, compute);
    assert.equal(second.cached, true);
    assert.equal(runs, 1);
    assert.deepEqual(second.activations.data, first.activations.data);
    assert.deepEqual(second.activations.tokens, first.activations.tokens);
    assert.deepEqual(second.activations.index[5], { layer: 1, unit: 1 });
    await cachedCapture(dir, { ...key, options: { context: 32 } }, 3, compute);
    await cachedCapture(dir, { ...key, words: ["Alice", "was", "there"] }, 3, compute);
    await cachedCapture(dir, { ...key, model: "abd" }, 3, compute);
    assert.equal(runs, 4);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a truncated cache file is not trusted: the capture is recomputed and rewritten", async () => {
  const dir = await Deno.makeTempDir();
  try {
    let runs = 0;
    const compute = () => (runs++, fake(2, 2, 3));
    const key = { model: "m", words: ["a", "b"], options: {} };
    await cachedCapture(dir, key, 2, compute);
    const [folder] = [...Deno.readDirSync(dir)].map((e) => join(dir, e.name));
    const layer = join(folder, "layer_01.f32");
    await Deno.writeFile(layer, (await Deno.readFile(layer)).slice(0, 10));
    const again = await cachedCapture(dir, key, 2, compute);
    assert.equal(again.cached, false);
    assert.equal(runs, 2);
    assert.equal((await Deno.readFile(layer)).byteLength, 4 * 2 * 3);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a streamed capture lands in the cache as the same per-layer files, and is read back", async () => {
  const { cachedCaptureStream } = await import("./activation_cache.ts");
  const dir = await Deno.makeTempDir();
  try {
    const key = { model: "m", words: ["a", "b", "c"], options: { context: 2 } };
    const rows = Float32Array.from({ length: 3 * 4 }, (_, i) => i * 0.5);
    const first = await cachedCaptureStream(dir, key, 2, async (sink) => {
      await sink(rows.subarray(0, 8), 2, 4);
      await sink(rows.subarray(8), 1, 4);
      return { tokens: [[1], [2, 3], [4]] };
    });
    assert.equal(first.cached, false);
    assert.deepEqual(first.activations.data, rows);
    assert.deepEqual(first.activations.index.map((i) => i.layer), [0, 0, 1, 1]);
    const again = await cachedCaptureStream(
      dir,
      key,
      2,
      () => Promise.reject(new Error("must not run")),
    );
    assert.equal(again.cached, true);
    assert.deepEqual(again.activations.tokens, [[1], [2, 3], [4]]);
    // A run that fails leaves nothing behind.
    await assert.rejects(() =>
      cachedCaptureStream(dir, { ...key, model: "other" }, 2, async (sink) => {
        await sink(rows.subarray(0, 4), 1, 4);
        throw new Error("interrupted");
      })
    );
    assert.equal([...Deno.readDirSync(dir)].length, 1);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a changed value of the same size is caught by the entry's SHA-256, and the entry is replaced", async () => {
  const dir = await Deno.makeTempDir();
  try {
    let runs = 0;
    const compute = () => (runs++, fake(2, 2, 3));
    const key = { model: "m", words: ["a", "b"], options: {} };
    const first = await cachedCapture(dir, key, 2, compute);
    const [folder] = [...Deno.readDirSync(dir)].map((e) => join(dir, e.name));
    const manifest = JSON.parse(await Deno.readTextFile(join(folder, "manifest.json")));
    assert.deepEqual(Object.keys(manifest.files).sort(), [
      "layer_00.f32",
      "layer_01.f32",
      "meta.json",
    ]);
    const layer = join(folder, "layer_00.f32");
    const bytes = await Deno.readFile(layer);
    new DataView(bytes.buffer).setFloat32(4, 1234.5, true); // still finite, same size
    await Deno.writeFile(layer, bytes);
    const warnings: string[] = [];
    const again = await cachedCapture(dir, key, 2, compute, { warn: (l) => warnings.push(l) });
    assert.equal(again.cached, false);
    assert.equal(runs, 2);
    assert.match(warnings.join("\n"), /layer_00\.f32 does not match its SHA-256/);
    const third = await cachedCapture(dir, key, 2, compute);
    assert.equal(third.cached, true);
    assert.deepEqual(third.activations.data, first.activations.data);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("an entry another run put in place during the capture is kept, and read from then on", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const key = { model: "m", words: ["a", "b"], options: {} };
    const theirs = fake(2, 2, 3);
    theirs.data.fill(7);
    // While this capture runs, another run (here: nested) stores the same key first.
    const mine = await cachedCapture(dir, key, 2, async () => {
      await cachedCapture(dir, key, 2, () => theirs);
      return fake(2, 2, 3);
    });
    assert.equal(mine.cached, false);
    const read = await cachedCapture(dir, key, 2, () => {
      throw new Error("must not run");
    });
    assert.equal(read.cached, true);
    assert.deepEqual(read.activations.data, theirs.data);
    assert.deepEqual([...Deno.readDirSync(dir)].length, 1);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
