/// <reference lib="dom" />
/**
 * Headless Debian Chromium for browser tests, driven by playwright-core
 * (never a downloaded browser), and pages served on 127.0.0.1.
 *
 * @module
 */

import { type Browser, chromium, type Page } from "playwright-core";
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

/**
 * A canvas's RGBA pixels as drawn on screen: a screenshot, because WebGL
 * clears its drawing buffer after each frame, decoded by the page itself
 * (no PNG decoder here).
 */
export async function canvasRgba(page: Page, selector: string): Promise<Uint8Array> {
  const png = await page.locator(selector).screenshot();
  let b64 = "";
  for (let i = 0; i < png.length; i += 0x8000) {
    b64 += String.fromCharCode(...png.subarray(i, i + 0x8000));
  }
  const rgba = await page.evaluate(async (data: string) => {
    const img = new Image();
    img.src = `data:image/png;base64,${data}`;
    await img.decode();
    const c = document.createElement("canvas");
    c.width = img.width;
    c.height = img.height;
    const ctx = c.getContext("2d")!;
    ctx.drawImage(img, 0, 0);
    const d = ctx.getImageData(0, 0, c.width, c.height).data;
    let s = "";
    for (let i = 0; i < d.length; i += 0x8000) {
      s += String.fromCharCode(...d.subarray(i, i + 0x8000));
    }
    return btoa(s);
  }, btoa(b64));
  return Uint8Array.from(atob(rgba), (ch) => ch.charCodeAt(0));
}

/**
 * A volume view's pixels (NiiVue's slices on a black background): lit (not
 * black), coloured by the map (saturated: warm or winter, not the grey
 * anatomy), and a hash that changes with the picture.
 */
export async function volumePixels(page: Page, selector: string) {
  const d = await canvasRgba(page, selector);
  let lit = 0, coloured = 0, hash = 0;
  for (let i = 0; i < d.length; i += 4) {
    const r = d[i], g = d[i + 1], b = d[i + 2];
    if (r + g + b > 30) lit++;
    if (Math.max(r, g, b) - Math.min(r, g, b) > 80) coloured++;
    hash = (hash * 31 + r + 7 * g + 13 * b) % 1000000007;
  }
  return { lit, coloured, hash, total: d.length / 4 };
}

/**
 * A surface view's pixels (a mesh on a white background): drawn (not white),
 * coloured by the map, dark, and a hash that changes with the picture.
 */
export async function surfacePixels(page: Page, selector: string) {
  const d = await canvasRgba(page, selector);
  let drawn = 0, coloured = 0, dark = 0, hash = 0;
  for (let i = 0; i < d.length; i += 4) {
    const r = d[i], g = d[i + 1], b = d[i + 2];
    if (r + g + b < 3 * 250) drawn++;
    if (Math.max(r, g, b) - Math.min(r, g, b) > 60) coloured++;
    if (r + g + b < 3 * 60) dark++;
    hash = (hash * 31 + r + 7 * g + 13 * b) % 1000000007;
  }
  return { drawn, coloured, dark, hash, total: d.length / 4 };
}

/**
 * Measure a canvas until its picture differs from the hash `before` (NiiVue
 * redraws on its next frame), for at most 5 s; the last measure either way.
 */
export async function pixelsChanged<T extends { hash: number }>(
  page: Page,
  measure: () => Promise<T>,
  before: number,
): Promise<T> {
  for (let i = 0; i < 20; i++) {
    const now = await measure();
    if (now.hash !== before) return now;
    await page.waitForTimeout(250);
  }
  return await measure();
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
