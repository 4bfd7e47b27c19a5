/**
 * A study's plan run by Slurm on a one-node cluster on this machine
 * (`tools/slurm_local.sh`, or the cluster `$SLURM_CONF` names): the job
 * array and its dependent merge give the single process's results; a shard
 * cancelled with `scancel` makes the merge refuse and name it, and
 * resubmitted alone (`sbatch --array=N`), lets the merge finish.
 *
 * Needs Debian's slurm-wlm and munge, and root (the daemons run as root);
 * without them the test is ignored with a red notice (CI installs them and
 * fails instead).
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { reportMissing } from "./missing.ts";
import { writeSmallStudyReference } from "./small_study.ts";
import { assertResultsWithin, brainorg } from "./sharded_results.ts";

const ROOT = new URL("..", import.meta.url).pathname;

/** A command's exit code and output; never throws for a missing program. */
async function sh(
  script: string,
  env: Record<string, string> = {},
): Promise<{ code: number; out: string; err: string }> {
  const out = await new Deno.Command("bash", {
    args: ["-c", script],
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env,
  }).output();
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, out: text(out.stdout).trim(), err: text(out.stderr).trim() };
}

async function slurmAvailable(): Promise<boolean> {
  const tools = ["sbatch", "squeue", "scancel", "munged", "slurmctld", "slurmd"];
  const missing =
    (await sh(`for t in ${tools.join(" ")}; do command -v $t >/dev/null || echo $t; done`))
      .out.split("\n").filter(Boolean);
  if (missing.length) {
    return reportMissing(
      `slurm_test ignored: ${missing.join(", ")} missing (apt-get install -y slurm-wlm munge)`,
      "BRAINORG_REQUIRE_REFERENCES",
    );
  }
  if (!Deno.env.get("SLURM_CONF") && Deno.uid() !== 0) {
    return reportMissing(
      "slurm_test ignored: starting a local cluster needs root (or a cluster in $SLURM_CONF)",
      "BRAINORG_REQUIRE_REFERENCES",
    );
  }
  return true;
}

const available = await slurmAvailable();

/** Wait until none of the jobs is queued or running (at most `seconds`). */
async function waitFor(jobs: string[], env: Record<string, string>, seconds = 300) {
  const until = Date.now() + seconds * 1000;
  while (Date.now() < until) {
    const q = await sh(`squeue -h -o %i -j ${jobs.join(",")}`, env);
    if (q.code === 0 && q.out === "") return;
    await new Promise((r) => setTimeout(r, 1000));
  }
  assert.fail(`jobs ${jobs.join(", ")} still queued after ${seconds} s`);
}

/** Slurm's state of a finished job (kept for MinJobAge, 300 s by default). */
async function jobState(job: string, env: Record<string, string>): Promise<string> {
  const s = await sh(`scontrol show job ${job}`, env);
  return /JobState=(\w+)/.exec(s.out)?.[1] ?? `unknown (${s.err})`;
}

Deno.test({
  name: "Slurm runs a plan's job array and merge; a cancelled shard is named, resubmitted, merged",
  ignore: !available,
  sanitizeResources: false,
  sanitizeOps: false,
}, async () => {
  const dir = await Deno.makeTempDir({ prefix: "brainorg-slurm-" });
  const state = join(dir, "cluster");
  let env: Record<string, string> = { NO_COLOR: "1", BRAINORG_BLAS: "typescript" };
  const ours = !Deno.env.get("SLURM_CONF");
  try {
    if (ours) {
      const started = Date.now();
      const up = await sh(`tools/slurm_local.sh start ${state}`);
      assert.equal(up.code, 0, up.err);
      assert.ok(Date.now() - started < 60_000, "the cluster took over a minute to start");
      env = { ...env, SLURM_CONF: join(state, "slurm.conf") };
    }
    const { config, reference } = await writeSmallStudyReference(dir);
    const out = join(dir, "out"), plan = join(dir, "plan");
    const planned = await brainorg([
      "analyze",
      "--offline",
      "--backend",
      "cpu",
      "--config",
      config,
      "--out",
      out,
      "--cache-dir",
      join(dir, "cache"),
      "--plan",
      plan,
      "--shard-voxels",
      "1000",
    ]);
    assert.equal(planned.code, 0, planned.stderr.slice(-2000));
    const script = join(plan, "submit.sbatch");

    // The whole plan: the array, and the merge that waits for it (afterok).
    const submitted = await sh(`bash ${script}`, env);
    assert.equal(submitted.code, 0, submitted.err);
    const [, array, merge] = /shards: job (\d+) \(2 tasks\); merge: job (\d+)/.exec(submitted.out)!;
    await waitFor([array, merge], env);
    assert.equal(
      await jobState(merge, env),
      "COMPLETED",
      await Deno.readTextFile(join(plan, "logs", "merge.out")).catch(() => ""),
    );
    await assertResultsWithin(reference, out);

    // Again from no shard results, held; task 1 cancelled, the other released and run.
    await Deno.remove(join(plan, "shards"), { recursive: true });
    await Deno.remove(out, { recursive: true });
    const held = await sh(`sbatch --parsable --hold ${script}`, env);
    assert.equal(held.code, 0, held.err);
    const again = held.out.split(";")[0];
    assert.equal((await sh(`scancel ${again}_1`, env)).code, 0);
    assert.equal((await sh(`scontrol release ${again}`, env)).code, 0);
    await waitFor([again], env);
    const refused = await brainorg(["merge", plan], env);
    assert.equal(refused.code, 3, refused.stderr);
    assert.match(refused.stderr, /1 of 2 shards have no results/);
    assert.match(refused.stderr, /shard 1 \(m-random, voxels 0–1000\): not run/);

    // Shard 1 alone, then the merge.
    const rerun = await sh(`sbatch --parsable --array=1 ${script}`, env);
    assert.equal(rerun.code, 0, rerun.err);
    await waitFor([rerun.out.split(";")[0]], env);
    const merged = await brainorg(["merge", plan], env);
    assert.equal(merged.code, 0, merged.stderr.slice(-2000));
    await assertResultsWithin(reference, out);
  } finally {
    if (ours) {
      const started = Date.now();
      const down = await sh(`tools/slurm_local.sh stop ${state}`);
      assert.equal(down.code, 0, down.err);
      assert.ok(Date.now() - started < 60_000, "the cluster took over a minute to stop");
    }
    await Deno.remove(dir, { recursive: true });
  }
});
