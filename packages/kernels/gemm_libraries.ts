/**
 * Where the CPU backend's matrix products come from: OpenBLAS through FFI
 * where the system has it, MLAS through onnxruntime-node (which arrives
 * with the npm packages, so a fresh machine has it), or plain TypeScript.
 * Each library must agree with the TypeScript reference on a product before
 * it is used. The choice is a fixed order, never a timing: libraries round
 * differently, and a run must give the same numbers (and cache keys) each
 * time on the same machine.
 *
 * @module
 */

import type { GemmOptions } from "./backend.ts";
import { gemmReference } from "./cpu_reference.ts";
import type { Matrix, MatrixView } from "./matrix.ts";
import type { Mlas } from "./mlas_gemm.ts";

/**
 * Which products the CPU backend uses:
 * - `"auto"`: OpenBLAS if it loads and passes its self-check (the faster
 *   where both ran: 110–140 against 90–100 GFLOP/s on the null's products,
 *   200–360 against about 140 at 2048³, on the project's 2-core machines),
 *   else MLAS, else TypeScript;
 * - `"off"`: no system library (the path a fresh machine gets): MLAS, else
 *   TypeScript;
 * - `"openblas"`, `"mlas"`: that library, or an error saying why not;
 * - `"typescript"`: the plain reference.
 */
export type ProductsChoice = "auto" | "off" | "openblas" | "mlas" | "typescript";

/** The products in use and how they were chosen. */
export interface CpuProducts {
  /** The library: `"openblas"`, `"mlas"` or `"typescript"` (the reference). */
  name: "openblas" | "mlas" | "typescript";
  /** For reports: `"openblas (SkylakeX)"`, `"mlas (onnxruntime-node 1.30.0)"`, `"typescript"`. */
  implementation: string;
  /** Library, threads, why this one, the probe's GFLOP/s per library. */
  details: Record<string, unknown>;
  /** C = op(A) · op(B), as {@linkcode Backend.gemm} (shapes checked by the caller). */
  gemm(a: MatrixView, b: MatrixView, options?: GemmOptions): Promise<Matrix>;
  /** Release the library (its threads, its session); the products are unusable afterwards. */
  close(): void;
  /**
   * Squared errors of stacked products in the library itself (MLAS only:
   * see `StackedErrors` in mlas_gemm.ts); absent elsewhere.
   */
  stackedErrors?: Mlas["stackedErrors"];
  /** Ridge CV's fused per-block fold work (MLAS only: see `foldErrorsModel`); absent elsewhere. */
  foldErrors?: Mlas["foldErrors"];
}

type Gemm = (a: MatrixView, b: MatrixView, options?: GemmOptions) => Matrix | Promise<Matrix>;

/** Below this many multiply-adds a call costs more than the product: use the reference. */
const SMALL = 32_768;

const CHOICES: ProductsChoice[] = ["auto", "off", "openblas", "mlas", "typescript"];

/** `BRAINORG_BLAS`, checked; undefined when unset or unreadable. */
export function productsFromEnv(): ProductsChoice | undefined {
  let v: string | undefined;
  try {
    v = typeof Deno !== "undefined" ? Deno.env.get("BRAINORG_BLAS") : undefined;
  } catch {
    return undefined; // no env permission: the caller's default stands
  }
  if (v === undefined || v === "") return undefined;
  if (!(CHOICES as string[]).includes(v)) {
    throw new RangeError(
      `BRAINORG_BLAS must be one of ${CHOICES.join(", ")}: current value is "${v}"`,
    );
  }
  return v as ProductsChoice;
}

function random(seed: number): () => number {
  return () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32) - 0.5;
}

/**
 * Whether a library's products agree with the reference, with and without
 * transposes, on odd shapes and on a strided view.
 */
export async function agreesWithReference(gemm: Gemm): Promise<boolean> {
  const rand = random(12345);
  const big = Float32Array.from({ length: 80 * 90 }, rand);
  const a = { rows: 67, cols: 71, data: big, offset: 3, rowStride: 90 };
  const cases: [MatrixView, MatrixView, GemmOptions][] = [
    [a, { rows: 67, cols: 53, data: Float32Array.from({ length: 67 * 53 }, rand) }, {
      transA: true,
    }],
    [a, { rows: 45, cols: 71, data: Float32Array.from({ length: 45 * 71 }, rand) }, {
      transB: true,
    }],
    [a, { rows: 71, cols: 129, data: Float32Array.from({ length: 71 * 129 }, rand) }, {}],
  ];
  for (const [x, y, o] of cases) {
    const got = await gemm(x, y, o), want = gemmReference(x, y, o);
    if (got.rows !== want.rows || got.cols !== want.cols) return false;
    for (let i = 0; i < want.data.length; i++) {
      if (!(Math.abs(got.data[i] - want.data[i]) <= 1e-4 * (1 + Math.abs(want.data[i])))) {
        return false;
      }
    }
  }
  return true;
}

interface Candidate {
  name: "openblas" | "mlas";
  implementation: string;
  details: Record<string, unknown>;
  gemm: Gemm;
  close(): void;
  stackedErrors?: Mlas["stackedErrors"];
  foldErrors?: Mlas["foldErrors"];
}

async function loadOpenBlas(threads: number): Promise<Candidate | string> {
  try {
    if (typeof Deno !== "undefined" && !Deno.env.get("OPENBLAS_NUM_THREADS")) {
      Deno.env.set("OPENBLAS_NUM_THREADS", String(threads));
    }
  } catch { /* no env permission: OpenBLAS takes every core */ }
  const { loadBlas } = await import("./blas_ffi.ts");
  const blas = loadBlas();
  if ("reason" in blas) return blas.reason;
  return {
    name: "openblas",
    implementation: `openblas (${blas.core})`,
    details: {
      library: blas.library,
      core: blas.core,
      threads: blas.threads,
      coreTypeSetByBrainorg: blas.coreTypeSetByBrainorg,
      coreTypeChoice: blas.coreType.summary,
    },
    gemm: (a, b, o) => blas.sgemm(a, b, o),
    close: () => blas.close(),
  };
}

async function loadOnnxRuntime(threads: number): Promise<Candidate | string> {
  const { loadMlas } = await import("./mlas_gemm.ts");
  const mlas = await loadMlas(threads);
  if ("reason" in mlas) return mlas.reason;
  return {
    name: "mlas",
    implementation: `mlas (${mlas.library})`,
    details: { library: mlas.library, threads: mlas.threads },
    gemm: (a, b, o) => {
      const m = o?.transA ? a.cols : a.rows, k = o?.transA ? a.rows : a.cols;
      const n = o?.transB ? b.rows : b.cols;
      return m * n * k < SMALL ? gemmReference(a, b, o) : mlas.sgemm(a, b, o);
    },
    close: () => void mlas.close(),
    stackedErrors: (a, b, y) => mlas.stackedErrors(a, b, y),
    foldErrors: (input) => mlas.foldErrors(input),
  };
}

/**
 * Load the products asked for (see {@linkcode ProductsChoice}).
 *
 * @param choice which library; `BRAINORG_BLAS` should be resolved by the caller
 * @param threads threads a library may use
 * @throws {Error} when `"openblas"` or `"mlas"` is asked for and cannot be used
 */
export async function loadProducts(choice: ProductsChoice, threads: number): Promise<CpuProducts> {
  if (!CHOICES.includes(choice)) {
    throw new RangeError(
      `products must be one of ${CHOICES.join(", ")}: current value is "${choice}"`,
    );
  }
  const native = typeof Deno !== "undefined" ||
    // deno-lint-ignore no-explicit-any
    typeof (globalThis as any).process?.versions?.node === "string";
  const wanted: ("openblas" | "mlas")[] = !native
    ? []
    : choice === "auto"
    ? ["openblas", "mlas"]
    : choice === "off"
    ? ["mlas"]
    : choice === "typescript"
    ? []
    : [choice];
  const usable: Candidate[] = [], refused: string[] = [];
  for (const name of wanted) {
    const c = name === "openblas" ? await loadOpenBlas(threads) : await loadOnnxRuntime(threads);
    if (typeof c === "string") refused.push(`${name}: ${c}`);
    else if (!(await agreesWithReference(c.gemm))) {
      c.close();
      refused.push(`${name}: its products disagreed with the reference`);
    } else usable.push(c);
  }
  if (!native && choice !== "typescript") refused.push("native libraries need Deno or Node");
  if ((choice === "openblas" || choice === "mlas") && usable.length === 0) {
    throw new Error(`BLAS "${choice}" was asked for but cannot be used (${refused.join("; ")})`);
  }
  const [chosen, ...rest] = usable;
  for (const c of rest) c.close();
  const why = !native
    ? "no native libraries in a browser"
    : choice === "typescript"
    ? "plain TypeScript requested"
    : !chosen
    ? `no library usable (${refused.join("; ")})`
    : choice === "auto"
    ? `the first usable of openblas, mlas${refused.length ? ` (${refused.length} refused)` : ""}`
    : `requested (BRAINORG_BLAS or option: ${choice})`;
  if (!chosen) {
    return {
      name: "typescript",
      implementation: "typescript",
      details: { why, choice },
      gemm: (a, b, o) => Promise.resolve(gemmReference(a, b, o)),
      close: () => {},
    };
  }
  return {
    name: chosen.name,
    implementation: chosen.implementation,
    details: { ...chosen.details, why, choice, ...(refused.length ? { refused } : {}) },
    gemm: async (a, b, o) => await chosen.gemm(a, b, o),
    close: () => chosen.close(),
    ...(chosen.stackedErrors ? { stackedErrors: chosen.stackedErrors } : {}),
    ...(chosen.foldErrors ? { foldErrors: chosen.foldErrors } : {}),
  };
}
