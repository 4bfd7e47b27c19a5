/**
 * Headless Debian Chromium for browser tests, driven by playwright-core
 * (never a downloaded browser), and pages served on 127.0.0.1.
 *
 * @module
 */

import { type Browser, chromium } from "playwright-core";
import { reportMissing } from "../missing.ts";

/** Where Debian installs Chromium. */
export const CHROMIUM = "/usr/bin/chromium";

/** Whether Chromium is installed; prints a visible notice (or throws under CI) when not. */
export function haveChromium(): boolean {
  try {
    Deno.statSync(CHROMIUM);
    return true;
  } catch {
    return reportMissing(
      `NO CHROMIUM at ${CHROMIUM}: browser tests ignored (apt-get install chromium).`,
      "BRAINORG_REQUIRE_WEBGPU",
    );
  }
}

/** Launch headless Chromium with WebGPU (SwiftShader on machines without a GPU). */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
      "--enable-unsafe-webgpu",
    ],
  });
}

/** Serve fixed files on 127.0.0.1 at a free port. */
export function serveFiles(files: Record<string, { body: string; type: string }>) {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    const path = new URL(req.url).pathname;
    if (path === "/favicon.ico") return new Response(null, { status: 204 });
    const f = files[path];
    return f
      ? new Response(f.body, { headers: { "content-type": f.type } })
      : new Response("not found", { status: 404 });
  });
  return { url: `http://127.0.0.1:${server.addr.port}`, close: () => server.shutdown() };
}
