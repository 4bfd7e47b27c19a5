/**
 * brainorg's benchmarks, side by side with the peers in one run on the same
 * inputs, reported as ratios: GEMM (2048³ and the real encoding shape) and
 * ridge CV (T = 300, 64 regressors, 10 α, 5 folds) at V = 26,000 and
 * 228,483 targets, against numpy (as installed, and with
 * OPENBLAS_CORETYPE=SkylakeX) and scikit-learn's RidgeCV.
 *
 * Usage: deno task bench [--quick] [--no-webgpu] [--out bench/results.json]
 *
 * @module
 */

import { parseArgs } from "node:util";
import { join } from "node:path";
import { writeJsonAtomic } from "@brainorg/common";
import {
  type Backend,
  createCpuBackend,
  createWebGpuBackend,
  logspace,
  type Matrix,
  ridgeCV,
} from "@brainorg/kernels";
import { findPython } from "../test/python.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    quick: { type: "boolean", default: false },
    "no-webgpu": { type: "boolean", default: false },
    out: { type: "string", default: "bench/results.json" },
  },
});
const QUICK = values.quick;
const PY = findPython(["numpy", "sklearn"]);
const tmp = await Deno.makeTempDir({ prefix: "brainorg-bench-" });
const rows: { bench: string; impl: string; seconds: number; gflops?: number; note?: string }[] = [];

function seeded(n: number, seed: number): Float32Array {
  let a = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    a = (a * 1664525 + 1013904223) >>> 0;
    out[i] = a / 2 ** 32 - 0.5;
  }
  return out;
}

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

// --- GEMM -------------------------------------------------------------------
const gemmCases = [
  { name: "GEMM 2048³", m: 2048, k: 2048, n: 2048 },
  { name: "GEMM (64×300)·(300×228,483)", m: 64, k: 300, n: QUICK ? 26_000 : 228_483 },
];
for (const c of gemmCases) {
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
for (const V of QUICK ? [26_000] : [26_000, 228_483]) {
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
