/**
 * Choosing a backend: by name, or automatically.
 *
 * `"auto"` takes WebGPU on a hardware adapter and the CPU backend otherwise:
 * measured on the project's 2-core machines (see README, Performance), the
 * software adapters (llvmpipe, lavapipe, SwiftShader) run GEMM at about
 * 6–8 GFLOP/s while the CPU backend's OpenBLAS runs at 150–200, so WebGPU on
 * a CPU adapter is a compatibility path, not the fast one.
 *
 * @module
 */

import type { Backend } from "./backend.ts";
import { createCpuBackend } from "./cpu_backend.ts";
import { createWebGpuBackend, type WebGpuBackendOptions } from "./webgpu_backend.ts";

/** Options of {@linkcode createBackend}. */
export interface BackendChoice extends WebGpuBackendOptions {
  /** `"auto"` (default), `"cpu"` or `"webgpu"`. */
  backend?: "auto" | "cpu" | "webgpu";
}

const SOFTWARE_ADAPTER = /llvmpipe|lavapipe|swiftshader|softpipe|microsoft basic render/i;

/** Whether a backend's adapter is a software rasteriser running on the CPU. */
export function isSoftwareAdapter(backend: Backend): boolean {
  return backend.info.name === "webgpu" &&
    SOFTWARE_ADAPTER.test(`${backend.info.implementation} ${JSON.stringify(backend.info.details)}`);
}

/**
 * Create the backend asked for; with `"auto"`, WebGPU on a hardware adapter
 * (or a device the caller passes), else the CPU backend. The returned
 * backend's `info.details.choice` says why it was chosen.
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
  if (which === "cpu") return note(await createCpuBackend(), "requested");
  if (which === "webgpu") return note(await createWebGpuBackend(options), "requested");
  if (which !== "auto") {
    throw new RangeError(`backend must be "auto", "cpu" or "webgpu": current value is "${which}"`);
  }
  let gpu: Backend | undefined;
  let why = "";
  try {
    gpu = await createWebGpuBackend(options);
  } catch (err) {
    why = (err as Error).message.split(".")[0];
  }
  if (gpu && (options.device || !isSoftwareAdapter(gpu))) {
    return note(gpu, `auto: hardware WebGPU adapter (${gpu.info.implementation})`);
  }
  if (gpu) {
    why =
      `the only WebGPU adapter is a software one (${gpu.info.implementation}), slower than the CPU backend`;
    gpu.dispose();
  }
  return note(await createCpuBackend(), `auto: ${why || "no WebGPU adapter"}`);
}

function note(b: Backend, choice: string): Backend {
  b.info.details.choice = choice;
  return b;
}
