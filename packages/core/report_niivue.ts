/**
 * NiiVue (the WebGL2 brain viewer the dashboard uses) as one classic script
 * for the self-contained report: an IIFE that sets `globalThis.niivue` to
 * the whole `@niivue/niivue` module, inlined in `report.html` because a
 * page opened from `file://` may fetch nothing. Built with esbuild (about
 * half a second) once per NiiVue and esbuild version, then read from the
 * brainorg cache, so that repeated runs, and runs without a network, pay
 * nothing for it.
 *
 * @module
 */

import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { checkCacheEntry, sha256, writeCacheEntry } from "@brainorg/common";

/** The global the bundle sets: `globalThis.niivue.Niivue`, `.NVImage`, … */
export const NIIVUE_GLOBAL: string = "niivue";

/** The bundle's file in its cache entry. */
const FILE = "niivue.iife.js";

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
}

/** Folders esbuild looks for `@niivue/niivue` in: the working folder's and the checkout's node_modules. */
function nodePaths(): string[] {
  const paths = [join(Deno.cwd(), "node_modules")];
  if (import.meta.url.startsWith("file:")) {
    paths.push(fileURLToPath(new URL("../../node_modules", import.meta.url)));
  }
  return paths;
}

/** One esbuild call: `@niivue/niivue` as a minified IIFE setting {@linkcode NIIVUE_GLOBAL}. */
async function build(): Promise<string> {
  // Loaded only to build: a run whose bundle is cached never starts esbuild.
  const esbuild = await import("esbuild");
  try {
    const out = await esbuild.build({
      stdin: { contents: `export * from "@niivue/niivue";`, resolveDir: Deno.cwd(), loader: "js" },
      bundle: true,
      format: "iife",
      globalName: NIIVUE_GLOBAL,
      platform: "browser",
      target: "es2022",
      minify: true,
      write: false,
      logLevel: "silent",
      nodePaths: nodePaths(),
    });
    return out.outputFiles![0].text;
  } finally {
    // esbuild's service would keep the process alive.
    await esbuild.stop();
  }
}

/**
 * NiiVue as a classic script (IIFE) setting `globalThis.niivue`, from the
 * cache when an entry for this NiiVue and esbuild exists, else built and
 * put there.
 *
 * @param options where the cache is
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
  if (!options.cacheDir) return { js: await build(), cached: false };
  const key = sha256(
    JSON.stringify({
      what: "brainorg.niivue-iife/1",
      niivue: niivueVersion(),
      esbuild: pinned("esbuild"),
      global: NIIVUE_GLOBAL,
    }),
  ).slice(0, 32);
  const dir = join(options.cacheDir, "niivue", key);
  // Sizes only: a damaged bundle fails loudly in the browser test, and hashing 2 MB per run buys nothing.
  if ((await checkCacheEntry(dir, { hashes: false })).state === "whole") {
    try {
      return { js: await Deno.readTextFile(join(dir, FILE)), cached: true };
    } catch {
      // Unreadable: built again below, and the entry replaced.
    }
  }
  const js = await build();
  await writeCacheEntry(dir, (tmp) => Deno.writeTextFile(join(tmp, FILE), js), { replace: true })
    .catch(() => {}); // a read-only cache costs a rebuild next time, never the report
  return { js, cached: false };
}
