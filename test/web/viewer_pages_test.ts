/**
 * What the pages with brain viewers hand the browser: the background (the
 * registered 2 mm MNI template for 2 mm maps, served with its checksum and
 * cached; the run's own anatomy otherwise), the early downloads in the head
 * (NiiVue's module, the volumes), and on the comparison page the pair's
 * surfaces side by side and the metrics' bootstrap intervals.
 */

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { registryEntry } from "@brainorg/datasets";
import { encodeNifti1 } from "@brainorg/neuro";
import { RESULT_FILES, voxelFiles } from "@brainorg/core/results";
import { createHandler } from "../../apps/web/server.ts";
import { template2mmFile, TEMPLATE_2MM, TEMPLATE_2MM_URL } from "../../apps/web/template.ts";
import { unescapeHtml } from "./crawl.ts";
import { writeResultsFolder } from "./fixture.ts";

const ATOMS = 4;

/** The props of every island of one kind on a page, in page order. */
function islandProps(html: string, name: string): Record<string, unknown>[] {
  return [...html.matchAll(new RegExp(`data-island="${name}" data-props="([^"]*)"`, "g"))]
    .map((m) => JSON.parse(unescapeHtml(m[1])));
}

/** A model's group t map rewritten on a small 2 mm grid (MNI origin), ATOMS volumes. */
async function write2mmMap(run: string, model: string) {
  const shape = [10, 12, 10, ATOMS], n = shape.reduce((a, b) => a * b, 1);
  const data = Float32Array.from({ length: n }, (_, i) => Math.sin(i) * 5);
  const affine = Float64Array.of(2, 0, 0, -90, 0, 2, 0, -126, 0, 0, 2, -72, 0, 0, 0, 1);
  await Deno.writeFile(
    join(run, voxelFiles(model).groupT),
    encodeNifti1({ shape, affine, data }, { datatype: "float32", gzip: true }),
  );
}

async function serve(dirs: string[]) {
  const { handler } = await createHandler(dirs);
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, handler);
  const base = `http://127.0.0.1:${server.addr.port}`;
  const get = async (path: string, init?: RequestInit) => {
    const res = await fetch(base + path, init);
    return { status: res.status, headers: res.headers, bytes: new Uint8Array(await res.bytes()) };
  };
  const page = async (path: string) => {
    const res = await get(path);
    return { status: res.status, text: new TextDecoder().decode(res.bytes) };
  };
  return { server, get, page };
}

Deno.test({
  name: "dashboard: 2 mm maps on the registered 2 mm template, others on the run's anatomy; " +
    "the viewer's downloads start in the head",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "brainorg-web-viewer-" });
    let server: Deno.HttpServer<Deno.NetAddr> | undefined;
    try {
      const run = join(dir, "run");
      const { models: [A, B] } = await writeResultsFolder(run, {
        atoms: ATOMS,
        layers: 2,
        volumes: 30,
        words: 100,
        grid: [10, 12, 10],
        subjects: 1,
      });
      await write2mmMap(run, A);
      let get, page;
      ({ server, get, page } = await serve([run]));
      const local = await template2mmFile();
      if (!local) console.warn(`%cNO ${TEMPLATE_2MM}: only the fallback is checked.`, "color: red");
      const anatomyHref = `/runs/run/files/${RESULT_FILES.anatomy}`;

      // A's map is 2 mm: the template (when this machine has it); B's is 4 mm: the run's anatomy.
      const pageA = await page(`/runs/run/atoms/${encodeURIComponent(A)}/1`);
      assert.equal(pageA.status, 200);
      const [viewerA] = islandProps(pageA.text, "VolumeViewer");
      assert.equal(viewerA.anatomy, local ? TEMPLATE_2MM_URL : anatomyHref);
      const pageB = await page(`/runs/run/atoms/${encodeURIComponent(B)}/2`);
      const [viewerB] = islandProps(pageB.text, "VolumeViewer");
      assert.equal(viewerB.anatomy, anatomyHref);

      // The head starts NiiVue's module and each volume the viewer fetches, once each.
      const head = /<head>(.*)<\/head>/s.exec(pageB.text)![1];
      assert.match(head, /<script type="module" async src="\/assets\/niivue.js"><\/script>/);
      const preloads = [
        ...head.matchAll(/<link rel="preload" as="fetch" crossorigin="anonymous" href="([^"]*)"/g),
      ]
        .map((m) => unescapeHtml(m[1]));
      const maps = viewerB.maps as { url: string }[];
      assert.deepEqual(preloads, [anatomyHref, maps[0].url, viewerB.atlas]);
      // A page without a brain view starts nothing.
      const overview = await page("/runs/run");
      assert.doesNotMatch(/<head>(.*)<\/head>/s.exec(overview.text)![1], /niivue|preload/);

      // The template's route: the registered bytes, cacheable; nothing else under /templates.
      const tpl = await get(TEMPLATE_2MM_URL);
      if (local) {
        assert.equal(tpl.status, 200);
        assert.equal(
          createHash("sha256").update(tpl.bytes).digest("hex"),
          registryEntry(TEMPLATE_2MM).sha256,
        );
        assert.deepEqual([...tpl.bytes.subarray(0, 2)], [0x1f, 0x8b], "served as stored: gzip");
        assert.match(tpl.headers.get("cache-control") ?? "", /max-age=\d+/);
        const head = await get(TEMPLATE_2MM_URL, { method: "HEAD" });
        assert.equal(head.status, 200);
        assert.equal(head.bytes.length, 0);
      } else assert.equal(tpl.status, 503);
      for (
        const bad of ["mni152-4mm.nii.gz", "..%2Fsummary.json", "..%2F..%2Fdeno.json"]
      ) {
        assert.equal((await get(`/templates/${bad}`)).status, 404, bad);
      }
    } finally {
      await server?.shutdown();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "dashboard: compare shows the pair's surfaces side by side and the metrics' intervals",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "brainorg-web-compare-surf-" });
    let server: Deno.HttpServer<Deno.NetAddr> | undefined;
    try {
      const run = join(dir, "run");
      const { models: [A, B] } = await writeResultsFolder(run, {
        atoms: ATOMS,
        layers: 2,
        volumes: 30,
        words: 100,
        grid: [10, 12, 10],
        subjects: 1,
      });
      // A bootstrap for A's Yeo-7 metrics, as the pipeline writes it (metricIntervals, and
      // each link's reappearance).
      const summaryPath = join(run, RESULT_FILES.summary);
      const summary = JSON.parse(await Deno.readTextFile(summaryPath));
      const tplA = summary.voxel.models.find((m: { name: string }) => m.name === A).templates
        .find((t: { name: string }) => t.name === "Yeo-7");
      tplA.metricIntervals = [
        { metric: "normalizedEntropy", value: 0.5, ciLow: 0.125, ciHigh: 0.875, finite: 100 },
        { metric: "consistency.timeCourse", value: 0.3, ciLow: -0.25, ciHigh: 0.625, finite: 90 },
      ];
      for (const l of tplA.links) l.reappearance = 0.5;
      await Deno.writeTextFile(summaryPath, JSON.stringify(summary));
      let page;
      ({ server, page } = await serve([run]));

      const key = (m: string) => `run/${encodeURIComponent(m)}`;
      const surfacesOf = async (pair: number) => {
        const p = await page(`/compare?a=${key(A)}&b=${key(B)}&pair=${pair}`);
        assert.equal(p.status, 200);
        return { text: p.text, islands: islandProps(p.text, "SurfaceViewer") };
      };
      const first = await surfacesOf(0);
      // Two surface viewers: A's atom, then B's matched atom, with the same threshold.
      assert.equal(first.islands.length, 2);
      const pairRow = /<tr data-pair="0-(\d+)"/.exec(first.text);
      assert.ok(pairRow, "no pair row for A's atom 0");
      const atomB = Number(pairRow[1]);
      const values = (s: Record<string, unknown>) => (s.lh as { values: string }).values;
      assert.equal(
        values(first.islands[0]),
        `/runs/run/surfaces/${encodeURIComponent(A)}/0/lh.values.mz3`,
      );
      assert.equal(
        values(first.islands[1]),
        `/runs/run/surfaces/${encodeURIComponent(B)}/${atomB}/lh.values.mz3`,
      );
      assert.equal(first.islands[0].threshold, first.islands[1].threshold);
      assert.ok((first.islands[0].lh as { borders?: string }).borders, "no network borders");
      assert.match(first.text, /data-testid="pair-surfaces-a"/);
      assert.match(first.text, /data-testid="pair-surfaces-b"/);
      // Another pair: other atoms' surfaces.
      const other = await surfacesOf(2);
      assert.equal(
        values(other.islands[0]),
        `/runs/run/surfaces/${encodeURIComponent(A)}/2/lh.values.mz3`,
      );

      // The intervals where the summary has them (A), the value alone where not (B).
      const metrics = /<table data-testid="side-metrics">(.*?)<\/table>/s.exec(first.text)![1];
      const row = (label: string) =>
        [...new RegExp(`<td>${label}</td><td>([^<]*)</td><td>([^<]*)</td>`).exec(metrics)!]
          .slice(1);
      const [entropyA, entropyB] = row("diversity: normalized entropy");
      assert.match(entropyA, /^-?[\d.]+ \[0\.125, 0\.875\]$/);
      assert.match(entropyB, /^(-?[\d.]+|—)$/);
      assert.match(row("consistency: time courses")[0], /\[-0\.250, 0\.625\]$/);
      assert.doesNotMatch(row("diversity: layer spread")[0], /\[/);
      assert.match(first.text, /data-testid="metric-intervals"/);
    } finally {
      await server?.shutdown();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
