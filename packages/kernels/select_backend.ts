/**
 * Choosing a backend: by name, or automatically.
 *
 * `"auto"` takes WebGPU on a hardware adapter whose kernels pass the
 * self-check (webgpu_self_check.ts) and the CPU backend otherwise:
 * measured on the project's 2-core machines (see README, Performance), the
 * software adapters (llvmpipe, lavapipe, SwiftShader) run GEMM at about
 * 6–8 GFLOP/s while the CPU backend's OpenBLAS runs at 150–200, so WebGPU on
 * a CPU adapter is a compatibility path, not the fast one.
 *
 * @module
 */

import type { Backend } from "./backend.ts";
import { type CpuBackendOptions, createCpuBackend } from "./cpu_backend.ts";
import {
  createWebGpuBackend,
  describeFailures,
  type SelfCheckReport,
  type WebGpuBackend,
  type WebGpuBackendOptions,
} from "./webgpu_backend.ts";

/** Options of {@linkcode createBackend}. */
export interface BackendChoice extends WebGpuBackendOptions {
  /** `"auto"` (default), `"cpu"` or `"webgpu"`. */
  backend?: "auto" | "cpu" | "webgpu";
  /** The CPU backend's options, where it is chosen (threads, products). */
  cpu?: CpuBackendOptions;
}

const SOFTWARE_ADAPTER = /llvmpipe|lavapipe|swiftshader|softpipe|microsoft basic render/i;

/**
 * Whether a backend's adapter is a software rasteriser running on the CPU
 * (llvmpipe, lavapipe, SwiftShader, softpipe, Microsoft Basic Render), from
 * its description.
 *
 * @param backend any backend
 * @returns true for a WebGPU backend on a software adapter; false otherwise (the CPU backend too)
 *
 * @example
 * ```ts
 * import { createBackend, isSoftwareAdapter } from "@brainorg/kernels";
 * const backend = await createBackend({ backend: "webgpu" });
 * if (isSoftwareAdapter(backend)) console.log("WebGPU runs on the CPU here: slower than the CPU backend");
 * backend.dispose();
 * ```
 */
export function isSoftwareAdapter(backend: Backend): boolean {
  return backend.info.name === "webgpu" &&
    SOFTWARE_ADAPTER.test(`${backend.info.implementation} ${JSON.stringify(backend.info.details)}`);
}

/**
 * Create the backend asked for. With `"auto"`: WebGPU on a hardware adapter
 * (or a device the caller passes) whose kernels pass the self-check, else
 * the CPU backend. The returned backend's `info.details.choice` says why it
 * was chosen; when an adapter was refused by the self-check,
 * `info.details.webgpuSelfCheck` holds its report. An explicit `"webgpu"`
 * request on an adapter that fails the self-check throws
 * `WebGpuSelfCheckError`.
 *
 * @param options which backend, and the options of each (see {@linkcode BackendChoice}). Default: `"auto"`.
 * @returns the backend, with `info.details.choice` set
 * @throws {RangeError} for an unknown `backend`
 * @throws {Error} for an explicit `"webgpu"` without an adapter, or `"cpu"` with an unusable library
 *
 * @example
 * ```ts
 * import { createBackend } from "@brainorg/kernels";
 * const b = await createBackend();
 * console.log(b.info.name, b.info.details.choice);
 * b.dispose();
 * ```
 */
export async function createBackend(options: BackendChoice = {}): Promise<Backend> {
  const which = options.backend ?? "auto";
  if (which === "cpu") return note(await createCpuBackend(options.cpu), "requested");
  if (which === "webgpu") return note(await createWebGpuBackend(options), "requested");
  if (which !== "auto") {
    throw new RangeError(`backend must be "auto", "cpu" or "webgpu": current value is "${which}"`);
  }
  let gpu: WebGpuBackend | undefined;
  let why = "";
  let report: SelfCheckReport | undefined;
  try {
    // The self-check waits until the adapter is known to be worth using.
    gpu = await createWebGpuBackend({ ...options, selfCheck: false });
  } catch (err) {
    why = (err as Error).message.split(".")[0];
  }
  if (gpu && !options.device && isSoftwareAdapter(gpu)) {
    why =
      `the only WebGPU adapter is a software one (${gpu.info.implementation}), slower than the CPU backend`;
    gpu.dispose();
    gpu = undefined;
  }
  if (gpu) {
    report = await gpu.selfCheck();
    if (report.ok) {
      return note(gpu, `auto: hardware WebGPU adapter (${gpu.info.implementation})`);
    }
    why = `the WebGPU adapter (${gpu.info.implementation}) failed the kernel self-check: ` +
      describeFailures(report.failures);
    gpu.dispose();
  }
  const cpu = note(await createCpuBackend(options.cpu), `auto: ${why || "no WebGPU adapter"}`);
  if (report) cpu.info.details.webgpuSelfCheck = report;
  return cpu;
}

function note(b: Backend, choice: string): Backend {
  b.info.details.choice = choice;
  return b;
}
