import assert from "node:assert/strict";
import { join } from "node:path";
import { resolveDataFile } from "@brainorg/datasets";
import { createCpuBackend } from "@brainorg/kernels";
import { RANDOM_WEIGHTS_RULE } from "@brainorg/models";
import { type CapturedModel, captureModelAtoms } from "./capture_atoms.ts";
import { demoStimulus } from "./demo.ts";

/** Each atom of `a` against the same atom of `b`: the smallest correlation. */
function minAtomR(a: CapturedModel, b: CapturedModel): number {
  const T = a.atoms.atoms.rows, K = a.atoms.atoms.cols;
  let min = 1;
  for (let k = 0; k < K; k++) {
    let dot = 0, na = 0, nb = 0;
    for (let t = 0; t < T; t++) {
      const x = a.atoms.atoms.data[t * K + k], y = b.atoms.atoms.data[t * K + k];
      (dot += x * y), (na += x * x), (nb += y * y);
    }
    min = Math.min(min, dot / Math.sqrt(na * nb));
  }
  return min;
}

Deno.test("a GGUF model streamed block by block gives the in-memory path's atoms and cache keys; the control too", async () => {
  const dir = await Deno.makeTempDir({ prefix: "brainorg-streamed-" });
  const backend = await createCpuBackend();
  try {
    const gguf = (await resolveDataFile("models/stories260K.gguf")).path;
    const { stimulus } = await demoStimulus({ cacheDir: join(dir, "demo"), download: false });
    const run = async (streamed: boolean, cache: string) => {
      const lines: string[] = [];
      const models = await captureModelAtoms(backend, stimulus, [{ name: "m", gguf, streamed }], {
        data: { cacheDir: join(dir, cache), download: false },
        atoms: 4,
        log: (line) => lines.push(line),
      });
      return { models, lines };
    };
    const streamed = await run(true, "a"), dense = await run(false, "b");
    assert.deepEqual(streamed.models.map((m) => m.name), ["m", "m-random"]);
    assert.ok(streamed.lines.some((l) => /^m-random: weights streamed block by block/.test(l)));
    assert.ok(dense.lines.some((l) => /^m: weights in memory/.test(l)));
    for (let i = 0; i < 2; i++) {
      const s = streamed.models[i], d = dense.models[i];
      assert.equal(s.captured.key, d.captured.key);
      assert.equal(s.ans, d.ans);
      assert.ok(minAtomR(s, d) > 0.999, `${s.name}: atom r ${minAtomR(s, d)}`);
    }
    assert.match(streamed.models[1].captured.key, new RegExp(`:random:${RANDOM_WEIGHTS_RULE}:1:`));
    assert.match(streamed.models[1].source, /weights redrawn, seed 1/);
    // The control is not the trained model.
    assert.ok(minAtomR(streamed.models[0], streamed.models[1]) < 0.99);
    // One key for both paths: the in-memory run reads what the streamed one cached.
    const again = await run(false, "a");
    assert.ok(again.lines.some((l) => /^m: activations read from the cache/.test(l)));
    assert.ok(again.lines.some((l) => /^m-random: activations read from the cache/.test(l)));
    // The same activations give the same series: the atoms are read back, not learned again.
    for (let i = 0; i < 2; i++) {
      const name = streamed.models[i].name;
      assert.ok(
        again.lines.some((l) => l.startsWith(`${name}: `) && /atoms read from the cache/.test(l)),
      );
      assert.deepEqual(again.models[i].atoms, streamed.models[i].atoms);
    }
  } finally {
    backend.dispose();
    await Deno.remove(dir, { recursive: true });
  }
});
