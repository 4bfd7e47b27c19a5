import assert from "node:assert/strict";
import { dataPath } from "../../test/data.ts";
import { checkSeries, parseRoiTable, readRoiTable } from "./roi_table.ts";

const COLS = ["LATL", "RATL", "LPTL", "LIPL", "LPreM", "LIFG"];

Deno.test("Alice ROI tables: 362 × 6; s33 is constant in every column, s18 is fine", async () => {
  const s18 = await readRoiTable(
    await dataPath("alice/alice_data_shared/6mm/s18-timecourses.txt"),
    {
      columns: COLS,
    },
  );
  assert.equal(s18.rows, 362);
  assert.deepEqual(s18.columns, COLS);
  assert.ok(Math.abs(s18.data[0] - 80.890972) < 1e-6);
  assert.deepEqual(checkSeries(s18, { expectedRows: 362 }), []);
  const s33 = await readRoiTable(
    await dataPath("alice/alice_data_shared/6mm/s33-timecourses.txt"),
    {
      columns: COLS,
    },
  );
  const problems = checkSeries(s33, { expectedRows: 362 });
  assert.deepEqual(problems.map((p) => [p.column, p.problem]), COLS.map((c) => [c, "constant"]));
});

Deno.test("non-finite values, wrong length, bad cells and ragged rows are reported", () => {
  const t = parseRoiTable("A B\n1 2\nNaN 3\n4 5\n", "t.txt");
  assert.deepEqual(t.columns, ["A", "B"]);
  const p = checkSeries(t, { expectedRows: 4 });
  assert.deepEqual(p.map((x) => [x.column, x.problem]), [["*", "length"], ["A", "non-finite"]]);
  assert.match(p[0].detail, /3 rows, but the stimulus has 4 volumes/);
  assert.throws(
    () => parseRoiTable("1 2\n3 x\n", "u.txt"),
    /field: line 2, column roi2; expected: a number; found: "x"/,
  );
  assert.throws(() => parseRoiTable("1 2\n3\n", "u.txt"), /row 2 has the wrong number of values/);
  assert.throws(
    () => parseRoiTable("1 2 3\n", "u.txt", { columns: ["a", "b"] }),
    /expected: 2 columns/,
  );
});
