/**
 * Serves the example page with the npm build of `@brainorg/kernels` (run by
 * `deno task example`): builds the package into `dist/npm/kernels`, then
 * serves this folder at `/` and the package at `/kernels/` on
 * http://127.0.0.1:8001 (`--port N` for another port, `--no-build` to serve
 * the last build). The page's import map points `@brainorg/kernels` at
 * `./kernels/index.js`, so any static server works as well once the built
 * package is copied into a `kernels/` folder beside `index.html`.
 *
 * Only files under those two folders are served: a path with `..`, a
 * backslash, a NUL or a leading dot is refused, and what a path resolves to
 * (symbolic links followed) must stay inside its folder.
 *
 * @module
 */

import { dirname, extname, isAbsolute, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { buildNpm, NPM_OUT } from "../../tools/build_npm.ts";

/** This folder: `index.html` and `main.js`. */
export const EXAMPLE_DIR: string = dirname(fileURLToPath(import.meta.url));

/** Where the page finds the package, relative to `index.html`. */
export const PACKAGE_PREFIX = "/kernels/";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".json": "application/json",
  ".ts": "text/plain; charset=utf-8",
  ".md": "text/plain; charset=utf-8",
  ".css": "text/css; charset=utf-8",
};

/** Options of {@linkcode serveExample}. */
export interface ServeExampleOptions {
  /** Port on 127.0.0.1; 0 for a free one. Default: 8001. */
  port?: number;
  /** The built package folder. Default: `dist/npm/kernels`. */
  packageDir?: string;
}

/** A running server of the example. */
export interface ExampleServer {
  /** Its address, e.g. `http://127.0.0.1:8001`. */
  url: string;
  /** Stop serving. */
  close(): Promise<void>;
}

/** The file a URL path names under `root`, or undefined when the path is refused. */
async function fileUnder(root: string, path: string): Promise<string | undefined> {
  const parts = path.split("/").filter((p) => p !== "");
  if (parts.some((p) => p.startsWith(".") || p.includes("\\") || p.includes("\0"))) return;
  const file = resolve(root, ...parts);
  try {
    const [realRoot, real] = await Promise.all([Deno.realPath(root), Deno.realPath(file)]);
    const rel = relative(realRoot, real);
    if (rel === "" || rel.startsWith("..") || isAbsolute(rel)) return;
    return (await Deno.stat(real)).isFile ? real : undefined;
  } catch {
    return;
  }
}

/**
 * Serve the example page and the built package on 127.0.0.1.
 *
 * @param options the port and the package folder
 * @returns the server's address and a way to stop it
 */
export function serveExample(options: ServeExampleOptions = {}): ExampleServer {
  const packageDir = options.packageDir ?? NPM_OUT;
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: options.port ?? 8001, onListen() {} },
    async (req) => {
      if (req.method !== "GET" && req.method !== "HEAD") {
        return new Response("method not allowed", { status: 405 });
      }
      let path: string;
      try {
        path = decodeURIComponent(new URL(req.url).pathname);
      } catch {
        return new Response("bad request", { status: 400 });
      }
      if (path === "/favicon.ico") return new Response(null, { status: 204 });
      if (path === "/") path = "/index.html";
      const file = path.startsWith(PACKAGE_PREFIX)
        ? await fileUnder(packageDir, path.slice(PACKAGE_PREFIX.length))
        : await fileUnder(EXAMPLE_DIR, path);
      if (!file) return new Response("not found", { status: 404 });
      const type = TYPES[extname(file)] ?? "application/octet-stream";
      return new Response(req.method === "HEAD" ? null : await Deno.readFile(file), {
        headers: { "content-type": type, "cache-control": "no-store" },
      });
    },
  );
  return { url: `http://127.0.0.1:${server.addr.port}`, close: () => server.shutdown() };
}

if (import.meta.main) {
  const args = [...Deno.args];
  const portAt = args.indexOf("--port");
  const port = portAt >= 0 ? Number(args[portAt + 1]) : 8001;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(
      `--port must be an integer from 0 to 65535: current value is ${args[portAt + 1]}`,
    );
    Deno.exit(2);
  }
  if (!args.includes("--no-build")) {
    const built = await buildNpm();
    console.log(
      `built @brainorg/kernels ${built.version} in ${relative(Deno.cwd(), built.outDir)}`,
    );
  } else {
    try {
      await Deno.stat(join(NPM_OUT, "index.js"));
    } catch {
      console.error(`no build in ${NPM_OUT}: run without --no-build (or deno task build:npm)`);
      Deno.exit(4);
    }
  }
  const { url } = serveExample({ port });
  console.log(`the example page: ${url}/ (the package at ${url}${PACKAGE_PREFIX}; Ctrl-C stops)`);
}
