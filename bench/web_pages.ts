/**
 * How fast the dashboard's pages are on a Llama-sized results folder (64
 * atoms, 3 models of 131,072 ANs, members tables of 1.7 × 10⁶ rows, Yeo-7,
 * Yeo-17 and Giles networks, 2 mm maps; see `test/web/large_fixture.ts`):
 * each page rendered on the server, cold (the first request after start,
 * which reads and parses its files) and warm (the median of the next
 * `--repeat`), and with `--browser`, the time until it is interactive in
 * headless Chromium (navigation start until the page's islands have drawn:
 * the atom page's time course and volume viewer (NiiVue, loaded on demand) with its map drawn
 * on the slices; the 3-D render is off until asked for), and for the atom pages, the time
 * from scrolling the cortical surfaces (created only once in view) into view until they are
 * drawn.
 *
 * Usage: deno task bench:pages [--folder DIR] [--keep] [--repeat 5] [--browser]
 *   --folder DIR  a results folder to time (default: a Llama-sized one written to a
 *                 temporary folder, about 40 s; kept with --keep, and reused when DIR
 *                 exists)
 *
 * @module
 */

import { parseArgs } from "node:util";
import { basename, join } from "node:path";
import { createHandler } from "../apps/web/server.ts";
import { LARGE, writeLargeResultsFolder } from "../test/web/large_fixture.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    folder: { type: "string" },
    keep: { type: "boolean", default: false },
    repeat: { type: "string", default: "5" },
    browser: { type: "boolean", default: false },
  },
});
const repeat = Number(values.repeat);
if (!Number.isInteger(repeat) || repeat < 1) {
  console.error(`error: --repeat must be a whole number ≥ 1: current value is "${values.repeat}"`);
  Deno.exit(2);
}

const temp = values.folder ? undefined : await Deno.makeTempDir({ prefix: "brainorg-pages-" });
const folder = values.folder ?? join(temp!, "llama");
const exists = await Deno.stat(join(folder, "summary.json")).then(() => true, () => false);
if (!exists) {
  const t0 = performance.now();
  const { memberRows } = await writeLargeResultsFolder(folder);
  console.error(
    `wrote ${folder} in ${((performance.now() - t0) / 1000).toFixed(1)} s ` +
      `(${LARGE.models.length} models × ${LARGE.atoms} atoms, ${memberRows} member rows each)`,
  );
}

const models = LARGE.models, id = basename(folder).replace(/[^A-Za-z0-9._-]+/g, "-");
const pages: [string, string][] = [
  ["run overview", `/runs/${id}`],
  ["run overview, Giles-39", `/runs/${id}?set=Giles-39`],
  ["atom page", `/runs/${id}/atoms/${models[0]}/5`],
  ["atom page, 2nd model", `/runs/${id}/atoms/${models[1]}/7`],
  ["model page (members)", `/runs/${id}/models/${models[0]}`],
];

const t0 = performance.now();
const { handler } = await createHandler([folder]);
const startup = performance.now() - t0;

/** One request's server time (ms) and the page's size, the body read whole. */
async function time(path: string): Promise<{ ms: number; bytes: number }> {
  const t = performance.now();
  const res = await handler(new Request(`http://127.0.0.1${path}`));
  const body = await res.text();
  if (res.status !== 200) throw new Error(`${path}: ${res.status} ${body.slice(0, 300)}`);
  return { ms: performance.now() - t, bytes: body.length };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const rows: { page: string; coldMs: number; warmMs: number; kib: number }[] = [];
for (const [name, path] of pages) {
  const cold = await time(path);
  const warm: number[] = [];
  for (let i = 0; i < repeat; i++) warm.push((await time(path)).ms);
  rows.push({ page: name, coldMs: cold.ms, warmMs: median(warm), kib: cold.bytes / 1024 });
}
console.log(`server start (summary, routes, islands bundle): ${startup.toFixed(0)} ms`);
console.log("page                      cold (ms)  warm (ms)  HTML (KiB)");
for (const r of rows) {
  console.log(
    `${r.page.padEnd(24)} ${r.coldMs.toFixed(0).padStart(10)} ${r.warmMs.toFixed(1).padStart(10)} ${
      r.kib.toFixed(0).padStart(11)
    }`,
  );
}

if (values.browser) {
  const { launchChromium } = await import("../test/browser/chromium.ts");
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, handler);
  const browser = await launchChromium();
  try {
    const base = `http://127.0.0.1:${server.addr.port}`;
    console.log(
      "page                      interactive (ms, cold browser cache; warm server)  surfaces (ms)",
    );
    for (const [name, path] of pages.slice(0, 4)) {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      await page.goto(base + path, { waitUntil: "load" });
      if (path.includes("/atoms/")) {
        await page.locator('[data-testid="time-course"] svg').waitFor();
        // The volume viewer is ready once NiiVue (loaded on demand) has drawn the atom's map.
        await page.waitForFunction(
          () =>
            document.querySelector('[data-testid="volume-viewer"]')?.getAttribute("data-ready") ===
              "1",
          undefined,
          { timeout: 120_000 },
        );
      }
      const ms = await page.evaluate(() => performance.now());
      let surfaces = "";
      const surface = page.locator('[data-testid="surface-viewer"]');
      if (await surface.count()) {
        const t = performance.now();
        await surface.scrollIntoViewIfNeeded();
        await page.waitForFunction(
          () => {
            const v = document.querySelector('[data-testid="surface-viewer"]');
            return v?.getAttribute("data-ready") === "1" || v?.querySelector(".error");
          },
          undefined,
          { timeout: 120_000 },
        );
        surfaces = (performance.now() - t).toFixed(0).padStart(52);
      }
      console.log(`${name.padEnd(24)} ${ms.toFixed(0).padStart(10)}${surfaces}`);
      // Where the volume viewer's time went (its performance marks, ms from navigation).
      const marks = await page.evaluate(() =>
        performance.getEntriesByType("mark").map((m) => `${m.name} ${m.startTime.toFixed(0)}`)
      );
      if (marks.length) console.log(`  ${marks.join(" · ")}`);
      await page.close();
    }
  } finally {
    await browser.close();
    await server.shutdown();
  }
}

if (temp && !values.keep) await Deno.remove(temp, { recursive: true });
else if (temp) console.error(`kept ${folder}`);
