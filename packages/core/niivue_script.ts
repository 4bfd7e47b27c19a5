/**
 * NiiVue (the WebGL2 brain viewer) bundled once for every place brainorg
 * shows it: as a browser ES module for the dashboard (`format: "esm"`,
 * loaded by `import()` from the islands that draw a brain) and as one
 * classic script for the self-contained report (`format: "iife"`, setting
 * `globalThis.niivue` to the whole `@niivue/niivue` module, inlined in
 * `report.html` because a page opened from `file://` may fetch nothing).
 * Both are built by the same esbuild call from the same source, with
 * `_niivue_patches.ts` applied (shader programs compiled on first use, the
 * 3-D render's gradient made when a render is drawn: a faster start where
 * WebGL runs on the CPU, and the report draws five views). A build takes
 * about a second; it is kept in the brainorg cache per NiiVue, esbuild,
 * patches and format, so repeated runs, dashboard starts and runs without
 * a network pay nothing for it.
 *
 * @module
 */

import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Plugin } from "esbuild";
import { checkCacheEntry, sha256, writeCacheEntry } from "@brainorg/common";
import { NIIVUE_PATCHES, patchNiivue } from "./_niivue_patches.ts";

/** The global the classic script sets: `globalThis.niivue.Niivue`, `.NVImage`, … */
export const NIIVUE_GLOBAL: string = "niivue";

/**
 * The version of an npm package as Deno resolves it: `npm:@niivue/niivue@0.69.0`, or, with a
 * node_modules folder, `…/.deno/@niivue+niivue@0.69.0/…` → `0.69.0`.
 */
function pinned(name: "@niivue/niivue" | "esbuild"): string {
  const spec = import.meta.resolve(name);
  const m = new RegExp(`(?:npm:${name}|${name.replace("/", "\\+")})@([^/]+)`).exec(spec);
  return m?.[1] ?? spec;
}

/** The NiiVue version the import map pins, e.g. `0.69.0`. */
export function niivueVersion(): string {
  return pinned("@niivue/niivue");
}

/** Options of {@linkcode niivueScript}. */
export interface NiivueScriptOptions {
  /** The brainorg cache folder (the bundle goes under `niivue/`); absent: no cache, built each time. */
  cacheDir?: string;
  /**
   * `"iife"`: a classic script setting `globalThis.niivue` (the report);
   * `"esm"`: a browser ES module re-exporting NiiVue (the dashboard). Default: `"iife"`.
   */
  format?: "iife" | "esm";
  /** Told when the patches could not be applied (the bundle is then NiiVue as published). */
  warn?: (message: string) => void;
}

/** Folders esbuild looks for `@niivue/niivue` in: the working folder's and the checkout's node_modules. */
function nodePaths(): string[] {
  const paths = [join(Deno.cwd(), "node_modules")];
  if (import.meta.url.startsWith("file:")) {
    paths.push(fileURLToPath(new URL("../../node_modules", import.meta.url)));
  }
  return paths;
}

/** NiiVue's module as it is loaded into the bundle: with `_niivue_patches.ts` applied. */
function patches(warn: (message: string) => void): Plugin {
  return {
    name: "niivue-patches",
    setup(build) {
      build.onLoad(
        { filter: /[\\/]@niivue[\\/]niivue[\\/]build[\\/]niivue[\\/]index\.js$/ },
        async (args) => {
          const { source, missed } = patchNiivue(await readFile(args.path, "utf8"));
          // The viewer works unpatched, only slower to start: said, not fatal.
          if (missed.length) warn(`NiiVue bundled unpatched: ${missed.join("; ")} not found`);
          return { contents: source, loader: "js" };
        },
      );
    },
  };
}

/** One esbuild call: `@niivue/niivue`, patched, minified, as a module or a classic script. */
async function build(format: "iife" | "esm", warn: (message: string) => void): Promise<string> {
  // Loaded only to build: a run whose bundle is cached never starts esbuild.
  const esbuild = await import("esbuild");
  try {
    const out = await esbuild.build({
      stdin: { contents: `export * from "@niivue/niivue";`, resolveDir: Deno.cwd(), loader: "js" },
      bundle: true,
      format,
      ...(format === "iife" ? { globalName: NIIVUE_GLOBAL } : {}),
      platform: "browser",
      target: "es2022",
      minify: true,
      write: false,
      logLevel: "silent",
      nodePaths: nodePaths(),
      plugins: [patches(warn)],
    });
    return out.outputFiles![0].text;
  } finally {
    // esbuild's service would keep the process alive.
    await esbuild.stop();
  }
}

/**
 * NiiVue bundled (patched), from the cache when an entry for this NiiVue,
 * esbuild, patch set and format exists, else built and put there.
 *
 * @param options where the cache is, which format, where a warning goes
 * @returns the script's source and whether it came from the cache
 *
 * @example
 * ```ts
 * import { niivueScript } from "@brainorg/core";
 * const { js, cached } = await niivueScript({ cacheDir: "/tmp/brainorg-cache" });
 * console.log(`${(js.length / 1e6).toFixed(1)} MB`, cached);
 * ```
 */
export async function niivueScript(
  options: NiivueScriptOptions = {},
): Promise<{ js: string; cached: boolean }> {
  const format = options.format ?? "iife", warn = options.warn ?? console.warn;
  if (!options.cacheDir) return { js: await build(format, warn), cached: false };
  const key = sha256(
    JSON.stringify({
      what: "brainorg.niivue-bundle/2",
      niivue: niivueVersion(),
      esbuild: pinned("esbuild"),
      format,
      global: NIIVUE_GLOBAL,
      patches: NIIVUE_PATCHES,
    }),
  ).slice(0, 32);
  const dir = join(options.cacheDir, "niivue", key), file = `niivue.${format}.js`;
  // Sizes only: a damaged bundle fails loudly in the browser tests, and hashing 2 MB per run buys nothing.
  if ((await checkCacheEntry(dir, { hashes: false })).state === "whole") {
    try {
      return { js: await Deno.readTextFile(join(dir, file)), cached: true };
    } catch {
      // Unreadable: built again below, and the entry replaced.
    }
  }
  let patched = true;
  const js = await build(format, (message) => {
    patched = false;
    warn(message);
  });
  // An unpatched bundle is not kept: the next build says why again.
  if (patched) {
    await writeCacheEntry(dir, (tmp) => Deno.writeTextFile(join(tmp, file), js), { replace: true })
      .catch(() => {}); // a read-only cache costs a rebuild next time, never the bundle
  }
  return { js, cached: false };
}
