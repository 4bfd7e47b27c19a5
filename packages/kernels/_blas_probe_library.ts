/**
 * Opening the system BLAS through Deno's FFI, shared by `loadBlas`
 * (blas_ffi.ts) and the core-type probe's child process (_blas_probe.ts),
 * and naming the file the dynamic linker opened, so that a cached probe
 * result is tied to that file. Deno only.
 *
 * @module
 */

/** The library names tried, in order (the dynamic linker resolves each). */
export const BLAS_CANDIDATES = [
  "libopenblas.so.0",
  "libopenblas.so",
  "libopenblas.dylib",
  "libblas.so.3",
];

/** The symbols used: CBLAS's SGEMM, and OpenBLAS's own queries where present. */
export const BLAS_SYMBOLS = {
  cblas_sgemm: {
    parameters: [
      "i32",
      "i32",
      "i32",
      "i32",
      "i32",
      "i32",
      "f32",
      "buffer",
      "i32",
      "buffer",
      "i32",
      "f32",
      "buffer",
      "i32",
    ],
    result: "void",
  },
  openblas_get_corename: { parameters: [], result: "pointer", optional: true },
  openblas_get_config: { parameters: [], result: "pointer", optional: true },
  openblas_get_num_threads: { parameters: [], result: "i32", optional: true },
} as const;

/**
 * Open one of {@linkcode BLAS_CANDIDATES} with {@linkcode BLAS_SYMBOLS}.
 *
 * @param name the library name
 * @returns the library
 * @throws as `Deno.dlopen` does: no such library, no `--allow-ffi`
 */
export function openBlasLibrary(name: string) {
  return Deno.dlopen(name, BLAS_SYMBOLS);
}

/** A BLAS opened with {@linkcode BLAS_SYMBOLS} (named through a function: the npm build's type check has no Deno namespace). */
export type BlasLibrary = ReturnType<typeof openBlasLibrary>;

/**
 * C = A·B in float32 through CBLAS, all row-major and untransposed.
 *
 * @param lib the library
 * @param a shape (m, k), row-major
 * @param b shape (k, n), row-major
 * @param c shape (m, n), row-major; overwritten
 */
export function sgemmPlain(
  lib: BlasLibrary,
  a: Float32Array,
  b: Float32Array,
  c: Float32Array,
  shape: { m: number; k: number; n: number },
): void {
  const { m, k, n } = shape;
  lib.symbols.cblas_sgemm(101, 111, 111, m, n, k, 1, a, k, b, n, 0, c, n);
}

/** OpenBLAS's name for the kernels it runs (`SkylakeX`), or `"unknown"` for another BLAS. */
export function coreNameOf(lib: BlasLibrary): string {
  const p = lib.symbols.openblas_get_corename?.();
  return p ? Deno.UnsafePointerView.getCString(p) : "unknown";
}

/** OpenBLAS's build description (`OpenBLAS 0.3.21 DYNAMIC_ARCH … Cooperlake MAX_THREADS=64`), or "". */
export function configOf(lib: BlasLibrary): string {
  const p = lib.symbols.openblas_get_config?.();
  return p ? Deno.UnsafePointerView.getCString(p) : "";
}

/** The file a loaded library came from, as a cache compares it. */
export interface LibraryFile {
  /** Its real path (symbolic links, e.g. Debian's alternatives, resolved). */
  path: string;
  size: number;
  /** Modification time in ms since the epoch; 0 where not reported. */
  mtimeMs: number;
}

/**
 * The file behind a library this process has loaded under `name`, asked of
 * the dynamic linker (dlopen with RTLD_NOLOAD, dlsym, dladdr: glibc ≥ 2.34
 * has them in libc.so.6, older ones in libdl.so.2).
 *
 * @param name the name it was loaded by (one of {@linkcode BLAS_CANDIDATES})
 * @param symbol a symbol it exports. Default: `cblas_sgemm`
 * @returns the file, or undefined where the linker or the file system
 *   cannot say (not Linux, no read permission)
 */
export function loadedLibraryFile(name: string, symbol = "cblas_sgemm"): LibraryFile | undefined {
  const enc = (s: string) => new TextEncoder().encode(s + "\0");
  for (const libName of ["libc.so.6", "libdl.so.2"]) {
    let dl;
    try {
      dl = Deno.dlopen(libName, {
        dlopen: { parameters: ["buffer", "i32"], result: "pointer" },
        dlsym: { parameters: ["pointer", "buffer"], result: "pointer" },
        dladdr: { parameters: ["pointer", "buffer"], result: "i32" },
        dlclose: { parameters: ["pointer"], result: "i32" },
      });
    } catch {
      continue;
    }
    try {
      const RTLD_LAZY = 1, RTLD_NOLOAD = 4;
      const handle = dl.symbols.dlopen(enc(name), RTLD_LAZY | RTLD_NOLOAD);
      if (!handle) return undefined;
      try {
        const sym = dl.symbols.dlsym(handle, enc(symbol));
        if (!sym) return undefined;
        // Dl_info: { const char *dli_fname; void *dli_fbase; const char *dli_sname; void *dli_saddr }
        const info = new BigUint64Array(4);
        if (dl.symbols.dladdr(sym, new Uint8Array(info.buffer)) === 0) return undefined;
        const fname = Deno.UnsafePointer.create(info[0]);
        if (!fname) return undefined;
        return fileIdentity(Deno.UnsafePointerView.getCString(fname));
      } finally {
        dl.symbols.dlclose(handle);
      }
    } catch {
      return undefined;
    } finally {
      dl.close();
    }
  }
  return undefined;
}

/**
 * A file's real path, size and modification time.
 *
 * @param path the file
 * @returns them, or undefined where the file is gone or cannot be read
 */
export function fileIdentity(path: string): LibraryFile | undefined {
  try {
    const real = Deno.realPathSync(path);
    const st = Deno.statSync(real);
    return { path: real, size: st.size, mtimeMs: st.mtime?.getTime() ?? 0 };
  } catch {
    return undefined;
  }
}
