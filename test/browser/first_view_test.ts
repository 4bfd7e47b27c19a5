/**
 * The atom page's static first view in headless Chromium: the server's
 * picture of the slices is shown (sized, with alt text naming the atom and
 * the threshold) before NiiVue is ready, the threshold slider works at once
 * (it re-requests the picture), NiiVue's canvas then replaces the picture in
 * a box of the same size (no layout jump); with `?viewer=interact` NiiVue
 * waits for the pointer. No console errors. Screenshots go to test/artifacts/.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { NIIVUE_URL } from "../../apps/web/urls.ts";
import { haveChromium, volumePixels } from "./chromium.ts";
import { ARTIFACTS, withDashboard } from "./dashboard.ts";

/** The preview's pixels, drawn into a canvas: coloured (map) and lit (anatomy) counts. */
function previewPixels(page: Page) {
  return page.evaluate(() => {
    const img = document.querySelector('[data-testid="preview"]') as HTMLImageElement;
    const c = document.createElement("canvas");
    c.width = img.naturalWidth;
    c.height = img.naturalHeight;
    const g = c.getContext("2d")!;
    g.drawImage(img, 0, 0);
    const d = g.getImageData(0, 0, c.width, c.height).data;
    let lit = 0, coloured = 0;
    for (let i = 0; i < d.length; i += 4) {
      if (d[i] + d[i + 1] + d[i + 2] > 30) lit++;
      if (Math.max(d[i], d[i + 1], d[i + 2]) - Math.min(d[i], d[i + 1], d[i + 2]) > 80) coloured++;
    }
    return { lit, coloured, total: d.length / 4, width: c.width, height: c.height };
  });
}

const isReady = (page: Page) =>
  page.locator('[data-testid="volume-viewer"]').getAttribute("data-ready");

Deno.test({
  name: "first view: the server's picture before NiiVue, a working slider, then NiiVue in place",
  ignore: !haveChromium(),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await withDashboard("brainorg-first-view-", async ({ url, browser, page, errors }) => {
      // NiiVue's module held back until released: the first view must not need it.
      let release = () => {};
      const held = new Promise<void>((r) => (release = r));
      await page.route(`**${NIIVUE_URL}`, async (route) => {
        await held;
        await route.continue();
      });
      // (Not "load": that waits for the module's preload, held here.)
      await page.goto(`${url}/runs/run/atoms/stories260K/0`, { waitUntil: "domcontentloaded" });
      const viewer = page.locator('[data-testid="volume-viewer"]');
      const img = page.locator('img[data-testid="preview"]');
      await img.scrollIntoViewIfNeeded();
      await page.waitForFunction(() =>
        performance.getEntriesByName("volume-viewer:preview").length
      );
      assert.equal(await isReady(page), "0", "NiiVue was ready without its module");
      assert.ok(await img.isVisible());
      assert.match(await img.getAttribute("alt") ?? "", /atom 0 .*threshold \|value\| > \d+\.\d/);
      assert.match(await img.getAttribute("width") ?? "", /^\d+$/);
      const before = await previewPixels(page);
      assert.equal(String(before.width), await img.getAttribute("width"));
      assert.ok(before.lit > 0.2 * before.total, `anatomy missing: ${JSON.stringify(before)}`);
      assert.ok(before.coloured > 0.005 * before.total, `no map: ${JSON.stringify(before)}`);
      const box = (await img.boundingBox())!;
      const sliderAt = (await page.locator('[data-testid="threshold"]').boundingBox())!;
      await viewer.screenshot({ path: join(ARTIFACTS, "first-view-preview.png") });

      // The slider works before NiiVue: a higher threshold, a new picture with less colour.
      const src = await img.getAttribute("src");
      const slider = page.locator('[data-testid="threshold"]');
      await slider.fill(String(Number(await slider.inputValue()) + 3));
      await page.waitForFunction(
        (old) => {
          const el = document.querySelector('[data-testid="preview"]') as HTMLImageElement;
          return el.getAttribute("src") !== old && el.complete && el.naturalWidth > 0;
        },
        src,
      );
      assert.match(await img.getAttribute("alt") ?? "", /threshold \|value\| > \d+\.\d/);
      const higher = await previewPixels(page);
      assert.ok(higher.coloured < before.coloured, `${higher.coloured} ≥ ${before.coloured}`);
      await viewer.screenshot({ path: join(ARTIFACTS, "first-view-preview-threshold.png") });

      // NiiVue released: its canvas replaces the picture in the same box.
      release();
      await page.waitForFunction(
        () =>
          document.querySelector('[data-testid="volume-viewer"]')?.getAttribute("data-ready") ===
            "1",
        undefined,
        { timeout: 120_000 },
      );
      assert.equal(await img.count(), 0, "the picture stayed over NiiVue");
      const canvas = page.locator('canvas[data-testid="niivue"]');
      const after = (await canvas.boundingBox())!;
      for (const k of ["x", "y", "width", "height"] as const) {
        assert.ok(Math.abs(after[k] - box[k]) < 1, `layout jump: ${k} ${box[k]} → ${after[k]}`);
      }
      const sliderNow = (await page.locator('[data-testid="threshold"]').boundingBox())!;
      assert.ok(
        Math.abs(sliderNow.y - sliderAt.y) < 1,
        `the controls moved: ${sliderAt.y} → ${sliderNow.y}`,
      );
      await page.waitForTimeout(500);
      const drawn = await volumePixels(page, 'canvas[data-testid="niivue"]');
      assert.ok(drawn.coloured > 0, "NiiVue drew no map");
      // NiiVue keeps the threshold set on the picture.
      assert.equal(
        await page.locator('[data-testid="threshold-value"]').innerText(),
        (Number(/threshold=([\d.]+)/.exec(src!)![1]) + 3).toFixed(1),
      );
      await viewer.screenshot({ path: join(ARTIFACTS, "first-view-niivue.png") });

      // On first use: NiiVue waits for the pointer, then starts.
      const lazy = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      lazy.on("pageerror", (e) => errors.push(String(e)));
      lazy.on("console", (m) => m.type() === "error" && errors.push(m.text()));
      await lazy.goto(`${url}/runs/run/atoms/stories260K/1?viewer=interact`, { waitUntil: "load" });
      await lazy.waitForTimeout(1500);
      assert.equal(await isReady(lazy), "0");
      assert.match(
        await lazy.locator('[data-testid="crosshair-info"]').innerText(),
        /loads when the pointer is over the picture/,
      );
      await lazy.locator('[data-testid="preview"]').hover();
      await lazy.waitForFunction(
        () =>
          document.querySelector('[data-testid="volume-viewer"]')?.getAttribute("data-ready") ===
            "1",
        undefined,
        { timeout: 120_000 },
      );
      assert.deepEqual(errors, []);
    });
  },
});
