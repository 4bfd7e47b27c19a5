/**
 * The one pipeline: what an analysis file describes, from the story to the
 * results folder, in data-flow order — stimulus (and its check) → brain
 * data checks → activations → atoms → ROI encoding (with a baseline where
 * there is one) → voxel encoding (the user's data or a phantom) → networks
 * → organization → report. The built-in demo is an analysis file too
 * (`alice_demo.json`), run by this same code.
 *
 * @module
 */

import {
  BRAINORG_VERSION,
  checkWritableDir,
  createProgress,
  createProvenance,
  InputError,
} from "@brainorg/common";
import { cacheDirFor, resolveDataFile, type ResolveOptions } from "@brainorg/datasets";
import { createBackend } from "@brainorg/kernels";
import { join } from "node:path";
import { type AnalysisConfig, type AnalysisDescription, withStimulus } from "./analysis_config.ts";
import { analyzeAblation } from "./ablation_stage.ts";
import { bidsAnalysis, bidsUnitRows, planBids, plantedTruthOf } from "./bids_input.ts";
import { type CapturedModel, captureModelAtoms } from "./capture_atoms.ts";
import { fullCodes, memberRows, topMembers } from "./members.ts";
import { renderReport } from "./report.ts";
import { embedReportViewer } from "./report_viewer.ts";
import {
  modelFiles,
  RESULT_FILES,
  RESULTS_SCHEMA,
  type ResultsSummary,
  type ResultTable,
  type StepRecord,
} from "./results.ts";
import { npyFile, writeResults } from "./results_writer.ts";
import { analyzeRois, readRoiSubjects } from "./rois.ts";
import { prepareStimulus, stimulusTables } from "./stimulus.ts";
import { varianceLine } from "./variance_partition.ts";
import {
  stabilitySummary,
  stabilityTables,
  storySpans,
  withLinkStability,
} from "./stability_results.ts";
import { analyzeVoxelLevel, loadUserVoxels } from "./voxels.ts";
import type { VoxelAnalyzer } from "./voxel_analysis.ts";

/** Options of {@linkcode runAnalysis}: how to run, not what (that is the analysis file's). */
export interface RunOptions {
  /** Results folder to write (replaced atomically). */
  outDir: string;
  /** Where reference data is looked for and whether it may be downloaded. */
  data?: ResolveOptions;
  /** Compute backend. Default: `"auto"`. */
  backend?: "auto" | "cpu" | "webgpu";
  /** Threads for the CPU backend's products, LASSO, refits and capture. Default: every core. */
  threads?: number;
  /** No progress output. Default: false. */
  quiet?: boolean;
  /** The command line, for provenance. */
  command?: string[];
  /** Lines of the run's narrative (default: stderr unless quiet). */
  log?: (line: string) => void;
  /** The analysis's options as resolved, for provenance (default: the config itself). */
  resolved?: Record<string, unknown>;
  /** Replaces the voxel encoding (sharded runs: `shard_voxels.ts`). Default: none. */
  voxelAnalyzer?: VoxelAnalyzer;
}

/**
 * Resolve every `data:<registry path>` of an analysis to a verified local
 * file (fetched into the cache where allowed).
 *
 * @returns the analysis with local paths, and the registry's SHA-256 of each
 */
export async function resolveDataPaths(
  config: AnalysisConfig,
  data: ResolveOptions,
): Promise<{ config: AnalysisConfig; sha256: Map<string, string> }> {
  const sha256 = new Map<string, string>();
  const walk = async (v: unknown): Promise<unknown> => {
    if (typeof v === "string" && v.startsWith("data:")) {
      const file = await resolveDataFile(v.slice(5), data);
      sha256.set(file.path, file.entry.sha256);
      return file.path;
    }
    if (Array.isArray(v)) return await Promise.all(v.map(walk));
    if (v && typeof v === "object") {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) out[k] = await walk(x);
      return out;
    }
    return v;
  };
  return { config: await walk(config) as AnalysisConfig, sha256 };
}

/** Every input file an analysis reads, by role, for provenance. */
function inputFiles(config: AnalysisConfig): { role: string; path: string }[] {
  const st = config.stimulus, vx = config.voxels;
  return [
    { role: "config", path: config.file },
    { role: "transcript", path: st.transcript },
    ...(st.check?.subjects ?? []).map((s) => ({ role: `check:${s.id}`, path: s.regressor })),
    ...config.models.filter((m) => m.gguf || !m.hf!.startsWith("hf:")).map((m) =>
      m.gguf ? { role: `model:${m.name}`, path: m.gguf } : { role: `model:${m.name}`, path: m.hf! }
    ).filter((f) => !f.path.startsWith("hf:")),
    ...(vx?.mask ? [{ role: "mask", path: vx.mask }] : []),
    ...(vx?.lowLevel ?? []).map((path, i) => ({ role: `lowLevel:${i}`, path })),
    ...(vx?.subjects ?? []).flatMap((s) => [
      ...[s.bold].flat().map((path, i) => ({ role: `bold:${s.id}:${i}`, path })),
      ...[s.confounds ?? []].flat().map((path, i) => ({ role: `confounds:${s.id}:${i}`, path })),
    ]),
    ...(config.rois?.subjects ?? []).flatMap((s) => [
      { role: `rois:${s.id}`, path: s.table },
      ...(s.baseline ?? []).map((b, i) => ({ role: `baseline:${s.id}:${i}`, path: b })),
    ]),
  ];
}

/**
 * Run the analysis a config describes and write its results folder.
 *
 * @param config a parsed analysis (`parseAnalysisConfig`, or the demo's)
 * @returns the summary written to `outDir/summary.json`
 * @throws {InputError} naming the file and field of a bad input
 * @throws {OutputError} when the results folder cannot be written
 *
 * @example
 * ```ts
 * import { parseAnalysisConfig, runAnalysis } from "@brainorg/core";
 * const config = parseAnalysisConfig(await Deno.readTextFile("study.json"), "study.json");
 * const summary = await runAnalysis(config, { outDir: "results/study" });
 * console.log(summary.steps.map((s) => s.step));
 * ```
 */
export async function runAnalysis(
  description: AnalysisDescription,
  options: RunOptions,
): Promise<ResultsSummary> {
  const log = options.log ?? ((l: string) => options.quiet || console.error(l));
  const data = options.data ?? {};
  const quiet = options.quiet ?? false;
  // A folder that cannot be written fails now, not after the computation.
  await checkWritableDir(options.outDir, { what: "the results folder" });
  const bids = description.bids ? await planBids(description) : undefined;
  if (bids) {
    const out = bids.verdicts.filter((v) => !v.usable);
    log(
      `bids: ${bids.stories.length} story runs × ${bids.subjects.length} subjects` +
        (out.length ? `; ${out.length} set aside (qc/bids_units.csv)` : ""),
    );
    for (const v of out) log(`  excluded ${v.unit}: ${v.reason}`);
  }
  const described = bids
    ? await bidsAnalysis(description, bids, join(cacheDirFor(data), "bids"))
    : withStimulus(description);
  const { config, sha256 } = await resolveDataPaths(described, data);
  const steps: StepRecord[] = [];
  const stimulus = await prepareStimulus(config, described.stimulus.transcript);
  const st = stimulus.summary;
  log(
    `stimulus: ${st.words} words (${st.dropped} dropped) → ${st.volumes} volumes at TR ${st.tr} s`,
  );
  steps.push({ step: "stimulus", detail: `${st.words} words → ${st.volumes} volumes` });
  if (st.check) {
    log(
      `word rate vs ${st.check.name}: r ≥ ${
        st.check.minR.toFixed(3)
      } for all ${st.check.subjects.length} subjects`,
    );
    steps.push({
      step: "stimulus-check",
      detail: `r ≥ ${st.check.minR.toFixed(3)} in ${st.check.subjects.length} subjects`,
    });
  }
  const backend = await createBackend({
    backend: options.backend ?? "auto",
    ...(options.threads ? { cpu: { threads: options.threads } } : {}),
  });
  log(`backend: ${backend.info.name} (${backend.info.implementation})`);
  try {
    const volumes = stimulus.design.volumes;
    // Several runs, end to end in each file: cleaned and shifted run by run.
    const runs = config.stimulus.runs.length > 1
      ? config.stimulus.runs.map((r) => r.volumes)
      : undefined;
    const stageOptions = {
      data,
      volumes,
      ...(runs ? { runs } : {}),
      log,
      onProgress: progressBars(quiet),
      ...(options.voxelAnalyzer ? { analyzer: options.voxelAnalyzer } : {}),
    };
    // Brain data are read and checked before the models run, so that a bad
    // file stops the run in seconds rather than after the capture.
    const loaded = config.voxels?.mask
      ? await loadUserVoxels(backend, config, stageOptions)
      : undefined;
    const roiSubjects = config.rois ? await readRoiSubjects(config.rois, volumes) : undefined;
    if (roiSubjects) {
      for (const v of roiSubjects.verdicts.filter((v) => !v.usable)) {
        log(`excluded ${v.id}: ${v.reason}`);
      }
      if (roiSubjects.usable.length === 0) {
        throw new InputError("no subject's ROI table is usable", {
          file: config.file,
          field: "rois.subjects",
          expected: "at least 1 table with finite, varying values on the stimulus's volumes",
          found: roiSubjects.verdicts.map((v) => `${v.id}: ${v.reason}`).join("; "),
        });
      }
      steps.push({
        step: "roi-checks",
        detail: `${roiSubjects.usable.length} of ${roiSubjects.verdicts.length} subjects usable`,
      });
    }
    const models = await captureModelAtoms(
      backend,
      stimulus,
      config.models.map((m) => ({
        ...m,
        ...(m.gguf && sha256.has(m.gguf) ? { sha256: sha256.get(m.gguf)! } : {}),
      })),
      {
        data,
        atoms: config.atoms,
        targetDensity: config.targetDensity,
        ...(config.dictionaryAlpha !== undefined ? { alpha: config.dictionaryAlpha } : {}),
        seed: config.seed,
        log,
        quiet,
        ...(config.stability
          ? {
            stability: {
              seeds: config.stability.seeds,
              halves: config.stability.halves,
              spans: storySpans(config.stimulus.runs.map((r) => r.volumes), stimulus.runStories),
            },
          }
          : {}),
      },
    );
    const minStability = config.stability?.minStability ?? 0;
    steps.push({
      step: "capture",
      detail: models.map((m) => `${m.name}: ${m.ans} ANs`).join("; "),
    });
    steps.push({
      step: "atoms",
      detail: models.map((m) =>
        `${m.name}: ${config.atoms} atoms, density ${m.atoms.density.toFixed(2)}`
      )
        .join("; "),
    });
    const roi = config.rois && roiSubjects
      ? await analyzeRois(
        backend,
        roiSubjects,
        models.map((m) => ({ name: m.name, atoms: m.atoms.atoms })),
        {
          ...(config.rois.baseline ? { baseline: config.rois.baseline } : {}),
          permutations: config.rois.permutations ?? config.permutations,
          ...(config.rois.bootstrap ? { bootstrap: config.rois.bootstrap } : {}),
          seed: config.seed,
          onModel: (groups) => {
            const shown = groups.filter((g) =>
              g.variant === (config.rois!.baseline ? "atoms+baseline" : "atoms")
            );
            for (const g of shown) {
              log(
                `  ${g.model} ${g.roi.padEnd(5)} ${g.variant} mean r ${g.meanR.toFixed(3)}` +
                  (Number.isFinite(g.gainOverBaseline)
                    ? ` (${g.gainOverBaseline >= 0 ? "+" : ""}${
                      g.gainOverBaseline.toFixed(3)
                    } over baseline, paired t = ${g.tGain.toFixed(2)}${
                      g.gainLow !== undefined
                        ? `, 95% CI ${g.gainLow.toFixed(3)} to ${g.gainHigh!.toFixed(3)}`
                        : ""
                    })`
                    : `, t(${g.subjects - 1}) = ${g.t.toFixed(2)}`),
              );
            }
          },
        },
      )
      : undefined;
    if (roi?.summary.baseline) {
      log(`baseline (${roi.summary.baseline.regressors.join(" + ")} → ROI):`);
      for (const g of roi.summary.baseline.group) {
        log(
          `  ${g.roi.padEnd(5)} mean r ${g.meanR.toFixed(3)}, t(${g.subjects - 1}) = ${
            g.t.toFixed(2)
          }, ${g.significant}/${g.subjects} subjects q ≤ 0.05`,
        );
      }
      steps.push({
        step: "baseline-encoding",
        detail:
          `${roi.summary.baseline.regressors.length} regressors, ${roi.summary.permutations} shifts`,
      });
    }
    if (roi) {
      steps.push({
        step: "roi-encoding",
        detail:
          `${models.length} models × ${roi.summary.rois.length} ROIs, ${roi.summary.permutations} shifts`,
      });
    }
    const partition = roi?.summary.variancePartition;
    if (partition) {
      log(`variance partitioning, atoms vs ${partition.lowLevel.join(" + ")} (banded ridge):`);
      for (const g of partition.group) log(`  ${varianceLine(g)}`);
    }
    const planted = description.bids ? await plantedTruthOf(description.bids.root) : undefined;
    if (planted) log(`bids: a phantom dataset; its planted links will be scored`);
    const voxel = config.voxels
      ? await analyzeVoxelLevel(backend, config, models, loaded, {
        ...stageOptions,
        ...(planted ? { planted } : {}),
        wordRate: stimulus.rate,
      })
      : undefined;
    if (voxel) {
      const v = voxel.summary;
      steps.push({
        step: "voxel-data",
        detail: `${
          v.dataset === "phantom" ? "phantom" : "user data"
        }: ${v.subjects} subjects × ${v.voxels} voxels`,
      });
      steps.push({ step: "voxel-encoding", detail: `${v.permutations} surrogates` });
      steps.push({
        step: "networks",
        detail: v.models[0].templates.map((t) => t.name).join(", "),
      });
    }
    const ablationThreads = backend.info.details.threads;
    const ablation = config.ablation
      ? await analyzeAblation(config, models, stimulus.transcript.words.map((w) => w.word), {
        data,
        log,
        ...(typeof ablationThreads === "number" ? { threads: ablationThreads } : {}),
      })
      : undefined;
    if (ablation) {
      steps.push({
        step: "ablation",
        detail: ablation.summary.models.map((m) =>
          `${m.name}: ${m.atomsMatterStory} atoms matter (story)`
        ).join("; "),
      });
    }
    const summary: ResultsSummary = {
      schema: RESULTS_SCHEMA,
      brainorg: BRAINORG_VERSION,
      steps,
      backend: backend.info,
      stimulus: st,
      models: models.map((m) => ({
        name: m.name,
        source: m.source,
        ans: m.ans,
        deadAns: m.deadAns,
        atoms: config.atoms,
        alpha: m.atoms.alpha,
        codeDensity: m.atoms.density,
        layerR2: m.atoms.layerR2,
        ...(m.stability ? { stability: stabilitySummary(m.stability, minStability) } : {}),
      })),
      ...(roi ? { rois: roi.summary } : {}),
      ...(ablation ? { ablation: ablation.summary } : {}),
      ...(voxel
        ? {
          voxel: config.stability
            ? withLinkStability(voxel.summary, models.map(stabilityModel), minStability)
            : voxel.summary,
        }
        : {}),
    };
    const provenance = await createProvenance({
      inputs: inputFiles(config),
      parameters: {
        ...(options.resolved ?? { ...description, file: undefined }),
        // What the dataset gave: the stories' grids and every subject's runs.
        ...(bids ? { bidsInputs: { stories: described.stimulus, voxels: described.voxels } } : {}),
        captured: Object.fromEntries(models.map((m) => [m.name, m.captured])),
      },
      seed: config.seed,
      backend: { ...backend.info },
      command: options.command,
    });
    // Codes over every AN, dead ones as zero columns: members.csv, codes.npy, the report.
    const codes = models.map((m) => fullCodes(m.atoms.codes, m.atoms.kept, m.ans));
    const tables: ResultTable[] = [
      ...stimulusTables(stimulus),
      ...models.flatMap((m, i) => {
        const f = modelFiles(m.name);
        return [
          { ...f.subgroups, rows: m.atoms.subgroups },
          { ...f.members, rows: memberRows(codes[i], m.atoms.layerSizes) },
          { ...f.layerR2, rows: m.atoms.layerR2.map((r2, layer) => ({ layer, r2 })) },
        ];
      }),
      ...(roi
        ? [
          { ...RESULT_FILES.roiSubjects, rows: roi.summary.subjects },
          ...(roi.summary.baseline
            ? [
              { ...RESULT_FILES.baselineRoi, rows: roi.baselineRows },
              { ...RESULT_FILES.baselineGroup, rows: roi.summary.baseline.group },
            ]
            : []),
          { ...RESULT_FILES.modelsRoi, rows: roi.modelRows },
          { ...RESULT_FILES.modelsGroup, rows: roi.summary.models },
          ...(roi.summary.variancePartition
            ? [
              { ...RESULT_FILES.variancePartitionRoi, rows: roi.variancePartitionRows },
              {
                ...RESULT_FILES.variancePartitionGroup,
                rows: roi.summary.variancePartition.group,
              },
            ]
            : []),
        ]
        : []),
      ...(config.stability ? stabilityTables(models.map(stabilityModel), minStability) : []),
      ...(voxel?.tables ?? []),
      ...(ablation?.tables ?? []),
      ...(bids ? [{ ...RESULT_FILES.bidsUnits, rows: bidsUnitRows(bids) }] : []),
    ];
    await writeResults(options.outDir, {
      summary,
      tables,
      atoms: models.map((m) => ({ model: m.name, atoms: m.atoms.atoms })),
      files: models.map((m, i) => npyFile(modelFiles(m.name).codes, codes[i])),
      report: renderReport(summary, provenance.createdAt, {
        members: models.map((m, i) => ({
          model: m.name,
          atoms: topMembers(codes[i], m.atoms.layerSizes),
        })),
      }),
      provenance,
      ...(voxel ? { maps: voxel.write } : {}),
      // The maps, NiiVue and a viewer inlined in report.html, read back from the maps just written.
      finishReport: (dir, html) =>
        embedReportViewer(dir, html, { cacheDir: cacheDirFor(data), data, summary, warn: log }),
    });
    log(`results: ${options.outDir}`);
    return summary;
  } finally {
    backend.dispose();
  }
}

/** A captured model as the stability results read it. */
const stabilityModel = (m: CapturedModel) => ({
  name: m.name,
  atoms: m.atoms.atoms,
  ...(m.stability ? { stability: m.stability } : {}),
});

/** Progress bars for the long steps, one per label. */
function progressBars(quiet: boolean) {
  const bars = new Map<string, ReturnType<typeof createProgress>>();
  return (label: string, done: number, total: number) => {
    let bar = bars.get(label);
    if (!bar) bars.set(label, bar = createProgress({ label, total, quiet }));
    bar.tick();
    if (done === total) bar.done();
  };
}
