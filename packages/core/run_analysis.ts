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
  checkWritableDir,
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
  type BrainMask,
  buildWordDesign,
  readTranscript,
  voxelSizes,
  type VoxelSubjectVerdict,
} from "@brainorg/neuro";
import { loadAnalysisVoxels, writeVoxelQc } from "./_analysis_voxels.ts";
import type { AnalysisConfig } from "./analysis_config.ts";
import type { ModelSummary } from "./demo.ts";
import { captureModelAtoms } from "./capture_atoms.ts";
import { renderAnalysisReport } from "./report.ts";
import { analyzeRois, type RoiAnalysis } from "./roi_analysis.ts";
import { toCsv } from "./csv.ts";
import { writeStimulusTables } from "./stimulus_files.ts";
import { atomsCsv, templateNetworks } from "./phantom_files.ts";
import {
  analyzeVoxels,
  type ModelVoxelResult,
  type TemplateSet,
  writeTemplateFiles,
  writeVoxelResults,
} from "./voxel_analysis.ts";

/** Options of {@linkcode runAnalysis}. */
export interface RunAnalysisOptions {
  outDir: string;
  data?: ResolveOptions;
  backend?: "auto" | "cpu" | "webgpu";
  /** Threads for the CPU backend's products, LASSO and refits. Default: every core. */
  threads?: number;
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
  roiEncoding?: RoiAnalysis;
  voxel?: {
    dataset: "user";
    /** Usable subjects. */
    subjects: number;
    /** Voxels analysed: the mask's, less those dropped. */
    voxels: number;
    /** What the data checks found: every subject's verdict, and the voxels dropped for all. */
    qc: { subjects: VoxelSubjectVerdict[]; maskVoxels: number; droppedVoxels: number };
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
  // A folder that cannot be written fails now, not after the computation.
  await checkWritableDir(options.outDir, { what: "the results folder" });
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
    method: config.stimulus.method,
  });
  log(
    `stimulus: ${transcript.words.length} words → ${design.volumes} volumes at TR ${config.stimulus.tr} s`,
  );
  const backend = await createBackend({
    backend: options.backend ?? "auto",
    ...(options.threads ? { cpu: { threads: options.threads } } : {}),
  });
  try {
    const vx = config.voxels;
    // Several runs, end to end in each file: cleaned and shifted run by run.
    const runs = config.stimulus.runs.length > 1
      ? config.stimulus.runs.map((r) => r.volumes)
      : undefined;
    // The brain data are read and checked before the models run, so that a
    // bad file stops the run in seconds rather than after the capture.
    const loaded = vx
      ? await loadAnalysisVoxels(backend, config, { volumes: design.volumes, runs, log })
      : undefined;
    const models = await captureModelAtoms(
      backend,
      { transcript, design },
      config.models,
      {
        data,
        atoms: config.atoms,
        targetDensity: config.targetDensity,
        ...(config.dictionaryAlpha !== undefined ? { alpha: config.dictionaryAlpha } : {}),
        seed: config.seed,
        log,
        quiet: options.quiet ?? false,
      },
    );
    const roi = config.rois
      ? await analyzeRois(
        backend,
        config.rois.subjects,
        models.map((m) => ({ name: m.name, atoms: m.atoms.atoms })),
        {
          volumes: design.volumes,
          discarded: config.rois.discarded,
          ...(config.rois.columns ? { columns: config.rois.columns } : {}),
          permutations: config.permutations,
          seed: config.seed,
        },
      )
      : undefined;
    for (const v of roi?.subjects.filter((v) => !v.usable) ?? []) {
      log(`excluded ${v.id}: ${v.reason}`);
    }
    if (roi && roi.subjects.every((v) => !v.usable)) {
      throw new InputError("no subject's ROI table is usable", {
        file: config.file,
        field: "rois.subjects",
        expected: "at least 1 table with finite, varying values on the stimulus's volumes",
        found: roi.subjects.map((v) => `${v.id}: ${v.reason}`).join("; "),
      });
    }
    for (const g of roi?.group ?? []) {
      log(
        `  ${g.model} ${g.roi}: mean r ${g.meanR.toFixed(3)}, t(${g.subjects - 1}) = ${
          g.t.toFixed(2)
        }`,
      );
    }
    let voxel:
      | {
        mask: BrainMask;
        templates: TemplateSet[];
        results: ModelVoxelResult[];
        voxels: number;
        subjects: number;
      }
      | undefined;
    if (vx && loaded) {
      const { mask, subjects } = loaded;
      const resolution = voxelSizes(mask.grid.affine)[0] >= 3.5 ? 4 : 2;
      const templates: TemplateSet[] = [];
      for (const n of config.networks) {
        templates.push(await templateNetworks(n, mask, resolution, data));
      }
      log(`voxels: ${subjects.length} subjects × ${mask.indices.length} voxels (${vx.mask})`);
      const results = await analyzeVoxels(
        backend,
        subjects,
        models.map((m) => ({ name: m.name, atoms: m.atoms.atoms, layerCounts: m.layerCounts })),
        templates,
        {
          permutations: config.permutations,
          seed: config.seed,
          voxelP: vx.voxelP,
          maps: vx.maps,
          method: config.nullMethod,
          tr: config.stimulus.tr,
          highPassSeconds: vx.highPassSeconds,
          ...(runs ? { runs } : {}),
          cacheDir: cacheDirFor(data),
          log,
          ...(options.onProgress ? { onProgress: options.onProgress } : {}),
        },
      );
      voxel = { mask, templates, results, voxels: mask.indices.length, subjects: subjects.length };
    }
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
      ...(roi ? { roiEncoding: roi } : {}),
      ...(voxel
        ? {
          voxel: {
            dataset: "user" as const,
            subjects: voxel.subjects,
            voxels: voxel.voxels,
            qc: {
              subjects: loaded!.verdicts,
              maskVoxels: loaded!.maskVoxels,
              droppedVoxels: loaded!.dropped.length,
            },
            permutations: config.permutations,
            voxelP: vx!.voxelP,
            threshold: voxel.results[0].threshold,
            models: voxel.results.map((r) => ({
              name: r.model,
              templates: r.templates.map((t) => ({
                name: t.name,
                metrics: t.metrics,
                links: t.matches.filter((m) => m.linked),
              })),
            })),
          },
        }
        : {}),
    };
    for (const r of voxel?.results ?? []) {
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
        ...config.models.filter((m) => m.gguf || !m.hf!.startsWith("hf:")).flatMap((m) =>
          m.gguf ? [{ role: `model:${m.name}`, path: m.gguf }] : [
            { role: `model:${m.name}:config`, path: join(m.hf!, "config.json") },
            { role: `model:${m.name}:tokenizer`, path: join(m.hf!, "tokenizer.json") },
            { role: `model:${m.name}:onnx`, path: join(m.hf!, "onnx", "model.onnx") },
          ]
        ),
        ...(vx ? [{ role: "mask", path: vx.mask }] : []),
        ...(vx?.subjects ?? []).map((s) => ({ role: `bold:${s.id}`, path: s.bold })),
        ...(config.rois?.subjects ?? []).map((s) => ({ role: `rois:${s.id}`, path: s.table })),
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
      if (roi) {
        await writeTextFileAtomic(
          join(dir, "qc", "subjects.csv"),
          toCsv(["id", "usable", "reason"], roi.subjects),
        );
        await writeTextFileAtomic(
          join(dir, "encoding", "models_roi.csv"),
          toCsv(["model", "subject", "roi", "r", "p", "q", "alpha"], roi.rows),
        );
        await writeTextFileAtomic(
          join(dir, "encoding", "models_group.csv"),
          toCsv(["model", "roi", "subjects", "meanR", "t", "significant"], roi.group),
        );
      }
      if (loaded) await writeVoxelQc(join(dir, "qc"), loaded);
      if (voxel) {
        await writeTemplateFiles(join(dir, "voxels"), voxel.mask, voxel.templates, data);
        for (const r of voxel.results) {
          await writeVoxelResults(join(dir, "voxels", r.model), voxel.mask, r);
        }
      }
      await writeTextFileAtomic(
        join(dir, "report.html"),
        renderAnalysisReport(summary, provenance.createdAt),
      );
      await writeProvenance(dir, provenance);
    }, { what: "the results folder" });
    log(`results: ${options.outDir}`);
    return summary;
  } finally {
    backend.dispose();
  }
}
