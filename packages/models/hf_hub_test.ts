import assert from "node:assert/strict";
import { join } from "node:path";
import { ChecksumError, DataNotFoundError } from "@brainorg/common";
import { tinyBert, writeTinyBert } from "./_fixtures.ts";
import { resolveHfModel } from "./hf_hub.ts";
import { openHfModel } from "./hf_layout.ts";

Deno.test("hf: models are fetched once into the cache, read offline afterwards, and checked against pinned hashes", async () => {
  const dir = await Deno.makeTempDir();
  const served = join(dir, "served");
  await writeTinyBert(served, tinyBert(3));
  const requests: string[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const path = new URL(req.url).pathname;
    requests.push(path);
    const m = /^\/tiny\/bert\/resolve\/main\/(.+)$/.exec(path);
    try {
      return new Response(await Deno.readFile(join(served, m![1])));
    } catch {
      return new Response("no", { status: 404 });
    }
  });
  const endpoint = `http://127.0.0.1:${server.addr.port}`;
  try {
    const cacheDir = join(dir, "cache");
    await assert.rejects(
      () => resolveHfModel("hf:tiny/bert", { cacheDir, download: false, endpoint }),
      (e: unknown) =>
        e instanceof DataNotFoundError && /config\.json/.test(e.message) &&
        /resolve\/main\/config\.json/.test(e.message),
    );
    const got = await resolveHfModel("hf:tiny/bert", { cacheDir, endpoint });
    assert.equal(got.dir, join(cacheDir, "hf", "tiny--bert", "main"));
    assert.match(got.files["onnx/model.onnx"], /^[0-9a-f]{64}$/);
    assert.ok(
      requests.includes("/tiny/bert/resolve/main/tokenizer_config.json"),
      "optional files are tried",
    );
    const hf = await openHfModel(got.dir);
    assert.deepEqual(hf.encode("Alice was tired."), [2, 4, 5, 11, 22, 3]);
    // Offline now works from the cache, without a request.
    const before = requests.length;
    const again = await resolveHfModel("hf:tiny/bert", { cacheDir, download: false, endpoint });
    assert.deepEqual(again.files, got.files);
    assert.equal(requests.length, before);
    // A pinned hash that does not match is refused.
    await assert.rejects(
      () =>
        resolveHfModel("hf:tiny/bert", {
          cacheDir,
          endpoint,
          sha256: { "config.json": "0".repeat(64) },
        }),
      ChecksumError,
    );
    // A local folder is used as it is.
    assert.deepEqual(await resolveHfModel(served, { cacheDir }), { dir: served, files: {} });
  } finally {
    await server.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});
