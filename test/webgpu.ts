/**
 * Whether WebGPU tests can run here. CI sets BRAINORG_REQUIRE_WEBGPU=1 so a
 * missing adapter fails the run instead of skipping the tests, and runs the
 * WebGPU tests once per adapter (DENO_WEBGPU_BACKEND=gl, then vulkan): the
 * adapter each run got is printed so the log shows both.
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
    if (adapter && Deno.env.get("BRAINORG_REQUIRE_WEBGPU") === "1") {
      const backend = Deno.env.get("DENO_WEBGPU_BACKEND") ?? "default";
      console.log(
        `WebGPU tests on "${adapter.info.description || "an unnamed adapter"}" ` +
          `(DENO_WEBGPU_BACKEND=${backend}; shader-f16 ${adapter.features.has("shader-f16")})`,
      );
    }
  }
  return available;
}
