/**
 * The comparison page's cortical surfaces in headless Chromium: the matched
 * pair's two atoms, each in the same four views (left/right,
 * lateral/medial), drawn with their maps once scrolled into view; another
 * pair draws another picture; the two volume viewers above still draw; and
 * the page logs no errors. Screenshots go to test/artifacts/.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { haveChromium, surfacePixels } from "./chromium.ts";
import { ARTIFACTS, withDashboard } from "./dashboard.ts";

/** A view's pixels: drawn (not the white background), coloured by the map, and a hash. */
const viewPixels = (page: Page, side: "a" | "b", view: string) =>
  surfacePixels(
    page,
    `[data-testid="pair-surfaces-${side}"] canvas[data-testid="surface-${view}"]`,
  );

const ROOT = join(import.meta.dirname!, "..", "..");
const MESH = join(ROOT, "..", "shared", "data", "meshes", "BrainMesh_ICBM152.lh.mz3");

function haveMeshes(): boolean {
  try {
    return Deno.statSync(MESH).isFile;
  } catch {
    console.warn(`%cNO MESHES at ${MESH}: compare surfaces test ignored.`, "color: red");
    return false;
  }
}

const VIEWS = ["lh-lateral", "rh-lateral", "lh-medial", "rh-medial"];

Deno.test({
  name: "compare: the pair's two atoms on the same four cortical views, per pair",
  ignore: !haveChromium() || !haveMeshes(),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await withDashboard("brainorg-compare-surf-", async ({ url, page, errors, models }) => {
      const [A, B] = models;
      const open = async (pair: number) => {
        const q = `a=run/${encodeURIComponent(A)}&b=run/${encodeURIComponent(B)}&pair=${pair}`;
        await page.goto(`${url}/compare?${q}`, { waitUntil: "load" });
        // Both volume viewers draw first.
        await page.waitForFunction(
          () =>
            [...document.querySelectorAll('[data-testid="volume-viewer"]')]
              .filter((v) => v.getAttribute("data-ready") === "1").length === 2,
          undefined,
          { timeout: 120_000 },
        );
        const surfaces = page.locator('[data-testid="pair-surfaces-a"]');
        await surfaces.scrollIntoViewIfNeeded();
        await page.waitForFunction(
          () =>
            ["a", "b"].every((s) => {
              const v = document.querySelector(
                `[data-testid="pair-surfaces-${s}"] [data-testid="surface-viewer"]`,
              );
              return v?.getAttribute("data-ready") === "1" || v?.querySelector(".error");
            }),
          undefined,
          { timeout: 180_000 },
        );
        for (const s of ["a", "b"]) {
          const v = page.locator(`[data-testid="pair-surfaces-${s}"]`);
          assert.equal(await v.locator(".error").count(), 0, await v.innerText());
        }
        await page.waitForTimeout(500); // a frame after the last layer property
      };

      await open(0);
      const first: Record<string, Awaited<ReturnType<typeof viewPixels>>> = {};
      for (const side of ["a", "b"] as const) {
        for (const view of VIEWS) {
          const p = await viewPixels(page, side, view);
          first[`${side}-${view}`] = p;
          assert.ok(p.drawn > 0.15 * p.total, `${side} ${view} mostly blank: ${JSON.stringify(p)}`);
          assert.ok(
            p.coloured > 0.005 * p.total,
            `${side} ${view} shows no map: ${JSON.stringify(p)}`,
          );
        }
      }
      await page.locator('[data-testid="pair-maps"]').screenshot({
        path: join(ARTIFACTS, "compare-surfaces-pair0.png"),
      });

      // Another pair: A's views change (another atom's map).
      await open(3);
      const changed = [];
      for (const view of VIEWS) {
        const p = await viewPixels(page, "a", view);
        assert.ok(p.drawn > 0.15 * p.total, `pair 3: a ${view} mostly blank`);
        if (p.hash !== first[`a-${view}`].hash) changed.push(view);
      }
      assert.ok(
        changed.length >= 3,
        `pair 3 draws the same picture in ${4 - changed.length} views`,
      );
      await page.locator('[data-testid="pair-maps"]').screenshot({
        path: join(ARTIFACTS, "compare-surfaces-pair3.png"),
      });
      assert.deepEqual(errors, []);
    });
  },
});
