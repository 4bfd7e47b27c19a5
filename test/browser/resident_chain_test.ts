import assert from "node:assert/strict";
import * as esbuild from "esbuild";
import { join } from "node:path";
import { haveChromium, launchChromium, serveFiles } from "./chromium.ts";
import { createCpuBackend, ridgeCV } from "../../packages/kernels/mod.ts";
import { chainProblem } from "../../packages/kernels/_resident_chain.ts";
import { scaledError } from "../../packages/kernels/_testing.ts";

Deno.test({
  name: "the GPU-resident chain GEMM → ridge CV → correlation runs on the page's own device in " +
    "headless Chromium, reads back once, and matches the host path computed in Deno",
  ignore: !haveChromium(),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const bundle = await esbuild.build({
      entryPoints: [join(import.meta.dirname!, "resident_page.ts")],
      bundle: true,
      format: "esm",
      platform: "browser",
      write: false,
      logLevel: "silent",
    });
    await esbuild.stop();
    const server = serveFiles({
      "/": {
        body: '<!doctype html><pre id="out"></pre><script type="module" src="/chain.js"></script>',
        type: "text/html",
      },
      "/chain.js": { body: bundle.outputFiles[0].text, type: "text/javascript" },
    });
    const browser = await launchChromium();
    let result: Record<string, unknown>;
    const errors: string[] = [];
    try {
      const page = await browser.newPage();
      page.on("pageerror", (e) => errors.push(String(e)));
      page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
      await page.goto(server.url + "/");
      await page.waitForFunction(() => "__result" in globalThis, null, { timeout: 120_000 });
      result = await page.evaluate(() =>
        (globalThis as unknown as { __result: Record<string, unknown> }).__result
      );
    } finally {
      await browser.close();
      await server.close();
    }
    assert.equal(result.error, undefined, String(result.error));
    assert.deepEqual(errors, [], errors.join("\n"));
    console.log(`resident chain in Chromium on ${result.adapter}`);
    assert.equal(result.sameDevice, true);
    assert.equal(result.readbacksBeforeDownload, 0);
    assert.equal(result.readbacks, 1);
    const problem = chainProblem();
    assert.equal(result.uploads, 2 + 2 * problem.folds + 2);

    // The host path, in Deno: Y = Z · M, ridge CV and correlation on the CPU backend.
    const cpu = await createCpuBackend();
    try {
      const y = await cpu.gemm(problem.z, problem.m);
      const want = await ridgeCV(cpu, problem.x, y, {
        alphas: problem.alphas,
        folds: problem.folds,
      });
      const r = await cpu.columnCorrelation(want.predictions!, y);
      const got = result.r as number[];
      let worst = 0;
      for (let j = 0; j < r.length; j++) worst = Math.max(worst, Math.abs(got[j] - r[j]));
      assert.ok(worst < 1e-4, `r differs from Deno's by ${worst}`);
      assert.deepEqual(result.alphaIndex, Array.from(want.alphaIndex));
      const w = scaledError(result.weights as number[], want.weights.data);
      const pr = scaledError(result.predictions as number[], want.predictions!.data);
      assert.ok(w < 1e-4, `weights ${w}`);
      assert.ok(pr < 1e-4, `predictions ${pr}`);
    } finally {
      cpu.dispose();
    }
  },
});
