/**
 * Dictionary learning at paper scale against scikit-learn, to the same
 * objective: the scale benchmark's AN series (bench/scale.ts's inputs: the
 * capture-cache read and the TR grid, e.g. 400 volumes × 131,072 ANs),
 * K = 64, the α that the scale run calibrated. brainorg's `learnDictionary`
 * and scikit-learn's `MiniBatchDictionaryLearning` (`fit_algorithm="cd"`,
 * batch 256, bench/peers.py) each run a few passes; both dictionaries are
 * judged by the same objective, ½||X − DC||² + α||C||₁ with C re-coded
 * from D by `sparseEncode`. A full run of either would take many passes:
 * the seconds per pass are measured and extrapolated.
 *
 * `learnDictionary` also returns every AN's code on the atoms (the
 * sub-groups), which scikit-learn's `fit` does not: each row gives the time
 * to the dictionary (brainorg: at its last pass) and, apart, the codes
 * (brainorg: its final coding of all ANs; scikit-learn: `sparse_encode`
 * with `lasso_cd` at the same α, the fit's own objective).
 *
 * Usage: deno run -A bench/scale_dictionary.ts --alpha A [--dir /tmp/brainorg-scale]
 *   [--ans 131072] [--layers 32] [--words 2000] [--volumes 400] [--passes 1,2]
 *   [--sklearn-passes 1] [--out bench/scale_dictionary.json]
 *
 * @module
 */

import { parseArgs } from "node:util";
import { join } from "node:path";
import { writeFile } from "node:fs/promises";
import { InputError } from "@brainorg/common";
import {
  createCpuBackend,
  dictionaryObjective,
  learnDictionary,
  type Matrix,
  sparseEncode,
} from "@brainorg/kernels";
import { cachedCapture } from "@brainorg/models";
import { buildWordDesign } from "@brainorg/neuro";
import { anTimeSeries } from "@brainorg/core";
import { findPeerPython, runPeer } from "./_peers.ts";
import { SCALE_TR, scaleActivationKey, scalePaths, scaleTranscript } from "./scale_inputs.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    alpha: { type: "string" },
    dir: { type: "string", default: "/tmp/brainorg-scale" },
    ans: { type: "string", default: "131072" },
    layers: { type: "string", default: "32" },
    words: { type: "string", default: "2000" },
    volumes: { type: "string", default: "400" },
    passes: { type: "string", default: "1,2" },
    "sklearn-passes": { type: "string", default: "1" },
    out: { type: "string", default: "bench/scale_dictionary.json" },
  },
});
const alpha = Number(values.alpha);
if (!(alpha > 0)) {
  throw new InputError("the sparsity penalty is needed (the scale run's calibrated α)", {
    file: "bench/scale_dictionary.ts",
    field: "--alpha",
    expected: "a number > 0",
    found: String(values.alpha),
  });
}
const sizes = {
  ans: Number(values.ans),
  layers: Number(values.layers),
  words: Number(values.words),
  voxels: 0,
  subjects: 0,
  volumes: Number(values.volumes),
};
const log = (line: string) => console.error(`[scale-dictionary] ${line}`);
const cpu = await createCpuBackend();
try {
  const acts = (await cachedCapture(
    scalePaths(values.dir!, 0).activations,
    scaleActivationKey(sizes),
    sizes.layers,
    () => {
      throw new Error(`no synthetic capture in ${values.dir}: run bench/scale.ts first`);
    },
  )).activations;
  const design = buildWordDesign(scaleTranscript(sizes.words, sizes.volumes), {
    tr: SCALE_TR,
    runs: [{ volumes: sizes.volumes }],
  });
  const x = anTimeSeries(acts.data, acts.units, design).series;
  const T = x.rows, N = x.cols, K = 64;
  log(`series ${T} × ${N}, K = ${K}, α = ${alpha}`);
  const judge = async (dictionary: Matrix) =>
    await dictionaryObjective(
      cpu,
      dictionary,
      (await sparseEncode(cpu, dictionary, x, { alpha })).codes,
      x,
      alpha,
    );
  const rows: Record<string, unknown>[] = [];
  for (const passes of values.passes!.split(",").map(Number)) {
    const t0 = performance.now();
    let lastPass = t0;
    const fit = await learnDictionary(cpu, x, {
      atoms: K,
      alpha,
      passes,
      batchSize: 256,
      seed: 0,
      onPass: () => lastPass = performance.now(),
    });
    const done = performance.now();
    const objective = await judge(fit.dictionary);
    rows.push({
      impl: `brainorg ${cpu.info.implementation}`,
      passes,
      seconds: (lastPass - t0) / 1000,
      codesSeconds: (done - lastPass) / 1000,
      objective,
    });
    log(JSON.stringify(rows.at(-1)));
  }
  const py = await findPeerPython();
  if (!py.chosen || !py.sklearn) {
    rows.push({
      impl: "scikit-learn",
      notRun: `no Python with scikit-learn: ${py.tried.join("; ")}`,
    });
  } else {
    const path = join(await Deno.makeTempDir(), "x.f32");
    await Deno.writeFile(path, new Uint8Array(x.data.buffer, x.data.byteOffset, x.data.byteLength));
    try {
      for (const passes of values["sklearn-passes"]!.split(",").map(Number)) {
        const r = await runPeer(py.chosen.command, [
          "dictionary",
          path,
          String(T),
          String(N),
          String(K),
          String(alpha),
          String(passes),
          "256",
          "cd",
          "codes",
        ]);
        const atoms = { rows: T, cols: K, data: Float32Array.from(r.atoms as number[]) };
        rows.push({
          impl: "scikit-learn MiniBatchDictionaryLearning (cd)",
          passes,
          seconds: r.seconds,
          codesSeconds: r.codesSeconds,
          objective: await judge(atoms),
        });
        log(JSON.stringify(rows.at(-1)));
      }
    } finally {
      await Deno.remove(path);
    }
  }
  await writeFile(
    values.out!,
    JSON.stringify({ date: new Date().toISOString(), T, N, K, alpha, rows }, null, 2) + "\n",
  );
} finally {
  cpu.dispose();
}
