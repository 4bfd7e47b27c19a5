/**
 * The volume viewer (NiiVue) in headless Chromium: NiiVue's bundle is served
 * apart and only pages with a brain view fetch it; the viewer draws the
 * anatomy, the map and the network outlines; the picture changes with the
 * atom, the threshold and the map picked; the crosshair and the pointer
 * give the MNI coordinate, the value and the network's display name; the
 * 3-D render is off until its button is pressed, then drawn beside the
 * slices, and hidden again by the same button; no console errors. Screenshots go to test/artifacts/.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { YEO7_NAMES } from "@brainorg/core/results";
import { NIIVUE_URL } from "../../apps/web/urls.ts";
import { YEO7 } from "../web/fixture.ts";
import { haveChromium, pixelsChanged, volumePixels } from "./chromium.ts";
import { ARTIFACTS, withDashboard } from "./dashboard.ts";

const canvasPixels = (page: Page) => volumePixels(page, 'canvas[data-testid="niivue"]');
const changed = (page: Page, before: number) =>
  pixelsChanged(page, () => canvasPixels(page), before);

/** What the coordinate line says: `MNI (x, y, z) mm · value v`, then the network. */
const LOCATION = /^MNI \(-?\d+, -?\d+, -?\d+\) mm · value (-?\d+\.\d{3}|none)/;

/** Open a page and wait until its viewer has loaded its volumes (or says why not). */
async function openViewer(page: Page, url: string) {
  await page.goto(url, { waitUntil: "load" });
  const viewer = page.locator('[data-testid="volume-viewer"]');
  await viewer.scrollIntoViewIfNeeded();
  await page.waitForFunction(
    () => {
      const v = document.querySelector('[data-testid="volume-viewer"]');
      return v?.getAttribute("data-ready") === "1" || v?.querySelector(".error");
    },
    undefined,
    { timeout: 120_000 },
  );
  assert.equal(await viewer.locator(".error").count(), 0, await viewer.innerText());
  await page.waitForTimeout(500); // a frame after the last property set
  return viewer;
}

Deno.test({
  name: "niivue: the volume viewer draws, follows atom, threshold and map, and names the network",
  ignore: !haveChromium(),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await withDashboard("brainorg-niivue-", async ({ url, page, errors }) => {
      // The bundle: a JavaScript module, gzipped, cacheable, revalidated by its entity tag.
      const js = await fetch(url + NIIVUE_URL, { headers: { "accept-encoding": "gzip" } });
      assert.equal(js.status, 200);
      assert.match(js.headers.get("content-type") ?? "", /^text\/javascript/);
      assert.match(js.headers.get("cache-control") ?? "", /max-age=\d+/);
      assert.equal(js.headers.get("content-encoding"), "gzip");
      const etag = js.headers.get("etag");
      assert.ok(etag && (await js.text()).length > 100_000);
      const again = await fetch(url + NIIVUE_URL, { headers: { "if-none-match": etag } });
      assert.equal(again.status, 304);
      await again.body?.cancel();

      const fetched: string[] = [];
      page.on("request", (r) => fetched.push(new URL(r.url()).pathname));

      // A page without a brain view never downloads NiiVue; the module exports NiiVue's API.
      await page.goto(url + "/runs/run", { waitUntil: "networkidle" });
      assert.ok(!fetched.includes(NIIVUE_URL), `fetched: ${fetched.join(", ")}`);
      assert.deepEqual(
        await page.evaluate(async (src: string) => {
          const m = await import(src);
          return [typeof m.Niivue, typeof m.NVImage, typeof m.SLICE_TYPE];
        }, NIIVUE_URL),
        ["function", "function", "object"],
      );

      // Atom 0: its map (planted in network 1) over the anatomy, with outlines and a colour bar.
      const atomHref = (k: number) => `${url}/runs/run/atoms/stories260K/${k}`;
      let viewer = await openViewer(page, atomHref(0));
      assert.ok(fetched.includes(NIIVUE_URL));
      const atom0 = await canvasPixels(page);
      assert.ok(atom0.lit > 0.1 * atom0.total, `mostly blank: ${JSON.stringify(atom0)}`);
      assert.ok(atom0.coloured > 0.01 * atom0.total, `no map colours: ${JSON.stringify(atom0)}`);
      assert.match(await page.locator('[data-testid="crosshair-info"]').innerText(), LOCATION);
      await viewer.screenshot({ path: join(ARTIFACTS, "niivue-atom0.png") });

      // The pointer: coordinate, value and the network's display name (never the raw label).
      const canvas = page.locator('canvas[data-testid="niivue"]');
      const box = (await canvas.boundingBox())!;
      const seen: string[] = [];
      for (let fx = 0.04; fx < 0.75; fx += 0.03) {
        await page.mouse.move(box.x + fx * box.width, box.y + 0.4 * box.height);
        seen.push(await page.locator('[data-testid="cursor-info"]').innerText());
      }
      const located = seen.filter((s) => LOCATION.test(s));
      assert.ok(located.length > 5, `pointer information: ${seen.join(" | ")}`);
      const named = located.filter((s) => YEO7_NAMES.some((n) => s.endsWith(`· ${n}`)));
      assert.ok(named.length > 0, `no network named under the pointer: ${located.join(" | ")}`);
      assert.ok(!seen.some((s) => YEO7.some((raw) => s.includes(raw))), "a raw label is shown");
      assert.ok(new Set(located).size > 3, "the pointer's information does not follow it");

      // A click moves the crosshair, and its line follows.
      const crosshair = page.locator('[data-testid="crosshair-info"]');
      const centre = await crosshair.innerText();
      await page.mouse.click(box.x + 0.1 * box.width, box.y + 0.3 * box.height);
      await page.waitForTimeout(300);
      assert.notEqual(await crosshair.innerText(), centre, "the crosshair did not move");
      assert.match(await crosshair.innerText(), LOCATION);

      // A higher threshold: fewer voxels coloured, another picture.
      await page.mouse.move(0, 0);
      viewer = await openViewer(page, atomHref(0));
      const base = await canvasPixels(page);
      const slider = page.locator('[data-testid="threshold"]');
      await slider.fill(await slider.getAttribute("max") ?? "10");
      const high = await changed(page, base.hash);
      assert.notEqual(high.hash, base.hash, "the picture did not change with the threshold");
      assert.ok(
        high.coloured < base.coloured,
        `threshold up: ${high.coloured} coloured pixels, before ${base.coloured}`,
      );
      await viewer.screenshot({ path: join(ARTIFACTS, "niivue-atom0-threshold-max.png") });

      // Another atom (planted in network 2): another picture.
      viewer = await openViewer(page, atomHref(1));
      const atom1 = await canvasPixels(page);
      assert.ok(atom1.coloured > 0.01 * atom1.total);
      assert.notEqual(atom1.hash, base.hash, "atom 1 looks like atom 0");
      await viewer.screenshot({ path: join(ARTIFACTS, "niivue-atom1.png") });

      // The 3-D render, on demand: a fourth tile beside the slices, with the map on it.
      const render = page.locator('[data-testid="render-3d"]');
      assert.equal(await render.getAttribute("aria-pressed"), "false");
      await render.click();
      const rendered = await changed(page, atom1.hash);
      assert.notEqual(rendered.hash, atom1.hash, "the 3-D button did not change the picture");
      assert.equal(await render.getAttribute("aria-pressed"), "true");
      assert.ok(rendered.coloured > 0.01 * rendered.total);
      await viewer.screenshot({ path: join(ARTIFACTS, "niivue-atom1-3d.png") });
      await render.click();
      const hidden = await changed(page, rendered.hash);
      assert.notEqual(hidden.hash, rendered.hash, "hiding the 3-D render changed nothing");
      await page.screenshot({ path: join(ARTIFACTS, "niivue-atom-page.png"), fullPage: true });

      // The brain page: a 4-D map, one volume at a time; picking another redraws.
      viewer = await openViewer(page, `${url}/runs/run/brain`);
      const volume0 = await canvasPixels(page);
      await page.locator('[data-testid="volume"]').selectOption("3");
      await page.waitForFunction(() =>
        document.querySelector('[data-testid="volume-viewer"]')?.getAttribute("data-ready") === "1"
      );
      const volume3 = await changed(page, volume0.hash);
      assert.notEqual(volume3.hash, volume0.hash, "picking atom 3 did not change the picture");
      await viewer.screenshot({ path: join(ARTIFACTS, "niivue-brain-volume3.png") });
      assert.deepEqual(errors, []);
    });
  },
});
