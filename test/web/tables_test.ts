import assert from "node:assert/strict";
import { join } from "node:path";
import { modelFiles } from "@brainorg/core/results";
import type { Problem } from "../../apps/web/problems.ts";
import { loadRun } from "../../apps/web/runs.ts";
import { parseCsv, readTable, type Row, scanTable } from "../../apps/web/tables.ts";

Deno.test("parseCsv: a text without quotes parses as the quoted reader parses it", () => {
  const text = "a,b,c\r\n1,2,3\n\n4,,6\r7,8\n,\n9,10,11,12\n";
  // The quoted row at the end sends the same lines through the character-by-character reader.
  const slow = parseCsv(text + '"q",r\n');
  const fast = parseCsv(text);
  assert.deepEqual(fast.header, ["a", "b", "c"]);
  assert.deepEqual(fast, { header: slow.header, rows: slow.rows.slice(0, -1) });
  assert.deepEqual(slow.rows.at(-1), ["q", "r"]);
  assert.deepEqual(parseCsv(""), { header: [], rows: [] });
});

const MEMBER = {
  layer: { kind: "int", max: 1023 },
  unit: { kind: "int", max: 9999 },
  atom: { kind: "int", max: 63 },
  code: { kind: "number" },
} as const;

Deno.test("scanTable hands over the rows and problems readTable keeps", async () => {
  const dir = await Deno.makeTempDir({ prefix: "brainorg-web-tables-" });
  try {
    const table = modelFiles("m").members;
    await Deno.mkdir(join(dir, "models", "m"), { recursive: true });
    const lines = ["layer,unit,atom,code"];
    for (let i = 0; i < 40; i++) lines.push(`${i % 5},${i},${i % 3},${(i - 20) / 10}`);
    // Two rows dropped (atom out of range, unit not a number), a code not a number (NaN kept).
    lines.splice(5, 0, "1,2,64,0.5", "1,x,0,0.5", "1,3,0,oops", "");
    const variants = [
      lines.join("\n") + "\n",
      lines.join("\r\n"),
      `"layer",unit,atom,code\n` +
      lines.slice(1).join("\n"),
    ];
    for (const text of variants) {
      await Deno.writeTextFile(join(dir, table.path), text);
      const run = await loadRun(dir, "t");
      const kept: Problem[] = [], scanned: Problem[] = [], rows: Row<typeof MEMBER>[] = [];
      const read = await readTable(run, { table, columns: MEMBER, problems: kept });
      await scanTable(run, { table, columns: MEMBER, problems: scanned }, (r) => rows.push(r));
      assert.equal(rows.length, 41);
      assert.deepEqual(rows, read.rows);
      assert.equal(scanned.length, 3, JSON.stringify(scanned));
      assert.deepEqual(scanned.map((p) => p.expected), kept.map((p) => p.expected));
      assert.ok(Number.isNaN(rows.find((r) => r.layer === 1 && r.unit === 3)!.code));
    }
    // Missing: said when required; nothing handed over.
    const problems: Problem[] = [];
    const run = await loadRun(dir, "t");
    const other = { ...table, path: "models/none/members.csv" };
    const res = await scanTable(
      run,
      { table: other, columns: MEMBER, problems, required: true },
      () => {
        throw new Error("no rows expected");
      },
    );
    assert.deepEqual(res, { missing: true });
    assert.match(problems[0].message ?? "", /is missing/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
