/**
 * The self-contained report in headless Chromium, opened from `file://`
 * with no server: every request other than `file:` and `data:` is refused
 * and fails the test; NiiVue (inlined) draws the anatomy and the map; the
 * picture changes with the atom, the threshold and the model; the
 * crosshair and the pointer give the MNI coordinate, the map's value and
 * the network's name; the four cortical surface views (meshes packed in the
 * page, the map sampled at their vertices) draw the map and follow the atom,
 * the threshold and the model; no console errors. Screenshots:
 * test/artifacts/report-file.png, report-file-surfaces.png.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { Page } from "playwright-core";
import { YEO7_NAMES } from "@brainorg/core/results";
import { renderReport } from "../../packages/core/report.ts";
import { embedReportViewer } from "../../packages/core/report_viewer.ts";
import { writeResultsFolder } from "../web/fixture.ts";
import {
  haveChromium,
  launchChromium,
  pixelsChanged,
  surfacePixels,
  volumePixels,
} from "./chromium.ts";

const canvasPixels = (page: Page) =>
  volumePixels(page, '#brainorg-viewer canvas[data-testid="niivue"]');
const changed = (page: Page, before: number) =>
  pixelsChanged(page, () => canvasPixels(page), before);

const SURFACE_VIEWS = ["lh-lateral", "rh-lateral", "lh-medial", "rh-medial"];
/** All four surface views' pixels, and one hash over them. */
const surfacesPixels = async (page: Page) => {
  const views = [];
  for (const v of SURFACE_VIEWS) {
    views.push(await surfacePixels(page, `canvas[data-testid="surface-${v}"]`));
  }
  const coloured = views.reduce((n, v) => n + v.coloured, 0);
  return { views, coloured, hash: views.reduce((h, v) => (h * 31 + v.hash) % 1000000007, 0) };
};

const ARTIFACTS = join(import.meta.dirname!, "..", "artifacts");

/** What the coordinate lines say: `MNI (x, y, z) mm · value v`, then the network. */
const LOCATION = /^MNI \(-?\d+, -?\d+, -?\d+\) mm · value (-?\d+\.\d{2}|none)/;

Deno.test({
  name:
    "report.html from file://: NiiVue draws every atom's map offline, follows atom and threshold",
  ignore: !haveChromium(),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "brainorg-report-file-" });
    const run = join(dir, "run");
    await writeResultsFolder(run, { atoms: 8 });
    const summary = JSON.parse(await Deno.readTextFile(join(run, "summary.json")));
    const html = await embedReportViewer(run, renderReport(summary, "2026-01-01T00:00:00Z"), {
      cacheDir: join(dir, "cache"),
    });
    await Deno.writeTextFile(join(run, "report.html"), html);
    await Deno.mkdir(ARTIFACTS, { recursive: true });
    const browser = await launchChromium();
    try {
      const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
      const refused: string[] = [], errors: string[] = [];
      // Anything but the file itself and data: URLs is a fetch the page must not make.
      await context.route("**/*", (route) => {
        const u = route.request().url();
        if (u.startsWith("file:") || u.startsWith("data:")) return route.continue();
        refused.push(u);
        return route.abort();
      });
      const page = await context.newPage();
      page.on("request", (r) => {
        if (!/^(file|data|blob):/.test(r.url())) refused.push(r.url());
      });
      page.on("pageerror", (e) => errors.push(String(e)));
      page.on("console", (m) => m.type() === "error" && errors.push(m.text()));

      await page.goto(pathToFileURL(join(run, "report.html")).href, { waitUntil: "load" });
      const viewer = page.locator("#brainorg-viewer");
      await viewer.scrollIntoViewIfNeeded();
      await page.waitForFunction(
        () => document.getElementById("brainorg-viewer")?.dataset.ready !== "0",
        undefined,
        { timeout: 120_000 },
      );
      assert.equal(await viewer.getAttribute("data-ready"), "1", await viewer.innerText());
      await page.waitForTimeout(500);
      // The report's own sections are still there, the viewer after them.
      assert.match(await page.locator("h1").innerText(), /brainorg results/);
      assert.equal(await page.locator("#brain-maps").count(), 1);
      assert.equal(await page.locator('[data-testid="model"] option').count(), 2);
      assert.equal(await page.locator('[data-testid="atom"] option').count(), 8);

      // Atom 0 (planted in network 1) at the run's threshold: anatomy and map colours.
      const atom0 = await canvasPixels(page);
      assert.ok(atom0.lit > 0.1 * atom0.total, `mostly blank: ${JSON.stringify(atom0)}`);
      assert.ok(atom0.coloured > 0.01 * atom0.total, `no map colours: ${JSON.stringify(atom0)}`);
      const crosshair = page.locator('[data-testid="crosshair-info"]');
      assert.match(await crosshair.innerText(), LOCATION);
      await viewer.screenshot({ path: join(ARTIFACTS, "report-file.png") });

      // The pointer: coordinate, value (non-zero somewhere) and a network's display name.
      const canvas = page.locator('#brainorg-viewer canvas[data-testid="niivue"]');
      const box = (await canvas.boundingBox())!;
      const seen: string[] = [];
      for (let fx = 0.04; fx < 0.75; fx += 0.03) {
        await page.mouse.move(box.x + fx * box.width, box.y + 0.45 * box.height);
        seen.push(await page.locator('[data-testid="cursor-info"]').innerText());
      }
      const located = seen.filter((s) => LOCATION.test(s));
      assert.ok(located.length > 5, `pointer information: ${seen.join(" | ")}`);
      assert.ok(
        located.some((s) => YEO7_NAMES.some((n) => s.endsWith(`· ${n}`))),
        `no network named under the pointer: ${located.join(" | ")}`,
      );
      assert.ok(
        located.some((s) => !/value (-?0\.00|none)/.test(s)),
        `no map value under the pointer: ${located.join(" | ")}`,
      );

      // A click moves the crosshair, and its line follows.
      const centre = await crosshair.innerText();
      await page.mouse.click(box.x + 0.1 * box.width, box.y + 0.3 * box.height);
      await page.waitForTimeout(300);
      assert.notEqual(await crosshair.innerText(), centre, "the crosshair did not move");
      assert.match(await crosshair.innerText(), LOCATION);
      await page.mouse.move(0, 0);

      // A higher threshold: fewer coloured pixels.
      const base = await canvasPixels(page);
      const slider = page.locator('[data-testid="threshold"]');
      await slider.fill(await slider.getAttribute("max") ?? "10");
      const high = await changed(page, base.hash);
      assert.notEqual(high.hash, base.hash, "the picture did not change with the threshold");
      assert.ok(high.coloured < base.coloured, `threshold up: ${high.coloured} ≥ ${base.coloured}`);
      await slider.fill(String(summary.voxel.threshold));
      const back = await changed(page, high.hash);

      // Another atom (planted in network 2), then the other model: other pictures.
      await page.locator('[data-testid="atom"]').selectOption("1");
      const atom1 = await changed(page, back.hash);
      assert.notEqual(atom1.hash, back.hash, "atom 1 looks like atom 0");
      assert.ok(atom1.coloured > 0.01 * atom1.total);
      await page.locator('[data-testid="model"]').selectOption("1");
      const other = await changed(page, atom1.hash);
      assert.notEqual(other.hash, atom1.hash, "the other model's map looks the same");

      // The cortex (drawn once near the screen): the map on it follows atom, threshold and model.
      const surfaces = page.locator('[data-testid="surfaces"]');
      await page.locator('[data-testid="model"]').selectOption("0");
      await page.locator('[data-testid="atom"]').selectOption("0");
      await surfaces.scrollIntoViewIfNeeded();
      await page.waitForFunction(
        () =>
          (document.querySelector('[data-testid="surfaces"]') as HTMLElement).dataset.ready !==
            "0",
        undefined,
        { timeout: 120_000 },
      );
      assert.equal(await surfaces.getAttribute("data-ready"), "1", await viewer.innerText());
      await page.waitForTimeout(500);
      const s0 = await surfacesPixels(page);
      for (const [i, v] of s0.views.entries()) {
        assert.ok(v.drawn > 0.15 * v.total, `${SURFACE_VIEWS[i]} blank: ${JSON.stringify(v)}`);
        // The network borders are drawn as dark lines.
        assert.ok(v.dark > 0.002 * v.total, `${SURFACE_VIEWS[i]} no borders: ${JSON.stringify(v)}`);
      }
      assert.ok(
        s0.coloured > 0.002 * s0.views[0].total * 4,
        `no map on the cortex: ${s0.coloured}`,
      );
      await surfaces.screenshot({ path: join(ARTIFACTS, "report-file-surfaces.png") });
      const s1 = await (async () => {
        await page.locator('[data-testid="atom"]').selectOption("1");
        return await pixelsChanged(page, () => surfacesPixels(page), s0.hash);
      })();
      assert.notEqual(s1.hash, s0.hash, "atom 1 looks like atom 0 on the cortex");
      await slider.fill(await slider.getAttribute("max") ?? "10");
      const sHigh = await pixelsChanged(page, () => surfacesPixels(page), s1.hash);
      assert.ok(
        sHigh.coloured < s1.coloured,
        `threshold up on the cortex: ${sHigh.coloured} ≥ ${s1.coloured}`,
      );
      await slider.fill(String(summary.voxel.threshold));
      const sBack = await pixelsChanged(page, () => surfacesPixels(page), sHigh.hash);
      await page.locator('[data-testid="model"]').selectOption("1");
      const sOther = await pixelsChanged(page, () => surfacesPixels(page), sBack.hash);
      assert.notEqual(sOther.hash, sBack.hash, "the other model looks the same on the cortex");
      await page.screenshot({ path: join(ARTIFACTS, "report-file-page.png"), fullPage: true });

      assert.deepEqual(refused, [], "the report fetched something");
      assert.deepEqual(errors, []);
      await context.close();
    } finally {
      await browser.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
