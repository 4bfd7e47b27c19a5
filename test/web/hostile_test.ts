import assert from "node:assert/strict";
import { join } from "node:path";
import { createHandler } from "../../apps/web/server.ts";
import { haveChromium, launchChromium } from "../browser/chromium.ts";
import { crawl, type Visit } from "./crawl.ts";
import {
  ESCAPED_MARKER,
  HOSTILE,
  IMG,
  RAW_MARKERS,
  SECRET,
  writeHostileFolders,
} from "./hostile_folders.ts";

type Folders = Awaited<ReturnType<typeof writeHostileFolders>>;

const ARTIFACTS = join(import.meta.dirname!, "..", "artifacts");

/** The decoder's (@brainorg/neuro) words for a cut map: its field, and what is wrong. */
const DECODER_SAYS_TRUNCATED = 'field "[^"]+": [^;]*(corrupt|truncated)';

/** The hostile and broken folders, served on a free loopback port. */
async function serveHostile() {
  const root = await Deno.makeTempDir({ prefix: "brainorg-web-hostile-" });
  let f: Folders;
  try {
    f = await writeHostileFolders(root);
  } catch (err) {
    await Deno.remove(root, { recursive: true });
    throw err;
  }
  const dirs = [
    f.hostile.dir,
    f.missingSummary.dir,
    f.truncated.dir,
    f.schema99.dir,
    f.nanLiteral.dir,
    f.arrayJson.dir,
    f.binary.dir,
    f.wrongTypes.dir,
    f.missingMaps.dir,
    f.truncatedMaps.dir,
    f.missingTables.dir,
    f.notAFolder,
    f.nowhere,
  ];
  const { handler, runs } = await createHandler(dirs);
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, handler);
  return {
    root,
    f,
    runs,
    url: `http://127.0.0.1:${server.addr.port}`,
    port: server.addr.port,
    close: async () => {
      try {
        await server.shutdown();
      } finally {
        await Deno.remove(root, { recursive: true });
      }
    },
  };
}

/** Every page of every run, each run's atoms and a few that must not exist. */
function startPages(runs: { id: string }[], f: Folders): string[] {
  const pages = ["/", "/compare", "/compare?runs=" + encodeURIComponent(f.hostile.id)];
  for (const r of runs) {
    const run = `/runs/${encodeURIComponent(r.id)}`;
    pages.push(run, `${run}/brain`, `${run}/rois`, `${run}/downloads`);
  }
  for (const { id, models } of [f.hostile, f.missingMaps, f.truncatedMaps, f.missingTables]) {
    for (const m of models) {
      for (const atom of ["0", "1", "3", "99", "-1", "1e3", "0x1", HOSTILE]) {
        pages.push(`/runs/${id}/atoms/${encodeURIComponent(m)}/${encodeURIComponent(atom)}`);
      }
    }
  }
  pages.push(`/runs/${encodeURIComponent(HOSTILE)}`, `/${encodeURIComponent(HOSTILE)}`);
  return pages;
}

const page = (visits: Visit[], path: string) => {
  const v = visits.find((v) => v.path === path);
  assert.ok(v?.html !== undefined, `no HTML answer for ${path}`);
  return { status: v.status, text: v.html };
};

/** HTML's text as a reader sees it, to match messages across tags and escapes. */
const textOf = (html: string) =>
  html.replace(/<[^>]*>/g, " ").replace(/&quot;/g, '"').replace(/&lt;/g, "<").replace(
    /&gt;/g,
    ">",
  ).replace(/&amp;/g, "&").replace(/\s+/g, " ");

Deno.test({
  name: "dashboard: broken and hostile folders give clear messages, never a 500 or live markup",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    const s = await serveHostile();
    try {
      const visits = await crawl(s.url, startPages(s.runs, s.f), { limit: 3000 });

      await t.step("every page and file answers, none with a 5xx", () => {
        assert.ok(visits.length > 150, `only ${visits.length} URLs crawled`);
        const failed = visits.filter((v) => v.status >= 500);
        assert.deepEqual(failed.map((v) => `${v.status} ${v.path}`), []);
        // What a page links to exists: hostile file and model names are encoded in URLs.
        const broken = visits.filter((v) => v.from && v.status !== 200);
        assert.deepEqual(broken.map((v) => `${v.status} ${v.path} (from ${v.from})`), []);
        const files = visits.filter((v) => v.path.includes("/files/"));
        assert.ok(files.some((v) => v.path.includes("notes/")), "the hostile note was not linked");
        assert.ok(files.some((v) => v.path.endsWith(".nii.gz")), "no map was linked");
        assert.ok(files.some((v) => v.path.endsWith(".csv")), "no table was linked");
      });

      await t.step("hostile text appears only escaped, on pages with a script policy", () => {
        const html = visits.filter((v) => v.html !== undefined);
        for (const v of html) {
          for (const raw of RAW_MARKERS) {
            assert.ok(!v.html!.includes(raw), `unescaped ${raw} in ${v.path}`);
          }
          assert.match(v.headers.get("content-security-policy") ?? "", /script-src 'self'/);
        }
        // The hostile text was rendered (escaped), in text, attributes and islands' props.
        const hostile = html.filter((v) => v.html!.includes(ESCAPED_MARKER)).map((v) => v.path);
        for (const p of ["/", "/compare", "/rois", "/downloads", "/brain", "/atoms/"]) {
          assert.ok(hostile.some((h) => h.includes(p)), `no escaped hostile text on a ${p} page`);
        }
        const atom = page(
          visits,
          `/runs/${s.f.hostile.id}/atoms/${encodeURIComponent(s.f.hostile.models[0])}/0`,
        );
        assert.equal(atom.status, 200);
        assert.match(atom.text, /data-props="[^"]*&lt;\/script>&lt;script>window.__pwned/);
      });

      await t.step("a folder that cannot be read says which file and what is wrong", () => {
        const index = textOf(page(visits, "/").text);
        const expect: [string, RegExp, number][] = [
          ["missing-summary", /partial .*summary\.json is missing/, 422],
          ["truncated-json", /corrupt .*summary\.json is not valid JSON/, 422],
          [
            "schema-99",
            /corrupt .*summary\.json, field "schema": .*expected "brainorg\.results\/2", found "brainorg\.results\/99"/,
            422,
          ],
          [
            "array-summary",
            /corrupt .*summary\.json: .*expected a JSON object, found an array/,
            422,
          ],
          ["nan-literal", /corrupt .*summary\.json is not valid JSON \(.*NaN/, 422],
          ["binary-summary", /corrupt .*summary\.json cannot be read: not UTF-8 text/, 422],
          ["a-file", /missing .*a-file does not exist or is not a folder/, 422],
          ["does-not-exist", /missing .*does-not-exist does not exist or is not a folder/, 422],
        ];
        for (const [id, message, status] of expect) {
          const card = /<div class="card error" data-run="([^"]*)">[\s\S]*?<\/div>/g;
          const found = [...page(visits, "/").text.matchAll(card)].find((m) => m[1] === id);
          assert.ok(found, `no error card for ${id}`);
          assert.match(textOf(found[0]), message, id);
          const own = page(visits, `/runs/${id}`);
          assert.equal(own.status, status, id);
          assert.match(
            textOf(own.text).replace(/ — /, " "),
            new RegExp(message.source.replace(/^\w+ /, "")),
          );
        }
        assert.ok(index.includes(`${IMG}`), "the hostile folder's path is not shown as text");
      });

      await t.step("fields of the wrong kind are named with what was expected and found", () => {
        const wrong = textOf(page(visits, "/runs/wrong-types").text);
        for (
          const m of [
            /summary\.json, field "models": expected an array, found "everything"/,
            /summary\.json, field "voxel": expected an object, found 42/,
            /summary\.json, field "stimulus": expected an object, found an array/,
            /summary\.json, field "brainorg": expected a string, found an object/,
            /provenance\.json: expected an object, found null/,
          ]
        ) assert.match(wrong, m);
        const hostile = textOf(page(visits, `/runs/${s.f.hostile.id}`).text);
        assert.match(hostile, /field "stimulus\.tr": expected a number, found "2 s"/);
        assert.match(
          hostile,
          /field "models\[1\]\.atoms": expected a whole number from 0 to 4096, found 1000000000000/,
        );
        assert.match(hostile, /field "voxel\.permutations": expected a number, found "\\">/);
        const m0 = `models/${s.f.hostile.models[0]}`;
        const atom = textOf(
          page(
            visits,
            `/runs/${s.f.hostile.id}/atoms/${encodeURIComponent(s.f.hostile.models[0])}/0`,
          ).text,
        );
        for (
          const m of [
            `${m0}/subgroups.csv, line 14, column "atom": expected a whole number from 0 to 4095, found "1000000000"`,
            `${m0}/subgroups.csv, line 15, column "atom": expected a whole number from 0 to 4095, found "\\">`,
            `${m0}/subgroups.csv, line 16, column "layer": expected a whole number from 0 to 1023, found "99999999"`,
            `${m0}/atoms.csv, line 5, column "atom1": expected a finite number or NaN, found "Infinity"`,
            `voxels/${
              s.f.hostile.models[0]
            }/networks_Yeo-7.csv, line 2, column "dice": expected a finite number or NaN, found "Infinity"`,
          ]
        ) assert.ok(atom.includes(m), `atom page does not say: ${m}\n${atom.slice(0, 3000)}`);
        const rois = textOf(page(visits, `/runs/${s.f.hostile.id}/rois`).text);
        assert.match(
          rois,
          /encoding\/models_roi\.csv, line \d+, column "r": expected a finite number or NaN, found "Infinity"/,
        );
        // Non-finite and huge values never reach an SVG attribute as NaN or Infinity.
        for (const v of visits.filter((v) => v.html)) {
          assert.ok(
            !/="[^"]*(NaN|Infinity)[^"]*"/.test(v.html!.replace(/data-props="[^"]*"/g, "")),
            `NaN in an attribute of ${v.path}`,
          );
        }
      });

      await t.step("missing and truncated maps are named and never handed to the viewer", () => {
        const mm = s.f.missingMaps.models[0], tm = s.f.truncatedMaps.models[0];
        const brain = page(visits, "/runs/missing-maps/brain");
        assert.equal(brain.status, 200);
        assert.match(textOf(brain.text), /voxels\/anatomy\.nii\.gz: is missing/);
        assert.match(textOf(brain.text), /voxels\/networks_Yeo-7\.nii\.gz: is missing/);
        assert.ok(
          !brain.text.includes("anatomy.nii.gz&quot;"),
          "a missing anatomy was handed to the viewer",
        );
        const atom = textOf(page(visits, `/runs/missing-maps/atoms/${mm}/0`).text);
        assert.match(atom, new RegExp(`voxels/${mm}/group_t\\.nii\\.gz: is missing`));
        const truncated = page(
          visits,
          `/runs/truncated-maps/brain?map=${encodeURIComponent(`voxels/${tm}/group_t.nii.gz`)}`,
        );
        assert.equal(truncated.status, 200);
        assert.match(
          textOf(truncated.text),
          new RegExp(
            `voxels/${tm}/group_t\\.nii\\.gz, ${DECODER_SAYS_TRUNCATED}`,
          ),
        );
        assert.match(
          textOf(truncated.text),
          new RegExp(`voxels/anatomy\\.nii\\.gz, ${DECODER_SAYS_TRUNCATED}`),
        );
        assert.ok(
          !truncated.text.includes('data-island="VolumeViewer"'),
          "a truncated map was handed to the viewer",
        );
        const notNifti = page(
          visits,
          `/runs/truncated-maps/brain?map=${
            encodeURIComponent(`voxels/${tm}/group_mean_r.nii.gz`)
          }`,
        );
        assert.match(
          textOf(notNifti.text),
          new RegExp(
            `voxels/${tm}/group_mean_r\\.nii\\.gz, field "[^"]+": [^:]+: expected .+, found .*23 bytes`,
          ),
        );
        const tables = textOf(
          page(visits, `/runs/missing-tables/atoms/${s.f.missingTables.models[0]}/0`).text,
        );
        assert.match(
          tables,
          new RegExp(
            `no atom 0 \\(it has 0\\): models/${
              s.f.missingTables.models[0]
            }/atoms\\.csv: is missing`,
          ),
        );
        const overview = textOf(page(visits, "/runs/missing-tables").text);
        const mt = s.f.missingTables.models[0];
        assert.ok(overview.includes(`voxels/${mt}/networks_Yeo-7.csv: is missing`), overview);
        assert.ok(overview.includes(`models/${mt}/atoms.csv: is missing`), overview);
      });
    } finally {
      await s.close();
    }
  },
});

/** Send a request line as given, with no client-side normalization of `..`. */
async function rawGet(port: number, target: string): Promise<{ status: number; body: string }> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(
      new TextEncoder().encode(
        `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`,
      ),
    );
    const chunks: Uint8Array[] = [], buf = new Uint8Array(65536);
    const deadline = Date.now() + 10_000;
    for (let n; Date.now() < deadline && (n = await conn.read(buf)) !== null;) {
      chunks.push(buf.slice(0, n));
    }
    const text = new TextDecoder().decode(new Uint8Array(chunks.flatMap((c) => [...c])));
    return { status: Number(/^HTTP\/1\.1 (\d+)/.exec(text)?.[1]), body: text };
  } finally {
    conn.close();
  }
}

Deno.test({
  name: "dashboard: paths out of the results folders get 404/400, never a file",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const s = await serveHostile();
    try {
      const id = s.f.hostile.id, files = `/runs/${id}/files`;
      const probes = [
        `${files}/..%2F..%2Fsecret.txt`,
        `${files}/..%2f..%2fsecret.txt`,
        `${files}/%2e%2e/%2e%2e/secret.txt`,
        `${files}/%2e%2e%2f%2e%2e%2fsecret.txt`,
        `${files}/..%252F..%252Fsecret.txt`,
        `${files}/..%5C..%5Csecret.txt`,
        `${files}/${encodeURIComponent(s.root + "/secret.txt")}`,
        `${files}/%2Fetc%2Fpasswd`,
        `${files}/link-out.txt`,
        `${files}/linkdir/secret.txt`,
        `${files}/voxels/..%2F..%2F..%2Fsecret.txt`,
        `${files}/..%2Fmissing-summary%2Fprovenance.json`,
        `${files}/%00`,
        `${files}/summary.json%00.txt`,
        `${files}/%E0%A4%A`,
        `${files}/`,
        `${files}/voxels`,
        `/runs/..%2F..%2Fetc/files/passwd`,
        `/runs/..%2F/files/secret.txt`,
        `/runs/%2e%2e/files/secret.txt`,
        `/runs/${id}/files/..%2F..%2F..%2F..%2F..%2F..%2Fetc%2Fpasswd`,
      ];
      for (const p of probes) {
        const res = await fetch(s.url + p);
        const body = await res.text();
        assert.ok([400, 404].includes(res.status), `${p}: ${res.status}`);
        assert.ok(
          !body.includes(SECRET) && !body.includes("root:x:0"),
          `${p} served a file outside`,
        );
      }
      // Dot segments as sent on the wire, before any client normalizes them.
      for (
        const p of [
          `${files}/../../secret.txt`,
          `${files}/../../../../../../etc/passwd`,
          `/runs/../secret.txt`,
        ]
      ) {
        const res = await rawGet(s.port, p);
        assert.ok([400, 404].includes(res.status), `raw ${p}: ${res.status}`);
        assert.ok(
          !res.body.includes(SECRET) && !res.body.includes("root:x:0"),
          `raw ${p} served a file outside`,
        );
      }
      // The same server does serve the files inside, as data: HTML as text, never as a page.
      const inside = await fetch(`${s.url}${files}/notes/${encodeURIComponent(`${IMG}.html`)}`);
      assert.equal(inside.status, 200);
      assert.equal(inside.headers.get("content-type"), "text/plain; charset=utf-8");
      assert.equal(inside.headers.get("content-security-policy"), "sandbox");
      assert.equal(await inside.text(), `<p>${HOSTILE}</p>`);
    } finally {
      await s.close();
    }
  },
});

Deno.test({
  name: "dashboard: hostile pages run no script in Chromium, even without the script policy",
  ignore: !haveChromium(),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const s = await serveHostile();
    const browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const dialogs: string[] = [], errors: string[] = [];
      page.on("dialog", (d) => (dialogs.push(d.message()), d.dismiss()));
      page.on("pageerror", (e) => errors.push(String(e)));
      page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
      await Deno.mkdir(ARTIFACTS, { recursive: true });
      // Escaping alone must hold: strip the policy that would block inline script anyway.
      await page.route("**/*", async (route) => {
        const response = await route.fetch();
        const headers = { ...response.headers() };
        delete headers["content-security-policy"];
        await route.fulfill({ response, headers });
      });
      const m0 = encodeURIComponent(s.f.hostile.models[0]), run = `/runs/${s.f.hostile.id}`;
      for (
        const path of [
          "/",
          run,
          `${run}/atoms/${m0}/0`,
          `${run}/brain?map=${encodeURIComponent(`voxels/${IMG}.nii.gz`)}`,
          `${run}/rois`,
          `${run}/downloads`,
          "/compare",
        ]
      ) {
        const res = await page.goto(s.url + path, { waitUntil: "networkidle" });
        assert.equal(res?.status(), 200, path);
        assert.equal(page.url(), s.url + path, `navigated away from ${path}`);
        assert.equal(
          await page.evaluate(() => "__pwned" in globalThis),
          false,
          `script ran on ${path}`,
        );
        assert.equal(await page.locator("img").count(), 0, `an <img> was injected on ${path}`);
        assert.ok(
          (await page.locator("body").innerText()).includes("<img src=x onerror"),
          `payload not shown as text on ${path}`,
        );
        // Nor does any broken value (NaN in an SVG attribute, a failed island) reach the console.
        assert.deepEqual(errors, [], `console errors on ${path}`);
      }
      await page.goto(s.url + run, { waitUntil: "networkidle" });
      await page.screenshot({
        path: join(ARTIFACTS, "dashboard-hostile-overview.png"),
        fullPage: true,
      });
      // Islands hydrate hostile props as text too: volume 0 hears the fixture's hostile word 0.
      await page.goto(`${s.url}${run}/atoms/${m0}/0`, { waitUntil: "networkidle" });
      const svg = page.locator('[data-testid="time-course"] svg');
      await svg.hover({ position: { x: 40, y: 80 } });
      const heard = await page.locator('[data-testid="words-under-cursor"]').innerText();
      assert.match(
        heard,
        /^volume 0 \(20 s\), value -?\d\.\d{3}: .*<img src=x onerror=.*<\/script>/,
      );
      await page.screenshot({
        path: join(ARTIFACTS, "dashboard-hostile-atom.png"),
        fullPage: true,
      });
      assert.equal(await page.evaluate(() => "__pwned" in globalThis), false);
      assert.deepEqual(dialogs, []);
    } finally {
      await browser.close();
      await s.close();
    }
  },
});
