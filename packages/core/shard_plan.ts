/**
 * A study split into shards for a cluster: the plan (`plan.json`: the
 * command that describes the study, its inputs with checksums, the shard
 * list) and the Slurm batch script that runs it (`submit.sbatch`: a job
 * array over the shards, and a merge job that waits for all of them).
 *
 * A shard is one model × one block of voxels, with every subject: the
 * voxel null forms each surrogate's group map from all subjects' refits of
 * that surrogate, so a shard of subjects would have to keep every
 * surrogate's coefficient maps (surrogates × atoms × voxels per subject)
 * for the merge, while a shard of voxels keeps only its block's maps and,
 * per surrogate, a few counts for network matching (`shard_voxels.ts`).
 *
 * @module
 */

import { join } from "node:path";
import {
  BRAINORG_VERSION,
  InputError,
  parseTempSibling,
  writeJsonAtomic,
  writeTextFileAtomic,
} from "@brainorg/common";

/** `plan.json`'s format and version. */
export const PLAN_SCHEMA = "brainorg.shard-plan/1";

/** Voxels per shard when the plan is not told: a block's maps stay within a few hundred MiB. */
export const DEFAULT_SHARD_VOXELS = 50_000;

/** One shard: a model's encoding and null on a block of voxels, all subjects. */
export interface ShardSpec {
  /** Position in the plan: the job array's task id. */
  index: number;
  /** The model whose atoms it encodes. */
  model: string;
  /** `[start, end)` over the mask's voxels (in mask order). */
  voxels: [number, number];
}

/** What the plan step saw of the study: enough for a shard and the merge to check theirs. */
export interface StudyShape {
  /**
   * SHA-256 over the voxel stage's inputs as loaded: every subject's
   * cleaned data and confounds, every model's atoms, the templates and the
   * options. A shard or merge that computes another refuses to run.
   */
  key: string;
  /** Voxels in the analysis mask. */
  voxels: number;
  /** Subjects' ids, in the data's order. */
  subjects: string[];
  /** The models, in order, with their atom count K. */
  models: { name: string; atoms: number }[];
  /** Template sets' names, in order. */
  templates: string[];
  /** Surrogates of the voxel null. */
  permutations: number;
}

/** `plan.json`. */
export interface ShardPlan {
  /** {@linkcode PLAN_SCHEMA}. */
  schema: typeof PLAN_SCHEMA;
  /** The brainorg that wrote the plan (shards and merge must be the same). */
  brainorg: string;
  /** ISO 8601 time of the plan. */
  createdAt: string;
  /** Folder the study's relative paths are relative to. */
  cwd: string;
  /** `analyze`'s arguments that describe the study (without `--plan`, `--local`, `--shard-voxels`). */
  args: string[];
  /** Files the study is described by, with their SHA-256 (re-checked by shards and merge). */
  inputs: { role: string; path: string; sha256: string }[];
  /** How the study was split. */
  parameters: { voxelsPerShard: number };
  /** What the plan step saw. */
  study: StudyShape;
  /** The shards, index = position. */
  shards: ShardSpec[];
  /** How a shard or the merge is started: `[deno, "run", permissions…, main.ts]`. */
  runner: string[];
}

/**
 * The shards of a study: every model × consecutive blocks of voxels.
 *
 * @param models the models' names, in order
 * @param voxels the mask's voxel count V
 * @param perShard voxels per block (the last block holds the rest)
 * @returns model-major shard list: model 0's blocks, then model 1's, …
 * @throws {RangeError} for a block size that is not a positive integer
 *
 * @example
 * ```ts
 * import { shardList } from "@brainorg/core";
 * shardList(["m"], 1000, 400).map((s) => s.voxels); // [[0, 400], [400, 800], [800, 1000]]
 * ```
 */
export function shardList(models: string[], voxels: number, perShard: number): ShardSpec[] {
  if (!Number.isInteger(perShard) || perShard < 1) {
    throw new RangeError(`voxels per shard must be a positive integer: current value ${perShard}`);
  }
  const out: ShardSpec[] = [];
  for (const model of models) {
    for (let v0 = 0; v0 < voxels; v0 += perShard) {
      out.push({ index: out.length, model, voxels: [v0, Math.min(voxels, v0 + perShard)] });
    }
  }
  return out;
}

/** The folder of shard `index`'s partial results in the plan folder `dir`. */
export function shardDir(dir: string, index: number): string {
  return join(dir, "shards", String(index).padStart(5, "0"));
}

/** `plan.json` in the plan folder `dir`. */
export const planFile = (dir: string): string => join(dir, "plan.json");

/** A shell word, quoted for bash. */
const sh = (word: string) =>
  /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;

/**
 * `submit.sbatch`: a batch script that is both the job array (run by Slurm,
 * one task per shard) and its own submitter (run by hand: `bash
 * submit.sbatch` submits the array, then the merge job with
 * `--dependency=afterok` on it). A shard alone is rerun with `sbatch
 * --array=N submit.sbatch`.
 *
 * @param dir the plan folder (absolute)
 * @param plan the plan
 * @returns the script's text
 */
export function submitScript(dir: string, plan: ShardPlan): string {
  const run = plan.runner.map(sh).join(" ");
  const logs = join(dir, "logs");
  return `#!/bin/bash
# brainorg ${plan.brainorg}: ${plan.shards.length} shards of the study planned in ${dir}
#   bash ${sh(join(dir, "submit.sbatch"))}              submit every shard, then the merge
#   sbatch --array=N ${sh(join(dir, "submit.sbatch"))}  run shard N again (alone)
#SBATCH --job-name=brainorg-shard
#SBATCH --array=0-${plan.shards.length - 1}
#SBATCH --ntasks=1
#SBATCH --cpus-per-task=1
#SBATCH --output=${logs}/shard-%a.out
set -euo pipefail
cd ${sh(plan.cwd)}
if [ -z "\${SLURM_ARRAY_TASK_ID:-}" ]; then
  # Run by hand: submit the array, then the merge, which waits for every shard.
  array=$(sbatch --parsable "$@" ${sh(join(dir, "submit.sbatch"))})
  array=\${array%%;*}
  merge=$(sbatch --parsable --dependency=afterok:$array --job-name=brainorg-merge \\
    --ntasks=1 --output=${logs}/merge.out --chdir=${sh(plan.cwd)} \\
    --wrap=${sh(`${run} merge ${sh(dir)}`)})
  echo "shards: job $array (${plan.shards.length} tasks); merge: job \${merge%%;*}"
  exit 0
fi
# A shard's threads: the CPUs Slurm gave the task, unless told otherwise.
export BRAINORG_THREADS=\${BRAINORG_THREADS:-\${SLURM_CPUS_PER_TASK:-1}}
exec ${run} shard ${sh(dir)} "$SLURM_ARRAY_TASK_ID"
`;
}

/**
 * Write the plan folder: `plan.json`, `submit.sbatch`, and empty `shards/`
 * and `logs/` (a plan written again replaces them; earlier shards' results
 * are removed, since they belong to another plan).
 *
 * @param dir the plan folder (absolute)
 * @param plan the plan
 * @throws {OutputError} when the folder cannot be written
 */
export async function writePlan(dir: string, plan: ShardPlan): Promise<void> {
  await Deno.remove(join(dir, "shards"), { recursive: true }).catch(() => {});
  await Deno.mkdir(join(dir, "shards"), { recursive: true });
  await Deno.mkdir(join(dir, "logs"), { recursive: true });
  await writeJsonAtomic(planFile(dir), plan);
  await writeTextFileAtomic(join(dir, "submit.sbatch"), submitScript(dir, plan));
  await Deno.chmod(join(dir, "submit.sbatch"), 0o755);
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * Read and check a plan folder's `plan.json`.
 *
 * @throws {InputError} naming `plan.json` and the field for a missing,
 *   unreadable or malformed plan, or one written by another brainorg
 */
export async function readPlan(dir: string): Promise<ShardPlan> {
  const file = planFile(dir);
  let value: unknown;
  try {
    value = JSON.parse(await Deno.readTextFile(file));
  } catch (err) {
    throw new InputError(
      "no readable shard plan: write one with `deno task analyze … --plan DIR`",
      {
        file,
        field: "(file)",
        expected: "a plan.json written by --plan",
        found: (err as Error).message,
        cause: err,
      },
    );
  }
  const bad = (field: string, expected: string, found: unknown): never => {
    throw new InputError("the shard plan is not usable", {
      file,
      field,
      expected,
      found: JSON.stringify(found)?.slice(0, 80) ?? "nothing",
    });
  };
  if (!isObject(value)) return bad("(root)", "an object", value);
  if (value.schema !== PLAN_SCHEMA) bad("schema", PLAN_SCHEMA, value.schema);
  if (value.brainorg !== BRAINORG_VERSION) {
    bad("brainorg", `${BRAINORG_VERSION} (the version running now)`, value.brainorg);
  }
  if (!Array.isArray(value.args) || !value.args.every((a) => typeof a === "string")) {
    bad("args", "a list of strings", value.args);
  }
  if (typeof value.cwd !== "string") bad("cwd", "a folder", value.cwd);
  const study = value.study;
  if (!isObject(study) || typeof study.key !== "string" || !Number.isInteger(study.voxels)) {
    bad("study", "{key, voxels, subjects, models, …}", study);
  }
  const shards = value.shards;
  if (
    !Array.isArray(shards) || shards.length === 0 ||
    !shards.every((s, i) =>
      isObject(s) && s.index === i && typeof s.model === "string" && Array.isArray(s.voxels)
    )
  ) bad("shards", "a non-empty list of {index (= position), model, voxels}", shards);
  return value as unknown as ShardPlan;
}

/** What {@linkcode planProgress} found of each shard. */
export interface PlanProgress {
  /** Shards whose results are whole. */
  done: number[];
  /** Shards without usable results, each with why. */
  missing: { index: number; reason: string }[];
}

/**
 * Which shards of a plan have finished: a shard's folder is whole when its
 * manifest lists every file with the right size and SHA-256 (it is written
 * whole or not at all). A temporary folder beside it is a shard that was
 * stopped (or is still running).
 *
 * @param dir the plan folder
 * @param plan its plan
 * @param check how a shard's folder is checked (`checkCacheEntry`)
 */
export async function planProgress(
  dir: string,
  plan: ShardPlan,
  check: (dir: string) => Promise<{ state: string; reason?: string }>,
): Promise<PlanProgress> {
  const temps = new Set<string>();
  try {
    for await (const e of Deno.readDir(join(dir, "shards"))) {
      const t = parseTempSibling(e.name);
      if (t) temps.add(t.target);
    }
  } catch { /* no shards folder: every shard is missing */ }
  const done: number[] = [], missing: PlanProgress["missing"] = [];
  for (const s of plan.shards) {
    const folder = shardDir(dir, s.index), name = folder.slice(folder.lastIndexOf("/") + 1);
    const found = await check(folder);
    if (found.state === "whole") done.push(s.index);
    else {
      missing.push({
        index: s.index,
        reason: found.state === "absent"
          ? temps.has(name)
            ? "only a temporary folder: stopped before it finished, or still running"
            : "not run"
          : `damaged: ${found.reason}`,
      });
    }
  }
  return { done, missing };
}

/**
 * Refuse an incomplete plan: the error lists every missing shard, what it
 * holds and why it is missing.
 *
 * @throws {InputError} naming `plan.json`'s `shards` when any shard is missing
 */
export function assertPlanComplete(dir: string, plan: ShardPlan, progress: PlanProgress): void {
  if (progress.missing.length === 0) return;
  const list = progress.missing.map(({ index, reason }) => {
    const s = plan.shards[index];
    return `shard ${index} (${s.model}, voxels ${s.voxels[0]}–${s.voxels[1]}): ${reason}`;
  });
  throw new InputError(
    `the plan is incomplete: ${progress.missing.length} of ${plan.shards.length} shards ` +
      `have no results; run them (\`deno task shard ${dir} N\`, or \`sbatch --array=${
        progress.missing.map((m) => m.index).join(",")
      } ${join(dir, "submit.sbatch")}\`) and merge again`,
    {
      file: planFile(dir),
      field: "shards",
      expected: `all ${plan.shards.length} shards finished`,
      found: list.join("; "),
    },
  );
}
