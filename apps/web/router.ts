/**
 * File-based routes, as Fresh has them: `routes/index.tsx` serves `/`,
 * `routes/runs/[run]/index.tsx` serves `/runs/:run`, `[...path]` takes the
 * rest of the URL. A route module exports a page (`default`, with an
 * optional `load` that fetches its data) or a raw `GET` handler.
 *
 * @module
 */

import { join, relative } from "node:path";
import { pathToFileURL } from "node:url";
import type { VNode } from "preact";
import type { Run } from "./runs.ts";

/** What a route sees. */
export interface RouteContext {
  req: Request;
  url: URL;
  params: Record<string, string>;
  runs: Run[];
}

/** A page's props: the request's context and what its `load` returned. */
export interface PageProps<T = undefined> {
  ctx: RouteContext;
  data: T;
}

/** What a page's `load` hands its component: a `Response` it returns is sent as is instead. */
export type LoadedData<L extends (ctx: RouteContext) => unknown> = Exclude<
  Awaited<ReturnType<L>>,
  Response
>;

/**
 * A route module. Its page is typed by its own `load` (`PageProps<LoadedData<typeof load>>`);
 * here, where any page may meet any data, the page takes `never`, which every page accepts.
 */
export interface RouteModule {
  default?: (props: PageProps<never>) => VNode;
  load?: (ctx: RouteContext) => Promise<unknown>;
  GET?: (ctx: RouteContext) => Promise<Response> | Response;
}

/** A route and its URL pattern. */
export interface Route {
  file: string;
  segments: { kind: "static" | "param" | "rest"; name: string }[];
  module: RouteModule;
}

async function* walk(dir: string): AsyncGenerator<string> {
  for await (const e of Deno.readDir(dir)) {
    const p = join(dir, e.name);
    if (e.isDirectory) yield* walk(p);
    else if (/\.tsx?$/.test(e.name) && !e.name.endsWith("_test.ts")) yield p;
  }
}

/** Load every route under `dir`, most specific first. */
export async function loadRoutes(dir: string): Promise<Route[]> {
  const routes: Route[] = [];
  for await (const file of walk(dir)) {
    const parts = relative(dir, file).replace(/\.tsx?$/, "").split(/[\\/]/);
    if (parts.at(-1) === "index") parts.pop();
    const segments = parts.map((p) => {
      const rest = /^\[\.\.\.(\w+)\]$/.exec(p), param = /^\[(\w+)\]$/.exec(p);
      return rest
        ? { kind: "rest" as const, name: rest[1] }
        : param
        ? { kind: "param" as const, name: param[1] }
        : { kind: "static" as const, name: p };
    });
    routes.push({ file, segments, module: await import(pathToFileURL(file).href) });
  }
  const rank = (r: Route) =>
    r.segments.map((s) => (s.kind === "static" ? 0 : s.kind === "param" ? 1 : 2));
  return routes.sort((a, b) => {
    const ra = rank(a), rb = rank(b);
    for (let i = 0; i < Math.min(ra.length, rb.length); i++) {
      if (ra[i] !== rb[i]) return ra[i] - rb[i];
    }
    return rb.length - ra.length;
  });
}

/** The first route matching a path, with its parameters (decoded). */
export function matchRoute(
  routes: Route[],
  pathname: string,
): { route: Route; params: Record<string, string> } | null {
  let parts: string[];
  try {
    parts = pathname.split("/").filter(Boolean).map(decodeURIComponent);
  } catch {
    return null;
  }
  for (const route of routes) {
    const params: Record<string, string> = {};
    let ok = true, i = 0;
    for (const s of route.segments) {
      if (s.kind === "rest") {
        params[s.name] = parts.slice(i).join("/");
        i = parts.length;
        break;
      }
      if (i >= parts.length || (s.kind === "static" && s.name !== parts[i])) {
        ok = false;
        break;
      }
      if (s.kind === "param") params[s.name] = parts[i];
      i++;
    }
    if (ok && i === parts.length) return { route, params };
  }
  return null;
}
