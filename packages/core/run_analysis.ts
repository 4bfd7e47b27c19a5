/**
 * `deno task analyze --config FILE`: the method on a user's own story,
 * models and voxel data, writing the same results folder as the demo
 * (without the ROI and phantom parts).
 *
 * @module
 */

import { join } from "node:path";
import {
  BRAINORG_VERSION,
  createProvenance,
  InputError,
  writeDirAtomic,
  writeJsonAtomic,
  writeProvenance,
  writeTextFileAtomic,
} from "@brainorg/common";
import { cacheDirFor, type ResolveOptions } from "@brainorg/datasets";
import { type Backend, createBackend } from "@brainorg/kernels";
import type { NetworkMatch } from "./networks.ts";
import type { OrganizationMetrics } from "./organization.ts";
import {
  buildWordDesign,
  maskFromImage,
  readNifti,
  readTranscript,
  voxelSizes,
} from "@brainorg/neuro";
import type { AnalysisConfig } from "./analysis_config.ts";
import type { ModelSummary } from "./demo.ts";
import { captureModelAtoms } from "./alice_atoms.ts";
import { toCsv } from "./csv.ts";
import { writeStimulusTables } from "./stimulus_files.ts";
import { atomsCsv, templateNetworks } from "./phantom_files.ts";
import {
  analyzeVoxels,
  loadVoxelData,
  type TemplateSet,
  writeTemplateFiles,
  writeVoxelResults,
} from "./voxel_analysis.ts";

/** Options of {@linkcode runAnalysis}. */
export interface RunAnalysisOptions {
  outDir: string;
  data?: ResolveOptions;
  backend?: "auto" | "cpu" | "webgpu";
  quiet?: boolean;
  command?: string[];
  log?: (line: string) => void;
  onProgress?: (label: string, done: number, total: number) => void;
}

/** What `summary.json` holds for an analysis of the user's data (schema `brainorg.results/1`). */
export interface AnalysisSummary {
  schema: string;
  status: string;
  kind: "analysis";
  brainorg: string;
  backend: Backend["info"];
  stimulus: { transcript: string; words: number; volumes: number; tr: number };
  models: Omit<ModelSummary, "group">[];
  voxel: {
    dataset: "user";
    subjects: number;
    voxels: number;
    permutations: number;
    voxelP: number;
    threshold: number;
    models: {
      name: string;
      templates: { name: string; metrics: OrganizationMetrics; links: NetworkMatch[] }[];
    }[];
  };
}

/** Run the analysis a config describes and write its results folder; returns the summary. */
export async function runAnalysis(
  config: AnalysisConfig,
  options: RunAnalysisOptions,
): Promise<AnalysisSummary> {
  const log = options.log ?? ((l: string) => options.quiet || console.error(l));
  const data = options.data ?? {};
  const transcript = await readTranscript(config.stimulus.transcript, {
    ...(config.stimulus.tier ? { tier: config.stimulus.tier } : {}),
  });
  if (transcript.runCount !== config.stimulus.runs.length) {
    throw new InputError("the transcript's runs do not match the timing", {
      file: config.file,
      field: "stimulus.runs",
      expected: `${transcript.runCount} entries (runs found in ${config.stimulus.transcript})`,
      found: String(config.stimulus.runs.length),
    });
  }
  const design = buildWordDesign(transcript, {
    tr: config.stimulus.tr,
    runs: config.stimulus.runs,
    hrf: config.stimulus.hrf,
  });
  log(
    `stimulus: ${transcript.words.length} words → ${design.volumes} volumes at TR ${config.stimulus.tr} s`,
  );
  const backend = await createBackend({ backend: options.backend ?? "auto" });
  try {
    const models = await captureModelAtoms(
      backend,
      { transcript, design },
      config.models,
      {
        data,
        atoms: config.atoms,
        targetDensity: config.targetDensity,
        seed: config.seed,
        log,
        quiet: options.quiet ?? false,
      },
    );
    const mask = maskFromImage(await readNifti(config.voxels.mask), config.voxels.mask);
    const resolution = voxelSizes(mask.grid.affine)[0] >= 3.5 ? 4 : 2;
    const templates: TemplateSet[] = [];
    for (const n of config.networks) {
      templates.push(await templateNetworks(n, mask, resolution, data));
    }
    const subjects = await loadVoxelData(backend, {
      mask,
      subjects: config.voxels.subjects.map((s) => ({ id: s.id, path: s.bold })),
      tr: config.stimulus.tr,
      discarded: config.voxels.discarded,
      highPassSeconds: config.voxels.highPassSeconds,
    }, design.volumes);
    log(
      `voxels: ${subjects.length} subjects × ${mask.indices.length} voxels (${config.voxels.mask})`,
    );
    const results = await analyzeVoxels(
      backend,
      subjects,
      models.map((m) => ({ name: m.name, atoms: m.atoms.atoms, layerCounts: m.layerCounts })),
      templates,
      {
        permutations: config.permutations,
        seed: config.seed,
        voxelP: config.voxels.voxelP,
        tr: config.stimulus.tr,
        highPassSeconds: config.voxels.highPassSeconds,
        cacheDir: cacheDirFor(data),
        log,
        ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      },
    );
    const summary: AnalysisSummary = {
      schema: "brainorg.results/1",
      status: "complete",
      kind: "analysis",
      brainorg: BRAINORG_VERSION,
      backend: backend.info,
      stimulus: {
        transcript: config.stimulus.transcript,
        words: transcript.words.length,
        volumes: design.volumes,
        tr: config.stimulus.tr,
      },
      models: models.map((m) => ({
        name: m.name,
        source: m.source,
        ans: m.ans,
        deadAns: m.deadAns,
        atoms: config.atoms,
        alpha: m.atoms.alpha,
        codeDensity: m.atoms.density,
        layerR2: m.atoms.layerR2,
      })),
      voxel: {
        dataset: "user",
        subjects: subjects.length,
        voxels: mask.indices.length,
        permutations: config.permutations,
        voxelP: config.voxels.voxelP,
        threshold: results[0].threshold,
        models: results.map((r) => ({
          name: r.model,
          templates: r.templates.map((t) => ({
            name: t.name,
            metrics: t.metrics,
            links: t.matches.filter((m) => m.linked),
          })),
        })),
      },
    };
    for (const r of results) {
      const yeo = r.templates[0];
      log(
        `${r.model}: ${yeo.matches.filter((m) => m.linked).length} ${yeo.name} links, ` +
          `${yeo.metrics.networksEngaged} networks engaged`,
      );
    }
    const provenance = await createProvenance({
      inputs: [
        { role: "config", path: config.file },
        { role: "transcript", path: config.stimulus.transcript },
        ...config.models.flatMap((m) =>
          m.gguf ? [{ role: `model:${m.name}`, path: m.gguf }] : [
            { role: `model:${m.name}:config`, path: join(m.hf!, "config.json") },
            { role: `model:${m.name}:tokenizer`, path: join(m.hf!, "tokenizer.json") },
            { role: `model:${m.name}:onnx`, path: join(m.hf!, "onnx", "model.onnx") },
          ]
        ),
        { role: "mask", path: config.voxels.mask },
        ...config.voxels.subjects.map((s) => ({ role: `bold:${s.id}`, path: s.bold })),
      ],
      parameters: {
        ...config,
        file: undefined,
        captured: Object.fromEntries(models.map((m) => [m.name, m.captured])),
      },
      seed: config.seed,
      backend: { ...backend.info },
      command: options.command,
    });
    await writeDirAtomic(options.outDir, async (dir) => {
      await writeJsonAtomic(join(dir, "summary.json"), summary);
      await writeStimulusTables(dir, transcript, design);
      for (const m of models) {
        await writeTextFileAtomic(
          join(dir, "models", m.name, "atoms.csv"),
          atomsCsv(m.atoms.atoms),
        );
        await writeTextFileAtomic(
          join(dir, "models", m.name, "subgroups.csv"),
          toCsv(["atom", "layer", "positive", "negative"], m.atoms.subgroups),
        );
        await writeTextFileAtomic(
          join(dir, "models", m.name, "layer_r2.csv"),
          toCsv(["layer", "r2"], m.atoms.layerR2.map((r2, layer) => ({ layer, r2 }))),
        );
      }
      await writeTemplateFiles(join(dir, "voxels"), mask, templates, data);
      for (const r of results) await writeVoxelResults(join(dir, "voxels", r.model), mask, r);
      await writeProvenance(dir, provenance);
    });
    log(`results: ${options.outDir}`);
    return summary;
  } finally {
    backend.dispose();
  }
}
