import assert from "node:assert/strict";
import { rng } from "@brainorg/kernels";
import { diceTable, type NetworkSet } from "./networks.ts";
import { BlockDiceCounts, nullDiceTables } from "./shard_voxels.ts";

Deno.test("the blocks' Dice counts, added up, give diceTable's Dice of the whole map exactly", () => {
  const K = 3, V = 203, N = 4, P = 5, threshold = 0.8, next = rng(3);
  const sets: NetworkSet[] = Array.from({ length: N }, (_, n) => {
    const member = Uint8Array.from({ length: V }, () => (next() < 0.2 + 0.1 * n ? 1 : 0));
    return { index: n + 1, name: `n${n}`, member, voxels: member.reduce((a, b) => a + b, 0) };
  });
  const maps = Array.from({ length: P }, () => ({
    rows: K,
    cols: V,
    data: Float32Array.from({ length: K * V }, () => 2 * (next() - 0.5) * 1.6),
  }));
  const bounds = [[0, 50], [50, 51], [51, 203]];
  const blocks = bounds.map(([v0, v1]) => {
    const c = new BlockDiceCounts(sets.map((s) => s.member.subarray(v0, v1)), threshold, K, P);
    for (const m of maps) {
      const data = new Float32Array(K * (v1 - v0));
      for (let k = 0; k < K; k++) data.set(m.data.subarray(k * V + v0, k * V + v1), k * (v1 - v0));
      c.observe({ rows: K, cols: v1 - v0, data });
    }
    return c;
  });
  const merged = nullDiceTables(sets, blocks, K, P);
  assert.equal(merged.length, P);
  let nonZero = 0;
  for (const [j, m] of maps.entries()) {
    const whole = diceTable(m, sets, threshold).dice;
    assert.deepEqual(merged[j], whole, `surrogate ${j}`);
    nonZero += whole.filter((d) => d > 0).length;
  }
  // The maps cross the threshold often enough that the comparison is not of zeros.
  assert.ok(nonZero > K * 2 * N * P * 0.8, `${nonZero} non-zero Dice`);
});
