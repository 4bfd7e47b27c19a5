import assert from "node:assert/strict";
import { join } from "node:path";
import { modelFiles, voxelFiles } from "@brainorg/core/results";
import { matchAtoms } from "@brainorg/core/stability";
import { createHandler } from "../../apps/web/server.ts";
import { havePython, runPython } from "../python.ts";
import { type FixtureOptions, writeResultsFolder } from "./fixture.ts";

const K = 6;
const OPTIONS: FixtureOptions = {
  atoms: K,
  layers: 3,
  volumes: 40,
  words: 200,
  grid: [12, 14, 12],
};

/** A model's atom time courses as the fixture wrote them: (T × K) row-major. */
async function courses(dir: string, model: string) {
  const lines = (await Deno.readTextFile(join(dir, modelFiles(model).atoms))).trim().split("\n");
  const rows = lines.slice(1).map((l) => l.split(",").slice(1).map(Number));
  return { rows: rows.length, cols: rows[0].length, data: Float32Array.from(rows.flat()) };
}

/** The page's pair table rows: A's atom, B's atom, r, and the row's HTML. */
function pairRows(html: string) {
  const table = /<table data-testid="pairs">(.*?)<\/table>/s.exec(html)?.[1];
  assert.ok(table, "no pairs table");
  return table.split("<tr").slice(2).map((row) => {
    const [, a, b] = /data-pair="(\d+)-(\d+)"/.exec(row)!;
    const r = Number(
      /<td>atom \d+<\/a><\/td><td>([^<]*)<\/td>/.exec(
        row.replace(/<a [^>]*>/g, ""),
      )?.[1],
    );
    return { atomA: Number(a), atomB: Number(b), r, html: row };
  });
}

async function serve(dirs: string[]) {
  const { handler } = await createHandler(dirs);
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, handler);
  const base = `http://127.0.0.1:${server.addr.port}`;
  const get = async (path: string) => {
    const res = await fetch(base + path);
    return { status: res.status, text: await res.text() };
  };
  return { server, get };
}

Deno.test({
  name:
    "dashboard: compare matches a model's atoms with its control's, by |r|, with links and maps",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "brainorg-web-compare-" });
    let server: Deno.HttpServer<Deno.NetAddr> | undefined;
    try {
      const run = join(dir, "run");
      const { models: [A, B] } = await writeResultsFolder(run, OPTIONS);
      // Stability for A only: the page shows mean ± sd for A and "not computed" for B.
      const stab = [0.9, 0.4, 0.7, 0.2, 0.8, 0.6];
      await Deno.writeTextFile(
        join(run, modelFiles(A).stability.path),
        "atom,stability,seedMedianR,halvesMedianR,stable\n" +
          stab.map((s, k) => `${k},${s},${s},${s},${s >= 0.5}`).join("\n") + "\n",
      );
      let get;
      ({ server, get } = await serve([run]));
      const page = await get("/compare");
      assert.equal(page.status, 200);
      assert.match(page.text, new RegExp(`A: <b>${A}</b>`), "A defaults to the first model");
      assert.match(page.text, new RegExp(`B: <b>${B}</b>`), "B defaults to A's control");

      // The matching is matchAtoms' on the courses in the files, sorted by |r| descending.
      const rows = pairRows(page.text);
      const expected = matchAtoms(await courses(run, A), await courses(run, B));
      assert.equal(rows.length, K);
      assert.deepEqual(
        rows.map((r) => [r.atomA, r.atomB]).sort((x, y) => x[0] - y[0]),
        expected.map((p) => [p.atom, p.matchedAtom]),
      );
      for (const row of rows) {
        const p = expected.find((e) => e.atom === row.atomA)!;
        assert.ok(Math.abs(row.r - p.r) < 5e-4, `pair ${row.atomA}: ${row.r} vs ${p.r}`);
      }
      for (let i = 1; i < rows.length; i++) {
        assert.ok(Math.abs(rows[i - 1].r) >= Math.abs(rows[i].r), "rows not sorted by |r|");
      }
      // Links to both atoms' pages on every row.
      for (const row of rows) {
        assert.ok(row.html.includes(`href="/runs/run/atoms/${A}/${row.atomA}"`), row.html);
        assert.ok(row.html.includes(`href="/runs/run/atoms/${B}/${row.atomB}"`), row.html);
      }
      // Each row names A's best network with its Dice: the largest of the atom's Yeo-7 cells.
      const table = voxelFiles(A).networks("Yeo-7");
      const [header, ...lines] = (await Deno.readTextFile(join(run, table.path))).trim()
        .split("\n").map((l) => l.split(","));
      const col = (name: string) => header.indexOf(name);
      for (const row of rows) {
        const dice = Math.max(
          ...lines.filter((l) => Number(l[col("atom")]) === row.atomA).map((l) =>
            Number(l[col("dice")])
          ),
        );
        assert.match(row.html, new RegExp(`</td><td>${dice.toFixed(3)}</td>`), row.html);
      }

      // Share of pairs with |r| > 0.5, as the page states it.
      const share = expected.filter((p) => Math.abs(p.r) > 0.5).length / expected.length;
      assert.match(page.text, new RegExp(`data-testid="share">${(100 * share).toFixed(0)}%`));

      // The top pair's two maps, side by side, at one threshold.
      const islands = [...page.text.matchAll(/data-island="VolumeViewer" data-props="([^"]*)"/g)]
        .map((m) => JSON.parse(m[1].replaceAll("&quot;", '"').replaceAll("&amp;", "&")));
      assert.equal(islands.length, 2);
      assert.equal(
        islands[0].maps[0].url,
        `/runs/run/files/${voxelFiles(A).groupT}?volume=${rows[0].atomA}`,
      );
      assert.equal(
        islands[1].maps[0].url,
        `/runs/run/files/${voxelFiles(B).groupT}?volume=${rows[0].atomB}`,
      );
      assert.equal(islands[0].threshold, islands[1].threshold);
      assert.equal(islands[0].threshold, 3.1);

      // Choosing another pair draws its maps.
      const last = rows[rows.length - 1];
      const other = await get(
        `/compare?a=run/${encodeURIComponent(A)}&b=run/${encodeURIComponent(B)}&pair=${last.atomA}`,
      );
      assert.equal(other.status, 200);
      assert.ok(
        other.text.includes(`${voxelFiles(B).groupT}?volume=${last.atomB}`),
        "the chosen pair's B map is not drawn",
      );

      // Metrics side by side, stability with its spread for A only.
      const metrics = /<table data-testid="side-metrics">(.*?)<\/table>/s.exec(page.text)?.[1];
      assert.ok(metrics);
      const mean = stab.reduce((a, b) => a + b) / stab.length;
      const sd = Math.sqrt(stab.reduce((a, b) => a + (b - mean) ** 2, 0) / (stab.length - 1));
      assert.ok(metrics.includes(`${mean.toFixed(3)} ± ${sd.toFixed(3)}`), metrics);
      assert.ok(metrics.includes("not computed"));
      assert.ok(metrics.includes(`${stab.filter((s) => s >= 0.5).length} of ${K}`));

      // Swapped sides: B's atoms first.
      const swapped = await get(
        `/compare?a=run/${encodeURIComponent(B)}&b=run/${encodeURIComponent(A)}`,
      );
      assert.match(swapped.text, new RegExp(`A: <b>${B}</b>`));
      // A side that names nothing gets a message, not a 500.
      const bad = await get("/compare?a=run/nope");
      assert.equal(bad.status, 200);
      assert.match(bad.text, /data-testid="compare-message">Model A/);
    } finally {
      await server?.shutdown();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "dashboard: compare says clearly when a run has one model only",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "brainorg-web-compare-one-" });
    let server: Deno.HttpServer<Deno.NetAddr> | undefined;
    try {
      const run = join(dir, "solo");
      await writeResultsFolder(run, { ...OPTIONS, models: ["only"] });
      let get;
      ({ server, get } = await serve([run]));
      const page = await get("/compare");
      assert.equal(page.status, 200);
      assert.match(
        page.text,
        /data-testid="compare-message">Run solo has one model only \(only\)/,
      );
      assert.ok(!page.text.includes('data-testid="pairs"'));
    } finally {
      await server?.shutdown();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "dashboard: compare's matching agrees with scipy's linear_sum_assignment on |r|",
  ignore: !havePython(["scipy"], "atom matching parity with scipy"),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "brainorg-web-compare-py-" });
    let server: Deno.HttpServer<Deno.NetAddr> | undefined;
    try {
      const run = join(dir, "run");
      const { models: [A, B] } = await writeResultsFolder(run, OPTIONS);
      let get;
      ({ server, get } = await serve([run]));
      const rows = pairRows((await get("/compare")).text);
      const ref = await runPython<{ a: number; b: number; r: number }[]>(
        `
import sys, json, numpy as np
from scipy.optimize import linear_sum_assignment
a = np.loadtxt(sys.argv[1], delimiter=",", skiprows=1)[:, 1:]
b = np.loadtxt(sys.argv[2], delimiter=",", skiprows=1)[:, 1:]
r = np.corrcoef(a.T, b.T)[: a.shape[1], a.shape[1]:]
i, j = linear_sum_assignment(-np.abs(r))
print(json.dumps([{"a": int(x), "b": int(y), "r": float(r[x, y])} for x, y in zip(i, j)]))
`,
        [join(run, modelFiles(A).atoms), join(run, modelFiles(B).atoms)],
        ["numpy", "scipy"],
      );
      assert.equal(rows.length, ref.length);
      for (const p of ref) {
        const row = rows.find((x) => x.atomA === p.a);
        assert.equal(row?.atomB, p.b, `atom ${p.a}`);
        assert.ok(Math.abs(row!.r - p.r) < 5e-4, `atom ${p.a}: ${row!.r} vs ${p.r}`);
      }
    } finally {
      await server?.shutdown();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
