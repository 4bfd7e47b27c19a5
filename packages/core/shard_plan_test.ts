import assert from "node:assert/strict";
import { join } from "node:path";
import { BRAINORG_VERSION, InputError } from "@brainorg/common";
import {
  assertPlanComplete,
  planProgress,
  readPlan,
  shardDir,
  shardList,
  type ShardPlan,
  submitScript,
  writePlan,
} from "./shard_plan.ts";

Deno.test("shards are every model × consecutive voxel blocks, the last one holding the rest", () => {
  const shards = shardList(["a", "b"], 1000, 400);
  assert.deepEqual(shards.map((s) => [s.index, s.model, ...s.voxels]), [
    [0, "a", 0, 400],
    [1, "a", 400, 800],
    [2, "a", 800, 1000],
    [3, "b", 0, 400],
    [4, "b", 400, 800],
    [5, "b", 800, 1000],
  ]);
  assert.equal(shardList(["a"], 10, 10).length, 1);
  assert.throws(() => shardList(["a"], 10, 0), RangeError);
});

function plan(dir: string): ShardPlan {
  return {
    schema: "brainorg.shard-plan/1",
    brainorg: BRAINORG_VERSION,
    createdAt: new Date().toISOString(),
    cwd: "/work dir/with 'quotes'",
    args: ["--config", "study.json"],
    inputs: [],
    parameters: { voxelsPerShard: 5 },
    study: {
      key: "k",
      voxels: 12,
      subjects: ["s1", "s2"],
      models: [{ name: "m", atoms: 4 }],
      templates: ["Yeo-7"],
      permutations: 9,
    },
    shards: shardList(["m"], 12, 5),
    runner: ["/opt/deno", "run", join(dir, "main.ts")],
  };
}

Deno.test("a plan is written and read back; a bad one is refused naming plan.json and the field", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await writePlan(dir, plan(dir));
    const back = await readPlan(dir);
    assert.deepEqual(back.shards, plan(dir).shards);
    const text = await Deno.readTextFile(join(dir, "plan.json"));
    await Deno.writeTextFile(join(dir, "plan.json"), text.replace(/"index": 1/, `"index": 7`));
    await assert.rejects(() => readPlan(dir), (e: InputError) => {
      assert.ok(e instanceof InputError);
      assert.equal(e.field, "shards");
      assert.match(e.message, /plan\.json/);
      return true;
    });
    await assert.rejects(() => readPlan(join(dir, "none")), InputError);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("submit.sbatch is valid bash: an array over the shards and a merge after them", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const text = submitScript(dir, plan(dir));
    assert.match(text, /^#SBATCH --array=0-2$/m);
    assert.match(text, /--dependency=afterok:\$array/);
    assert.match(text, /cd '\/work dir\/with '\\''quotes'\\'''/);
    const file = join(dir, "s.sh");
    await Deno.writeTextFile(file, text);
    const check = await new Deno.Command("bash", { args: ["-n", file], stderr: "piped" }).output();
    assert.equal(check.code, 0, new TextDecoder().decode(check.stderr));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("an incomplete plan is refused, naming each missing shard and why", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const p = plan(dir);
    await writePlan(dir, p);
    const whole = new Set([0]);
    await Deno.mkdir(join(dir, "shards", ".00001.tmp-1-x-y"));
    const progress = await planProgress(
      dir,
      p,
      (d) =>
        Promise.resolve(whole.has(Number(d.slice(-5))) ? { state: "whole" } : { state: "absent" }),
    );
    assert.deepEqual(progress.done, [0]);
    assert.deepEqual(progress.missing.map((m) => m.index), [1, 2]);
    assert.match(progress.missing[0].reason, /temporary/);
    assert.match(progress.missing[1].reason, /not run/);
    assert.throws(() => assertPlanComplete(dir, p, progress), (e: InputError) => {
      assert.ok(e instanceof InputError);
      assert.match(e.message, /2 of 3 shards/);
      assert.match(e.message, /shard 1 \(m, voxels 5–10\): only a temporary folder/);
      assert.match(e.message, /shard 2 \(m, voxels 10–12\): not run/);
      return true;
    });
    assert.equal(shardDir(dir, 2), join(dir, "shards", "00002"));
    assertPlanComplete(dir, p, { done: [0, 1, 2], missing: [] });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
