import assert from "node:assert/strict";
import { join } from "node:path";
import { csvChunks, toCsv } from "./csv.ts";
import { writeTable } from "./results_writer.ts";

const COLUMNS = ["a", "b"] as const;
const ROWS = Array.from({ length: 1000 }, (_, i) => ({ a: i / 3, b: i % 7 ? `x${i}` : 'q,"' }));

Deno.test("csvChunks: pieces of bounded size that join to toCsv's text", () => {
  const pieces = [...csvChunks([...COLUMNS], ROWS, 500)];
  assert.ok(pieces.length > 10);
  assert.ok(
    pieces.slice(0, -1).every((p) => p.length >= 500 && p.length < 600 && p.endsWith("\n")),
  );
  assert.equal(pieces.join(""), toCsv([...COLUMNS], ROWS));
  assert.deepEqual([...csvChunks([...COLUMNS], [])], ["a,b\n"]);
});

function* rows() {
  yield* ROWS;
}

function* broken() {
  yield* ROWS;
  throw new Error("row 1000 cannot be made");
}

Deno.test("writeTable streams a generator's rows; a failing generator leaves no file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await writeTable(dir, { path: "t/x.csv", columns: COLUMNS, rows: rows() });
    assert.equal(await Deno.readTextFile(join(dir, "t/x.csv")), toCsv([...COLUMNS], ROWS));
    await assert.rejects(
      writeTable(dir, { path: "t/y.csv", columns: COLUMNS, rows: broken() }),
      /row 1000/,
    );
    assert.deepEqual([...Deno.readDirSync(join(dir, "t"))].map((e) => e.name), ["x.csv"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
