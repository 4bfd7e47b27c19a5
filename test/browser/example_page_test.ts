/// <reference lib="dom" />
// The example page (examples/kernels-in-the-browser) as a user opens it: the
// npm package built by tools/build_npm.ts, served with the page by the
// example's own server, loaded in headless Chromium. The page must find the
// WebGPU adapter (SwiftShader here), fit ridge CV on WebGPU and on the CPU
// with the same weights, and recover the planted signal; with navigator.gpu
// taken away it must say so and fit on the CPU alone.
import assert from "node:assert/strict";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { buildNpm } from "../../tools/build_npm.ts";
import { serveExample } from "../../examples/kernels-in-the-browser/serve.ts";
import { haveChromium, launchChromium } from "./chromium.ts";

const ARTIFACTS = join(import.meta.dirname!, "..", "artifacts");

/** Requests that failed or got an error status, and errors the page reported. */
function watch(page: Page) {
  const errors: string[] = [], failed: string[] = [], requested: string[] = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
  page.on("request", (r) => requested.push(new URL(r.url()).pathname));
  page.on("requestfailed", (r) => failed.push(`${r.url()}: ${r.failure()?.errorText}`));
  page.on("response", (r) => r.status() >= 400 && failed.push(`${r.url()}: ${r.status()}`));
  return { errors, failed, requested };
}

/** Open the page, wait until it is done, and read its results by data-testid. */
async function results(page: Page, url: string) {
  await page.goto(url);
  await page.waitForSelector('[data-testid="status"]:not([data-state="running"])', {
    timeout: 50_000,
  });
  return await page.evaluate(() => {
    const out: Record<string, { text: string; value?: string }> = {};
    for (const e of document.querySelectorAll<HTMLElement>("[data-testid]")) {
      out[e.dataset.testid!] = { text: e.textContent ?? "", value: e.dataset.value };
    }
    out.state = {
      text: document.querySelector<HTMLElement>('[data-testid="status"]')!.dataset.state!,
    };
    return out;
  });
}

Deno.test({
  name:
    "the example page fits ridge CV on WebGPU and the CPU in Chromium from the npm build, with the same weights",
  ignore: !haveChromium(),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    const tmp = await Deno.makeTempDir({ prefix: "brainorg-example-" });
    const started = performance.now();
    const built = await buildNpm({ outDir: join(tmp, "kernels") });
    const server = serveExample({ port: 0, packageDir: built.outDir });
    const browser = await launchChromium();
    try {
      // The server keeps to its two folders.
      for (
        const path of [
          "/kernels/..%2f..%2f..%2fdeno.json",
          "/kernels/%2e%2e%2f%2e%2e%2fLICENSE",
          "/.%2e/deno.json",
        ]
      ) {
        const r = await fetch(server.url + path);
        await r.body?.cancel();
        assert.equal(r.status, 404, `${path} must not be served`);
      }

      await t.step("with WebGPU: SwiftShader, both backends, the same fit", async () => {
        const page = await browser.newPage();
        const seen = watch(page);
        const r = await results(page, server.url + "/");
        await Deno.mkdir(ARTIFACTS, { recursive: true });
        await page.screenshot({ path: join(ARTIFACTS, "example_page.png"), fullPage: true });
        console.log(
          `adapter: ${r.adapter.text}\nWebGPU: ${r["webgpu-time"].text}\nCPU: ${
            r["cpu-time"].text
          }\nmax |Δw|: ${r["max-weight-diff"].text}; median R² ${r["median-r2"].text}, planted ${
            r["planted-r2"].text
          }`,
        );
        assert.equal(r.state.text, "done", r.status.text);
        assert.deepEqual(seen.errors, [], seen.errors.join("\n"));
        assert.deepEqual(seen.failed, [], seen.failed.join("\n"));
        // The page loaded the package through its import map.
        assert.ok(seen.requested.includes("/kernels/index.js"), String(seen.requested));
        assert.equal(r.adapter.value, "webgpu", r.adapter.text);
        assert.match(r.adapter.text, /swiftshader/i);
        // Both backends finished, and took time to do so.
        assert.ok(Number(r["webgpu-time"].value) > 0, r["webgpu-time"].text);
        assert.ok(Number(r["cpu-time"].value) > 0, r["cpu-time"].text);
        const diff = Number(r["max-weight-diff"].value);
        assert.ok(diff >= 0 && diff < 1e-3, `weights differ by ${r["max-weight-diff"].text}`);
        // Planted R² ≈ 0.67 (median); a fit with wrong weights or α gets far less.
        const planted = Number(r["planted-r2"].value), r2 = Number(r["median-r2"].value);
        assert.ok(planted > 0.6 && planted < 0.75, `planted R² ${planted}`);
        assert.ok(r2 > 0.55 && r2 <= planted, `median held-out R² ${r2} (planted ${planted})`);
        const counts: number[] = JSON.parse(r["alpha-histogram"].value ?? "[]");
        assert.equal(counts.length, 10);
        assert.equal(counts.reduce((a, b) => a + b, 0), 2000);
        assert.ok(counts.filter((c) => c > 0).length >= 2, `one α for all targets: ${counts}`);
        await page.close();
      });

      await t.step("without navigator.gpu: says so and fits on the CPU", async () => {
        const page = await browser.newPage();
        await page.addInitScript(() => {
          Object.defineProperty(Navigator.prototype, "gpu", { get: () => undefined });
        });
        const seen = watch(page);
        const r = await results(page, server.url + "/");
        assert.equal(r.state.text, "done", r.status.text);
        assert.deepEqual(seen.errors, [], seen.errors.join("\n"));
        assert.deepEqual(seen.failed, [], seen.failed.join("\n"));
        assert.equal(r.adapter.value, "none");
        assert.match(r.adapter.text, /WebGPU is not available.*CPU backend only/);
        assert.match(r["webgpu-time"].text, /not run/);
        assert.equal(r["max-weight-diff"].value, undefined);
        assert.ok(Number(r["cpu-time"].value) > 0);
        assert.ok(Number(r["median-r2"].value) > 0.55, r["median-r2"].text);
        await page.close();
      });
    } finally {
      await browser.close();
      await server.close();
      await Deno.remove(tmp, { recursive: true });
      console.log(`example page test: ${((performance.now() - started) / 1000).toFixed(1)} s`);
    }
  },
});
