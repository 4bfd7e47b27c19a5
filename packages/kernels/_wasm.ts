/**
 * The embedded WebAssembly kernels, compiled once per thread and
 * instantiated once per thread (or once per call that must keep its
 * buffers across an await).
 *
 * @module
 */

import { WASM_BASE64 } from "./wasm_binaries.ts";

type KernelName = keyof typeof WASM_BASE64;
const modules = new Map<string, WebAssembly.Module>();
const instances = new Map<string, WebAssembly.Exports>();

function compiled(name: KernelName): WebAssembly.Module {
  let module = modules.get(name);
  if (!module) {
    const bytes = Uint8Array.from(atob(WASM_BASE64[name]), (c) => c.charCodeAt(0));
    module = new WebAssembly.Module(bytes);
    modules.set(name, module);
  }
  return module;
}

/** This thread's instance of `wasm/<name>.c` (compiled once: each is a few kilobytes). */
export function wasmExports<T>(name: KernelName): T {
  let ex = instances.get(name);
  if (!ex) {
    ex = new WebAssembly.Instance(compiled(name)).exports;
    instances.set(name, ex);
  }
  return ex as T;
}

/**
 * A new instance of `wasm/<name>.c`, with a memory of its own: for a call
 * whose buffers live in module memory while it awaits, which the thread's
 * shared instance cannot promise (another call may reset it meanwhile).
 */
export function newWasmInstance<T>(name: KernelName): T {
  return new WebAssembly.Instance(compiled(name)).exports as T;
}
