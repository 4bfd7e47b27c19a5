import assert from "node:assert/strict";
import { join } from "node:path";
import { decodeNpy } from "@brainorg/common";
import { modelFiles } from "@brainorg/core/results";
import { createHandler } from "../../apps/web/server.ts";
import { KNOWN_MEMBER, writeResultsFolder } from "./fixture.ts";

Deno.test({
  name: "dashboard: the model page lists each atom's strongest ANs and links the full tables",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "brainorg-web-members-" });
    let server: Deno.HttpServer<Deno.NetAddr> | undefined;
    try {
      const K = 6, L = 3;
      const run = join(dir, "run"), old = join(dir, "old");
      const options = {
        atoms: K,
        layers: L,
        volumes: 40,
        words: 200,
        grid: [12, 14, 12] as [number, number, number],
      };
      const { models } = await writeResultsFolder(run, options);
      // A run written before the members table existed.
      await writeResultsFolder(old, options);
      for (const m of models) {
        await Deno.remove(join(old, modelFiles(m).members.path));
        await Deno.remove(join(old, modelFiles(m).codes));
      }
      const { handler } = await createHandler([run, old]);
      server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, handler);
      const base = `http://127.0.0.1:${server.addr.port}`;
      const get = async (path: string) => {
        const res = await fetch(base + path);
        return { status: res.status, text: await res.text() };
      };

      const page = await get(`/runs/run/models/${models[0]}`);
      assert.equal(page.status, 200);
      const table = /<table data-testid="members">(.*?)<\/table>/s.exec(page.text)?.[1];
      assert.ok(table, "no members table");
      const rows = table.split("<tr>").slice(2);
      assert.equal(rows.length, K);
      // Atom 0's first (strongest) AN is the planted one; each atom lists at most 20.
      const first = /<code class="member">([^<]*)<\/code>/.exec(rows[KNOWN_MEMBER.atom])?.[1];
      assert.equal(first, KNOWN_MEMBER.text);
      for (const r of rows) assert.ok((r.match(/class="member"/g) ?? []).length <= 20);
      // Sizes from the table: atom 0's count is its rows in members.csv.
      const csv = await Deno.readTextFile(join(run, modelFiles(models[0]).members.path));
      const atom0 = csv.split("\n").slice(1).filter((l) => l.split(",")[2] === "0").length;
      assert.match(rows[0], new RegExp(`<td>${atom0}</td>`));
      // The full tables are linked and served; codes.npy is the whole K × N matrix.
      for (const file of [modelFiles(models[0]).members.path, modelFiles(models[0]).codes]) {
        assert.ok(page.text.includes(`/runs/run/files/${file}`), file);
      }
      const npy = await fetch(`${base}/runs/run/files/${modelFiles(models[0]).codes}`);
      const codes = decodeNpy(new Uint8Array(await npy.arrayBuffer()));
      assert.deepEqual(codes.shape, [K, L * 64]);
      assert.equal(
        codes.data[KNOWN_MEMBER.layer * 64 + KNOWN_MEMBER.unit],
        Math.fround(KNOWN_MEMBER.code),
      );

      // The overview and the atom page lead there.
      const href = `href="/runs/run/models/${models[0]}"`;
      assert.ok((await get("/runs/run")).text.includes(href));
      assert.ok((await get(`/runs/run/atoms/${models[0]}/0`)).text.includes(href));

      // An older run: a note, no table, no error; an unknown model: 404.
      const older = await get(`/runs/old/models/${models[0]}`);
      assert.equal(older.status, 200);
      assert.match(older.text, /no members table/);
      assert.ok(!older.text.includes('data-testid="members"'));
      assert.equal((await get("/runs/run/models/nobody")).status, 404);
    } finally {
      try {
        await server?.shutdown();
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    }
  },
});
