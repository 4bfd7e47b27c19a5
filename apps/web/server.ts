/**
 * The dashboard's request handler: file routes rendered on the server with
 * Preact, the islands' bundle, and nothing outside the results folders.
 *
 * @module
 */

import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { h, type VNode } from "preact";
import { buildIslands } from "./islands.ts";
import {
  buildNiivueBundle,
  NIIVUE_URL,
  niivueBuildSettled,
  serveNiivueBundle,
} from "./niivue_bundle.ts";
import { loadRoutes, matchRoute, type PageProps, type RouteContext } from "./router.ts";
import { loadRuns, refreshRuns, type Run } from "./runs.ts";
import { ErrorPage } from "./components/ErrorPage.tsx";
import { htmlResponse } from "./render.ts";

const ROUTES = join(dirname(fileURLToPath(import.meta.url)), "routes");

/**
 * A request handler over the given results folders, each checked again
 * (cheaply: see {@linkcode refreshRuns}) on every page request. A page that fails
 * anyway answers 500 with the error's message (escaped like any text); the
 * pages are written so that no results folder, however broken, gets there.
 */
export async function createHandler(folders: string[]): Promise<{
  handler: (req: Request) => Promise<Response>;
  runs: Run[];
}> {
  const [routes, islands, runs] = await Promise.all([
    loadRoutes(ROUTES),
    // One esbuild build at a time: each stops the shared service when it is done.
    niivueBuildSettled().then(buildIslands),
    loadRuns(folders),
  ]);
  // Built now, in the background, so that the first brain view does not wait for it.
  buildNiivueBundle().catch((err) => console.error(err));
  const html = htmlResponse;
  const handler = async (req: Request): Promise<Response> => {
    const url = new URL(req.url);
    if (req.method !== "GET" && req.method !== "HEAD") {
      return new Response("method not allowed", { status: 405 });
    }
    if (url.pathname === "/_islands.js") {
      return new Response(islands, {
        headers: {
          "content-type": "text/javascript; charset=utf-8",
          "x-content-type-options": "nosniff",
        },
      });
    }
    if (url.pathname === NIIVUE_URL) return await serveNiivueBundle(req);
    const found = matchRoute(routes, url.pathname);
    if (!found) {
      return html(
        h(ErrorPage, { title: "Not found", message: `No page at ${url.pathname}.` }),
        404,
      );
    }
    try {
      // A folder rewritten or replaced by a new run is seen now, not at the next start.
      const ctx: RouteContext = { req, url, params: found.params, runs: await refreshRuns(runs) };
      const mod = found.route.module;
      if (mod.GET) return await mod.GET(ctx);
      const data = mod.load ? await mod.load(ctx) : undefined;
      if (data instanceof Response) return data;
      // A module's page and its load are typed together (PageProps<LoadedData<typeof load>>).
      const page = mod.default as (props: PageProps<unknown>) => VNode;
      return html(h(page, { ctx, data }));
    } catch (err) {
      console.error(err);
      return html(
        h(ErrorPage, { title: "Error", message: String((err as Error).message ?? err) }),
        500,
      );
    }
  };
  return { handler, runs };
}
