// The npm package as a user gets it: built by tools/build_npm.ts, packed by
// `npm pack`, installed from the tarball into a scratch project with no
// registry, then imported by name in Node, type-checked by the TypeScript
// compiler as a consumer's code, and imported in headless Chromium. Each
// result is compared with the kernels run here from the sources.
import assert from "node:assert/strict";
import { join } from "node:path";
import ts from "typescript";
import { buildNpm, GZIP_BUDGET } from "../tools/build_npm.ts";
import {
  createCpuBackend,
  gemmReference,
  lassoCV,
  type Matrix,
  matrix,
  ridgeCV,
  rng,
} from "../packages/kernels/mod.ts";
import { haveChromium, launchChromium, serveFiles } from "./browser/chromium.ts";

const WEBGPU_TYPES = join(
  import.meta.dirname!,
  "..",
  "node_modules",
  "@webgpu",
  "types",
  "dist",
  "index.d.ts",
);

async function run(cmd: string, args: string[], cwd: string): Promise<string> {
  const r = await new Deno.Command(cmd, { args, cwd, stdout: "piped", stderr: "piped" }).output();
  const out = new TextDecoder().decode(r.stdout), err = new TextDecoder().decode(r.stderr);
  assert.equal(r.code, 0, `${cmd} ${args.join(" ")} failed (${r.code}):\n${out}\n${err}`);
  return out;
}

function random(rows: number, cols: number, seed: number): Matrix {
  const rand = rng(seed);
  return matrix(rows, cols, Float32Array.from({ length: rows * cols }, () => rand() - 0.5));
}

/** Targets that depend on the regressors (so α is chosen, not all at the largest), plus noise. */
function targets(x: Matrix, V: number, seed: number): Matrix {
  const y = random(x.rows, V, seed);
  for (let i = 0; i < x.rows; i++) {
    for (let v = 0; v < V; v++) {
      y.data[i * V + v] += 2 * x.data[i * x.cols + (v % x.cols)] -
        x.data[i * x.cols + ((v + 3) % x.cols)];
    }
  }
  return y;
}

/** Largest |got − want| over (1 + max |want|). */
function scaledError(got: ArrayLike<number>, want: ArrayLike<number>): number {
  assert.equal(got.length, want.length);
  let err = 0, scale = 0;
  for (let i = 0; i < want.length; i++) {
    err = Math.max(err, Math.abs(got[i] - want[i]));
    scale = Math.max(scale, Math.abs(want[i]));
  }
  return err / (1 + scale);
}

/** What the Node script and the page return. */
interface Outcome {
  error?: string;
  info: { name: string; implementation: string };
  gemmShape: number[];
  gemmError: number;
  gemmVsPackageReference: number;
  ridgeWeights: number[];
  ridgeAlphaIndex: number[];
  lassoWeights?: number[];
}

const json = (m: Matrix) => ({ rows: m.rows, cols: m.cols, data: [...m.data] });

// What the Node script and the page run: a plain triple loop as the GEMM
// reference, then ridge CV (and, in the page, LASSO CV on the CPU backend's
// workers), the fits returned for comparison with the sources' results.
const COMMON = `
const m = (o) => matrix(o.rows, o.cols, Float32Array.from(o.data));
function plainGemmTransA(a, b) {
  const out = new Float64Array(a.cols * b.cols);
  for (let k = 0; k < a.rows; k++) {
    for (let i = 0; i < a.cols; i++) {
      for (let j = 0; j < b.cols; j++) out[i * b.cols + j] += a.data[k * a.cols + i] * b.data[k * b.cols + j];
    }
  }
  return out;
}
function scaledError(got, want) {
  let err = 0, scale = 0;
  for (let i = 0; i < want.length; i++) {
    err = Math.max(err, Math.abs(got[i] - want[i]));
    scale = Math.max(scale, Math.abs(want[i]));
  }
  return got.length === want.length ? err / (1 + scale) : Infinity;
}
async function gemmAndRidge(backend, d) {
  const a = m(d.a), b = m(d.b);
  const c = await backend.gemm(a, b, { transA: true });
  const fit = await ridgeCV(backend, m(d.x), m(d.y), { folds: 5 });
  return {
    info: backend.info,
    gemmShape: [c.rows, c.cols],
    gemmError: scaledError(c.data, plainGemmTransA(a, b)),
    gemmVsPackageReference: scaledError(c.data, gemmReference(a, b, { transA: true }).data),
    ridgeWeights: [...fit.weights.data],
    ridgeAlphaIndex: [...fit.alphaIndex],
  };
}
`;

const NODE_SCRIPT = `import { readFileSync } from "node:fs";
import { createCpuBackend, gemmReference, matrix, ridgeCV } from "@brainorg/kernels";
${COMMON}
const d = JSON.parse(readFileSync(new URL("./data.json", import.meta.url), "utf8"));
const cpu = await createCpuBackend();
try {
  console.log(JSON.stringify(await gemmAndRidge(cpu, d)));
} finally {
  cpu.dispose();
}
`;

const PAGE_SCRIPT = `import {
  createCpuBackend, createWebGpuBackend, gemmReference, lassoCV, matrix, ridgeCV,
} from "@brainorg/kernels";
${COMMON}
async function main() {
  const d = await (await fetch("/data.json")).json();
  const gpu = await createWebGpuBackend();
  const cpu = await createCpuBackend({ threads: 2 });
  try {
    const out = await gemmAndRidge(gpu, d);
    const lasso = await lassoCV(cpu, m(d.x), m(d.yWide), { nAlphas: 20, returnPredictions: false });
    out.lassoWeights = [...lasso.weights.data];
    out.cpu = cpu.info;
    return out;
  } finally {
    gpu.dispose();
    cpu.dispose();
  }
}
main().then(
  (r) => (globalThis.__result = r),
  (e) => (globalThis.__result = { error: String(e?.stack ?? e) }),
);
`;

// A consumer's TypeScript: it must compile against the package's
// declarations, and the wrong call below must not (so the types are real).
const EXAMPLE_TS = `import {
  type Backend, createCpuBackend, createWebGpuBackend, gemmReference, matrix, type Matrix,
  ridgeCV, type RidgeCVResult,
} from "@brainorg/kernels";
const cpu: Backend = await createCpuBackend({ blas: "typescript" });
const a: Matrix = matrix(3, 2, [1, 2, 3, 4, 5, 6]);
const c: Matrix = await cpu.gemm(a, a, { transB: true });
const same: Matrix = gemmReference(a, a, { transB: true });
const fit: RidgeCVResult = await ridgeCV(cpu, a, c, { alphas: [1, 10], folds: 3 });
const alpha: number = fit.alphas[0];
export async function onGpu(device: GPUDevice): Promise<Float32Array> {
  const gpu = await createWebGpuBackend({ device });
  return (await gpu.gemm(a, a, { transB: true })).data;
}
console.log(same.rows, alpha);
`;
const BAD_TS = `import { createCpuBackend, ridgeCV } from "@brainorg/kernels";
const cpu = await createCpuBackend();
await ridgeCV(cpu, "x", { rows: 1, cols: 1, data: new Float32Array(1) });
`;

function typeErrors(dir: string, file: string): ts.Diagnostic[] {
  const program = ts.createProgram([join(dir, file), WEBGPU_TYPES], {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    lib: ["lib.es2022.d.ts", "lib.dom.d.ts"],
    types: [],
    strict: true,
    noEmit: true,
    skipLibCheck: false,
  });
  return [...ts.getPreEmitDiagnostics(program)];
}

const format = (d: readonly ts.Diagnostic[]) =>
  ts.formatDiagnostics(d, {
    getCanonicalFileName: (f) => f,
    getCurrentDirectory: () => "/",
    getNewLine: () => "\n",
  });

Deno.test({
  name:
    "npm package: packed, installed from the tarball offline, imported in Node, TypeScript and Chromium, matches the reference",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    const tmp = await Deno.makeTempDir({ prefix: "brainorg-npm-" });
    try {
      const built = await buildNpm({ outDir: join(tmp, "package") });
      console.log(
        `index.js ${built.bundle.raw} B, ${built.bundle.gzip} B gzipped (budget ${GZIP_BUDGET})`,
      );
      assert.ok(built.bundle.gzip <= GZIP_BUDGET);
      await assert.rejects(
        buildNpm({ outDir: join(tmp, "over"), gzipBudget: built.bundle.gzip - 1 }),
        /over the budget/,
      );
      const manifest = JSON.parse(await Deno.readTextFile(join(built.outDir, "package.json")));
      const version = JSON.parse(
        await Deno.readTextFile(join(import.meta.dirname!, "..", "packages/kernels/deno.json")),
      ).version;
      assert.equal(manifest.version, version);
      assert.equal(manifest.license, "Apache-2.0");
      assert.equal(manifest.sideEffects, false);
      assert.deepEqual(manifest.exports["."].types, "./types/mod.d.ts");
      assert.equal(manifest.dependencies, undefined, "the package must install with no registry");

      const [packed] = JSON.parse(
        await run("npm", ["pack", "--json", "--pack-destination", tmp], built.outDir),
      );
      const files: string[] = packed.files.map((f: { path: string }) => f.path).sort();
      for (
        const f of ["LICENSE", "index.js", "kernels_worker.js", "package.json", "types/mod.d.ts"]
      ) {
        assert.ok(files.includes(f), `the tarball lacks ${f}: ${files}`);
      }
      assert.deepEqual(files.filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts")), []);

      const app = join(tmp, "app");
      await Deno.mkdir(app);
      await Deno.writeTextFile(
        join(app, "package.json"),
        JSON.stringify({ name: "scratch", private: true, type: "module" }),
      );
      await run("npm", [
        "install",
        "--offline",
        "--no-audit",
        "--no-fund",
        "--ignore-scripts",
        join(tmp, packed.filename),
      ], app);
      const installed = join(app, "node_modules", "@brainorg", "kernels");

      const x = random(120, 8, 1), a = random(90, 70, 2), b = random(90, 50, 3);
      const y = targets(x, 24, 4), yWide = targets(x, 96, 5);
      await Deno.writeTextFile(
        join(app, "data.json"),
        JSON.stringify({ x: json(x), y: json(y), yWide: json(yWide), a: json(a), b: json(b) }),
      );
      const reference = await createCpuBackend({ blas: "typescript" });
      const want = await ridgeCV(reference, x, y, { folds: 5 });
      const wantLasso = await lassoCV(reference, x, yWide, {
        nAlphas: 20,
        returnPredictions: false,
      });
      reference.dispose();
      const wantGemm = gemmReference(a, b, { transA: true });
      const wantAlphas = [...want.alphaIndex];
      assert.ok(
        wantAlphas.some((i) => i < 9),
        "some targets must choose α below the grid's largest",
      );

      await t.step("Node imports the package by name and matches the reference", async () => {
        await Deno.writeTextFile(join(app, "run.mjs"), NODE_SCRIPT);
        const started = performance.now();
        const out: Outcome = JSON.parse(await run("node", ["run.mjs"], app));
        console.log(`node: ${out.info.implementation}, ${(performance.now() - started) | 0} ms`);
        assert.equal(out.info.name, "cpu");
        // No onnxruntime-node in the scratch project and no Deno: plain TypeScript products.
        assert.equal(out.info.implementation, "typescript");
        assert.deepEqual(out.gemmShape, [wantGemm.rows, wantGemm.cols]);
        assert.ok(out.gemmError < 1e-5, `gemm error ${out.gemmError}`);
        assert.ok(out.gemmVsPackageReference < 1e-5, `gemm error ${out.gemmVsPackageReference}`);
        assert.deepEqual(out.ridgeAlphaIndex, wantAlphas);
        const err = scaledError(out.ridgeWeights, want.weights.data);
        assert.ok(err < 1e-6, `ridge weights differ from the sources' by ${err}`);
      });

      await t.step("a TypeScript consumer compiles against the declarations", async () => {
        await Deno.writeTextFile(join(app, "example.ts"), EXAMPLE_TS);
        await Deno.writeTextFile(join(app, "bad.ts"), BAD_TS);
        const good = typeErrors(app, "example.ts");
        assert.deepEqual(good, [], format(good));
        const bad = typeErrors(app, "bad.ts");
        assert.ok(
          bad.some((d) => d.code === 2345 && d.file?.fileName.endsWith("bad.ts")),
          `a string passed as x must not type-check: ${format(bad) || "no error"}`,
        );
      });

      await t.step({
        name:
          "Chromium imports the installed package: GEMM and ridge CV on WebGPU, LASSO on workers",
        ignore: !haveChromium(),
        fn: async () => {
          const pkg = (f: string) => Deno.readTextFile(join(installed, f));
          const server = serveFiles({
            "/": {
              body: `<!doctype html><script type="importmap">${
                JSON.stringify({
                  imports: { "@brainorg/kernels": "/node_modules/@brainorg/kernels/index.js" },
                })
              }</script><script type="module" src="/page.js"></script>`,
              type: "text/html",
            },
            "/page.js": { body: PAGE_SCRIPT, type: "text/javascript" },
            "/data.json": {
              body: await Deno.readTextFile(join(app, "data.json")),
              type: "application/json",
            },
            "/node_modules/@brainorg/kernels/index.js": {
              body: await pkg("index.js"),
              type: "text/javascript",
            },
            "/node_modules/@brainorg/kernels/kernels_worker.js": {
              body: await pkg("kernels_worker.js"),
              type: "text/javascript",
            },
          });
          const browser = await launchChromium();
          try {
            const page = await browser.newPage();
            const errors: string[] = [], workers: string[] = [], missing: string[] = [];
            page.on("pageerror", (e) => errors.push(String(e)));
            page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
            page.on("response", (r) => r.status() >= 400 && missing.push(r.url()));
            page.on("worker", (w) => workers.push(w.url()));
            await page.goto(server.url + "/");
            await page.waitForFunction(() => "__result" in globalThis, null, { timeout: 60_000 });
            const out = await page.evaluate(() =>
              (globalThis as unknown as { __result: Outcome }).__result
            );
            assert.equal(out.error, undefined, String(out.error));
            assert.deepEqual(errors, [], errors.join("\n"));
            assert.deepEqual(missing, []);
            assert.equal(out.info.name, "webgpu");
            assert.deepEqual(out.gemmShape, [wantGemm.rows, wantGemm.cols]);
            assert.ok(out.gemmError < 1e-5, `gemm error ${out.gemmError}`);
            assert.ok(
              out.gemmVsPackageReference < 1e-5,
              `gemm error ${out.gemmVsPackageReference}`,
            );
            assert.deepEqual(out.ridgeAlphaIndex, wantAlphas);
            const ridgeErr = scaledError(out.ridgeWeights, want.weights.data);
            assert.ok(ridgeErr < 1e-4, `ridge weights on WebGPU differ by ${ridgeErr}`);
            // The CPU backend's LASSO ran on workers started from the packaged worker file.
            assert.ok(
              workers.some((u) => u.endsWith("/node_modules/@brainorg/kernels/kernels_worker.js")),
              `no worker from kernels_worker.js: ${workers}`,
            );
            const lassoErr = scaledError(out.lassoWeights ?? [], wantLasso.weights.data);
            assert.ok(lassoErr < 1e-5, `LASSO weights differ by ${lassoErr}`);
          } finally {
            await browser.close();
            await server.close();
          }
        },
      });
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  },
});
