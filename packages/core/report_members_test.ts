import assert from "node:assert/strict";
import { fullCodes, topMembers } from "./members.ts";
import { renderReport } from "./report.ts";
import { RESULTS_SCHEMA, type ResultsSummary } from "./results.ts";

const summary = (model: string): ResultsSummary => ({
  schema: RESULTS_SCHEMA,
  brainorg: "0.1.0",
  steps: [],
  backend: { name: "cpu", implementation: "typescript", details: {} },
  stimulus: { transcript: "t", words: 1, dropped: 0, volumes: 1, tr: 2, discarded: [0] },
  models: [{
    name: model,
    source: "m.gguf",
    ans: 8,
    deadAns: 1,
    atoms: 2,
    alpha: 1,
    codeDensity: 0.5,
    layerR2: [0.5, 0.5],
  }],
});

Deno.test("the report lists each atom's sub-group size and its strongest ANs by layer and unit", () => {
  // 2 layers × 4 units; AN 6 is dead. Atom 0: 6 members, of which 5 are shown.
  const learned = {
    rows: 2,
    cols: 7,
    data: Float32Array.of(0.1, -0.2, 0.3, 0, 0.82, -0.5, 0.6, 0, 0, 0, -0.4, 0, 0, 0),
  };
  const codes = fullCodes(learned, Uint32Array.of(0, 1, 2, 3, 4, 5, 7), 8);
  const members = [{ model: "m<1>", atoms: topMembers(codes, [4, 4]) }];
  const html = renderReport(summary("m<1>"), "2026-01-01T00:00:00Z", { members });
  const row = (atom: number) => {
    const m = new RegExp(`<tr><td class="n">${atom}</td>(.*?)</tr>`).exec(html);
    assert.ok(m, `no row for atom ${atom}`);
    return m[1];
  };
  assert.match(html, /Sub-groups of m&lt;1&gt;/);
  assert.ok(!html.includes("m<1>"));
  assert.equal(
    row(0),
    '<td class="n">6</td><td class="n">4/2</td>' +
      "<td>L1.u0 (+0.82), L1.u3 (+0.60), L1.u1 (-0.50), L0.u2 (+0.30), L0.u1 (-0.20)</td>",
  );
  assert.ok(!row(0).includes("L0.u0"), "the sixth AN is not listed");
  assert.equal(row(1), '<td class="n">1</td><td class="n">0/1</td><td>L0.u3 (-0.40)</td>');
});

Deno.test("the report lists at most 64 atoms per model and points to members.csv for the rest", () => {
  const K = 70, codes = { rows: K, cols: 4, data: new Float32Array(K * 4).fill(0.5) };
  const members = [{ model: "big", atoms: topMembers(codes, [2, 2]) }];
  const html = renderReport(summary("big"), "2026-01-01T00:00:00Z", { members });
  assert.equal((html.match(/<tr><td class="n">/g) ?? []).length, 64);
  assert.match(html, /6 more atoms: see <code>models\/big\/members\.csv<\/code>/);
  // Without members the models' section is as before.
  assert.ok(!renderReport(summary("big"), "x").includes("Sub-groups of"));
});
