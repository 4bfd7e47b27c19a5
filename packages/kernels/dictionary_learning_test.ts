import assert from "node:assert/strict";
import { join } from "node:path";
import { havePython, runPython } from "../../test/python.ts";
import { dictionaryObjective, learnDictionary } from "./dictionary_learning.ts";
import { sparseEncode } from "./sparse_coding.ts";
import type { Matrix } from "./matrix.ts";
import { pearsonColumns, plantedSignals } from "./_testing.ts";
import { BACKEND_KINDS, ignoreBackend, once, withBackend } from "./_test_backends.ts";

for (const kind of BACKEND_KINDS) {
  Deno.test({
    name: `dictionary learning (${kind}): planted atoms are recovered (|r| ≥ 0.95) from sparse ` +
      `mixtures`,
    ignore: await ignoreBackend(kind),
    fn: () =>
      withBackend(kind, async (backend) => {
        // The same problem on WebGPU (≈ 20 s on llvmpipe): recovery needs this
        // many minibatch updates, and fewer signals or larger batches recover
        // too few atoms on any backend.
        const { atoms, signals } = plantedSignals({
          T: 80,
          K: 8,
          N: 3000,
          perSignal: 2,
          noise: 0.05,
          seed: 1,
        });
        const fit = await learnDictionary(backend, signals, {
          atoms: 8,
          alpha: 0.3,
          batchSize: 128,
          passes: 8,
          seed: 3,
        });
        const r = pearsonColumns(atoms, fit.dictionary);
        for (let k = 0; k < 8; k++) {
          let best = 0;
          for (let j = 0; j < 8; j++) best = Math.max(best, Math.abs(r[k * 8 + j]));
          assert.ok(best >= 0.95, `planted atom ${k}: best |r| = ${best.toFixed(3)}`);
        }
        for (let k = 0; k < 8; k++) {
          let s = 0;
          for (let t = 0; t < 80; t++) s += fit.dictionary.data[t * 8 + k] ** 2;
          assert.ok(Math.abs(s - 1) < 1e-5, `atom ${k} has unit norm`);
        }
        assert.equal(fit.codes.cols, 3000);
        assert.equal(fit.passObjectives.length, 8);
        assert.ok(fit.passObjectives[7] < fit.passObjectives[0]);
      }),
  });
}

for (const kind of BACKEND_KINDS) {
  Deno.test({
    name: `dictionary learning (${kind}): the same seed gives the same dictionary; α is ` +
      `calibrated to a target density`,
    ignore: await ignoreBackend(kind),
    fn: () =>
      withBackend(kind, async (backend) => {
        // Fewer signals on WebGPU, whose every call waits for the device.
        const { signals } = plantedSignals({
          T: 30,
          K: 5,
          N: kind === "webgpu" ? 300 : 600,
          perSignal: 2,
          noise: 0.1,
          seed: 2,
        });
        const opts = { atoms: 5, alpha: 0.2, passes: 2, seed: 9, batchSize: 64 };
        const a = await learnDictionary(backend, signals, opts);
        const b = await learnDictionary(backend, signals, opts);
        assert.deepEqual(a.dictionary.data, b.dictionary.data);
        const cal = await learnDictionary(backend, signals, {
          atoms: 5,
          targetDensity: 0.3,
          passes: 3,
          seed: 1,
          batchSize: 64,
        });
        assert.ok(Math.abs(cal.density - 0.3) < 0.08, `density ${cal.density} for a target of 0.3`);
      }),
  });
}

const SKLEARN_DL = `
import json, sys, numpy as np
from sklearn.decomposition import MiniBatchDictionaryLearning
d = json.load(open(sys.argv[1]))
X = np.array(d["x"], dtype=np.float32).reshape(d["T"], d["N"])
atoms = []
for seed in range(d["seeds"]):
    m = MiniBatchDictionaryLearning(n_components=d["K"], alpha=d["alpha"], batch_size=d["batch"],
        max_iter=d["passes"], fit_algorithm="cd", tol=0, max_no_improvement=None, random_state=seed)
    m.fit(X.T)
    atoms.append(m.components_.T.flatten().tolist())
print(json.dumps({"atoms": atoms}))
`;

const haveSklearn = havePython(["sklearn"], "dictionary learning against scikit-learn");

/**
 * A problem and scikit-learn's dictionaries for it, each computed once: a
 * full one, and a small one for WebGPU (about 100 minibatches in all instead
 * of 1,300: each costs round trips to the device, which the software
 * adapters make slow).
 */
const sklearnDictionaries = {
  full: once(() => sklearnDictionariesFor({ N: 2000, passes: 5, batch: 64, seeds: 8 })),
  small: once(() => sklearnDictionariesFor({ N: 800, passes: 3, batch: 100, seeds: 4 })),
};

async function sklearnDictionariesFor(
  { N, passes, batch, seeds }: { N: number; passes: number; batch: number; seeds: number },
) {
  const T = 40, K = 10, alpha = 0.1;
  const { signals } = plantedSignals({ T, K, N, perSignal: 3, noise: 0.2, seed: 4 });
  const dir = await Deno.makeTempDir();
  try {
    const file = join(dir, "in.json");
    await Deno.writeTextFile(
      file,
      JSON.stringify({ T, K, N, alpha, passes, batch, seeds, x: [...signals.data] }),
    );
    const ref = await runPython<{ atoms: number[][] }>(SKLEARN_DL, [file], ["sklearn"]);
    return { T, K, alpha, passes, batch, seeds, signals, ref };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

for (const kind of BACKEND_KINDS) {
  Deno.test({
    name: `dictionary objective (${kind}) no worse than scikit-learn's ` +
      `MiniBatchDictionaryLearning after the same passes`,
    ignore: !haveSklearn || await ignoreBackend(kind),
    fn: () =>
      withBackend(kind, async (backend) => {
        // Online learning depends on the order of the signals: compare means over several seeds.
        const reference = sklearnDictionaries[kind === "webgpu" ? "small" : "full"];
        const { T, K, alpha, passes, batch, seeds, signals, ref } = await reference();
        // Both dictionaries are judged the same way: exact codes at the same α, then the objective.
        const judge = async (d: Matrix) => {
          const codes = (await sparseEncode(backend, d, signals, { alpha, tol: 1e-8 })).codes;
          return await dictionaryObjective(backend, d, codes, signals, alpha);
        };
        const ours: number[] = [], theirs: number[] = [];
        for (let seed = 0; seed < seeds; seed++) {
          const fit = await learnDictionary(backend, signals, {
            atoms: K,
            alpha,
            passes,
            batchSize: batch,
            seed,
          });
          ours.push(await judge(fit.dictionary));
          theirs.push(await judge({ rows: T, cols: K, data: Float32Array.from(ref.atoms[seed]) }));
        }
        // "No worse" up to the spread between seeds: the mean objective may
        // exceed scikit-learn's by at most two standard errors of the difference.
        const mean = (x: number[]) => x.reduce((a, b) => a + b, 0) / x.length;
        const variance = (x: number[]) =>
          x.reduce((a, b) => a + (b - mean(x)) ** 2, 0) / (x.length - 1);
        const se = Math.sqrt(variance(ours) / seeds + variance(theirs) / seeds);
        assert.ok(
          mean(ours) <= mean(theirs) + 2 * se,
          `ours ${mean(ours).toFixed(5)} vs scikit-learn ${mean(theirs).toFixed(5)} ` +
            `(standard error ${se.toFixed(5)})`,
        );
      }),
  });
}
