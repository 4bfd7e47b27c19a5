/**
 * A small but real study for tests that run the CLI as a subprocess: a 10³
 * grid of the 4 mm MNI template, 3 subjects of 120 volumes with a planted
 * word-rate signal, a 200-word story and stories260K (with its random-weights
 * control, so a run holds two models' cache entries). Also the subprocess
 * runner and a comparison of two results folders.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join, relative } from "node:path";
import { rng } from "@brainorg/kernels";
import { readNifti, writeNifti } from "@brainorg/neuro";
import { runner } from "../apps/cli/shard.ts";
import { dataPath } from "./data.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const T = 120, N = 10;

/** Volumes per subject and voxels per side of the small study's grid. */
export const SMALL_STUDY = { T, N } as const;

/**
 * The parts of a small study every such test shares: a 200-word story
 * (`story.csv`) and a 10³ all-ones mask (`mask.nii.gz`) on a box of the 4 mm
 * MNI grid inside the brain, so that the Yeo-7 networks cover part of it.
 *
 * @returns the box's affine (for the subjects' files) and its voxel count
 */
export async function writeStoryAndMask(dir: string): Promise<{ affine: Float64Array; V: number }> {
  const vocab = "once upon a time there was a little girl named lily she loved to play".split(" ");
  const lines = ["word,onset,offset"];
  for (let i = 0; i < 200; i++) {
    lines.push(
      `${vocab[i % vocab.length]},${(5 + i * 1.1).toFixed(2)},${(5.5 + i * 1.1).toFixed(2)}`,
    );
  }
  await Deno.writeTextFile(join(dir, "story.csv"), lines.join("\n") + "\n");
  const mni = await readNifti(
    await dataPath("atlases/MNI152NLin6_res-4x4x4_T1w_descr-brainmask.nii.gz"),
  );
  const [i0, j0, k0] = [18, 22, 18], affine = Float64Array.from(mni.affine);
  for (let r = 0; r < 3; r++) {
    affine[4 * r + 3] = mni.affine[4 * r] * i0 + mni.affine[4 * r + 1] * j0 +
      mni.affine[4 * r + 2] * k0 + mni.affine[4 * r + 3];
  }
  const V = N * N * N;
  await writeNifti(join(dir, "mask.nii.gz"), {
    shape: [N, N, N],
    affine,
    data: new Float32Array(V).fill(1),
  }, { datatype: "uint8" });
  return { affine, V };
}

/**
 * Write the study's files into `dir`; returns the analysis file's path.
 *
 * @param dir an existing, empty folder
 * @param options `permutations`: shifts of the ROI and voxel nulls (default 9)
 */
export async function writeSmallStudy(
  dir: string,
  options: { permutations?: number } = {},
): Promise<string> {
  const { affine: a, V } = await writeStoryAndMask(dir);
  const next = rng(11);
  for (let s = 1; s <= 3; s++) {
    const d = Float32Array.from(
      { length: V * T },
      (_, i) => 100 + next() + (i % V < 300 ? Math.sin((i / V) / 3 + s) : 0),
    );
    await writeNifti(join(dir, `sub-0${s}.nii.gz`), {
      shape: [N, N, N, T],
      affine: a,
      data: d,
      tr: 2,
    });
  }
  const config = {
    stimulus: { transcript: "story.csv", tr: 2, runs: [{ volumes: T }] },
    models: [{ name: "m", gguf: await dataPath("models/stories260K.gguf") }],
    voxels: {
      mask: "mask.nii.gz",
      subjects: [1, 2, 3].map((i) => ({ id: `sub-0${i}`, bold: `sub-0${i}.nii.gz` })),
    },
    networks: ["yeo7"],
    atoms: 8,
    permutations: options.permutations ?? 9,
  };
  const path = join(dir, "study.json");
  await Deno.writeTextFile(path, JSON.stringify(config));
  return path;
}

/** What a CLI run left: its exit code and everything it wrote to stderr. */
export interface CliRun {
  code: number;
  /** The exit signal, e.g. `"SIGKILL"`, or null. */
  signal: Deno.Signal | null;
  stderr: string;
}

/** Options of {@linkcode startAnalyze}. */
export interface StartAnalyzeOptions {
  /** Extra environment variables (e.g. `BRAINORG_TEST_KILL_AT`). */
  env?: Record<string, string>;
  /** Called with each stderr line as it comes; returning true sends SIGKILL. */
  killWhen?: (line: string) => boolean;
  /** Wrap the command, e.g. `["unshare", "-m", "sh", "-c", "… exec \"$0\" \"$@\""]`. */
  wrap?: string[];
}

/**
 * `deno task analyze --config FILE` in a subprocess, CPU backend with the
 * plain TypeScript products, so that every run (and every machine) computes
 * the same numbers.
 *
 * @param args `--config`, `--out`, `--cache-dir` and any other arguments
 */
export async function startAnalyze(
  args: string[],
  options: StartAnalyzeOptions = {},
): Promise<CliRun> {
  const deno = [
    ...runner(),
    "analyze",
    "--offline",
    "--backend",
    "cpu",
    ...args,
  ];
  const [cmd, ...rest] = [...(options.wrap ?? []), ...deno];
  const child = new Deno.Command(cmd, {
    args: rest,
    cwd: ROOT,
    stdout: "null",
    stderr: "piped",
    stdin: "null",
    env: { NO_COLOR: "1", BRAINORG_BLAS: "typescript", ...options.env },
  }).spawn();
  // A hang must fail the test, not stall CI.
  const timer = setTimeout(() => child.kill("SIGKILL"), 180_000);
  let stderr = "", pending = "", killed = false;
  const decoder = new TextDecoder();
  for await (const chunk of child.stderr) {
    const text = decoder.decode(chunk, { stream: true });
    stderr += text;
    pending += text;
    const lines = pending.split(/\r?\n|\r/);
    pending = lines.pop()!;
    if (!killed && options.killWhen && lines.some(options.killWhen)) {
      killed = true;
      child.kill("SIGKILL");
    }
  }
  const status = await child.status;
  clearTimeout(timer);
  return { code: status.code, signal: status.signal, stderr };
}

/**
 * The small study written under `dir` and run once, uninterrupted, into
 * `dir/reference` (cache `dir/reference-cache`): what the sharded, resumed
 * and cluster runs must reproduce.
 */
export async function writeSmallStudyReference(
  dir: string,
): Promise<{ config: string; reference: string }> {
  const config = await writeSmallStudy(dir);
  const reference = join(dir, "reference");
  const ref = await startAnalyze([
    "--config",
    config,
    "--out",
    reference,
    "--cache-dir",
    join(dir, "reference-cache"),
  ]);
  assert.equal(ref.code, 0, ref.stderr.slice(-2000));
  return { config, reference };
}

/** Every file under `dir`, as paths relative to it, sorted. */
export async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string) => {
    for await (const e of Deno.readDir(d)) {
      const p = join(d, e.name);
      if (e.isDirectory) await walk(p);
      else out.push(relative(dir, p));
    }
  };
  await walk(dir);
  return out.sort();
}

/** `summary.json` and `provenance.json` less what differs between equal runs (times, command). */
function comparableJson(name: string, text: string): unknown {
  const value = JSON.parse(text);
  if (name === "provenance.json") {
    delete value.createdAt;
    delete value.command;
  }
  return value;
}

/**
 * Assert that two results folders hold the same results: the same files;
 * JSON equal but for the provenance's time and command; NIfTI maps with the
 * same header fields and bit-identical data (a gzip stream's header holds a
 * time); every other file (CSV, HTML less its time stamp) byte for byte.
 */
export async function assertSameResults(a: string, b: string): Promise<void> {
  const files = await listFiles(a);
  assert.deepEqual(await listFiles(b), files, `the files of ${a} and ${b}`);
  for (const f of files) {
    const [x, y] = [join(a, f), join(b, f)];
    if (f.endsWith(".json")) {
      assert.deepEqual(
        comparableJson(f, await Deno.readTextFile(y)),
        comparableJson(f, await Deno.readTextFile(x)),
        f,
      );
    } else if (/\.nii(\.gz)?$/.test(f)) {
      const [p, q] = [await readNifti(x), await readNifti(y)];
      assert.deepEqual(q.shape, p.shape, f);
      assert.deepEqual(q.affine, p.affine, f);
      assert.deepEqual(
        new Uint8Array(q.data.buffer, q.data.byteOffset, q.data.byteLength),
        new Uint8Array(p.data.buffer, p.data.byteOffset, p.data.byteLength),
        `${f}: data`,
      );
    } else if (f.endsWith(".html")) {
      const strip = (s: string) => s.replace(/\d{4}-\d\d-\d\dT[\d:.]+Z/g, "<time>");
      assert.equal(strip(await Deno.readTextFile(y)), strip(await Deno.readTextFile(x)), f);
    } else {
      assert.deepEqual(await Deno.readFile(y), await Deno.readFile(x), f);
    }
  }
}
