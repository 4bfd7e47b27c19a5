/**
 * Process-wide memory settings for large numeric buffers.
 *
 * @module
 */

/**
 * Ask glibc to keep freed memory for reuse instead of returning it to the
 * system, once per process. Every product and solver allocates large typed
 * arrays anew (V8 takes ArrayBuffers from malloc, onnxruntime its outputs),
 * and on the virtual machines we measure on a fresh page costs 12–15 µs to
 * touch: allocating and filling 16 MiB took 29 ms as glibc hands out fresh
 * pages (mmap), 7–8 ms reusing freed ones; a 32,810 × 512 product through
 * onnxruntime 300 ms against 16 ms. Large blocks then come from the heap,
 * and up to 1 GiB of freed heap stays with the process. Linux with glibc
 * and FFI permission only; elsewhere nothing changes.
 */
export function keepFreedMemory(): void {
  if (applied) return;
  applied = true;
  try {
    if (typeof Deno === "undefined" || Deno.build.os !== "linux") return;
    const libc = Deno.dlopen("libc.so.6", {
      mallopt: { parameters: ["i32", "i32"], result: "i32" },
    });
    const M_TRIM_THRESHOLD = -1, M_MMAP_MAX = -4;
    libc.symbols.mallopt(M_MMAP_MAX, 0);
    libc.symbols.mallopt(M_TRIM_THRESHOLD, 2 ** 30);
    libc.close();
  } catch { /* no FFI permission, no glibc: allocation stays as it was */ }
}

let applied = false;
