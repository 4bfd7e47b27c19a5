/**
 * The browser tests' dashboard: a small results folder served on
 * 127.0.0.1, Chromium with one page whose errors (uncaught exceptions and
 * console errors) are collected, and everything removed afterwards.
 *
 * @module
 */

/// <reference lib="dom" />
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { createHandler } from "../../apps/web/server.ts";
import { writeResultsFolder } from "../web/fixture.ts";
import { launchChromium } from "./chromium.ts";

/** Where the browser tests leave their screenshots. */
export const ARTIFACTS: string = join(import.meta.dirname!, "..", "artifacts");

/** What a test gets: the server's URL, the browser, its page, the page's errors, the folder's models. */
export interface Dashboard {
  url: string;
  browser: Browser;
  page: Page;
  errors: string[];
  models: string[];
}

/**
 * Run `fn` against a dashboard serving a fresh results folder of 8 atoms
 * (run "run"); the server, browser and folder are gone afterwards, whatever
 * `fn` did.
 *
 * @param prefix the temporary folder's prefix (names the test in /tmp)
 * @param fn the test
 */
export async function withDashboard(
  prefix: string,
  fn: (d: Dashboard) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix });
  const { models } = await writeResultsFolder(join(dir, "run"), { atoms: 8 });
  const { handler } = await createHandler([join(dir, "run")]);
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, handler);
  const browser = await launchChromium();
  await Deno.mkdir(ARTIFACTS, { recursive: true });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
    await fn({ url: `http://127.0.0.1:${server.addr.port}`, browser, page, errors, models });
  } finally {
    await browser.close();
    await server.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
}
