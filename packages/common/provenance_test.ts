import assert from "node:assert/strict";
import { join } from "node:path";
import { createProvenance, writeProvenance } from "./provenance.ts";
import { sha256 } from "./hash.ts";

Deno.test("provenance hashes inputs and records parameters, seed and versions", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const input = join(dir, "words.csv");
    await Deno.writeTextFile(input, "word,onset\nAlice,1.0\n");
    const p = await createProvenance({
      inputs: [{ role: "transcript", path: input }],
      parameters: { tr: 2 },
      seed: 7,
    });
    assert.equal(p.inputs[0].sha256, sha256("word,onset\nAlice,1.0\n"));
    assert.equal(p.inputs[0].bytes, 21);
    assert.equal(p.seed, 7);
    assert.equal(p.runtime.deno, Deno.version.deno);
    const path = await writeProvenance(dir, p);
    assert.deepEqual(JSON.parse(await Deno.readTextFile(path)), p);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sha256 matches a published test vector", () => {
  assert.equal(sha256("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
});
