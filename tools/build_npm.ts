/**
 * Builds the npm package of `@brainorg/kernels` (run by `deno task
 * build:npm`; output in `dist/npm/kernels`, ignored by git):
 *
 * - `index.js`: `packages/kernels/mod.ts` bundled by esbuild as one ES
 *   module for browsers and Node (the WGSL and the WebAssembly are already
 *   embedded in the sources). The OpenBLAS loader (`Deno.dlopen`) and the
 *   glibc allocator setting are left out: their npm stand-ins say why, and
 *   the CPU backend takes its next library (MLAS where the project has
 *   `onnxruntime-node`, else plain TypeScript).
 * - `kernels_worker.js`: the worker of the CPU backend's LASSO and ridge
 *   refits, next to `index.js`, which finds it with
 *   `new URL("./kernels_worker.js", import.meta.url)` (the pattern bundlers
 *   follow). Where workers cannot start (Node's globals have none), the
 *   kernels compute in the calling thread, as in Deno.
 * - `types/`: declarations emitted by the TypeScript compiler from the
 *   sources, with their doc comments.
 * - `package.json` (`exports`, `sideEffects: false`, no dependencies),
 *   `README.md`, `LICENSE`, `NOTICE`.
 *
 * The build fails when the gzipped `index.js` exceeds {@linkcode GZIP_BUDGET}.
 *
 * @module
 */

import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import * as esbuild from "esbuild";
import ts from "typescript";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const KERNELS = join(ROOT, "packages", "kernels");

/** Where `deno task build:npm` writes the package. */
export const NPM_OUT: string = join(ROOT, "dist", "npm", "kernels");

/**
 * The most `index.js` may weigh gzipped, in bytes: 72 KiB, about 25 %
 * above the 0.1.0 build (57.4 KiB gzipped, 202 KiB raw, of which the
 * embedded WGSL and base64 WebAssembly are about 76 KiB).
 */
export const GZIP_BUDGET: number = 80 * 1024;

/** What {@linkcode buildNpm} wrote. */
export interface NpmBuild {
  /** The package folder. */
  outDir: string;
  /** The package's version (that of `packages/kernels/deno.json`). */
  version: string;
  /** Size of `index.js` in bytes, raw and gzipped (level 9). */
  bundle: { raw: number; gzip: number };
  /** Size of `kernels_worker.js` in bytes, raw and gzipped. */
  worker: { raw: number; gzip: number };
  /** Declaration files written under `types/`. */
  declarations: number;
}

/** Options of {@linkcode buildNpm}. */
export interface BuildNpmOptions {
  /** Where to write the package (emptied first). Default: {@linkcode NPM_OUT}. */
  outDir?: string;
  /** The gzip budget of `index.js` in bytes. Default: {@linkcode GZIP_BUDGET}. */
  gzipBudget?: number;
}

/**
 * Modules replaced in the npm build: Deno-only code paths, and the worker's
 * file name (`.ts` in the sources, `.js` in the package).
 */
const npmStandIns: esbuild.Plugin = {
  name: "brainorg-npm-stand-ins",
  setup(build) {
    build.onLoad({ filter: /[\\/]packages[\\/]kernels[\\/]blas_ffi\.ts$/ }, () => ({
      loader: "ts",
      contents: `export function loadBlas() {
  return { reason: "OpenBLAS through FFI needs Deno (@brainorg/kernels from JSR)" };
}`,
    }));
    build.onLoad({ filter: /[\\/]packages[\\/]kernels[\\/]_memory\.ts$/ }, () => ({
      loader: "ts",
      contents: "export function keepFreedMemory() {}",
    }));
    build.onLoad({ filter: /[\\/]packages[\\/]kernels[\\/]_worker_pool\.ts$/ }, async (args) => {
      const source = await Deno.readTextFile(args.path);
      const from = `new URL("./kernels_worker.ts", import.meta.url)`;
      if (source.split(from).length !== 2) {
        throw new Error(`_worker_pool.ts must create its workers with ${from} exactly once`);
      }
      return {
        loader: "ts",
        contents: source.replace(from, `new URL("./kernels_worker.js", import.meta.url)`),
      };
    });
  },
};

/** Bundle the entry and the worker; returns their text by output name. */
async function bundle(version: string): Promise<Record<string, string>> {
  try {
    const out = await esbuild.build({
      entryPoints: {
        index: join(KERNELS, "mod.ts"),
        kernels_worker: join(KERNELS, "kernels_worker.ts"),
      },
      outdir: "/out",
      bundle: true,
      format: "esm",
      platform: "neutral",
      target: "es2022",
      write: false,
      logLevel: "silent",
      banner: { js: `/*! @brainorg/kernels ${version} | Apache-2.0 */` },
      plugins: [npmStandIns],
    });
    const files: Record<string, string> = {};
    for (const f of out.outputFiles) files[relative("/out", f.path)] = f.text;
    return files;
  } finally {
    await esbuild.stop();
  }
}

/** Refuse a bundle that needs Node's or Deno's modules or Deno's native APIs. */
function checkPortable(name: string, js: string): void {
  const found = [
    [/\bfrom\s*["']node:/, "a node: import"],
    [/\bimport\(\s*["']node:/, "a node: import"],
    [/\brequire\(/, "require()"],
    [/\bDeno\.(dlopen|UnsafePointerView|readTextFileSync|Command)\b/, "a Deno-only API"],
  ].filter(([re]) => (re as RegExp).test(js)).map(([, what]) => what);
  if (found.length > 0) {
    throw new Error(`npm build: ${name} must run in browsers and Node but contains ${found}`);
  }
}

/**
 * `Deno` for the compiler: its native APIs are used behind `typeof Deno`
 * checks, and no public declaration names them (those that do are dropped).
 */
const DENO_SHIM = "declare const Deno: any;";

/**
 * Emit declarations for `mod.ts` and what it reaches, with relative
 * specifiers ending in `.js`; returns their text by path under `types/`.
 */
function declarations(): Record<string, string> {
  const shim = join(KERNELS, "__deno_shim.d.ts");
  const webgpu = join(ROOT, "node_modules", "@webgpu", "types", "dist", "index.d.ts");
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    lib: ["lib.es2022.d.ts", "lib.dom.d.ts"],
    types: [],
    strict: true,
    declaration: true,
    emitDeclarationOnly: true,
    allowImportingTsExtensions: true,
    skipLibCheck: true,
    rootDir: KERNELS,
    outDir: "/types",
  };
  const host = ts.createCompilerHost(options);
  const read = host.readFile.bind(host), exists = host.fileExists.bind(host);
  host.readFile = (f) => (f === shim ? DENO_SHIM : read(f));
  host.fileExists = (f) => f === shim || exists(f);
  // The shim and @webgpu/types are ambient: roots, but nothing is emitted for them.
  const program = ts.createProgram([join(KERNELS, "mod.ts"), shim, webgpu], options, host);
  const diagnostics = ts.getPreEmitDiagnostics(program);
  if (diagnostics.length > 0) {
    throw new Error(
      "npm build: the TypeScript compiler rejects the kernels:\n" +
        ts.formatDiagnostics(diagnostics, {
          getCanonicalFileName: (f) => f,
          getCurrentDirectory: () => ROOT,
          getNewLine: () => "\n",
        }),
    );
  }
  const emitted: Record<string, string> = {};
  program.emit(undefined, (path, text) => {
    emitted[relative("/types", path)] = text.replace(
      /((?:from|import)\s*\(?\s*["']\.{1,2}\/[^"']*)\.ts(["'])/g,
      "$1.js$2",
    );
  });
  // Keep what mod.d.ts reaches (the rest is internal and may name Deno's types).
  const keep = new Set<string>(), queue = ["mod.d.ts"];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (keep.has(file)) continue;
    if (!(file in emitted)) throw new Error(`npm build: no declarations for ${file}`);
    keep.add(file);
    for (
      const m of emitted[file].matchAll(/(?:from|import)\s*\(?\s*["'](\.{1,2}\/[^"']*)\.js["']/g)
    ) {
      queue.push(join(dirname(file), m[1] + ".d.ts"));
    }
  }
  return Object.fromEntries([...keep].sort().map((f) => [f, emitted[f]]));
}

function packageJson(version: string): string {
  return JSON.stringify(
    {
      name: "@brainorg/kernels",
      version,
      description:
        "Ridge and LASSO regression, permutation nulls and dictionary learning for many targets at once, on WebGPU (WGSL) or the CPU (WebAssembly, TypeScript).",
      license: "Apache-2.0",
      type: "module",
      exports: {
        ".": { types: "./types/mod.d.ts", import: "./index.js", default: "./index.js" },
        "./package.json": "./package.json",
      },
      types: "./types/mod.d.ts",
      sideEffects: false,
      files: ["index.js", "kernels_worker.js", "types/", "README.md", "LICENSE", "NOTICE"],
      engines: { node: ">=20" },
      keywords: ["webgpu", "wgsl", "ridge", "lasso", "regression", "fmri", "neuroscience"],
      peerDependencies: { "@webgpu/types": ">=0.1.40" },
      peerDependenciesMeta: { "@webgpu/types": { optional: true } },
    },
    null,
    2,
  ) + "\n";
}

function readme(version: string, gzipKiB: string): string {
  return `# @brainorg/kernels ${version}

brainorg's compute kernels as a standalone package: one \`Backend\` interface
with a CPU implementation (WebAssembly and TypeScript; MLAS products where
\`onnxruntime-node\` is installed next to it in Node) and a WebGPU
implementation (WGSL, checked against the CPU reference on the device before
it is handed out), and the solvers written against it: ridge CV with a
penalty per target, LASSO / elastic-net CV, permutation nulls, sparse coding
and online dictionary learning. One ES module (${gzipKiB} KiB gzipped), no
dependencies; the WGSL and the WebAssembly are inside it.

\`\`\`sh
npm install brainorg-kernels-${version}.tgz   # from \`deno task build:npm\` and \`npm pack\`
\`\`\`

\`\`\`js
import { createBackend, gemmReference, matrix, ridgeCV } from "@brainorg/kernels";

const backend = await createBackend(); // WebGPU on a hardware adapter, else CPU
const a = matrix(64, 32, Float32Array.from({ length: 64 * 32 }, Math.random));
const b = matrix(32, 16, Float32Array.from({ length: 32 * 16 }, Math.random));
const c = await backend.gemm(a, b); // (64 × 16), as gemmReference(a, b)
const fit = await ridgeCV(backend, a, c, { folds: 4 }); // fit.weights (32 × 16), fit.alphas (16)
backend.dispose();
\`\`\`

Matrices are \`{ rows, cols, data: Float32Array }\`, row-major. In a web page,
pass your own \`GPUDevice\` with \`createBackend({ backend: "webgpu", device })\`.
The CPU backend's LASSO runs on module workers loaded from
\`kernels_worker.js\` next to \`index.js\` (bundlers that follow
\`new URL(…, import.meta.url)\` copy it); where workers cannot start (Node) it
runs in the calling thread. TypeScript users add \`@webgpu/types\` for the
\`GPUDevice\` types.

Documentation, the solvers' objectives and tolerances: the repository's
README, section "Kernels". Licence: Apache-2.0 (LICENSE, NOTICE).
`;
}

/**
 * Build the npm package.
 *
 * @param options where to write it, and the size budget
 * @returns the folder, the version and the sizes written
 * @throws {Error} when the bundle is not portable, the compiler rejects the
 *   sources, or the gzipped bundle exceeds the budget
 */
export async function buildNpm(options: BuildNpmOptions = {}): Promise<NpmBuild> {
  const outDir = options.outDir ?? NPM_OUT;
  const budget = options.gzipBudget ?? GZIP_BUDGET;
  const { version } = JSON.parse(await Deno.readTextFile(join(KERNELS, "deno.json")));
  const js = await bundle(version);
  for (const [name, text] of Object.entries(js)) checkPortable(name, text);
  const size = (text: string) => {
    const bytes = new TextEncoder().encode(text);
    return { raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
  };
  const sizes = { bundle: size(js["index.js"]), worker: size(js["kernels_worker.js"]) };
  if (sizes.bundle.gzip > budget) {
    throw new Error(
      `npm build: index.js is ${sizes.bundle.gzip} bytes gzipped, over the budget of ${budget}`,
    );
  }
  const types = declarations();

  await Deno.remove(outDir, { recursive: true }).catch((e) => {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  });
  await Deno.mkdir(join(outDir, "types"), { recursive: true });
  for (const [name, text] of Object.entries(js)) await Deno.writeTextFile(join(outDir, name), text);
  for (const [name, text] of Object.entries(types)) {
    await Deno.mkdir(dirname(join(outDir, "types", name)), { recursive: true });
    await Deno.writeTextFile(join(outDir, "types", name), text);
  }
  await Deno.writeTextFile(join(outDir, "package.json"), packageJson(version));
  await Deno.writeTextFile(
    join(outDir, "README.md"),
    readme(version, (sizes.bundle.gzip / 1024).toFixed(0)),
  );
  for (const name of ["LICENSE", "NOTICE"]) {
    await Deno.copyFile(join(ROOT, name), join(outDir, name));
  }
  return { outDir, version, ...sizes, declarations: Object.keys(types).length };
}

if (import.meta.main) {
  const built = await buildNpm();
  const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
  console.log(`wrote @brainorg/kernels ${built.version} to ${relative(ROOT, built.outDir)}`);
  console.log(
    `index.js: ${kib(built.bundle.raw)}, ${kib(built.bundle.gzip)} gzipped ` +
      `(budget ${kib(GZIP_BUDGET)}); kernels_worker.js: ${kib(built.worker.raw)}, ` +
      `${kib(built.worker.gzip)} gzipped; ${built.declarations} declaration files`,
  );
}
