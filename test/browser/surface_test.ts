/**
 * The atom page's cortical surfaces in headless Chromium: NiiVue draws the
 * four views (left/right, lateral/medial) with the atom's map and network
 * borders, the picture changes with the atom and the threshold, nothing is
 * created before the viewer scrolls into view (the volume viewer above is
 * drawn first), and the page logs no errors. Screenshots go to test/artifacts/.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { haveChromium, surfacePixels } from "./chromium.ts";
import { ARTIFACTS, withDashboard } from "./dashboard.ts";

/** Pixels of a view as drawn on screen (see surfacePixels). */
const viewPixels = (page: Page, testId: string) =>
  surfacePixels(page, `canvas[data-testid="${testId}"]`);

const ROOT = join(import.meta.dirname!, "..", "..");
const MESH = join(ROOT, "..", "shared", "data", "meshes", "BrainMesh_ICBM152.lh.mz3");

function exists(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

/** What the test needs besides Chromium: the meshes, and NiiVue's bundle module. */
function ready(): boolean {
  if (!exists(MESH)) {
    console.warn(`%cNO MESHES at ${MESH}: surface browser test ignored.`, "color: red");
    return false;
  }
  if (!exists(join(ROOT, "apps", "web", "niivue_bundle.ts"))) {
    console.warn(
      "%cNO NIIVUE BUNDLE (apps/web/niivue_bundle.ts, served at /assets/niivue.js): " +
        "surface browser test ignored.",
      "color: red",
    );
    return false;
  }
  return true;
}

const VIEWS = [
  "surface-lh-lateral",
  "surface-rh-lateral",
  "surface-lh-medial",
  "surface-rh-medial",
];

Deno.test({
  name: "surfaces: NiiVue draws both hemispheres' lateral and medial views, per atom and threshold",
  ignore: !haveChromium() || !ready(),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await withDashboard("brainorg-surface-", async ({ url, page, errors }) => {
      const open = async (atom: number) => {
        await page.goto(`${url}/runs/run/atoms/stories260K/${atom}`, { waitUntil: "load" });
        const viewer = page.locator('[data-testid="surface-viewer"]');
        // Below the fold (and the observer's 200 px margin), the surfaces wait to be scrolled to,
        // even once the volume viewer above has drawn.
        const top = (await viewer.boundingBox())!.y;
        if (top > 900 + 200 + 50) {
          await page.waitForFunction(
            () =>
              document.querySelector('[data-testid="volume-viewer"]')?.getAttribute(
                "data-ready",
              ) === "1",
            undefined,
            { timeout: 120_000 },
          );
          await page.waitForTimeout(300);
          assert.equal(await viewer.getAttribute("data-started"), "0", "created out of view");
          assert.match(await viewer.innerText(), /load when scrolled into view/);
          belowFold++;
        }
        await viewer.scrollIntoViewIfNeeded();
        await page.waitForFunction(
          () => {
            const v = document.querySelector('[data-testid="surface-viewer"]');
            return v?.getAttribute("data-ready") === "1" || v?.querySelector(".error");
          },
          undefined,
          { timeout: 120_000 },
        );
        const failure = await viewer.locator(".error").count();
        assert.equal(failure, 0, await viewer.innerText());
        await page.waitForTimeout(500); // a frame after the last layer property
        return viewer;
      };

      let belowFold = 0;
      // Atom 2 (planted in network 3 of the fixture: values 4 there, ±2 noise elsewhere).
      let viewer = await open(2);
      const first = [];
      for (const v of VIEWS) {
        const p = await viewPixels(page, v);
        first.push(p);
        // Drawn: the hemisphere fills a good part of its view; coloured: the map shows on it;
        // dark: the network borders are drawn.
        assert.ok(p.drawn > 0.15 * p.total, `${v} mostly blank: ${JSON.stringify(p)}`);
        assert.ok(p.coloured > 0.01 * p.total, `${v} shows no map: ${JSON.stringify(p)}`);
        assert.ok(p.dark > 0.002 * p.total, `${v} shows no borders: ${JSON.stringify(p)}`);
      }
      // The four views differ (two hemispheres, two sides).
      assert.equal(new Set(first.map((p) => p.hash)).size, 4);
      await viewer.screenshot({ path: join(ARTIFACTS, "surface-atom2.png") });

      // A higher threshold colours fewer vertices.
      await page.locator('[data-testid="surface-threshold"]').fill("5");
      await page.waitForTimeout(800);
      const high = await viewPixels(page, VIEWS[0]);
      assert.ok(
        high.coloured < 0.7 * first[0].coloured,
        `threshold 5: ${high.coloured} coloured pixels, before ${first[0].coloured}`,
      );
      await viewer.screenshot({ path: join(ARTIFACTS, "surface-atom2-threshold5.png") });

      // Another atom (network 5): another picture.
      viewer = await open(4);
      const other = await viewPixels(page, VIEWS[0]);
      assert.ok(other.coloured > 0.01 * other.total);
      assert.notEqual(other.hash, first[0].hash);
      await viewer.screenshot({ path: join(ARTIFACTS, "surface-atom4.png") });
      await page.screenshot({ path: join(ARTIFACTS, "surface-atom-page.png"), fullPage: true });
      assert.ok(belowFold > 0, "the surfaces are in view on load: laziness not checked");
      assert.deepEqual(errors, []);
    });
  },
});
