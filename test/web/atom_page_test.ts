import assert from "node:assert/strict";
import { join } from "node:path";
import { modelFiles, RESULT_FILES } from "@brainorg/core/results";
import { topVolumes, wordEnrichment, wordsPerVolume } from "../../apps/web/atom_words.ts";
import { fileCache } from "../../apps/web/file_cache.ts";
import { sortMembers } from "../../apps/web/members.ts";
import { createHandler } from "../../apps/web/server.ts";
import { havePython, runPython } from "../python.ts";
import { writeResultsFolder } from "./fixture.ts";

const K = 6, L = 3, T = 40;

/** A results folder, a second one whose members table is missing, a third with a corrupt one. */
async function serve(dir: string) {
  const options = { atoms: K, layers: L, volumes: T, words: 200, grid: [12, 14, 12] } as const;
  const run = join(dir, "run"), old = join(dir, "old"), bad = join(dir, "bad");
  const { models } = await writeResultsFolder(run, { ...options, grid: [12, 14, 12] });
  await writeResultsFolder(old, { ...options, grid: [12, 14, 12] });
  await writeResultsFolder(bad, { ...options, grid: [12, 14, 12] });
  const members = modelFiles(models[0]).members.path;
  await Deno.remove(join(old, members));
  await Deno.writeTextFile(join(bad, members), "layer;unit;atom;code\n1;2;0;0.5\n");
  const { handler } = await createHandler([run, old, bad]);
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, handler);
  const base = `http://127.0.0.1:${server.addr.port}`;
  const get = async (path: string) => {
    const res = await fetch(base + path);
    return { status: res.status, text: await res.text(), type: res.headers.get("content-type") };
  };
  return { run, model: models[0], server, get };
}

/** The cells of a table by its test id, one array per body row. */
function tableRows(html: string, id: string): string[][] {
  const table = new RegExp(`<table data-testid="${id}">(.*?)</table>`, "s").exec(html)?.[1];
  assert.ok(table, `no table ${id}`);
  return table.split("<tr>").slice(2).map((r) =>
    [...r.matchAll(/<td>(.*?)<\/td>/gs)].map((m) => m[1])
  );
}

/** members.csv's rows for one atom, as numbers. */
async function csvMembers(run: string, model: string, atom: number) {
  const text = await Deno.readTextFile(join(run, modelFiles(model).members.path));
  return text.trim().split("\n").slice(1).map((l) => l.split(",").map(Number))
    .filter((c) => c[2] === atom).map(([layer, unit, , code]) => ({ layer, unit, code }));
}

Deno.test({
  name: "atom page: the members table, its order, counts, sorting and CSV download",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "brainorg-web-atom-" });
    let server: Deno.HttpServer<Deno.NetAddr> | undefined;
    try {
      const s = await serve(dir);
      server = s.server;
      for (const atom of [0, 3]) {
        const page = await s.get(`/runs/run/atoms/${s.model}/${atom}`);
        assert.equal(page.status, 200);
        const expected = await csvMembers(s.run, s.model, atom);
        assert.ok(expected.length > 0);
        // |code| descending, ties by the table's own order (the writer sorted it so).
        const byCode = [...expected].sort((a, b) => Math.abs(b.code) - Math.abs(a.code));
        const rows = tableRows(page.text, "atom-members");
        assert.equal(rows.length, Math.min(200, expected.length));
        assert.deepEqual(
          rows.map((r) => r.map(Number)),
          byCode.slice(0, 200).map((m) => [m.layer, m.unit, Number(m.code.toFixed(3))]),
        );
        assert.match(page.text, new RegExp(`strongest of ${expected.length} ANs`));
        assert.match(page.text, new RegExp(`all ${expected.length} as CSV`));

        // ?sort=layer: by layer, then unit; a sort the server does not know falls back to |code|.
        const byLayer = tableRows(
          (await s.get(`/runs/run/atoms/${s.model}/${atom}?sort=layer`)).text,
          "atom-members",
        ).map((r) => r.map(Number));
        assert.deepEqual(
          byLayer.map((r) => [r[0], r[1]]),
          [...expected].sort((a, b) => a.layer - b.layer || a.unit - b.unit)
            .map((m) => [m.layer, m.unit]),
        );
        const byUnit = tableRows(
          (await s.get(`/runs/run/atoms/${s.model}/${atom}?sort=unit`)).text,
          "atom-members",
        ).map((r) => r.map(Number));
        for (let i = 1; i < byUnit.length; i++) assert.ok(byUnit[i - 1][1] <= byUnit[i][1]);
        assert.deepEqual(
          tableRows(
            (await s.get(`/runs/run/atoms/${s.model}/${atom}?sort=evil`)).text,
            "atom-members",
          ),
          rows,
        );

        // The download: members.csv's header and this atom's lines, byte for byte.
        const csv = await s.get(`/runs/run/members/${s.model}/${atom}`);
        assert.equal(csv.status, 200);
        assert.match(csv.type ?? "", /^text\/csv/);
        const lines = (await Deno.readTextFile(join(s.run, modelFiles(s.model).members.path)))
          .split("\n").filter((l) => l !== "");
        const mine = [lines[0], ...lines.slice(1).filter((l) => l.split(",")[2] === String(atom))];
        assert.equal(csv.text, mine.join("\n") + "\n");
      }
      assert.equal((await s.get(`/runs/run/members/${s.model}/x`)).status, 404);
      assert.equal((await s.get(`/runs/run/members/nobody/0`)).status, 404);
      assert.equal((await s.get(`/runs/nowhere/members/${s.model}/0`)).status, 404);

      // The members scan is cached per file: a second atom page of the model reads nothing new
      // but its atom's volume, which the page starts cutting out for the viewer, and the first
      // view drawn from it (the decoded volume and the picture; awaited through its route).
      await s.get(`/runs/run/atoms/${s.model}/1`);
      await s.get(`/runs/run/atoms/${s.model}/1/preview.png`);
      const before = fileCache.loads;
      await s.get(`/runs/run/atoms/${s.model}/2`);
      assert.equal((await s.get(`/runs/run/atoms/${s.model}/2/preview.png`)).status, 200);
      assert.equal(fileCache.loads, before + 3);

      // No members table: a note, no table; a corrupt one: a problem card naming it, no crash.
      const old = await s.get(`/runs/old/atoms/${s.model}/0`);
      assert.equal(old.status, 200);
      assert.match(old.text, /data-testid="members-missing"/);
      assert.ok(!old.text.includes('data-testid="atom-members"'));
      assert.equal((await s.get(`/runs/old/members/${s.model}/0`)).status, 404);
      const bad = await s.get(`/runs/bad/atoms/${s.model}/0`);
      assert.equal(bad.status, 200);
      const card = /<div class="error" data-testid="problems">(.*?)<\/div>/s.exec(bad.text)?.[1];
      assert.ok(card, "no problem card");
      assert.match(card, new RegExp(`models/${s.model}/members.csv`));
      assert.match(bad.text, /data-testid="top-volumes"/);
      const badCsv = await s.get(`/runs/bad/members/${s.model}/0`);
      assert.equal(badCsv.status, 422);
      assert.match(badCsv.text, /members\.csv/);
    } finally {
      try {
        await server?.shutdown();
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    }
  },
});

Deno.test({
  name: "atom page: the top volumes' words and the enriched words, computed by hand",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "brainorg-web-atom-words-" });
    let server: Deno.HttpServer<Deno.NetAddr> | undefined;
    try {
      const s = await serve(dir);
      server = s.server;
      const atom = 2;
      // Words that repeat (w0…w6) over the whole story, so that some are enriched.
      await Deno.writeTextFile(
        join(s.run, RESULT_FILES.words.path),
        "word,onset,offset,run\n" +
          Array.from(
            { length: 200 },
            (_, i) => `w${(i * i) % 7},${19 + i * 0.4},${19.3 + i * 0.4},1`,
          )
            .join("\n") +
          "\n",
      );
      const rows = (path: string) =>
        Deno.readTextFile(join(s.run, path)).then((t) =>
          t.trim().split("\n").slice(1).map((l) => l.split(","))
        );
      const header = (await Deno.readTextFile(join(s.run, modelFiles(s.model).atoms)))
        .split("\n")[0].split(",");
      const course = (await rows(modelFiles(s.model).atoms))
        .map((r) => Number(r[header.indexOf(`atom${atom}`)]));
      const times = (await rows(RESULT_FILES.wordRate.path)).map((r) => Number(r[1]));
      const words = (await rows(RESULT_FILES.words.path)).map((r) => [r[0], Number(r[1])] as const);
      // By hand: the 10 highest volumes, each with the words whose onset is in (t − 2, t].
      const top = course.map((v, i) => [v, i]).sort((a, b) => b[0] - a[0]).slice(0, 10);
      const expected = top.map(([, v]) =>
        words.filter(([, onset]) => onset > times[v] - 2 && onset <= times[v]).map(([w]) => w)
          .join(" ")
      );
      const page = await s.get(`/runs/run/atoms/${s.model}/${atom}`);
      const list = /<ol data-testid="top-volumes">(.*?)<\/ol>/s.exec(page.text)?.[1];
      assert.ok(list, "no top volumes");
      const items = [...list.matchAll(/<li>(.*?)<\/li>/gs)].map((m) =>
        m[1].replace(/<!-- -->/g, "")
      );
      assert.equal(items.length, 10);
      for (let i = 0; i < 10; i++) {
        assert.match(items[i], new RegExp(`^volume ${top[i][1]}\\b`));
        assert.match(items[i], new RegExp(`${times[top[i][1]].toFixed(3)} s`));
        const said = expected[i] || '<span class="muted">no word</span>';
        assert.ok(items[i].endsWith(`: ${said}`), `${items[i]} vs ${said}`);
      }
      // Enrichment by hand: the top 4 volumes (10% of 40) against all 40.
      const perVolume = times.map((t) =>
        words.filter(([, onset]) => onset > t - 2 && onset <= t).map(([w]) => w)
      );
      const topWords = top.slice(0, 4).flatMap(([, v]) => perVolume[v]),
        allWords = perVolume.flat();
      const count = (ws: string[], w: string) => ws.filter((x) => x === w).length;
      const enriched = [...new Set(topWords)].filter((w) => count(allWords, w) >= 3).map((w) => {
        const t = count(topWords, w), a = count(allWords, w);
        return [w, t, a, (t / topWords.length) / (a / allWords.length)] as const;
      }).sort((x, y) => y[3] - x[3] || y[1] - x[1] || (x[0] < y[0] ? -1 : 1));
      assert.ok(enriched.length > 0);
      assert.deepEqual(
        tableRows(page.text, "enriched-words"),
        enriched.map(([w, t, a, r]) => [w, String(t), String(a), r.toFixed(3)]),
      );
      assert.match(
        page.text.replace(/<!-- -->/g, ""),
        new RegExp(`\\(4 volumes, ${topWords.length} words\\)`),
      );
    } finally {
      try {
        await server?.shutdown();
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    }
  },
});

Deno.test("atom words: windows, top volumes and enrichment on a small story", () => {
  const words = [
    { word: "The", onset: 0.5 },
    { word: "cat,", onset: 1.5 },
    { word: "cat", onset: 2.5 },
    { word: "sat", onset: 4 }, // on a volume's time: in that volume, not the next
    { word: "the", onset: 5 },
    { word: "cat", onset: 7 },
    { word: "dog", onset: NaN },
  ];
  const heard = wordsPerVolume(words, [2, 4, 6, 8], 2);
  assert.deepEqual(heard, [["The", "cat,"], ["cat", "sat"], ["the"], ["cat"]]);
  const course = [0.1, 2, NaN, 1];
  assert.deepEqual(topVolumes(course, [2, 4, 6, 8], heard, 2), [
    { volume: 1, time: 4, value: 2, words: ["cat", "sat"] },
    { volume: 3, time: 8, value: 1, words: ["cat"] },
  ]);
  // Top half of the 3 finite volumes: 2 (volumes 1 and 3), 3 words, 2 of them "cat";
  // all volumes: 6 words, 3 "cat", 2 "the" (case and punctuation folded).
  const e = wordEnrichment(course, heard, { fraction: 0.5, minCount: 2 });
  assert.equal(e.topVolumes, 2);
  assert.equal(e.topWords, 3);
  assert.equal(e.allWords, 6);
  assert.deepEqual(e.words, [{ word: "cat", top: 2, all: 3, ratio: (2 / 3) / (3 / 6) }]);
  assert.equal(wordEnrichment(course, heard, { fraction: 0.5 }).words.length, 1);
  assert.equal(wordEnrichment(course, heard, { fraction: 0.5, minCount: 4 }).words.length, 0);
});

Deno.test("sortMembers: by |code|, NaN last; by layer or unit with |code| within ties", () => {
  const m = [
    { layer: 1, unit: 4, code: 0.2 },
    { layer: 0, unit: 9, code: NaN },
    { layer: 1, unit: 2, code: -0.9 },
    { layer: 0, unit: 9, code: 0.5 },
  ];
  assert.deepEqual(sortMembers(m, "code").map((x) => x.code), [-0.9, 0.5, 0.2, NaN]);
  assert.deepEqual(sortMembers(m, "layer").map((x) => [x.layer, x.unit, x.code]), [
    [0, 9, 0.5],
    [0, 9, NaN],
    [1, 2, -0.9],
    [1, 4, 0.2],
  ]);
  assert.deepEqual(sortMembers(m, "unit").map((x) => x.unit), [2, 4, 9, 9]);
  assert.equal(m[0].code, 0.2); // the input is left as it was
});

Deno.test({
  name: "wordEnrichment matches a numpy computation on random words",
  ignore: !havePython(["numpy"], "word enrichment reference"),
  async fn() {
    let seed = 5;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const vocab = ["a", "b", "c", "d", "e", "f", "g"];
    const heard = Array.from(
      { length: 57 },
      () => Array.from({ length: Math.floor(rand() * 5) }, () => vocab[Math.floor(rand() * 7)]),
    );
    const course = heard.map(() => rand() * 2 - 1);
    const got = wordEnrichment(course, heard, { limit: 100 });
    const ref = await runPython<Record<string, [number, number, number]>>(
      `
import json, sys, numpy as np
course, heard = json.loads(sys.argv[1])
order = np.argsort(-np.asarray(course), kind="stable")
top = order[: int(np.ceil(0.1 * len(course)))]
allw = [w for h in heard for w in h]
topw = [w for v in top for w in heard[v]]
out = {}
for w in set(topw):
    a, t = allw.count(w), topw.count(w)
    if a >= 3:
        out[w] = [t, a, (t / len(topw)) / (a / len(allw))]
print(json.dumps(out))
`,
      [JSON.stringify([course, heard])],
    );
    assert.equal(got.words.length, Object.keys(ref).length);
    for (const w of got.words) {
      const [t, a, r] = ref[w.word];
      assert.equal(w.top, t);
      assert.equal(w.all, a);
      assert.ok(Math.abs(w.ratio - r) < 1e-12, `${w.word}: ${w.ratio} vs ${r}`);
    }
  },
});

Deno.test({
  name: "atom page: the CSV download streams past thousands of other atoms' rows",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "brainorg-web-atom-csv-" });
    let server: Deno.HttpServer<Deno.NetAddr> | undefined;
    try {
      const s = await serve(dir);
      server = s.server;
      // 20,000 rows of atom 0 before atom 1's three: a stream that stalls on a chunk
      // without a match would never answer.
      const rows = Array.from({ length: 20000 }, (_, i) => `${i % 3},${i % 64},0,0.5`);
      const mine = ["2,5,1,-0.25", "0,7,1,0.125", "1,1,1,1e-3"];
      await Deno.writeTextFile(
        join(s.run, modelFiles(s.model).members.path),
        ["layer,unit,atom,code", ...rows, ...mine, "0,1,2,0.5"].join("\r\n") + "\r\n",
      );
      const csv = await s.get(`/runs/run/members/${s.model}/1`);
      assert.equal(csv.text, ["layer,unit,atom,code", ...mine].join("\n") + "\n");
      const page = await s.get(`/runs/run/atoms/${s.model}/1`);
      assert.deepEqual(tableRows(page.text, "atom-members"), [
        ["2", "5", "-0.250"],
        ["0", "7", "0.125"],
        ["1", "1", "0.001"],
      ]);
      assert.match(page.text, /strongest of 3 ANs/);
      const atom0 = await s.get(`/runs/run/atoms/${s.model}/0`);
      assert.equal(tableRows(atom0.text, "atom-members").length, 200);
      assert.match(atom0.text, /The 200 strongest of 20000 ANs/);
    } finally {
      try {
        await server?.shutdown();
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    }
  },
});
