/**
 * Sharded runs: `brainorg analyze … --plan DIR [--local N]` writes a plan,
 * `brainorg shard DIR N` runs one shard of it, `brainorg merge DIR` writes
 * the results folder from the shards. Every step runs the one pipeline
 * (`runAnalysis`) with its voxel stage replaced (`shard_voxels.ts`): the
 * stages before it come from the cache the plan step filled.
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import { join, resolve } from "node:path";
import { BRAINORG_VERSION, checkCacheEntry, InputError, sha256File } from "@brainorg/common";
import {
  assertPlanComplete,
  mergeAnalyzer,
  planProgress,
  probeAnalyzer,
  readPlan,
  shardAnalyzer,
  shardList,
  type ShardPlan,
  StopAfterVoxels,
  type StudyShape,
  writePlan,
} from "@brainorg/core";
import { analyzeCommand } from "./analyze.ts";
import { EXIT } from "./exit_codes.ts";
import { UsageError } from "./usage_error.ts";

export const SHARD_HELP = `brainorg shard — run one shard of a plan (written by analyze --plan DIR)

Usage:
  deno task shard DIR N     run shard N (0-based; Slurm: $SLURM_ARRAY_TASK_ID) of DIR/plan.json

Its results go to DIR/shards/N, written whole or not at all; running it again replaces them.
`;

export const MERGE_HELP = `brainorg merge — write the results folder of a plan's finished shards

Usage:
  deno task merge DIR       the results folder the single run would write (its --out)

Refuses (exit 3) while any shard has no results, and lists them.
`;

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/**
 * `deno run` with analyze's permissions, from any folder: how shards and the
 * merge start (and the tests' analyze runs), the CLI's main.ts last.
 */
export function runner(): string[] {
  return [
    Deno.execPath(),
    "run",
    "--config",
    join(ROOT, "deno.json"),
    "--allow-read",
    "--allow-write",
    "--allow-env",
    "--allow-net",
    "--allow-sys",
    "--allow-ffi",
    "--allow-run",
    join(ROOT, "apps/cli/main.ts"),
  ];
}

/** The study's arguments: analyze's, less the flags that only say how to shard it. */
export function studyArgs(args: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const m = /^--(plan|local|shard-voxels)(=.*)?$/.exec(args[i]);
    if (!m) out.push(args[i]);
    else if (!m[2]) i++;
  }
  return out;
}

/** The files a study is described by, with their SHA-256. */
async function studyInputs(config: string | undefined) {
  return config
    ? [{ role: "config", path: resolve(config), sha256: await sha256File(config) }]
    : [];
}

/** Refuse to run a plan whose described inputs changed since it was written. */
async function checkInputs(dir: string, plan: ShardPlan): Promise<void> {
  for (const input of plan.inputs) {
    let now = "unreadable";
    try {
      now = await sha256File(input.path);
    } catch { /* reported below */ }
    if (now !== input.sha256) {
      throw new InputError(`${input.path} changed since the plan was written: plan again`, {
        file: join(dir, "plan.json"),
        field: `inputs (${input.role})`,
        expected: `SHA-256 ${input.sha256}`,
        found: now,
      });
    }
  }
}

/**
 * `analyze … --plan DIR`: run the study up to its voxel stage (filling the
 * caches every shard reads), write the plan, and with `--local N` run the
 * shards as N processes and merge.
 */
export async function planCommand(
  args: string[],
  s: { plan?: string; local?: number; shardVoxels?: number; config?: string; quiet?: boolean },
): Promise<number> {
  const dir = resolve(s.plan!), rest = studyArgs(args);
  const log = (line: string) => s.quiet || console.error(line);
  let study: StudyShape | undefined;
  const probeOut = join(dir, "probe");
  try {
    await analyzeCommand(rest, { voxelAnalyzer: probeAnalyzer, outDir: probeOut });
  } catch (err) {
    if (!(err instanceof StopAfterVoxels) || !err.study) throw err;
    study = err.study;
  }
  if (!study) {
    await Deno.remove(probeOut, { recursive: true }).catch(() => {});
    throw new InputError(
      "the analysis has no voxel level, so nothing to shard: run it without --plan",
      {
        ...(s.config ? { file: s.config } : {}),
        field: "voxels",
        expected: "a voxel level (voxels.mask or voxels.phantom)",
        found: "none",
      },
    );
  }
  const perShard = s.shardVoxels ?? 50_000;
  const plan: ShardPlan = {
    schema: "brainorg.shard-plan/1",
    brainorg: BRAINORG_VERSION,
    createdAt: new Date().toISOString(),
    cwd: Deno.cwd(),
    args: rest,
    inputs: await studyInputs(s.config),
    parameters: { voxelsPerShard: perShard },
    study,
    shards: shardList(study.models.map((m) => m.name), study.voxels, perShard),
    runner: runner(),
  };
  await writePlan(dir, plan);
  log(
    `plan: ${plan.shards.length} shards (${study.models.length} models × blocks of ≤ ${perShard} ` +
      `of ${study.voxels} voxels, ${study.subjects.length} subjects each) in ${dir}`,
  );
  if (s.local === undefined) {
    log(`submit to Slurm: bash ${join(dir, "submit.sbatch")}`);
    log(`or run each: deno task shard ${dir} N (N = 0…${plan.shards.length - 1}), then merge`);
    return EXIT.ok;
  }
  await runLocal(dir, plan, s.local, log);
  return await mergeCommand([dir]);
}

/** Run every shard of a plan as a local process, `n` at a time; a failed shard is reported. */
async function runLocal(
  dir: string,
  plan: ShardPlan,
  n: number,
  log: (line: string) => void,
): Promise<void> {
  const [cmd, ...pre] = plan.runner;
  // N processes share the cores, unless told otherwise.
  const threads = Deno.env.get("BRAINORG_THREADS") ??
    String(Math.max(1, Math.floor(navigator.hardwareConcurrency / n)));
  let next = 0;
  const worker = async () => {
    while (next < plan.shards.length) {
      const i = next++;
      const out = await new Deno.Command(cmd, {
        args: [...pre, "shard", dir, String(i)],
        cwd: plan.cwd,
        env: { BRAINORG_THREADS: threads },
        stdin: "null",
        stdout: "null",
        stderr: "piped",
      }).output();
      if (out.code !== 0) {
        log(
          `shard ${i} failed (exit ${out.code}):\n${
            new TextDecoder().decode(out.stderr).slice(-2000)
          }`,
        );
      } else log(`shard ${i} of ${plan.shards.length} done`);
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, plan.shards.length) }, worker));
}

/** A plan folder and, where needed, a shard number, from a command's arguments. */
async function planOf(args: string[], help: string, withIndex: boolean) {
  if (args.includes("--help") || args.includes("-h")) return undefined;
  if (args.length !== (withIndex ? 2 : 1)) {
    throw new UsageError(
      `expected ${withIndex ? "DIR N" : "DIR"}: got ${args.length} arguments`,
      help,
    );
  }
  const dir = resolve(args[0]), plan = await readPlan(dir);
  const index = withIndex ? Number(args[1]) : 0;
  if (!Number.isInteger(index) || index < 0 || index >= plan.shards.length) {
    throw new UsageError(
      `N must be a shard of the plan, 0 to ${plan.shards.length - 1}: got "${args[1]}"`,
      help,
    );
  }
  await checkInputs(dir, plan);
  Deno.chdir(plan.cwd);
  return { dir, plan, index };
}

/** `brainorg shard DIR N`. */
export async function shardCommand(args: string[]): Promise<number> {
  const found = await planOf(args, SHARD_HELP, true);
  if (!found) {
    console.log(SHARD_HELP);
    return EXIT.ok;
  }
  const { dir, plan, index } = found;
  try {
    await analyzeCommand(plan.args, {
      voxelAnalyzer: shardAnalyzer(dir, plan, index),
      outDir: join(dir, "probe"),
    });
  } catch (err) {
    if (err instanceof StopAfterVoxels) return EXIT.ok;
    throw err;
  }
  throw new Error(`shard ${index}: the analysis ended without reaching its voxel stage`);
}

/** `brainorg merge DIR`. */
export async function mergeCommand(args: string[]): Promise<number> {
  const found = await planOf(args, MERGE_HELP, false);
  if (!found) {
    console.log(MERGE_HELP);
    return EXIT.ok;
  }
  const { dir, plan } = found;
  assertPlanComplete(dir, plan, await planProgress(dir, plan, checkCacheEntry));
  return await analyzeCommand(plan.args, { voxelAnalyzer: mergeAnalyzer(dir, plan) });
}
