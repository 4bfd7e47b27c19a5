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
  name: "dashboard: every page renders in Chromium without errors; the brain viewer loads its map",
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

      // Brain viewer (NiiVue; test/browser/niivue_test.ts checks it closely): it loads the
      // run's map, and the pointer over a slice gives the MNI coordinate and the value.
      await page.goto(f.url + "/runs/run/brain", { waitUntil: "networkidle" });
      await page.waitForFunction(
        () =>
          document.querySelector('[data-testid="volume-viewer"]')?.getAttribute("data-ready") ===
            "1",
        undefined,
        { timeout: 120_000 },
      );
      const canvas = page.locator('canvas[data-testid="niivue"]');
      await canvas.scrollIntoViewIfNeeded();
      const box = (await canvas.boundingBox())!;
      const seen: string[] = [];
      for (let fx = 0.05; fx < 0.75; fx += 0.05) {
        await page.mouse.move(box.x + fx * box.width, box.y + 0.4 * box.height);
        seen.push(await page.locator('[data-testid="cursor-info"]').innerText());
      }
      assert.ok(
        seen.some((s) => /^MNI \(.*\) mm · value/.test(s)),
        `no pointer information: ${seen.join(" | ")}`,
      );
      await page.screenshot({
        path: join(ARTIFACTS, "dashboard-brain-viewer.png"),
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
