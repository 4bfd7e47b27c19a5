/**
 * brainorg's benchmarks, side by side with the peers in one run on the same
 * inputs, reported as ratios: GEMM (2048³ and the real encoding shape) and
 * ridge CV (T = 300, 64 regressors, 10 α, 5 folds) at V = 26,000 and
 * 228,483 targets, against numpy (as installed, and with
 * OPENBLAS_CORETYPE=SkylakeX) and scikit-learn's RidgeCV.
 *
 * Sparse steps: LASSO CV (T = 300, 64 regressors, 100 α, 5 folds) against
 * scikit-learn's per-voxel LassoCV (timed on 40 voxels, extrapolated per
 * target); brainorg on 8,192 targets (`--full`: all 26,000 and all
 * 228,483); sparse coding of 131,072 signals against `sparse_encode`;
 * dictionary learning (K = 64, 10 passes; `--full` adds N = 131,072)
 * against MiniBatchDictionaryLearning, then brainorg with more passes until
 * its objective is as good as scikit-learn's (equal-objective timing).
 *
 * Usage: deno task bench [--quick] [--full] [--no-webgpu] [--only SECTIONS] [--out FILE]
 *
 * @module
 */

import { parseArgs } from "node:util";
import { seeded } from "./_data.ts";
import { join } from "node:path";
import { writeJsonAtomic } from "@brainorg/common";
import {
  type Backend,
  createCpuBackend,
  createWebGpuBackend,
  dictionaryObjective,
  lassoCV,
  learnDictionary,
  logspace,
  type Matrix,
  ridgeCV,
  sparseEncode,
} from "@brainorg/kernels";
import { findPython } from "../test/python.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    quick: { type: "boolean", default: false },
    full: { type: "boolean", default: false },
    "no-webgpu": { type: "boolean", default: false },
    out: { type: "string", default: "bench/results.json" },
    only: { type: "string" },
  },
});
const QUICK = values.quick;
/** `--only gemm,ridge,lasso,encode,dictionary`: run just these sections. */
const ONLY = values.only?.split(",");
const want = (section: string) => !ONLY || ONLY.includes(section);
const PY = findPython(["numpy", "sklearn"]);
const tmp = await Deno.makeTempDir({ prefix: "brainorg-bench-" });
const rows: { bench: string; impl: string; seconds: number; gflops?: number; note?: string }[] = [];

async function save(name: string, data: Float32Array): Promise<string> {
  const path = join(tmp, name);
  await Deno.writeFile(path, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  return path;
}

async function peer(
  args: string[],
  env: Record<string, string> = {},
): Promise<Record<string, unknown>> {
  if (!PY) throw new Error("python3 with numpy and scikit-learn is needed for the peers");
  // The peers run with the machine's own OpenBLAS settings unless told otherwise.
  const clean: Record<string, string> = { ...Deno.env.toObject(), ...env };
  if (!("OPENBLAS_CORETYPE" in env)) delete clean.OPENBLAS_CORETYPE;
  const r = await new Deno.Command(PY, {
    args: [join(import.meta.dirname!, "peers.py"), ...args],
    env: clean,
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!r.success) throw new Error(new TextDecoder().decode(r.stderr));
  return JSON.parse(new TextDecoder().decode(r.stdout));
}

async function time<T>(fn: () => Promise<T>, repeats = 1): Promise<{ seconds: number; value: T }> {
  let best = Infinity, value!: T;
  for (let i = 0; i < repeats; i++) {
    const t = performance.now();
    value = await fn();
    best = Math.min(best, (performance.now() - t) / 1000);
  }
  return { seconds: best, value };
}

function log(line: string) {
  console.error(line);
}

const backends: Backend[] = [await createCpuBackend()];
if (!values["no-webgpu"]) {
  try {
    backends.push(await createWebGpuBackend());
  } catch (err) {
    log(`webgpu: unavailable (${(err as Error).message.split(".")[0]})`);
  }
}
const tsBackend = await createCpuBackend({ blas: "typescript" });
const label = (b: Backend) => `brainorg ${b.info.name} (${b.info.implementation})`;
/** The sparse steps run their coordinate descent in WebAssembly on the CPU backend. */
const sparseLabel = (b: Backend) =>
  `brainorg ${b.info.name} (${b.info.details?.lasso ?? b.info.implementation})`;

// --- GEMM -------------------------------------------------------------------
const gemmCases = [
  { name: "GEMM 2048³", m: 2048, k: 2048, n: 2048 },
  { name: "GEMM (64×300)·(300×228,483)", m: 64, k: 300, n: QUICK ? 26_000 : 228_483 },
];
for (const c of want("gemm") ? gemmCases : []) {
  const a: Matrix = { rows: c.m, cols: c.k, data: seeded(c.m * c.k, 1) };
  const b: Matrix = { rows: c.k, cols: c.n, data: seeded(c.k * c.n, 2) };
  const flops = 2 * c.m * c.n * c.k;
  log(`${c.name}…`);
  for (const be of backends) {
    const { seconds } = await time(() => be.gemm(a, b), be.info.name === "cpu" ? 3 : 2);
    rows.push({ bench: c.name, impl: label(be), seconds, gflops: flops / seconds / 1e9 });
  }
  {
    // Plain TypeScript on a slice, extrapolated by flops (it runs at a steady rate).
    const slice = Math.max(64, Math.floor(c.n / 16));
    const bs: Matrix = { rows: c.k, cols: slice, data: b.data.subarray(0, c.k * slice) };
    const small = c.m === 2048 ? { rows: 256, cols: c.k, data: a.data.subarray(0, 256 * c.k) } : a;
    const { seconds } = await time(() =>
      tsBackend.gemm(small, { ...bs, data: new Float32Array(bs.data) })
    );
    const f = 2 * small.rows * slice * c.k;
    rows.push({
      bench: c.name,
      impl: "brainorg cpu (typescript)",
      seconds: seconds * flops / f,
      gflops: f / seconds / 1e9,
      note: "timed on a slice, extrapolated",
    });
  }
  if (PY) {
    const pa = await save("a.f32", a.data), pb = await save("b.f32", b.data);
    for (
      const [impl, env] of [["numpy (OpenBLAS as installed)", {}], [
        "numpy (OPENBLAS_CORETYPE=SkylakeX)",
        { OPENBLAS_CORETYPE: "SkylakeX" },
      ]] as const
    ) {
      const r = await peer(["gemm", pa, pb, String(c.m), String(c.k), String(c.n), "3"], env);
      rows.push({ bench: c.name, impl, seconds: r.seconds as number, gflops: r.gflops as number });
    }
  }
}

// --- Ridge CV -----------------------------------------------------------------
const alphas = logspace(-1, 4, 10);
const T = 300, P = 64, FOLDS = 5;
const agreement: Record<string, unknown> = {};
for (const V of !want("ridge") ? [] : QUICK ? [26_000] : [26_000, 228_483]) {
  const name = `ridge CV, T=300, p=64, 10 α, 5 folds, V=${V.toLocaleString("en-US")}`;
  log(`${name}…`);
  const x: Matrix = { rows: T, cols: P, data: seeded(T * P, 3) };
  // Targets: a random mix of the regressors plus noise of varied strength.
  const w = seeded(P * V, 4);
  const y: Matrix = { rows: T, cols: V, data: seeded(T * V, 5) };
  const mix = (await backends[0].gemm(x, { rows: P, cols: V, data: w })).data;
  for (let i = 0; i < y.data.length; i++) {
    y.data[i] = mix[i] * 0.3 + y.data[i] * (1 + (i % V) / V * 4);
  }
  let ours: Awaited<ReturnType<typeof ridgeCV>> | undefined;
  for (const be of backends) {
    if (be.info.name === "webgpu" && V > 26_000) continue; // minutes on a software adapter
    const { seconds, value } = await time(() => ridgeCV(be, x, y, { alphas, folds: FOLDS }));
    if (be.info.name === "cpu") ours = value;
    rows.push({ bench: name, impl: label(be), seconds });
  }
  if (PY) {
    const px = await save("x.f32", x.data), py = await save("y.f32", y.data);
    const args = [
      "ridge",
      px,
      py,
      String(T),
      String(P),
      String(V),
      String(FOLDS),
      JSON.stringify(alphas),
    ];
    const sk = await peer([...args, "sklearn"]);
    rows.push({
      bench: name,
      impl: "scikit-learn RidgeCV (as installed)",
      seconds: sk.seconds as number,
      note: String(sk.note),
    });
    for (
      const [impl, env] of [["numpy SVD ridge (as installed)", {}], [
        "numpy SVD ridge (OPENBLAS_CORETYPE=SkylakeX)",
        { OPENBLAS_CORETYPE: "SkylakeX" },
      ]] as const
    ) {
      const np = await peer([...args, "numpy"], env);
      rows.push({ bench: name, impl, seconds: np.seconds as number, note: "per-target α" });
      if (ours) {
        const idx = np.alpha_index as number[];
        let same = 0;
        for (let v = 0; v < V; v++) if (idx[v] === ours.alphaIndex[v]) same++;
        agreement[`${name}: same α as numpy`] = same / V;
      }
    }
  }
}

// --- Sparse steps -------------------------------------------------------------
/** Smooth signals, like HRF-convolved activations: sparse mixes of 64 slow sinusoid sums, plus noise. */
function smoothSignals(T: number, N: number, seed: number): Matrix {
  const atoms = seeded(T * 64, seed);
  for (let k = 0; k < 64; k++) {
    const f = 1 + (k % 13), ph = k * 0.7;
    for (let t = 0; t < T; t++) {
      atoms[t * 64 + k] = Math.sin((2 * Math.PI * f * t) / T + ph) +
        0.5 * Math.sin((2 * Math.PI * (f + 3) * t) / T);
    }
  }
  const mix = seeded(64 * N, seed + 1);
  for (let i = 0; i < mix.length; i++) mix[i] = Math.abs(mix[i]) > 0.45 ? mix[i] * 8 : 0;
  const out = new Float32Array(T * N), noise = seeded(T * N, seed + 2);
  for (let t = 0; t < T; t++) {
    for (let k = 0; k < 64; k++) {
      const a = atoms[t * 64 + k];
      for (let n = 0; n < N; n++) out[t * N + n] += a * mix[k * N + n];
    }
    for (let n = 0; n < N; n++) out[t * N + n] += noise[t * N + n];
  }
  return { rows: T, cols: N, data: out };
}

const cpu = backends[0];
for (const V of !want("lasso") ? [] : values.full ? [26_000, 228_483] : [QUICK ? 2_000 : 8_192]) {
  const name = `LASSO CV per target, T=300, p=64, 100 α, 5 folds, ${
    V.toLocaleString("en-US")
  } targets`;
  log(`${name}…`);
  const x: Matrix = { rows: T, cols: P, data: seeded(T * P, 3) };
  const w = seeded(P * V, 4);
  for (let i = 0; i < w.length; i++) w[i] = Math.abs(w[i]) > 0.47 ? w[i] * 4 : 0;
  const y: Matrix = { rows: T, cols: V, data: seeded(T * V, 5) };
  const mix = (await cpu.gemm(x, { rows: P, cols: V, data: w })).data;
  for (let i = 0; i < y.data.length; i++) y.data[i] += mix[i] * 0.5;
  const { seconds } = await time(() => lassoCV(cpu, x, y, { folds: FOLDS, nAlphas: 100 }));
  rows.push({
    bench: name,
    impl: sparseLabel(cpu),
    seconds: seconds / V,
    note: V === 228_483
      ? `per target; all 228,483 targets in ${(seconds / 60).toFixed(1)} min`
      : `per target, timed on ${V.toLocaleString("en-US")}; 228,483 targets ≈ ${
        (seconds / V * 228_483 / 60).toFixed(1)
      } min`,
  });
  if (PY) {
    const px = await save("lx.f32", x.data), py = await save("ly.f32", y.data);
    const voxels = QUICK ? 10 : 40;
    const sk = await peer([
      "lasso",
      px,
      py,
      String(T),
      String(P),
      String(V),
      String(FOLDS),
      "100",
      String(voxels),
    ]);
    const per = sk.per_voxel as number;
    rows.push({
      bench: name,
      impl: "scikit-learn LassoCV, one voxel at a time",
      seconds: per,
      note: `per target, timed on ${voxels}; 228,483 targets ≈ ${
        (per * 228_483 / 3600).toFixed(1)
      } h`,
    });
  }
}
if (want("encode")) {
  const N = QUICK ? 16_384 : 131_072, Kd = 64, alpha = 5;
  const name = `sparse coding, ${N.toLocaleString("en-US")} signals, T=300, K=64`;
  log(`${name}…`);
  const x = smoothSignals(T, N, 7);
  const d: Matrix = { rows: T, cols: Kd, data: seeded(T * Kd, 8) };
  for (let k = 0; k < Kd; k++) {
    let s = 0;
    for (let t = 0; t < T; t++) s += d.data[t * Kd + k] ** 2;
    for (let t = 0; t < T; t++) d.data[t * Kd + k] /= Math.sqrt(s);
  }
  const { seconds, value } = await time(() => sparseEncode(cpu, d, x, { alpha }));
  rows.push({
    bench: name,
    impl: sparseLabel(cpu),
    seconds,
    note: `objective ${(value.objective / N).toFixed(3)}, density ${value.density.toFixed(3)}`,
  });
  if (PY) {
    const pd = await save("d.f32", d.data), px = await save("sx.f32", x.data);
    const r = await peer(["encode", pd, px, String(T), String(Kd), String(N), String(alpha)]);
    rows.push({
      bench: name,
      impl: "scikit-learn sparse_encode (lasso_cd)",
      seconds: r.seconds as number,
      note: `objective ${(r.objective as number).toFixed(3)}, density ${
        (r.density as number).toFixed(3)
      }`,
    });
  }
}
for (const N of !want("dictionary") ? [] : values.full ? [9_216, 131_072] : [9_216]) {
  const passes = QUICK ? 2 : 10;
  const name = `dictionary learning, N=${N.toLocaleString("en-US")}, T=300, K=64, ${passes} passes`;
  log(`${name}…`);
  const x = smoothSignals(T, N, 9), alpha = 5;
  const { seconds, value } = await time(() =>
    learnDictionary(cpu, x, { atoms: 64, alpha, passes, batchSize: 256, seed: 0 })
  );
  const judge = async (dict: Matrix) =>
    await dictionaryObjective(
      cpu,
      dict,
      (await sparseEncode(cpu, dict, x, { alpha })).codes,
      x,
      alpha,
    );
  const ours = await judge(value.dictionary);
  let theirsCd = Infinity;
  rows.push({
    bench: name,
    impl: sparseLabel(cpu),
    seconds,
    note: `objective ${ours.toFixed(3)}`,
  });
  if (PY) {
    const px = await save("dx.f32", x.data);
    for (const algo of N <= 9_216 ? ["cd", "lars"] : ["cd"]) {
      const r = await peer([
        "dictionary",
        px,
        String(T),
        String(N),
        "64",
        String(alpha),
        String(passes),
        "256",
        algo,
      ]);
      const theirs = { rows: T, cols: 64, data: Float32Array.from(r.atoms as number[]) };
      const objective = await judge(theirs);
      rows.push({
        bench: name,
        impl: `scikit-learn MiniBatchDictionaryLearning (fit_algorithm=${algo})`,
        seconds: r.seconds as number,
        note: `objective ${objective.toFixed(3)}`,
      });
      if (algo === "cd") theirsCd = objective;
    }
  }
  // At equal objective: more passes until brainorg's is no worse than scikit-learn's.
  for (const more of ours > theirsCd && !QUICK ? [12, 15, 20, 30] : []) {
    const again = await time(() =>
      learnDictionary(cpu, x, { atoms: 64, alpha, passes: more, batchSize: 256, seed: 0 })
    );
    const objective = await judge(again.value.dictionary);
    if (objective > theirsCd) continue;
    rows.push({
      bench: name,
      impl: `${sparseLabel(cpu)}, ${more} passes`,
      seconds: again.seconds,
      note: `objective ${objective.toFixed(3)}: as good as scikit-learn's (cd) after ${passes}`,
    });
    break;
  }
}

for (const b of [...backends, tsBackend]) b.dispose();
await Deno.remove(tmp, { recursive: true });

// --- Report ---------------------------------------------------------------------
const report: string[] = [];
for (const bench of [...new Set(rows.map((r) => r.bench))]) {
  const group = rows.filter((r) => r.bench === bench);
  const base = group.find((r) => r.impl.startsWith("brainorg cpu (openblas")) ?? group[0];
  report.push(`\n${bench}`);
  report.push("| implementation | time (s) | GFLOP/s | brainorg cpu is … × faster |");
  report.push("| --- | ---: | ---: | ---: |");
  for (const r of group) {
    report.push(
      `| ${r.impl}${r.note ? ` — ${r.note}` : ""} | ${r.seconds.toFixed(3)} | ${
        r.gflops?.toFixed(1) ?? ""
      } | ${(r.seconds / base.seconds).toFixed(2)} |`,
    );
  }
}
for (const [k, v] of Object.entries(agreement)) {
  report.push(`\n${k}: ${((v as number) * 100).toFixed(2)}%`);
}
console.log(report.join("\n"));
await writeJsonAtomic(values.out!, {
  date: new Date().toISOString(),
  machine: {
    cores: navigator.hardwareConcurrency,
    os: Deno.build.os,
    arch: Deno.build.arch,
    deno: Deno.version.deno,
  },
  backends: backends.map((b) => b.info),
  quick: QUICK,
  rows,
  agreement,
});
