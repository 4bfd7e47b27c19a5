/**
 * The backends every solver test runs on, as himalaya parametrizes its
 * tests over `backend`: the CPU backend with plain TypeScript products (the
 * reference), the CPU backend with its default products (OpenBLAS or MLAS,
 * or what `BRAINORG_BLAS` names), and WebGPU, ignored with the project's
 * notice where there is no adapter (and a failure under CI, see
 * test/webgpu.ts). Each variant of a test asserts the same thing against the
 * same reference; only the problem's size may shrink on WebGPU, where the
 * software adapters of the CI machines are slow.
 *
 * @module
 */

import { haveWebGpu } from "../../test/webgpu.ts";
import type { Backend } from "./backend.ts";
import { createCpuBackend } from "./cpu_backend.ts";
import { createWebGpuBackend } from "./webgpu_backend.ts";

/** Every backend a solver test runs on, in the order the tests are registered. */
export const BACKEND_KINDS = ["typescript", "cpu", "webgpu"] as const;

/** `"typescript"`: CPU, TypeScript products; `"cpu"`: CPU, default products; `"webgpu"`. */
export type BackendKind = (typeof BACKEND_KINDS)[number];

/**
 * Whether a test on `kind` must be ignored here: WebGPU without an adapter
 * (which prints the project's notice once, or throws under CI).
 *
 * @param kind the backend
 * @returns the value for `Deno.test`'s `ignore`
 */
export async function ignoreBackend(kind: BackendKind): Promise<boolean> {
  return kind === "webgpu" && !(await haveWebGpu());
}

/**
 * Run `fn` on a fresh backend of `kind` and dispose of it afterwards (its
 * device destroyed, its worker threads stopped), whatever `fn` does.
 *
 * @param kind the backend
 * @param fn the test's body
 * @returns what `fn` returns
 */
export async function withBackend<T>(
  kind: BackendKind,
  fn: (backend: Backend) => Promise<T>,
): Promise<T> {
  const backend = kind === "webgpu"
    ? await createWebGpuBackend()
    : await createCpuBackend(kind === "typescript" ? { blas: "typescript" } : {});
  try {
    return await fn(backend);
  } finally {
    backend.dispose();
  }
}

/**
 * A function of no arguments that runs `compute` once, on its first call,
 * and returns that promise ever after: a reference (e.g. scikit-learn's
 * result) shared by the variants of a test instead of computed per backend.
 *
 * @param compute computes the reference
 * @returns the memoized computation
 */
export function once<T>(compute: () => Promise<T>): () => Promise<T> {
  let result: Promise<T> | undefined;
  return () => (result ??= compute());
}
