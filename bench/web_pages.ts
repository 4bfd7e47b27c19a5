/**
 * How fast the dashboard's pages are on a Llama-sized results folder (64
 * atoms, 3 models of 131,072 ANs, members tables of 1.7 × 10⁶ rows, Yeo-7,
 * Yeo-17 and Giles networks, 2 mm maps; see `test/web/large_fixture.ts`):
 * each page rendered on the server, cold (the first request after start,
 * which reads and parses its files) and warm (the median of the next
 * `--repeat`), and with `--browser`, in headless Chromium with a cold
 * browser cache (ms from navigation start): for the run overview, until its
 * islands have drawn; for the atom pages, the "first view" (the server's
 * static picture of the slices decoded and every island hydrated: the page
 * works, its threshold slider re-requesting the picture), a threshold change
 * made at that moment until its new picture is decoded, and "NiiVue ready"
 * (the volume viewer with the map drawn on its slices; the 3-D render is off
 * until asked for), with NiiVue started once the picture is shown (the default)
 * and on the first pointer-over of the picture (`?viewer=interact`, the
 * pointer moved there once the threshold change is answered), the longest main-thread task in between, and the
 * time from scrolling the cortical surfaces (created only once in view) into
 * view until they are drawn.
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
// Timings on a shared machine mean little without its load.
const load = () => Deno.loadavg().map((x) => x.toFixed(2)).join(" ");
console.log(`load average (1, 5, 15 min): ${load()}`);
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
  const base = `http://127.0.0.1:${server.addr.port}`;
  /** One atom page, cold browser cache: its first view, a threshold change, NiiVue, surfaces. */
  const atomPage = async (path: string, mode: "shown" | "interact"): Promise<string> => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    // Main-thread tasks over 50 ms, from the start (what delays an input).
    await page.addInitScript(() => {
      const w = globalThis as unknown as { longTasks: { start: number; ms: number }[] };
      w.longTasks = [];
      new PerformanceObserver((l) => {
        for (const e of l.getEntries()) w.longTasks.push({ start: e.startTime, ms: e.duration });
      }).observe({ type: "longtask", buffered: true });
    });
    const mark = (m: string) =>
      page.evaluate((m: string) => performance.getEntriesByName(m)[0]?.startTime ?? NaN, m);
    await page.goto(base + path + (mode === "interact" ? "?viewer=interact" : ""));
    await page.waitForFunction(
      () =>
        performance.getEntriesByName("volume-viewer:preview").length &&
        performance.getEntriesByName("islands:hydrated").length,
      undefined,
      { timeout: 120_000 },
    );
    await page.locator('[data-testid="time-course"] svg').waitFor();
    const first = Math.max(await mark("volume-viewer:preview"), await mark("islands:hydrated"));
    // At the first view: a threshold change, timed from the input (sent as a user's would be,
    // and waiting like one for any task running then) until the page has answered it: the new
    // picture decoded, or NiiVue drawn with it if it got there first. Then the pointer over the
    // viewer (what starts NiiVue in "interact" mode).
    const slider = page.locator('[data-testid="threshold"]');
    // A threshold of its own per mode: the server draws it afresh each time.
    const wanted = (Number(await slider.inputValue()) + (mode === "shown" ? 1 : 2)).toFixed(1);
    const t0 = performance.now();
    await slider.fill(wanted);
    await page.waitForFunction(
      async (want: string) => {
        const shown = document.querySelector('[data-testid="threshold-value"]')?.textContent;
        const img = document.querySelector('[data-testid="preview"]') as HTMLImageElement | null;
        if (shown !== want) return false;
        if (!img) return true;
        if (!img.src.endsWith(`threshold=${want}`) || !img.complete) return false;
        return await img.decode().then(() => true, () => false);
      },
      wanted,
      { timeout: 120_000, polling: 10 },
    );
    const sliderMs = performance.now() - t0;
    const hover = await page.evaluate(() => performance.now());
    if (mode === "interact") await page.locator('[data-testid="preview"]').hover();
    await page.waitForFunction(
      () =>
        document.querySelector('[data-testid="volume-viewer"]')?.getAttribute("data-ready") === "1",
      undefined,
      { timeout: 120_000 },
    );
    const ready = await mark("volume-viewer:ready");
    const longest = await page.evaluate(() =>
      Math.max(
        0,
        ...(globalThis as unknown as { longTasks: { ms: number }[] }).longTasks.map((t) => t.ms),
      )
    );
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
      surfaces = (performance.now() - t).toFixed(0);
    }
    const marks = await page.evaluate(() => [
      ...performance.getEntriesByType("mark").map((m) => `${m.name} ${m.startTime.toFixed(0)}`),
      // The pictures' requests: asked for → last byte (the server's share of a slider change).
      ...performance.getEntriesByType("resource").filter((r) => r.name.includes("preview.png"))
        .map((r) =>
          `${r.name.replace(/.*\?/, "picture ")} ${r.startTime.toFixed(0)}→${
            (r as PerformanceResourceTiming).responseEnd.toFixed(0)
          }`
        ),
    ]);
    await page.close();
    return `first view ${first.toFixed(0)} · slider→picture ${sliderMs.toFixed(0)} · NiiVue ready ${
      ready.toFixed(0)
    }${mode === "interact" ? ` (${(ready - hover).toFixed(0)} after the pointer)` : ""} · ` +
      `longest task ${longest.toFixed(0)} · surfaces ${surfaces}\n    ${marks.join(" · ")}`;
  };
  try {
    console.log("page                      interactive (ms, cold browser cache; warm server)");
    for (const [name, path] of pages.slice(0, 2)) {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      await page.goto(base + path, { waitUntil: "load" });
      await page.waitForFunction(() => performance.getEntriesByName("islands:hydrated").length);
      const ms = await page.evaluate(() =>
        performance.getEntriesByName("islands:hydrated")[0].startTime
      );
      console.log(`${name.padEnd(24)} ${ms.toFixed(0).padStart(10)}`);
      await page.close();
    }
    console.log("atom pages (ms from navigation, cold browser cache; warm server):");
    for (const [name, path] of pages.slice(2, 4)) {
      for (const mode of ["shown", "interact"] as const) {
        console.log(`${name} (${mode}): ${await atomPage(path, mode)}`);
      }
    }
    console.log(`load average (1, 5, 15 min): ${load()}`);
  } finally {
    await browser.close();
    await server.shutdown();
  }
}

if (temp && !values.keep) await Deno.remove(temp, { recursive: true });
else if (temp) console.error(`kept ${folder}`);
