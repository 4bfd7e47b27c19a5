/**
 * Getting a WebGPU device, with errors that say what to do when there is none.
 *
 * @module
 */

/** Options of {@linkcode acquireDevice}. */
export interface AcquireOptions {
  /** Use this device (e.g. the page's own); brainorg will not destroy it. */
  device?: GPUDevice;
  /** Adapter preference. Default: `"high-performance"`. */
  powerPreference?: GPUPowerPreference;
}

/** A device and what it is. */
export interface AcquiredDevice {
  /** The device, with the adapter's largest storage-binding and buffer limits when brainorg created it. */
  device: GPUDevice;
  /** Adapter description (vendor, architecture, device, description), when known. */
  adapter: Record<string, string>;
  /** Whether brainorg created the device (and so destroys it on dispose). */
  owned: boolean;
  /** Set when the device is lost, with the reason. */
  lost: { reason?: string };
}

/**
 * Acquire a GPUDevice with the adapter's largest storage-binding and buffer
 * limits.
 *
 * @param options a device of the caller's to use instead, or the adapter
 *   preference (see {@linkcode AcquireOptions}). Default: none.
 * @returns the device, its adapter's description, whether brainorg owns it,
 *   and the reason it was lost once it is
 * @throws {Error} when WebGPU is missing from the runtime or no adapter exists,
 *   saying how to get one or to use the CPU backend
 *
 * @example
 * ```ts
 * import { acquireDevice } from "@brainorg/kernels";
 * const { device, adapter, owned } = await acquireDevice();
 * console.log(adapter.description, device.limits.maxStorageBufferBindingSize);
 * if (owned) device.destroy();
 * ```
 */
export async function acquireDevice(options: AcquireOptions = {}): Promise<AcquiredDevice> {
  if (options.device) {
    const lost = {} as { reason?: string };
    options.device.lost.then((info) => (lost.reason = `${info.reason}: ${info.message}`));
    // Runtimes that implement GPUDevice.adapterInfo say what the device runs on.
    const info = (options.device as { adapterInfo?: GPUAdapterInfo }).adapterInfo;
    return { device: options.device, adapter: info ? describe(info) : {}, owned: false, lost };
  }
  const gpu = (globalThis.navigator as Navigator | undefined)?.gpu;
  if (!gpu) {
    throw new Error(
      "WebGPU is not available in this runtime (navigator.gpu is missing). " +
        "In a browser, enable WebGPU (Chromium: --enable-unsafe-webgpu on Linux); " +
        "or use the CPU backend (--backend cpu).",
    );
  }
  const adapter = await gpu.requestAdapter({
    powerPreference: options.powerPreference ?? "high-performance",
  });
  if (!adapter) {
    throw new Error(
      "no WebGPU adapter found. On a machine without a GPU, install Mesa's software adapters " +
        "(Debian: apt-get install mesa-vulkan-drivers; choose with DENO_WEBGPU_BACKEND=vulkan|gl), " +
        "or use the CPU backend (--backend cpu).",
    );
  }
  const device = await adapter.requestDevice({
    requiredLimits: {
      maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
      maxBufferSize: adapter.limits.maxBufferSize,
    },
  });
  const lost = {} as { reason?: string };
  device.lost.then((info) => (lost.reason = `${info.reason}: ${info.message}`));
  return { device, adapter: describe(adapter.info), owned: true, lost };
}

function describe(info: GPUAdapterInfo | undefined): Record<string, string> {
  return {
    vendor: info?.vendor ?? "",
    architecture: info?.architecture ?? "",
    device: info?.device ?? "",
    description: info?.description ?? "",
  };
}
