/**
 * The embedded WebAssembly kernels, instantiated once per thread.
 *
 * @module
 */

import { WASM_BASE64 } from "./wasm_binaries.ts";

const instances = new Map<string, WebAssembly.Exports>();

/** This thread's instance of `wasm/<name>.c` (compiled once: each is a few kilobytes). */
export function wasmExports<T>(name: keyof typeof WASM_BASE64): T {
  let ex = instances.get(name);
  if (!ex) {
    const bytes = Uint8Array.from(atob(WASM_BASE64[name]), (c) => c.charCodeAt(0));
    ex = new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports;
    instances.set(name, ex);
  }
  return ex as T;
}
