import assert from "node:assert/strict";
import { join } from "node:path";
import * as esbuild from "esbuild";
import { haveChromium, launchChromium, serveFiles } from "./chromium.ts";

const ARTIFACTS = join(import.meta.dirname!, "..", "artifacts");

Deno.test({
  name:
    "GEMM, ridge CV, column statistics and a LASSO path run on WebGPU inside headless Chromium and match the reference",
  ignore: !haveChromium(),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const bundle = await esbuild.build({
      entryPoints: [join(import.meta.dirname!, "kernels_page.ts")],
      bundle: true,
      format: "esm",
      platform: "browser",
      write: false,
      logLevel: "silent",
    });
    await esbuild.stop();
    const js = bundle.outputFiles[0].text;
    assert.ok(
      !/from\s+["']node:/.test(js),
      "the kernels bundle must not need Node or Deno modules",
    );
    const server = serveFiles({
      "/": {
        body:
          '<!doctype html><pre id="out"></pre><script type="module" src="/kernels.js"></script>',
        type: "text/html",
      },
      "/kernels.js": { body: js, type: "text/javascript" },
    });
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(String(e)));
      page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
      await page.goto(server.url + "/");
      await page.waitForFunction(() => "__result" in globalThis, null, { timeout: 120_000 });
      const result = await page.evaluate(() =>
        (globalThis as unknown as { __result: Record<string, unknown> }).__result
      );
      await Deno.mkdir(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: join(ARTIFACTS, "kernels_in_chromium.png") });
      assert.equal(result.error, undefined, String(result.error));
      assert.deepEqual(errors, [], errors.join("\n"));
      const adapter = result.adapter as { name: string; details: Record<string, unknown> };
      assert.equal(adapter.name, "webgpu");
      // createWebGpuBackend refuses an adapter that fails the self-check; say what it cost.
      const check = adapter.details.selfCheck as { ok: boolean; ms: number; msByKernel: object };
      assert.equal(check.ok, true);
      console.log(`self-check in Chromium: ${check.ms} ms (${JSON.stringify(check.msByKernel)})`);
      assert.equal((result.cpu as { implementation: string }).implementation, "typescript");
      assert.ok((result.gemmError as number) < 1e-5, `gemm error ${result.gemmError}`);
      assert.equal(result.ridgeSameAlphas, true);
      assert.ok(
        (result.ridgeWeightError as number) < 1e-4,
        `ridge error ${result.ridgeWeightError}`,
      );
      assert.ok((result.statsError as number) < 1e-5, `column stats error ${result.statsError}`);
      assert.ok((result.lassoError as number) < 1e-4, `LASSO error ${result.lassoError}`);
    } finally {
      await browser.close();
      await server.close();
    }
  },
});
