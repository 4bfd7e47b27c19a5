/**
 * NiiVue (WebGL2 viewer of NIfTI volumes and meshes) as one browser module,
 * served apart from the islands' bundle at {@linkcode NIIVUE_URL}: it is
 * large (2.3 MB minified), so islands that draw a brain load it
 * with a dynamic `import(NIIVUE_URL)` and pages without a brain view never
 * download it. The module re-exports all of `@niivue/niivue` (`Niivue`,
 * `SLICE_TYPE`, `NVImage`, `NVMesh`, …), patched and built by the same
 * `niivueScript` as the report's inlined copy (`@brainorg/core`), and read
 * from the brainorg cache after the first build.
 *
 * @module
 */

import { niivueScript } from "@brainorg/core";
import { cacheDirFor } from "@brainorg/datasets";
import { NIIVUE_URL } from "./urls.ts";

export { NIIVUE_URL };

/** The bundle, built once per process: every handler shares it. */
let built: Promise<string> | null = null;

/**
 * NiiVue bundled as a minified browser ES module (`export * from "@niivue/niivue"`).
 * Read from the brainorg cache, or built (esbuild, a second or two) on the
 * first call, and kept in memory.
 *
 * @returns the module's JavaScript source
 *
 * @example
 * ```ts
 * const js = await buildNiivueBundle();
 * console.log(`${(js.length / 1e6).toFixed(1)} MB`);
 * ```
 */
export function buildNiivueBundle(): Promise<string> {
  // A failed build is not cached: the next request tries again.
  built ??= bundle().catch((err) => {
    built = null;
    throw err;
  });
  return built;
}

/**
 * Resolves once no NiiVue build is under way (at once when none was ever
 * started). esbuild's service is shared by every build of the process, and
 * each build stops it when done, so other builds (the islands') wait for this.
 */
export function niivueBuildSettled(): Promise<void> {
  return built ? built.then(() => {}, () => {}) : Promise.resolve();
}

async function bundle(): Promise<string> {
  // The cache the reference data use ($BRAINORG_CACHE or the user's cache folder).
  return (await niivueScript({ format: "esm", cacheDir: cacheDirFor() })).js;
}

/** Per bundle text (one, in practice): its entity tag and its gzip, made once. */
const prepared = new Map<string, Promise<{ etag: string; gzip: Uint8Array }>>();

function prepare(js: string): Promise<{ etag: string; gzip: Uint8Array }> {
  let p = prepared.get(js);
  if (!p) {
    const bytes = new TextEncoder().encode(js);
    p = Promise.all([
      crypto.subtle.digest("SHA-256", bytes),
      new Response(new Blob([bytes]).stream().pipeThrough(new CompressionStream("gzip")))
        .arrayBuffer(),
    ]).then(([digest, gz]) => ({
      etag: `"${
        Array.from(new Uint8Array(digest).subarray(0, 12), (b) => b.toString(16).padStart(2, "0"))
          .join("")
      }"`,
      gzip: new Uint8Array(gz),
    }));
    prepared.set(js, p);
  }
  return p;
}

/**
 * The answer to a request for {@linkcode NIIVUE_URL}: the bundle, cacheable
 * for an hour and revalidated by its entity tag after that (304), gzipped
 * for browsers that take it (2.3 MB, 0.8 MB gzipped): every page with a
 * brain view needs it, and fetches it once.
 *
 * @param req the request (its `if-none-match` and `accept-encoding` are read)
 * @returns 200 with the module, or 304
 *
 * @example
 * ```ts
 * const res = await serveNiivueBundle(new Request("http://127.0.0.1/assets/niivue.js"));
 * console.log(res.headers.get("etag"));
 * ```
 */
export async function serveNiivueBundle(req: Request): Promise<Response> {
  const js = await buildNiivueBundle();
  const { etag, gzip } = await prepare(js);
  const headers: Record<string, string> = {
    "content-type": "text/javascript; charset=utf-8",
    "x-content-type-options": "nosniff",
    "cache-control": "public, max-age=3600",
    vary: "accept-encoding",
    etag,
  };
  if (req.headers.get("if-none-match") === etag) {
    return new Response(null, { status: 304, headers });
  }
  if (/\bgzip\b/.test(req.headers.get("accept-encoding") ?? "")) {
    return new Response(gzip.slice(), { headers: { ...headers, "content-encoding": "gzip" } });
  }
  return new Response(js, { headers });
}
