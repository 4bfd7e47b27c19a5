import assert from "node:assert/strict";
import { join } from "node:path";
import { runDemo } from "@brainorg/core";
import { createHandler } from "../../apps/web/server.ts";
import { haveChromium, launchChromium } from "./chromium.ts";

const ARTIFACTS = join(import.meta.dirname!, "..", "artifacts");

/** A small but complete results folder (voxel level included), a corrupt one, and a server. */
async function fixture() {
  const dir = await Deno.makeTempDir({ prefix: "brainorg-web-" });
  const run = join(dir, "run");
  await runDemo({
    outDir: run,
    quiet: true,
    permutations: 0,
    voxelPermutations: 19,
    phantomSubjects: 4,
    data: { cacheDir: join(dir, "cache"), download: false },
  });
  const bad = join(dir, "bad");
  await Deno.mkdir(bad);
  await Deno.writeTextFile(join(bad, "summary.json"), "{ not json");
  await Deno.writeTextFile(join(dir, "secret.txt"), "outside the results");
  await Deno.symlink(join(dir, "secret.txt"), join(run, "link-out.txt"));
  const { handler } = await createHandler([run, bad]);
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, handler);
  return {
    dir,
    url: `http://127.0.0.1:${server.addr.port}`,
    close: async () => {
      await server.shutdown();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

Deno.test({
  name: "dashboard: every page renders in Chromium without errors; the brain viewer draws slices",
  ignore: !haveChromium(),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const f = await fixture();
    const browser = await launchChromium();
    await Deno.mkdir(ARTIFACTS, { recursive: true });
    try {
      // Only files inside a results folder are served.
      for (
        const path of [
          "..%2F..%2Fsecret.txt",
          "%2Fetc%2Fpasswd",
          "link-out.txt",
          "..%2Fbad%2Fsummary.json",
        ]
      ) {
        const r = await fetch(`${f.url}/runs/run/files/${path}`);
        assert.equal(r.status, 404, path);
        assert.ok(!(await r.text()).includes("outside the results"));
      }
      const ok = await fetch(`${f.url}/runs/run/files/summary.json`);
      assert.equal(ok.status, 200);
      assert.equal(JSON.parse(await ok.text()).schema, "brainorg.results/2");
      assert.equal(
        (await fetch(`${f.url}/runs/run/files/report.html`)).headers.get("content-type"),
        "text/plain; charset=utf-8",
      );

      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(String(e)));
      page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
      const pages = [
        ["runs", "/"],
        ["overview", "/runs/run"],
        ["atom", "/runs/run/atoms/stories260K/0"],
        ["brain", "/runs/run/brain"],
        ["rois", "/runs/run/rois"],
        ["downloads", "/runs/run/downloads"],
        ["compare", "/compare"],
      ];
      for (const [name, path] of pages) {
        const res = await page.goto(f.url + path, { waitUntil: "networkidle" });
        assert.equal(res?.status(), 200, path);
        await page.screenshot({ path: join(ARTIFACTS, `dashboard-${name}.png`), fullPage: true });
        assert.deepEqual(errors, [], `console errors on ${path}`);
      }

      // The runs page lists the corrupt folder with its problem; its own page says what is wrong.
      await page.goto(f.url + "/");
      assert.match(
        await page.locator('[data-run="bad"]').innerText(),
        /corrupt[\s\S]*not valid JSON/,
      );
      const res = await page.goto(f.url + "/runs/bad");
      assert.equal(res?.status(), 422);
      assert.match(
        await page.locator('[data-testid="error"]').innerText(),
        /summary\.json is not valid JSON/,
      );
      await page.screenshot({ path: join(ARTIFACTS, "dashboard-corrupt.png") });

      // Brain viewer: non-blank slices that change with the slice slider.
      await page.goto(f.url + "/runs/run/brain", { waitUntil: "networkidle" });
      await page.waitForFunction(() =>
        !document.querySelector('[data-testid="cursor-info"]')?.textContent?.includes("loading")
      );
      const pixels = () =>
        page.evaluate(() => {
          const c = document.querySelector('canvas[data-view="axial"]') as HTMLCanvasElement;
          const d = c.getContext("2d")!.getImageData(0, 0, c.width, c.height).data;
          let lit = 0, hash = 0;
          for (let i = 0; i < d.length; i += 4) {
            if (d[i] + d[i + 1] + d[i + 2] > 30) lit++;
            hash = (hash * 31 + d[i] + 7 * d[i + 1] + 13 * d[i + 2]) % 1000000007;
          }
          return { lit, hash, total: d.length / 4 };
        });
      const before = await pixels();
      assert.ok(
        before.lit > before.total * 0.1,
        `axial slice mostly blank: ${JSON.stringify(before)}`,
      );
      await page.locator('input[data-slider="axial"]').fill("30");
      await page.waitForTimeout(300);
      const after = await pixels();
      assert.notEqual(after.hash, before.hash, "the axial slice did not change with the slider");
      assert.ok(after.lit > 0);
      await page.locator('canvas[data-view="coronal"]').hover({ position: { x: 100, y: 100 } });
      assert.match(
        await page.locator('[data-testid="cursor-info"]').innerText(),
        /MNI \(.*\) mm · value/,
      );
      await page.screenshot({
        path: join(ARTIFACTS, "dashboard-brain-slice30.png"),
        fullPage: true,
      });

      // Atom view: words under the cursor, and navigation between atoms.
      await page.goto(f.url + "/runs/run/atoms/stories260K/0", { waitUntil: "networkidle" });
      await page.locator('[data-testid="time-course"] svg').hover({ position: { x: 400, y: 80 } });
      assert.match(
        await page.locator('[data-testid="words-under-cursor"]').innerText(),
        /^volume \d+ \(\d+ s\)/,
      );
      await page.locator('[data-testid="next"]').click();
      await page.waitForURL(/\/atoms\/stories260K\/1$/);
      assert.match(await page.locator("h1").innerText(), /atom 1/);
      assert.equal((await page.goto(f.url + "/runs/run/atoms/stories260K/99"))?.status(), 404);
      assert.deepEqual(errors.filter((e) => !/status of (404|422)/.test(e)), []);
    } finally {
      await browser.close();
      await f.close();
    }
  },
});
