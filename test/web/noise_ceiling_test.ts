import assert from "node:assert/strict";
import { join } from "node:path";
import { createHandler } from "../../apps/web/server.ts";
import { SMALL_FOLDER, writeResultsFolder } from "./fixture.ts";

Deno.test({
  name: "the run overview states the noise ceiling and each model's fraction of it",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "brainorg-web-ceiling-" });
    try {
      const run = join(dir, "run");
      const { models } = await writeResultsFolder(run, SMALL_FOLDER);
      const { handler } = await createHandler([run]);
      const page = await (await handler(new Request("http://127.0.0.1/runs/run"))).text();
      const line = page.match(/<p[^>]*data-testid="noise-ceiling"[^>]*>([\s\S]*?)<\/p>/);
      assert.ok(line, "no noise-ceiling line on the overview");
      const text = line[1].replace(/<!--.*?-->/g, "").replace(/\s+/g, " ");
      assert.match(text, /median 0\.210 over the voxels/);
      assert.match(text, /exceeds 0\.20/);
      for (const m of models) assert.ok(text.includes(`${m} 0.40`), `${m} in: ${text}`);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
