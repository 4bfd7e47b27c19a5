/**
 * The esbuild call behind the islands' browser bundle: a minified ES module
 * built in memory (NiiVue's module comes from `niivueScript` in `@brainorg/core`).
 *
 * @module
 */

import { join } from "node:path";
import * as esbuild from "esbuild";

/**
 * Bundles `stdin` (its imports resolved from `stdin.resolveDir`, then the
 * project's node_modules) as one minified browser ES module.
 *
 * @param stdin the entry's source, folder and loader
 * @param options further esbuild options (jsx, target…), overriding the defaults
 * @returns the module's JavaScript source
 */
export async function bundleBrowserModule(
  stdin: esbuild.StdinOptions,
  options: esbuild.BuildOptions = {},
): Promise<string> {
  try {
    const out = await esbuild.build({
      stdin,
      bundle: true,
      format: "esm",
      platform: "browser",
      minify: true,
      write: false,
      logLevel: "silent",
      nodePaths: [join(Deno.cwd(), "node_modules")],
      ...options,
    });
    return out.outputFiles![0].text;
  } finally {
    // esbuild's service would keep the process alive; each build stops it.
    await esbuild.stop();
  }
}
