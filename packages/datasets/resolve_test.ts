import assert from "node:assert/strict";
import { join } from "node:path";
import { ChecksumError, DataNotFoundError } from "@brainorg/common";
import { REGISTRY, registryEntry } from "./registry.ts";
import { resolveDataFile } from "./resolve.ts";

// A small registered file whose bytes the tests plant in each location.
const NAME = "atlases/Yeo-7.csv";
const SHARED = join(import.meta.dirname!, "..", "..", "..", "shared", "data");

async function sharedBytes(): Promise<Uint8Array> {
  return await Deno.readFile(join(SHARED, NAME));
}

async function withDirs(
  fn: (d: { root: string; dataDir: string; envDir: string; cache: string }) => Promise<void>,
) {
  const base = await Deno.makeTempDir();
  const d = {
    root: join(base, "checkout"),
    dataDir: join(base, "explicit"),
    envDir: join(base, "env"),
    cache: join(base, "cache"),
  };
  try {
    await fn(d);
  } finally {
    await Deno.remove(base, { recursive: true });
  }
}

async function plant(dir: string, bytes: Uint8Array) {
  await Deno.mkdir(join(dir, "atlases"), { recursive: true });
  await Deno.writeFile(join(dir, NAME), bytes);
}

const offline = () => Promise.reject(new TypeError("network unreachable"));

Deno.test("registry holds every file of the reference data with its size and digest", () => {
  assert.equal(REGISTRY.length, 159);
  const gguf = registryEntry("models/stories260K.gguf");
  assert.equal(gguf.sha256, "270cba1bd5109f42d03350f60406024560464db173c0e387d91f0426d3bd256d");
  assert.equal(gguf.collection.license, "MIT");
  assert.ok(gguf.urls[0].startsWith("https://"));
  assert.throws(() => registryEntry("atlases/Yeo-8.csv"), /did you mean: .*Yeo-7\.csv/);
});

Deno.test("resolution follows the documented order", async () => {
  const bytes = await sharedBytes();
  await withDirs(async (d) => {
    const env = (vars: Record<string, string>) => (k: string) => vars[k];
    const base = { projectRoot: d.root, cacheDir: d.cache, fetch: offline, download: false };
    // Only the cache has it.
    await plant(d.cache, bytes);
    let r = await resolveDataFile(NAME, { ...base, env: env({}) });
    assert.equal(r.source, "cache");
    // shared/data beside the checkout wins over the cache.
    await plant(join(d.root, "..", "shared", "data"), bytes);
    r = await resolveDataFile(NAME, { ...base, env: env({}) });
    assert.equal(r.source, "shared");
    assert.equal(r.path, join(d.root, "..", "shared", "data", NAME));
    // BRAINORG_DATA wins over shared.
    await plant(d.envDir, bytes);
    r = await resolveDataFile(NAME, { ...base, env: env({ BRAINORG_DATA: d.envDir }) });
    assert.equal(r.source, "env");
    // An explicit data folder wins over everything.
    await plant(d.dataDir, bytes);
    r = await resolveDataFile(NAME, {
      ...base,
      dataDir: d.dataDir,
      env: env({ BRAINORG_DATA: d.envDir }),
    });
    assert.equal(r.source, "data-dir");
    assert.equal(r.path, join(d.dataDir, NAME));
  });
});

Deno.test("a file with the wrong checksum is rejected, not used", async () => {
  const bytes = await sharedBytes();
  await withDirs(async (d) => {
    const bad = bytes.slice();
    bad[0] ^= 1;
    await plant(d.dataDir, bad);
    await plant(d.cache, bytes);
    await assert.rejects(
      resolveDataFile(NAME, {
        dataDir: d.dataDir,
        projectRoot: d.root,
        cacheDir: d.cache,
        env: () => undefined,
        download: false,
      }),
      (err) => err instanceof ChecksumError && err.message.includes(join(d.dataDir, NAME)),
    );
  });
});

Deno.test("offline and missing: the error names the file, every place looked and a remedy", async () => {
  await withDirs(async (d) => {
    const err = await resolveDataFile(NAME, {
      projectRoot: d.root,
      cacheDir: d.cache,
      env: (k) => (k === "BRAINORG_OFFLINE" ? "1" : undefined),
    }).then(() => undefined, (e) => e);
    assert.ok(err instanceof DataNotFoundError);
    const msg = err.message;
    assert.match(msg, /reference file "atlases\/Yeo-7\.csv" was not found/);
    assert.match(msg, /--data-dir: not set/);
    assert.match(msg, /BRAINORG_DATA: not set/);
    assert.ok(msg.includes(join(d.root, "..", "shared", "data", NAME)));
    assert.ok(msg.includes(join(d.cache, NAME)));
    assert.match(msg, /download: not allowed \(offline\)/);
    assert.match(msg, /Provide it with --data-dir DIR or BRAINORG_DATA=DIR/);
  });
});

Deno.test("a failed download is reported with its URL and leaves nothing in the cache", async () => {
  await withDirs(async (d) => {
    const err = await resolveDataFile(NAME, {
      projectRoot: d.root,
      cacheDir: d.cache,
      env: () => undefined,
      fetch: offline,
    }).then(() => undefined, (e) => e);
    assert.ok(err instanceof DataNotFoundError);
    assert.match(err.message, /download: https:\/\/\S+Yeo-7\.csv failed \(network unreachable\)/);
    const left = await Deno.stat(join(d.cache, "atlases")).then(() => true, () => false);
    assert.equal(left, false);
  });
});

Deno.test("a download is verified before it enters the cache", async () => {
  const bytes = await sharedBytes();
  await withDirs(async (d) => {
    const serve = (body: Uint8Array) => () => Promise.resolve(new Response(body.slice()));
    const opts = { projectRoot: d.root, cacheDir: d.cache, env: () => undefined };
    const bad = bytes.slice();
    bad[3] ^= 4;
    await assert.rejects(resolveDataFile(NAME, { ...opts, fetch: serve(bad) }), ChecksumError);
    assert.deepEqual([...Deno.readDirSync(join(d.cache, "atlases"))], []);
    const r = await resolveDataFile(NAME, { ...opts, fetch: serve(bytes) });
    assert.equal(r.source, "download");
    assert.deepEqual(await Deno.readFile(r.path), bytes);
    // A corrupt cached copy is replaced by a fresh download.
    await Deno.writeFile(r.path, bad);
    const again = await resolveDataFile(NAME, { ...opts, fetch: serve(bytes) });
    assert.equal(again.source, "download");
    assert.deepEqual(await Deno.readFile(again.path), bytes);
  });
});
