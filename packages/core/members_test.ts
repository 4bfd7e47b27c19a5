import assert from "node:assert/strict";
import { join } from "node:path";
import { decodeNpy, writeFileAtomic } from "@brainorg/common";
import { rng } from "@brainorg/kernels";
import { havePython, runPython } from "../../test/python.ts";
import { fullCodes, memberLabel, memberRows, shortFloat32, topMembers } from "./members.ts";
import { modelFiles } from "./results.ts";
import { npyFile, writeTable } from "./results_writer.ts";

/**
 * 2 layers × 4 units = ANs 0–7; ANs 1 (L0.u1) and 6 (L1.u2) are dead, so the
 * learned codes have 6 columns, for ANs 0, 2, 3, 4, 5, 7.
 */
const KEPT = Uint32Array.of(0, 2, 3, 4, 5, 7);
const LEARNED = {
  rows: 2,
  cols: 6,
  data: Float32Array.of(
    // atom 0: AN 0, AN 3 (L0.u3), AN 7 (L1.u3)
    0.5,
    0,
    -0.9,
    0,
    0,
    0.25,
    // atom 1: AN 2 (L0.u2), AN 4 (L1.u0), AN 5 (L1.u1); the tie |0.3| goes by index
    0,
    0.3,
    0,
    0.82,
    -0.3,
    0,
  ),
};

Deno.test("fullCodes puts each kept AN in its column and dead ANs as zero columns", () => {
  const full = fullCodes(LEARNED, KEPT, 8);
  assert.equal(full.rows, 2);
  assert.equal(full.cols, 8);
  assert.deepEqual(
    [...full.data],
    [
      Math.fround(0.5),
      0,
      0,
      Math.fround(-0.9),
      0,
      0,
      0,
      0.25,
      0,
      0,
      Math.fround(0.3),
      0,
      Math.fround(0.82),
      Math.fround(-0.3),
      0,
      0,
    ],
  );
  assert.throws(() => fullCodes(LEARNED, Uint32Array.of(0, 1), 8), /one AN index per column/);
  assert.throws(() => fullCodes(LEARNED, KEPT, 7), /below 7: current value at 5 is 7/);
});

Deno.test("members: layer and unit from the full index with dead ANs, by atom then |code|", () => {
  const full = fullCodes(LEARNED, KEPT, 8);
  const rows = [...memberRows(full, [4, 4])];
  assert.deepEqual(rows, [
    { layer: 0, unit: 3, atom: 0, code: -0.9 },
    { layer: 0, unit: 0, atom: 0, code: 0.5 },
    { layer: 1, unit: 3, atom: 0, code: 0.25 },
    { layer: 1, unit: 0, atom: 1, code: 0.82 },
    { layer: 0, unit: 2, atom: 1, code: 0.3 },
    { layer: 1, unit: 1, atom: 1, code: -0.3 },
  ]);
  // Unequal layers are placed by their own sizes.
  assert.deepEqual([...memberRows(full, [3, 5])].slice(0, 2).map((r) => [r.layer, r.unit]), [
    [1, 0],
    [0, 0],
  ]);
  assert.throws(() => [...memberRows(full, [4, 3])], /adding up to the codes' 8 columns/);
});

Deno.test("members agree with the codes: every non-zero code once, at its own AN", () => {
  const random = rng(3), K = 7, layers = 5, units = 37, N = layers * units;
  const kept = Uint32Array.from({ length: N }, (_, j) => j).filter((j) => j % 11 !== 4);
  const learned = {
    rows: K,
    cols: kept.length,
    data: Float32Array.from(
      { length: K * kept.length },
      () => (random() < 0.3 ? random() * 2 - 1 : 0),
    ),
  };
  const full = fullCodes(learned, kept, N);
  const rows = [...memberRows(full, new Array(layers).fill(units))];
  const nonZero = full.data.reduce((n, c) => n + (c !== 0 ? 1 : 0), 0);
  assert.equal(rows.length, nonZero);
  const seen = new Set<string>();
  let previous: { atom: number; abs: number } | undefined;
  for (const r of rows) {
    const j = r.layer * units + r.unit;
    assert.ok(r.unit < units && r.layer < layers);
    assert.ok(j % 11 !== 4, `dead AN ${j} listed`);
    // The code read back as float32 is the matrix's, bit for bit.
    assert.equal(Math.fround(r.code), full.data[r.atom * N + j]);
    const key = `${r.atom} ${j}`;
    assert.ok(!seen.has(key), `${key} twice`);
    seen.add(key);
    if (previous && previous.atom === r.atom) assert.ok(Math.abs(r.code) <= previous.abs);
    else if (previous) assert.ok(r.atom > previous.atom);
    previous = { atom: r.atom, abs: Math.abs(r.code) };
  }
  const top = topMembers(full, new Array(layers).fill(units), { top: 3 });
  assert.equal(top.length, K);
  for (const a of top) {
    const mine = rows.filter((r) => r.atom === a.atom);
    assert.equal(a.size, mine.length);
    assert.equal(a.positive, mine.filter((r) => r.code > 0).length);
    assert.equal(a.negative, mine.filter((r) => r.code < 0).length);
    assert.deepEqual(a.top, mine.slice(0, 3));
  }
});

Deno.test("members order: |code| descending, ties by AN index, NaN last, for any width", () => {
  // Below 2^21 ANs the order is one native sort of packed keys; above, a comparator.
  for (const N of [10, 2 ** 21 + 5]) {
    const codes = { rows: 1, cols: N, data: new Float32Array(N) };
    const put: [number, number][] = [[3, -0.5], [1, NaN], [N - 1, 0.5], [7, Infinity], [0, 1e-30]];
    for (const [j, c] of put) codes.data[j] = c;
    const order = [...memberRows(codes, [N])].map((r) => r.unit);
    assert.deepEqual(order, [7, 3, N - 1, 0, 1], `N = ${N}`);
  }
});

Deno.test("shortFloat32 prints the fewest digits that read back as the same float32", () => {
  assert.equal(String(shortFloat32(Math.fround(0.82))), "0.82");
  assert.equal(String(shortFloat32(Math.fround(-1e-7))), "-1e-7");
  assert.equal(shortFloat32(0), 0);
  assert.ok(Number.isNaN(shortFloat32(NaN)));
  const random = rng(5);
  for (let i = 0; i < 2000; i++) {
    const f = Math.fround((random() - 0.5) * 10 ** Math.floor(random() * 12 - 6));
    const s = shortFloat32(f);
    assert.equal(Math.fround(s), f);
    // One digit fewer does not read back (unless the value is a single digit).
    const digits = s.toExponential().replace(/^-?(\d)\.?(\d*)e.*$/, "$1$2").length;
    if (digits > 1) assert.notEqual(Math.fround(Number(f.toPrecision(digits - 1))), f);
  }
});

Deno.test("memberLabel names an AN by layer and unit, with its signed code", () => {
  assert.equal(memberLabel({ layer: 3, unit: 117, code: 0.8213 }), "L3.u117 (+0.82)");
  assert.equal(memberLabel({ layer: 0, unit: 5, code: -0.5 }), "L0.u5 (-0.50)");
  assert.equal(memberLabel({ layer: 2, unit: 9 }), "L2.u9");
});

Deno.test({
  name: "members: numpy.load of codes.npy agrees with members.csv (shape, values, placement)",
  ignore: !havePython(["numpy"], "codes.npy read by numpy"),
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      const full = fullCodes(LEARNED, KEPT, 8), f = modelFiles("m");
      const file = npyFile(f.codes, full);
      await writeFileAtomic(join(dir, file.path), file.data);
      await writeTable(dir, { ...f.members, rows: memberRows(full, [4, 4]) });
      assert.deepEqual(decodeNpy(await Deno.readFile(join(dir, f.codes))).data, full.data);
      const got = await runPython<{ shape: number[]; mismatches: number; rows: number }>(
        `
import sys, json, csv, numpy as np
d = sys.argv[1]
codes = np.load(d + "/models/m/codes.npy")
units = 4
rows = list(csv.DictReader(open(d + "/models/m/members.csv")))
bad = 0
for r in rows:
    j = int(r["layer"]) * units + int(r["unit"])
    if np.float32(float(r["code"])) != codes[int(r["atom"]), j]:
        bad += 1
print(json.dumps({"shape": list(codes.shape), "mismatches": bad + int(len(rows) != np.count_nonzero(codes)),
                  "rows": len(rows)}))
`,
        [dir],
      );
      assert.deepEqual(got, { shape: [2, 8], mismatches: 0, rows: 6 });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
