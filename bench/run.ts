/**
 * brainorg's benchmarks, side by side with the peers in one run on the same
 * inputs, reported as ratios: GEMM (2048³ and the real encoding shape) and
 * ridge CV (T = 300, 64 regressors, 10 α, 5 folds) at V = 26,000 and
 * 228,483 targets, against numpy (OpenBLAS as installed, and with the core
 * type brainorg's OpenBLAS runs on this CPU: bench/cpu.ts) and
 * scikit-learn's RidgeCV.
 *
 * Sparse steps: LASSO CV (T = 300, 64 regressors, 100 α, 5 folds) against
 * scikit-learn's per-voxel LassoCV (timed on 40 voxels, extrapolated per
 * target); brainorg on 8,192 targets (`--full`: all 26,000 and all
 * 228,483); sparse coding of 131,072 signals against `sparse_encode`;
 * dictionary learning (K = 64, 10 passes; `--full` adds N = 131,072)
 * against MiniBatchDictionaryLearning, then brainorg with more passes until
 * its objective is as good as scikit-learn's (equal-objective timing).
 *
 * Voxel null: brainorg's batched null against numpy's formulation of it at
 * the demo's size (`--full` adds the paper's: K = 64, 228,483 voxels, 400
 * volumes, 2 subjects, 8 shifts; section `null-full`).
 *
 * The peers run in Python (bench/peers.py): `$BRAINORG_PYTHON` if set, else
 * the first of /usr/bin/python3 and `python3` on PATH that imports numpy and
 * scikit-learn (bench/_peers.ts). A peer that fails, or cannot run, is a row
 * saying why; the rest of the bench goes on. The report and `--out` name the
 * CPU, the peers' Python and the BLAS each used.
 *
 * A benchmark is an entry of {@linkcode BENCHES}: its section (for
 * `--only`), and a `run` that times brainorg and then its peers on the same
 * inputs through {@linkcode BenchRun}.
 *
 * Usage: deno task bench [--quick] [--full] [--no-webgpu] [--only SECTIONS] [--out FILE]
 *   [--null-shifts N]
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
import { encodeVoxels } from "@brainorg/core";
import { refitBatchSize, ridgeFixedAlpha, surrogates } from "@brainorg/kernels";
import { coreCheckLine, cpuLine, numpyVariants, thisCpu } from "./cpu.ts";
import { findPeerPython, type PeerBlas, PeerError, pythonLine, runPeer } from "./_peers.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    quick: { type: "boolean", default: false },
    full: { type: "boolean", default: false },
    "no-webgpu": { type: "boolean", default: false },
    out: { type: "string", default: "bench/results.json" },
    only: { type: "string" },
    "null-shifts": { type: "string", default: "8" },
  },
});
const QUICK = values.quick;
/** `--only gemm,ridge,lasso,encode,dictionary`: run just these sections. */
const ONLY = values.only?.split(",");
const want = (section: string) => !ONLY || ONLY.includes(section);
/**
 * `--null-shifts N`: surrogates of the full-size null (default 8). More
 * spread its fixed costs (designs, first use of its buffers) as a
 * 1,000-surrogate null does.
 */
const NULL_SHIFTS = Number(values["null-shifts"]);
if (!(Number.isInteger(NULL_SHIFTS) && NULL_SHIFTS >= 2)) {
  throw new RangeError(
    `--null-shifts takes a whole number ≥ 2: current value is "${values["null-shifts"]}"`,
  );
}

// Before any backend exists: loading OpenBLAS sets OPENBLAS_CORETYPE in this process.
const CPU = thisCpu();
const PY = await findPeerPython();
const tmp = await Deno.makeTempDir({ prefix: "brainorg-bench-" });

/** One line of the report. */
interface Row {
  bench: string;
  impl: string;
  /** Seconds (best of the repeats); null where the implementation failed or did not run. */
  seconds: number | null;
  gflops?: number;
  note?: string;
  /** Why a peer failed: its command, exit code or signal, stderr's tail. */
  failed?: string;
  /** Why a peer was not run (no Python with what it needs). */
  notRun?: string;
  /** The BLAS a peer ran on: library, version, core type. */
  blas?: string;
  /** brainorg's CPU backend: the row the others are compared with. */
  baseline?: true;
}
const rows: Row[] = [];
const agreement: Record<string, number> = {};

function log(line: string) {
  console.error(line);
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

function blasLabel(blas: unknown): string | undefined {
  if (!Array.isArray(blas) || blas.length === 0) return undefined;
  return (blas as PeerBlas[]).map((b) =>
    [b.api, b.version, b.core ? `core ${b.core}` : "core unknown"].filter(Boolean).join(" ")
  ).join("; ");
}

/** What a benchmark's `run` is given: where to record rows and how to run peers. */
interface BenchRun {
  /** The benchmark's name, the first column of its rows. */
  name: string;
  record(row: Omit<Row, "bench">): void;
  /** Write a matrix's data to a raw float32 file for the peers; returns its path. */
  save(file: string, data: Float32Array): Promise<string>;
  /**
   * Run peers.py; a failure, or a Python without what the peer needs, is
   * recorded as a row under `impl` and gives undefined.
   */
  peer(
    impl: string,
    args: string[],
    options?: { env?: Record<string, string>; sklearn?: boolean },
  ): Promise<Record<string, unknown> | undefined>;
  /** Record a peer's row, with the BLAS it ran on. */
  recordPeer(result: Record<string, unknown>, row: Omit<Row, "bench" | "blas">): void;
}

function benchRun(name: string): BenchRun {
  const record = (row: Omit<Row, "bench">) => rows.push({ bench: name, ...row });
  return {
    name,
    record,
    async save(file, data) {
      const path = join(tmp, file);
      await Deno.writeFile(path, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
      return path;
    },
    async peer(impl, args, options = {}) {
      const candidates = PY.tried.map((t) => t.split(":")[0]).join(", ");
      const missing = !PY.chosen
        ? `no Python with numpy among ${candidates}`
        : options.sklearn && !PY.sklearn
        ? `no Python with scikit-learn among ${candidates}`
        : undefined;
      if (missing) {
        record({ impl, seconds: null, notRun: missing });
        return undefined;
      }
      try {
        return await runPeer(PY.chosen!.command, args, { env: options.env });
      } catch (err) {
        if (!(err instanceof PeerError)) throw err;
        log(`${impl}: failed: ${err.message}`);
        record({ impl, seconds: null, failed: err.message });
        return undefined;
      }
    },
    recordPeer(result, row) {
      record({ ...row, blas: blasLabel(result.blas) });
    },
  };
}

/** One benchmark: brainorg and its peers on the same inputs. */
interface Bench {
  /** The `--only` section it belongs to. */
  section: string;
  name: string;
  run(b: BenchRun): Promise<void>;
}

log(cpuLine(CPU));
log(pythonLine(PY));
const backends: Backend[] = [await createCpuBackend()];
// What a fresh machine gets, where the default found a system BLAS.
if (backends[0].info.details.products !== "mlas") {
  backends.push(await createCpuBackend({ blas: "mlas" }));
}
const CORE_CHECK = coreCheckLine(backends[0].info.details, PY.chosen?.blas ?? []);
log(CORE_CHECK);
/** The CPU backends: the default, then the npm-only path where it differs. */
const cpuBackends = [...backends];
if (!values["no-webgpu"]) {
  try {
    backends.push(await createWebGpuBackend());
  } catch (err) {
    log(`webgpu: unavailable (${(err as Error).message.split(".")[0]})`);
  }
}
const tsBackend = await createCpuBackend({ blas: "typescript" });
const cpu = backends[0];
const label = (b: Backend) => `brainorg ${b.info.name} (${b.info.implementation})`;
/** The sparse steps run their coordinate descent in WebAssembly on the CPU backend. */
const sparseLabel = (b: Backend) =>
  `brainorg ${b.info.name} (${b.info.details?.lasso ?? b.info.implementation})`;

// --- GEMM -------------------------------------------------------------------
function gemmBench(name: string, m: number, k: number, n: number): Bench {
  return {
    section: "gemm",
    name,
    async run(b) {
      const a: Matrix = { rows: m, cols: k, data: seeded(m * k, 1) };
      const bm: Matrix = { rows: k, cols: n, data: seeded(k * n, 2) };
      const flops = 2 * m * n * k;
      for (const be of backends) {
        const { seconds } = await time(() => be.gemm(a, bm), be.info.name === "cpu" ? 3 : 2);
        b.record({
          impl: label(be),
          seconds,
          gflops: flops / seconds / 1e9,
          ...(be === cpu ? { baseline: true } : {}),
        });
      }
      {
        // Plain TypeScript on a slice, extrapolated by flops (it runs at a steady rate).
        const slice = Math.max(64, Math.floor(n / 16));
        const bs: Matrix = { rows: k, cols: slice, data: bm.data.subarray(0, k * slice) };
        const small = m === 2048 ? { rows: 256, cols: k, data: a.data.subarray(0, 256 * k) } : a;
        const { seconds } = await time(() =>
          tsBackend.gemm(small, { ...bs, data: new Float32Array(bs.data) })
        );
        const f = 2 * small.rows * slice * k;
        b.record({
          impl: "brainorg cpu (typescript)",
          seconds: seconds * flops / f,
          gflops: f / seconds / 1e9,
          note: "timed on a slice, extrapolated",
        });
      }
      const pa = await b.save("a.f32", a.data), pb = await b.save("b.f32", bm.data);
      for (const { impl, env } of numpyVariants(CPU, "numpy")) {
        const r = await b.peer(impl, ["gemm", pa, pb, String(m), String(k), String(n), "3"], {
          env,
        });
        if (r) {
          b.recordPeer(r, { impl, seconds: r.seconds as number, gflops: r.gflops as number });
        }
      }
    },
  };
}

// --- Ridge CV -----------------------------------------------------------------
/** A backend's GEMM rate at 2048³ (GFLOP/s, best of 3): the machine's limit for dense work. */
const gemmRates = new Map<Backend, number>();
async function gemmRate(be: Backend): Promise<number> {
  let rate = gemmRates.get(be);
  if (rate === undefined) {
    const n = 2048, a: Matrix = { rows: n, cols: n, data: seeded(n * n, 11) };
    const { seconds } = await time(() => be.gemm(a, a), 3);
    rate = 2 * n ** 3 / seconds / 1e9;
    gemmRates.set(be, rate);
  }
  return rate;
}
const alphas = logspace(-1, 4, 10);
const T = 300, P = 64, FOLDS = 5;
function ridgeBench(V: number): Bench {
  return {
    section: "ridge",
    name: `ridge CV, T=300, p=64, 10 α, 5 folds, V=${V.toLocaleString("en-US")}`,
    async run(b) {
      const x: Matrix = { rows: T, cols: P, data: seeded(T * P, 3) };
      // Targets: a random mix of the regressors plus noise of varied strength.
      const w = seeded(P * V, 4);
      const y: Matrix = { rows: T, cols: V, data: seeded(T * V, 5) };
      const mix = (await cpu.gemm(x, { rows: P, cols: V, data: w })).data;
      for (let i = 0; i < y.data.length; i++) {
        y.data[i] = mix[i] * 0.3 + y.data[i] * (1 + (i % V) / V * 4);
      }
      let ours: Awaited<ReturnType<typeof ridgeCV>> | undefined;
      // The job as brainorg does it: each fold's held-out [X − x̄ | 1]ᵀY (one pass over Y for
      // all folds; their sum is XᵀY), every α's held-out predictions (the bulk) scored where
      // they are computed, the refit; Y read twice (the products, the scoring). The peers
      // compute the same choice of α and the weights, no out-of-fold predictions.
      const flops = 2 * T * (P + 1) * V + 2 * alphas.length * T * (P + 1) * V +
        3 * alphas.length * T * V + 4 * P * P * V;
      const bytes = 2 * T * V * 4;
      for (const be of backends) {
        if (be.info.name === "webgpu" && V > 26_000) continue; // minutes on a software adapter
        const cpuSide = be.info.name === "cpu";
        const { seconds, value } = await time(
          () => ridgeCV(be, x, y, { alphas, folds: FOLDS, returnPredictions: false }),
          cpuSide ? 2 : 1,
        );
        if (be === cpu) ours = value;
        // The machine's limit for this job: its flops at the backend's own GEMM rate (2048³).
        let note: string | undefined;
        if (cpuSide) {
          const g = await gemmRate(be);
          const limit = flops / (g * 1e9);
          note =
            `${(flops / 1e9).toFixed(0)} GFLOP, ${(bytes / 2 ** 20).toFixed(0)} MiB of Y read; ` +
            `limit at GEMM 2048³ (${g.toFixed(0)} GFLOP/s): ${limit.toFixed(2)} s, ` +
            `${(100 * limit / seconds).toFixed(0)}% of it reached`;
        }
        b.record({
          impl: label(be),
          seconds,
          gflops: flops / seconds / 1e9,
          ...(note ? { note } : {}),
          ...(be === cpu ? { baseline: true } : {}),
        });
      }
      const px = await b.save("x.f32", x.data), py = await b.save("y.f32", y.data);
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
      const impl = "scikit-learn RidgeCV (as installed)";
      const sk = await b.peer(impl, [...args, "sklearn"], { sklearn: true });
      if (sk) b.recordPeer(sk, { impl, seconds: sk.seconds as number, note: String(sk.note) });
      const numpy = [
        ...numpyVariants(CPU, "numpy SVD ridge, float32").map((v) => ({ ...v, which: "numpy" })),
        ...numpyVariants(CPU, "numpy SVD ridge, float64").map((v) => ({ ...v, which: "numpy64" })),
      ];
      for (const { impl, env, which } of numpy) {
        const np = await b.peer(impl, [...args, which], { env });
        if (!np) continue;
        b.recordPeer(np, { impl, seconds: np.seconds as number, note: "per-target α, best of 2" });
        if (ours) {
          const idx = np.alpha_index as number[];
          let same = 0;
          for (let v = 0; v < V; v++) if (idx[v] === ours.alphaIndex[v]) same++;
          agreement[`${b.name}: same α as numpy`] = same / V;
        }
      }
    },
  };
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

function lassoBench(V: number): Bench {
  return {
    section: "lasso",
    name: `LASSO CV per target, T=300, p=64, 100 α, 5 folds, ${V.toLocaleString("en-US")} targets`,
    async run(b) {
      const x: Matrix = { rows: T, cols: P, data: seeded(T * P, 3) };
      const w = seeded(P * V, 4);
      for (let i = 0; i < w.length; i++) w[i] = Math.abs(w[i]) > 0.47 ? w[i] * 4 : 0;
      const y: Matrix = { rows: T, cols: V, data: seeded(T * V, 5) };
      const mix = (await cpu.gemm(x, { rows: P, cols: V, data: w })).data;
      for (let i = 0; i < y.data.length; i++) y.data[i] += mix[i] * 0.5;
      const { seconds } = await time(() => lassoCV(cpu, x, y, { folds: FOLDS, nAlphas: 100 }));
      b.record({
        impl: sparseLabel(cpu),
        seconds: seconds / V,
        baseline: true,
        note: V === 228_483
          ? `per target; all 228,483 targets in ${(seconds / 60).toFixed(1)} min`
          : `per target, timed on ${V.toLocaleString("en-US")}; 228,483 targets ≈ ${
            (seconds / V * 228_483 / 60).toFixed(1)
          } min`,
      });
      const px = await b.save("lx.f32", x.data), py = await b.save("ly.f32", y.data);
      const voxels = QUICK ? 10 : 40;
      const impl = "scikit-learn LassoCV, one voxel at a time";
      const sk = await b.peer(impl, [
        "lasso",
        px,
        py,
        String(T),
        String(P),
        String(V),
        String(FOLDS),
        "100",
        String(voxels),
      ], { sklearn: true });
      if (!sk) return;
      const per = sk.per_voxel as number;
      b.recordPeer(sk, {
        impl,
        seconds: per,
        note: `per target, timed on ${voxels}; 228,483 targets ≈ ${
          (per * 228_483 / 3600).toFixed(1)
        } h`,
      });
    },
  };
}

function encodeBench(N: number): Bench {
  const Kd = 64, alpha = 5;
  return {
    section: "encode",
    name: `sparse coding, ${N.toLocaleString("en-US")} signals, T=300, K=64`,
    async run(b) {
      const x = smoothSignals(T, N, 7);
      const d: Matrix = { rows: T, cols: Kd, data: seeded(T * Kd, 8) };
      for (let k = 0; k < Kd; k++) {
        let s = 0;
        for (let t = 0; t < T; t++) s += d.data[t * Kd + k] ** 2;
        for (let t = 0; t < T; t++) d.data[t * Kd + k] /= Math.sqrt(s);
      }
      const { seconds, value } = await time(() => sparseEncode(cpu, d, x, { alpha }));
      b.record({
        impl: sparseLabel(cpu),
        seconds,
        baseline: true,
        note: `objective ${(value.objective / N).toFixed(3)}, density ${value.density.toFixed(3)}`,
      });
      const pd = await b.save("d.f32", d.data), px = await b.save("sx.f32", x.data);
      const impl = "scikit-learn sparse_encode (lasso_cd)";
      const r = await b.peer(
        impl,
        ["encode", pd, px, String(T), String(Kd), String(N), String(alpha)],
        { sklearn: true },
      );
      if (!r) return;
      b.recordPeer(r, {
        impl,
        seconds: r.seconds as number,
        note: `objective ${(r.objective as number).toFixed(3)}, density ${
          (r.density as number).toFixed(3)
        }`,
      });
    },
  };
}

function dictionaryBench(N: number): Bench {
  const passes = QUICK ? 2 : 10;
  return {
    section: "dictionary",
    name: `dictionary learning, N=${N.toLocaleString("en-US")}, T=300, K=64, ${passes} passes`,
    async run(b) {
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
      b.record({
        impl: sparseLabel(cpu),
        seconds,
        baseline: true,
        note: `objective ${ours.toFixed(3)}`,
      });
      const px = await b.save("dx.f32", x.data);
      for (const algo of N <= 9_216 ? ["cd", "lars"] : ["cd"]) {
        const impl = `scikit-learn MiniBatchDictionaryLearning (fit_algorithm=${algo})`;
        const r = await b.peer(impl, [
          "dictionary",
          px,
          String(T),
          String(N),
          "64",
          String(alpha),
          String(passes),
          "256",
          algo,
        ], { sklearn: true });
        if (!r) continue;
        const theirs = { rows: T, cols: 64, data: Float32Array.from(r.atoms as number[]) };
        const objective = await judge(theirs);
        b.recordPeer(r, {
          impl,
          seconds: r.seconds as number,
          note: `objective ${objective.toFixed(3)}`,
        });
        if (algo === "cd") theirsCd = objective;
      }
      // At equal objective: more passes until brainorg's is no worse than scikit-learn's.
      for (const more of ours > theirsCd && !QUICK ? [12, 15, 20, 30] : []) {
        const again = await time(() =>
          learnDictionary(cpu, x, { atoms: 64, alpha, passes: more, batchSize: 256, seed: 0 })
        );
        const objective = await judge(again.value.dictionary);
        if (objective > theirsCd) continue;
        b.record({
          impl: `${sparseLabel(cpu)}, ${more} passes`,
          seconds: again.seconds,
          note: `objective ${objective.toFixed(3)}: as good as scikit-learn's (cd) after ${passes}`,
        });
        break;
      }
    },
  };
}

// --- Voxel null -----------------------------------------------------------------
/**
 * The voxel-level null: S subjects × V voxels × T volumes, K atoms,
 * circular shifts refit at each voxel's CV α. brainorg's batched null
 * (encodeVoxels) against a numpy implementation of the same
 * stacked-product null, all on the same data, shifts and α; at the
 * demo's size also against the per-surrogate refits it replaced (timed on
 * a few surrogates, extrapolated).
 *
 * @param shape the demo's (362 volumes, K = 16, the previous release timed
 *   too) unless given; `--full` adds the paper's (400 volumes, K = 64,
 *   228,483 voxels) on a few surrogates, whose cost is linear in them
 */
function nullBench(
  S: number,
  V: number,
  P: number,
  shape: { T: number; K: number; previous: boolean; section: string } = {
    T: 362,
    K: 16,
    previous: true,
    section: "null",
  },
): Bench {
  const Tn = shape.T, K = shape.K;
  return {
    section: shape.section,
    name: `voxel null, ${S} subjects × ${
      V.toLocaleString("en-US")
    } voxels × ${Tn} volumes, K=${K}, ${P} shifts`,
    async run(b) {
      // Smooth regressors (AR(1)), and voxels driven by one of them or by none.
      const noise = seeded(Tn * K, 11),
        x: Matrix = { rows: Tn, cols: K, data: new Float32Array(Tn * K) };
      for (let j = 0; j < K; j++) {
        let a = 0;
        for (let t = 0; t < Tn; t++) x.data[t * K + j] = a = 0.8 * a + noise[t * K + j];
      }
      const subjects = Array.from({ length: S }, (_, s) => {
        const y = seeded(Tn * V, 20 + s);
        for (let t = 0; t < Tn; t++) {
          for (let v = 0; v < V; v += 3) y[t * V + v] += 0.4 * x.data[t * K + (v % K)];
        }
        return { id: `s${s}`, data: { rows: Tn, cols: V, data: y } };
      });
      let ours: Awaited<ReturnType<typeof encodeVoxels>> | undefined;
      for (const be of cpuBackends) {
        let fitDone = 0;
        const t0 = performance.now();
        const result = await encodeVoxels(be, x, subjects, {
          permutations: P,
          seed: 0,
          onProgress: (label, done, total) => {
            if (label === "fit" && done === total) fitDone = performance.now();
          },
        });
        ours ??= result;
        const nullSeconds = (performance.now() - fitDone) / 1000;
        b.record({
          impl: `${label(be)}, batched`,
          seconds: nullSeconds,
          ...(be === cpu ? { baseline: true } : {}),
          note: `the null alone; with the ${S} CV fits ${
            ((performance.now() - t0) / 1000).toFixed(1)
          } s`,
        });
      }
      if (!ours) return;
      // The per-surrogate refits of the previous release, on a few surrogates.
      const grid = logspace(-1, 4, 10);
      const shifts = [...surrogates(x, { permutations: P, seed: 0 })].map((g) => g.shift);
      const previous = [[cpu, QUICK ? 2 : 4, label(cpu)], [
        tsBackend,
        1,
        "brainorg cpu (typescript)",
      ]] as const;
      for (const [be, count, what] of shape.previous ? previous : []) {
        const sample = [...surrogates(x, { permutations: count, seed: 0 })];
        const t1 = performance.now();
        for (const { x: xs } of sample) {
          for (const [s, subject] of subjects.entries()) {
            await ridgeFixedAlpha(be, xs, subject.data, ours.subjects[s].alpha, {
              weightAlphas: new Float64Array(V).fill(1),
              checkFinite: false,
            });
          }
        }
        const per = (performance.now() - t1) / 1000 / count;
        b.record({
          impl: `${what}, per-surrogate refits (previous release)`,
          seconds: per * P,
          note: `timed on ${count} surrogate${count > 1 ? "s" : ""}, extrapolated`,
        });
      }
      const ys = new Float32Array(S * Tn * V);
      subjects.forEach((s, i) => ys.set(s.data.data, i * Tn * V));
      const aidx = new Int32Array(S * V);
      ours.subjects.forEach((m, s) => {
        for (let v = 0; v < V; v++) {
          aidx[s * V + v] = grid.findIndex((a) => Math.abs(a - m.alpha[v]) <= 1e-9 * a);
        }
      });
      const px = await b.save("nx.f32", x.data), py = await b.save("ny.f32", ys);
      const pa = await b.save("na.i32", new Float32Array(aidx.buffer));
      for (const { impl, env } of numpyVariants(CPU, "numpy, stacked products")) {
        const r = await b.peer(impl, [
          "null",
          px,
          py,
          pa,
          String(Tn),
          String(K),
          String(S),
          String(V),
          "5",
          JSON.stringify(grid),
          "1",
          JSON.stringify(shifts),
          // Stacked as brainorg stacks them: about 512 columns per product.
          String(refitBatchSize(K)),
        ], { env });
        if (!r) continue;
        const theirs = r.p as number[];
        let same = 0;
        ours.subjects.forEach((m, s) => {
          for (let v = 0; v < V; v++) if (Math.abs(m.p[v] - theirs[s * V + v]) < 1e-9) same++;
        });
        for (let v = 0; v < V; v++) {
          if (Math.abs(ours.group.pR[v] - theirs[S * V + v]) < 1e-9) same++;
        }
        agreement[`${b.name}: same p-values as ${impl}`] = same / ((S + 1) * V);
        b.recordPeer(r, { impl, seconds: r.seconds as number, note: "the null alone" });
      }
    },
  };
}

/**
 * The null's peak memory at 100 and 1,000 surrogates (`--full`): each count
 * in a fresh process (bench/null_memory.ts), since peak resident memory
 * only grows within one.
 */
function nullMemoryBench(): Bench {
  return {
    section: "null-memory",
    name: "voxel null, peak memory, 6 subjects × 32,810 voxels × 362 volumes, K=16",
    async run(b) {
      for (const P of [100, 1_000]) {
        const out = await new Deno.Command(Deno.execPath(), {
          args: ["run", "-A", new URL("./null_memory.ts", import.meta.url).pathname, String(P)],
          stderr: "inherit",
        }).output();
        if (!out.success) {
          b.record({ impl: `${P} surrogates`, seconds: null, failed: `exit code ${out.code}` });
          continue;
        }
        const r = JSON.parse(new TextDecoder().decode(out.stdout));
        b.record({
          impl: `brainorg cpu (${r.products}), ${P} surrogates`,
          seconds: r.seconds,
          ...(P === 100 ? { baseline: true } : {}),
          note: `peak resident memory ${Math.round(r.peakMiB)} MiB (${
            Math.round(r.peakBeforeMiB)
          } MiB with the data loaded)`,
        });
      }
    },
  };
}

/** Every benchmark, in the order they run and are reported. */
const BENCHES: Bench[] = [
  gemmBench("GEMM 2048³", 2048, 2048, 2048),
  gemmBench(
    `GEMM (64×300)·(300×${(QUICK ? 26_000 : 228_483).toLocaleString("en-US")})`,
    64,
    300,
    QUICK ? 26_000 : 228_483,
  ),
  ...(QUICK ? [26_000] : [26_000, 228_483]).map(ridgeBench),
  ...(values.full ? [26_000, 228_483] : [QUICK ? 2_000 : 8_192]).map(lassoBench),
  encodeBench(QUICK ? 16_384 : 131_072),
  ...(values.full ? [9_216, 131_072] : [9_216]).map(dictionaryBench),
  nullBench(6, QUICK ? 4_096 : 32_810, QUICK ? 20 : 100),
  ...(values.full
    ? [nullBench(2, 228_483, NULL_SHIFTS, { T: 400, K: 64, previous: false, section: "null-full" })]
    : []),
  ...(values.full ? [nullMemoryBench()] : []),
];

try {
  const sections = [...new Set(BENCHES.map((e) => e.section))];
  for (const s of ONLY ?? []) {
    if (!sections.includes(s)) {
      throw new RangeError(`--only takes ${sections.join(", ")}: current value is "${s}"`);
    }
  }
  for (const bench of BENCHES.filter((e) => want(e.section))) {
    log(`${bench.name}…`);
    await bench.run(benchRun(bench.name));
  }
} finally {
  for (const b of [...backends, tsBackend]) b.dispose();
  await Deno.remove(tmp, { recursive: true });
}

// --- Report ---------------------------------------------------------------------
const report: string[] = [cpuLine(CPU), pythonLine(PY), CORE_CHECK];
for (const bench of [...new Set(rows.map((r) => r.bench))]) {
  const group = rows.filter((r) => r.bench === bench);
  const base = group.find((r) => r.baseline) ?? group.find((r) => r.seconds !== null);
  report.push(`\n${bench}`);
  report.push("| implementation | time (s) | GFLOP/s | brainorg cpu is … × faster |");
  report.push("| --- | ---: | ---: | ---: |");
  for (const r of group) {
    const what = [
      r.note,
      r.blas,
      r.failed && `failed: ${r.failed.replaceAll("\n", " ⏎ ")}`,
      r.notRun && `not run: ${r.notRun}`,
    ].filter(Boolean).join("; ");
    const ratio = r.seconds !== null && base?.seconds ? (r.seconds / base.seconds).toFixed(2) : "";
    report.push(
      `| ${r.impl}${what ? ` — ${what}` : ""} | ${r.seconds?.toFixed(3) ?? ""} | ${
        r.gflops?.toFixed(1) ?? ""
      } | ${ratio} |`,
    );
  }
}
for (const [k, v] of Object.entries(agreement)) {
  report.push(`\n${k}: ${(v * 100).toFixed(2)}%`);
}
console.log(report.join("\n"));
await writeJsonAtomic(values.out!, {
  date: new Date().toISOString(),
  machine: {
    cpu: CPU,
    cores: navigator.hardwareConcurrency,
    os: Deno.build.os,
    arch: Deno.build.arch,
    deno: Deno.version.deno,
  },
  backends: backends.map((b) => b.info),
  peers: { python: PY.chosen, sklearn: PY.sklearn, tried: PY.tried },
  quick: QUICK,
  rows,
  agreement,
});
const failures = rows.filter((r) => r.failed).length;
if (failures > 0) log(`${failures} peer run${failures > 1 ? "s" : ""} failed: see the rows above`);
