/**
 * Whether WebGPU tests can run here. CI sets BRAINORG_REQUIRE_WEBGPU=1 so a
 * missing adapter fails the run instead of skipping the tests.
 *
 * @module
 */

import { reportMissing } from "./missing.ts";

let available: boolean | undefined;

/** True when an adapter exists; prints a visible notice (or throws under CI) when not. */
export async function haveWebGpu(): Promise<boolean> {
  if (available === undefined) {
    const adapter = await (globalThis.navigator as Navigator | undefined)?.gpu?.requestAdapter();
    available = !!adapter || reportMissing(
      "NO WEBGPU ADAPTER: WebGPU tests ignored (apt-get install mesa-vulkan-drivers).",
      "BRAINORG_REQUIRE_WEBGPU",
    );
  }
  return available;
}
