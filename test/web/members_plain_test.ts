/**
 * The members table's fast reader (`scanPlainMembers`): every row of the
 * writer's plain layout read to the same numbers as `Number()` of its cells
 * (V8's correctly rounded decimal parser), any other form refused so that
 * the general table reader takes it; `atomMembers` gives the same sub-groups
 * either way, and a rewritten table is read again.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { modelFiles } from "@brainorg/core/results";
import { atomMembers, scanPlainMembers } from "../../apps/web/members.ts";
import { loadRun } from "../../apps/web/runs.ts";
import { writeResultsFolder } from "./fixture.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const rowsOf = (text: string) => {
  const rows: number[][] = [];
  const ok = scanPlainMembers(enc(text), (...r) => rows.push(r));
  return { ok, rows };
};

Deno.test("members: the plain reader gives Number()'s value for every code", () => {
  // Codes as writers print them: fixed decimals, 15 significant digits, tiny and large.
  let seed = 7;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const cells: string[] = [
    ...["-0.0", "0", "007.50", "1.", ".5", "-0.000000000000001", "999999999999999"],
    ...["0.9700000286102295", "-0.12345678901234567", "12345678901234567890.5", "1.2e-7", "5E+3"],
  ];
  for (let i = 0; i < 20_000; i++) {
    const x = (rand() - 0.5) * 10 ** Math.floor(rand() * 8 - 4);
    const f32 = String(Math.fround(x)); // the full float32, as the pipeline's writer prints it
    const cell = [x.toFixed(6), x.toPrecision(15), x.toFixed(12), f32][i % 4];
    cells.push(i % 7 ? cell : x.toExponential(i % 11));
  }
  const lines = cells.map((c, i) => `${i % 32},${i % 4096},${i % 64},${c}`);
  // CRLF on some lines, an empty line, no line end at the end.
  const text = "layer,unit,atom,code\n" +
    lines.map((l, i) => l + (i % 5 ? "\n" : "\r\n")).join("").replace(/\n$/, "") + "";
  const { ok, rows } = rowsOf(text.replace("\n", "\n\n"));
  assert.ok(ok);
  assert.equal(rows.length, cells.length);
  rows.forEach(([layer, unit, atom, code], i) => {
    assert.deepEqual([layer, unit, atom], [i % 32, i % 4096, i % 64]);
    assert.ok(Object.is(code, Number(cells[i])), `${cells[i]}: ${code} ≠ ${Number(cells[i])}`);
  });
});

Deno.test("members: the plain reader refuses what it does not read exactly", () => {
  const head = "layer,unit,atom,code\n";
  for (
    const body of [
      "1,2,3,NaN\n", // NaN: the general reader's rule
      "1,2,3,\n", // empty
      "1,2,3,1e999\n", // not finite
      "1,2,3,1e\n", // an exponent without digits
      `1,2,3,0.${"1".repeat(200_000)}\n`, // a cell no writer makes (too long to spread)
      '1,2,3,"0.5"\n', // quoted
      "1,2,3,0.5,9\n", // a fifth column
      "1,2,0.5\n", // a column short
      "1025,2,3,0.5\n", // layer out of range
      "1,2,-3,0.5\n", // negative atom
      "1,2,3,+0.5\n", // a sign the writer never writes
      "1,2,3,0.5\r1,2,3,0.5\n", // a lone CR
    ]
  ) {
    assert.equal(rowsOf(head + "0,0,0,0.25\n" + body).ok, false, body);
  }
  assert.equal(rowsOf("unit,layer,atom,code\n1,2,3,0.5\n").ok, false, "columns reordered");
  assert.deepEqual(rowsOf("layer,unit,atom,code").rows, []);
  assert.ok(rowsOf("layer,unit,atom,code").ok);
});

Deno.test({
  name: "members: atomMembers is the same read fast or by the table reader, and follows a rewrite",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "brainorg-members-plain-" });
    try {
      const { models } = await writeResultsFolder(dir, {
        atoms: 6,
        layers: 3,
        volumes: 40,
        words: 200,
        grid: [12, 14, 12],
      });
      const run = await loadRun(dir, "m"), file = join(dir, modelFiles(models[0]).members.path);
      const plain = await Deno.readTextFile(file);
      assert.ok(rowsOf(plain).ok, "the fixture's table is not in the plain layout");
      const problems: unknown[] = [];
      const fast = await atomMembers(run, models[0], problems as never, 5);
      assert.ok(fast.atoms.length > 0);
      assert.deepEqual(problems, []);
      // The same rows, quoted: only the general reader reads them.
      const quoted = plain.replace("layer,unit,atom,code", '"layer","unit","atom","code"');
      assert.equal(rowsOf(quoted).ok, false);
      await Deno.writeTextFile(file, quoted);
      const general = await atomMembers(run, models[0], problems as never, 5);
      assert.deepEqual(general, fast);
      // A bad cell: the general reader names it, and the row is dropped.
      const lines = plain.trimEnd().split("\n");
      lines[1] = lines[1].replace(/^\d+/, "x");
      await Deno.writeTextFile(file, lines.join("\n") + "\n");
      const bad: { field?: string }[] = [];
      const dropped = await atomMembers(run, models[0], bad as never, 5);
      assert.match(bad[0]?.field ?? "", /line 2, column "layer"/);
      const size = (v: typeof fast) => v.atoms.reduce((s, a) => s + a.size, 0);
      assert.equal(size(dropped), size(fast) - 1);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
