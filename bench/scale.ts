/**
 * The scale benchmark: the pipeline's stages at a paper-sized study, each
 * timed with its memory. Synthetic inputs (bench/scale_inputs.ts) are
 * written to disk first, in a child process; then, in this process, the
 * stages run through the same functions the pipeline calls:
 *
 * capture-cache read → TR grid → dictionary learning → voxel data read →
 * noise ceiling → voxel encoding (CV fits) → null → group maps + networks
 * → report files.
 *
 * Peak resident memory (VmHWM) cannot be reset between stages: each stage
 * records the running peak and the resident memory after it. The run is
 * appended to `--out` (JSON, one entry per run) and the table of every run
 * with the linear costs per subject and per surrogate, and a projection to
 * larger studies, is written to `--md`.
 *
 * Usage: deno task bench:scale [--ans 131072] [--layers 32] [--words 2000]
 *   [--voxels 228483] [--subjects 20] [--volumes 400] [--surrogates 1000]
 *   [--k 64] [--passes 20] [--backend cpu|webgpu] [--dir DIR] [--out FILE] [--md FILE]
 *   [--memory-gib X | --block-voxels N]
 *
 * With `--memory-gib` or `--block-voxels`, the voxel stage runs as the
 * pipeline runs it beyond its memory budget (`voxel_blocks.ts`): series
 * spilled to disk as they are read, then block by block, one stage record
 * per block.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { join } from "node:path";
import { homedir } from "node:os";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { InputError } from "@brainorg/common";
import { type Backend, createCpuBackend, createWebGpuBackend } from "@brainorg/kernels";
import { cachedCapture } from "@brainorg/models";
import { buildWordDesign } from "@brainorg/neuro";
import {
  analyzeVoxels,
  anTimeSeries,
  blockedAnalyzer,
  learnModelAtoms,
  loadVoxelSubjects,
  templateNetworks,
  voxelBlocks,
  VoxelSpill,
  writeNoiseCeilingFiles,
  writeVoxelResults,
} from "@brainorg/core";
import {
  SCALE_TR,
  scaleActivationKey,
  scalePaths,
  type ScaleSizes,
  scaleTranscript,
} from "./scale_inputs.ts";
import { projectScale, renderScaleTable, type ScaleRun, type StageRecord } from "./scale_table.ts";

const NUMERIC = ["ans", "layers", "words", "voxels", "subjects", "volumes", "surrogates", "k"];

/** Parse and check the command line: every size a positive integer. */
function options(args: string[]) {
  const { values } = parseArgs({
    args,
    options: {
      ans: { type: "string", default: "131072" },
      layers: { type: "string", default: "32" },
      words: { type: "string", default: "2000" },
      voxels: { type: "string", default: "228483" },
      subjects: { type: "string", default: "20" },
      volumes: { type: "string", default: "400" },
      surrogates: { type: "string", default: "1000" },
      k: { type: "string", default: "64" },
      passes: { type: "string", default: "20" },
      backend: { type: "string", default: "cpu" },
      dir: { type: "string", default: "/tmp/brainorg-scale" },
      out: { type: "string", default: "bench/scale_results.json" },
      md: { type: "string", default: "bench/scale_results.md" },
      label: { type: "string", default: "" },
      "keep-inputs": { type: "boolean", default: true },
      "memory-gib": { type: "string", default: "" },
      "block-voxels": { type: "string", default: "" },
    },
  });
  const n: Record<string, number> = {};
  for (const name of [...NUMERIC, "passes"]) {
    const raw = values[name as keyof typeof values] as string;
    const v = Number(raw);
    if (!Number.isInteger(v) || v < 1) {
      throw new InputError("a size must be a positive integer", {
        file: "bench/scale.ts",
        field: `--${name}`,
        expected: "an integer ≥ 1",
        found: raw,
      });
    }
    n[name] = v;
  }
  if (n.subjects < 2) {
    throw new InputError("group maps need at least 2 subjects", {
      file: "bench/scale.ts",
      field: "--subjects",
      expected: "at least 2",
      found: String(n.subjects),
    });
  }
  if (values.backend !== "cpu" && values.backend !== "webgpu") {
    throw new InputError("unknown backend", {
      file: "bench/scale.ts",
      field: "--backend",
      expected: "cpu or webgpu",
      found: String(values.backend),
    });
  }
  const sizes: ScaleSizes = {
    ans: n.ans,
    layers: n.layers,
    words: n.words,
    voxels: n.voxels,
    subjects: n.subjects,
    volumes: n.volumes,
  };
  const blocks: { memoryGiB?: number; blockVoxels?: number } = {};
  for (
    const [flag, key] of [["memory-gib", "memoryGiB"], ["block-voxels", "blockVoxels"]] as const
  ) {
    const raw = values[flag]!;
    if (raw === "") continue;
    const v = Number(raw);
    if (!(v > 0) || (key === "blockVoxels" && !Number.isInteger(v))) {
      throw new InputError("a block setting must be positive", {
        file: "bench/scale.ts",
        field: `--${flag}`,
        expected: key === "blockVoxels" ? "an integer ≥ 1" : "a number > 0",
        found: raw,
      });
    }
    blocks[key] = v;
  }
  return { values, sizes, surrogates: n.surrogates, k: n.k, passes: n.passes, blocks };
}

/** Resident memory now and the process's peak so far, MiB (Linux's /proc/self/status). */
function memory(): { rssMiB: number; peakMiB: number } {
  const status = Deno.readTextFileSync("/proc/self/status");
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+)`, "m").exec(status)?.[1]);
  return { rssMiB: kib("VmRSS") / 1024, peakMiB: kib("VmHWM") / 1024 };
}

async function main() {
  const { values, sizes, surrogates, k, passes, blocks } = options(Deno.args);
  const blocked = blocks.memoryGiB !== undefined || blocks.blockVoxels !== undefined;
  const log = (line: string) => console.error(`[scale] ${line}`);
  const dir = values.dir!;
  const paths = scalePaths(dir, sizes.subjects);
  // Inputs in a child process: its memory is not the stages'.
  const gen = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("./scale_inputs.ts", import.meta.url).pathname,
      dir,
      JSON.stringify(sizes),
      join(homedir(), ".cache", "brainorg", "activations"),
    ],
    stderr: "inherit",
  }).output();
  if (!gen.success) throw new Error(`writing the inputs failed (exit code ${gen.code})`);
  const inputs = JSON.parse(new TextDecoder().decode(gen.stdout));
  log(`inputs in ${dir} (${inputs.seconds.toFixed(1)} s to write)`);

  const backend: Backend = values.backend === "webgpu"
    ? await createWebGpuBackend()
    : await createCpuBackend();
  const stages: StageRecord[] = [];
  let mark = performance.now();
  const stage = (name: string, detail = "") => {
    const now = performance.now();
    stages.push({ stage: name, seconds: (now - mark) / 1000, ...memory(), detail });
    log(`${name}: ${((now - mark) / 1000).toFixed(1)} s, ${JSON.stringify(memory())} ${detail}`);
    mark = now;
  };
  stage("start (backend, inputs present)");
  const results = join(dir, "results");
  const spill = blocked ? await VoxelSpill.create(join(dir, "spill")) : undefined;
  try {
    const key = scaleActivationKey(sizes);
    let acts: Awaited<ReturnType<typeof cachedCapture>>["activations"] | undefined = (
      await cachedCapture(paths.activations, key, sizes.layers, () => {
        throw new Error(`the synthetic capture is not in ${paths.activations}`);
      })
    ).activations;
    stage("capture-cache read", `${acts.words} words × ${acts.units} ANs`);
    const design = buildWordDesign(scaleTranscript(sizes.words, sizes.volumes), {
      tr: SCALE_TR,
      runs: [{ volumes: sizes.volumes }],
    });
    const ts = anTimeSeries(acts.data, acts.units, design);
    const index = acts.index;
    acts = undefined; // what the stages after keep is the series
    stage("TR grid", `${ts.series.rows} volumes × ${ts.series.cols} ANs (${ts.dead} dead)`);
    const atoms = await learnModelAtoms(backend, ts, (an) => index[an].layer, sizes.layers, {
      atoms: k,
      targetDensity: 0.2,
      passes,
      seed: 0,
    });
    stage(
      "dictionary learning",
      `K = ${k}, ${passes} passes, α ${atoms.alpha.toPrecision(4)}, density ${
        atoms.density.toFixed(3)
      }`,
    );
    const layerCounts = Array.from(
      { length: k },
      (_, a) =>
        Array.from({ length: sizes.layers }, (_, l) => {
          const g = atoms.subgroups[a * sizes.layers + l];
          return g.positive + g.negative;
        }),
    );
    const loaded = await loadVoxelSubjects(backend, {
      file: "bench/scale.ts",
      mask: paths.mask,
      subjects: paths.bold.map((bold, s) => ({ id: `sub-${s + 1}`, bold })),
      discarded: 0,
      maxBadVoxelShare: 0.1,
      highPassSeconds: 128,
    }, { volumes: sizes.volumes, tr: SCALE_TR, log, ...(spill ? { spill } : {}) });
    stage(
      "voxel data read",
      `${loaded.subjects.length} subjects × ${loaded.mask.indices.length} voxels` +
        (spill ? " (spilled to disk)" : ""),
    );
    const blockVoxels = spill
      ? voxelBlocks({
        subjects: loaded.subjects.length,
        volumes: sizes.volumes,
        voxels: spill.voxels,
        atoms: k,
      }, blocks)?.blockVoxels ?? spill.voxels
      : 0;
    const yeo7 = await templateNetworks("yeo7", loaded.mask, 2);
    let fits = 0;
    const analysis = await analyzeVoxels(
      backend,
      loaded.subjects,
      [{
        name: "synthetic",
        atoms: atoms.atoms,
        layerCounts,
      }],
      [yeo7],
      {
        permutations: surrogates,
        seed: 0,
        tr: SCALE_TR,
        ...(spill ? { analyzer: blockedAnalyzer(spill, { blockVoxels }) } : {}),
        log: (line) => {
          const block = /^voxels (\d+)–(\d+) \(block (\d+) of (\d+)\)/.exec(line);
          if (block) {
            stage(`voxel block ${block[3]}/${block[4]}`, `voxels ${block[1]}–${block[2]}`);
          } else if (!spill && line.startsWith("noise ceiling")) stage("noise ceiling");
        },
        onProgress: (label, done, total) => {
          if (spill) return; // stages by block instead
          if (label.endsWith(" fit") && done === total) {
            stage("voxel encoding (CV fits)", `${total} subjects`);
            fits = total;
          }
          if (label.endsWith(" null") && done === total) {
            stage("null", `${total} surrogates × ${fits} subjects`);
          }
          if (label.endsWith(" null") && done % 8 === 0) log(`null ${done}/${total}`);
        },
      },
    );
    stage(
      "group maps + networks",
      `Yeo-7, ${analysis.models[0].templates[0].matches.length} cells`,
    );
    await rm(results, { recursive: true, force: true });
    await mkdir(join(results, "voxels"), { recursive: true });
    await writeVoxelResults(results, loaded.mask, analysis.models[0]);
    await writeNoiseCeilingFiles(results, {
      mask: loaded.mask,
      templates: [yeo7],
      analysis,
    });
    stage("report (maps and tables written)");
  } finally {
    await spill?.dispose();
    backend.dispose();
  }
  const run: ScaleRun = {
    date: new Date().toISOString(),
    label: (values.label ?? "") +
      (blocked ? `${values.label ? ", " : ""}blocked: ${JSON.stringify(blocks)}` : ""),
    backend: backend.info.name +
      (backend.info.implementation ? ` (${backend.info.implementation})` : ""),
    sizes: { ...sizes, surrogates, k, passes },
    inputs,
    stages,
    totalSeconds: stages.reduce((a, s) => a + s.seconds, 0),
    peakMiB: Math.max(...stages.map((s) => s.peakMiB)),
    machine: {
      cores: navigator.hardwareConcurrency,
      cpu: (await readFile("/proc/cpuinfo", "utf8")).match(/model name\s*:\s*(.*)/)?.[1] ?? "",
      shared: "timed on a shared machine (other jobs running)",
    },
  };
  const prior = await readFile(values.out!, "utf8").then(JSON.parse, () => ({ runs: [] }));
  prior.runs.push(run);
  await writeFile(values.out!, JSON.stringify(prior, null, 2) + "\n");
  await writeFile(values.md!, renderScaleTable(prior.runs, projectScale(prior.runs)));
  // In the repository's format (`deno task check` includes bench/): wrapped lines, aligned tables.
  await new Deno.Command(Deno.execPath(), { args: ["fmt", "-q", values.md!] }).output();
  console.log(JSON.stringify(run, null, 2));
}

if (import.meta.main) await main();
