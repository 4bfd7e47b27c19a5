/**
 * Whether WebGPU tests can run here. CI sets BRAINORG_REQUIRE_WEBGPU=1 so a
 * missing adapter fails the run instead of skipping the tests.
 *
 * @module
 */

let available: boolean | undefined;

/** True when an adapter exists; prints a visible notice (or throws under CI) when not. */
export async function haveWebGpu(): Promise<boolean> {
  if (available === undefined) {
    const adapter = await (globalThis.navigator as Navigator | undefined)?.gpu?.requestAdapter();
    available = !!adapter;
    if (!available) {
      const msg = "NO WEBGPU ADAPTER: WebGPU tests ignored (apt-get install mesa-vulkan-drivers).";
      if (Deno.env.get("BRAINORG_REQUIRE_WEBGPU") === "1") throw new Error(msg);
      console.warn(`%c${msg}`, "color: red; font-weight: bold");
    }
  }
  return available;
}
