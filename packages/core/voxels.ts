/**
 * The voxel level of an analysis, on either data source the analysis file
 * can name: the user's 4-D NIfTI on a mask, or a phantom generated from a
 * model's atoms and planted in real networks, whose links are then scored
 * against the truth. Both go through the same reading, screening,
 * cleaning, encoding and network matching.
 *
 * @module
 */

import { join } from "node:path";
import { sha256, writeJsonAtomic } from "@brainorg/common";
import { cacheDirFor, type ResolveOptions } from "@brainorg/datasets";
import type { Backend } from "@brainorg/kernels";
import { voxelSizes } from "@brainorg/neuro";
import type { AnalysisConfig } from "./analysis_config.ts";
import type { CapturedModel } from "./capture_atoms.ts";
import {
  bootstrapSummary,
  seedSpreadSummary,
  withBootstrap,
  withSeedSpread,
  writeBootstrapFiles,
  writeSeedSpreadFiles,
} from "./bootstrap_files.ts";
import { seedAtomsOf } from "./seed_spread.ts";
import { type PhantomTruth, scoreRecovery } from "./phantom.ts";
import { addSpatialNull, writeSpatialNullTables } from "./spatial_null.ts";
import { storySpans } from "./stories.ts";
import {
  partitionVoxelLevel,
  voxelVarianceSummary,
  writeVoxelVarianceMaps,
} from "./variance_partition.ts";
import { cachedPhantom, phantomFiles } from "./phantom_files.ts";
import { RESULT_FILES, type ResultTable, type VoxelSummary } from "./results.ts";
import {
  type NetworkChoice,
  templateNetworks,
  type TemplateSet,
  templateSetName,
} from "./templates.ts";
import {
  analyzeVoxels,
  medianFractionOfCeiling,
  noiseCeilingSummary,
  subjectSummaries,
  type VoxelAnalyzer,
  writeNoiseCeilingFiles,
  writeTemplateFiles,
  writeVoxelResults,
} from "./voxel_analysis.ts";
import { type LoadedVoxels, loadVoxelSubjects, voxelQcTables } from "./voxel_data.ts";
import { blockedAnalyzer, studyVoxelBlocks, voxelBlocks } from "./voxel_blocks.ts";
import { VoxelSpill } from "./voxel_spill.ts";

/** What the voxel level found: its summary, its tables, and how to write its maps. */
export interface VoxelLevel {
  /** What `summary.json` records of the voxel level. */
  summary: VoxelSummary;
  /** Its CSV tables: the data checks (the user's data) and the phantom's recovery. */
  tables: ResultTable[];
  /** Write the maps (NIfTI) and per-model tables into a results folder. */
  write(dir: string): Promise<void>;
}

/** Options of the voxel stage's steps. */
export interface VoxelStageOptions {
  /** Where reference data and caches are looked for, and whether downloads are allowed. */
  data: ResolveOptions;
  /** Kept volumes of the stimulus. */
  volumes: number;
  /** Volumes of each run, when there are several. */
  runs?: number[];
  /** Lines of the run's narrative. */
  log: (line: string) => void;
  /** Progress of the long steps, by label (e.g. a model's permutations). */
  onProgress?: (label: string, done: number, total: number) => void;
  /**
   * What the user's data is known to hold (a phantom dataset such as
   * `deno task phantom --bids` writes): its links are scored as the
   * phantom's are.
   */
  planted?: PlantedTruth;
  /** Replaces the voxel encoding (sharded runs: `shard_voxels.ts`). Default: none. */
  analyzer?: VoxelAnalyzer;
  /** The stimulus's word rate (volumes): the variance partitioning's low level. Default: none. */
  wordRate?: Float32Array;
}

/** A phantom's planted links, its network set and the model whose atoms it holds. */
export interface PlantedTruth {
  /** The truth as the phantom wrote it. */
  truth: Pick<
    PhantomTruth,
    "links" | "undrivenAtoms" | "subjects" | "r2" | "medianR2" | "voxels" | "noise" | "seed"
  >;
  /** The template set the links are to. */
  networks: NetworkChoice;
  /** The model whose atoms were planted. */
  model: string;
}

/**
 * The user's voxel data, read, screened and cleaned: done before the
 * models run, so that a bad file stops the run in seconds.
 *
 * @throws {InputError} for an unreadable file, or too few usable subjects or voxels
 */
export async function loadUserVoxels(
  backend: Backend,
  config: AnalysisConfig,
  options: VoxelStageOptions,
): Promise<LoadedVoxels> {
  const vx = config.voxels!;
  // Too large for memory at once: series kept on disk, the voxel stage run by blocks
  // (not for a sharded run, whose shards choose their own blocks).
  const blocks = options.analyzer ? undefined : await studyVoxelBlocks(config, options.volumes);
  const spill = blocks
    ? await VoxelSpill.create(join(cacheDirFor(options.data), "tmp"))
    : undefined;
  if (blocks) {
    options.log(
      `voxels: by blocks of ${blocks.blockVoxels} voxels (the whole study would take ` +
        `${(blocks.wholeBytes / 2 ** 30).toFixed(1)} GiB; budget ` +
        `${(blocks.budgetBytes / 2 ** 30).toFixed(1)} GiB); series kept in ${spill!.dir}`,
    );
  }
  return await loadVoxelSubjects(backend, {
    file: config.file,
    mask: vx.mask!,
    subjects: vx.subjects!,
    discarded: vx.discarded,
    maxBadVoxelShare: vx.maxBadVoxelShare,
    highPassSeconds: vx.highPassSeconds,
    confounds: vx.confounds,
  }, {
    volumes: options.volumes,
    tr: config.stimulus.tr,
    runs: options.runs,
    log: options.log,
    ...(spill ? { spill } : {}),
  });
}

/**
 * Encode the voxel data (the user's, `loaded`, or the phantom the analysis
 * describes) from every model's atoms and match the maps with the networks.
 */
export async function analyzeVoxelLevel(
  backend: Backend,
  config: AnalysisConfig,
  models: CapturedModel[],
  loaded: LoadedVoxels | undefined,
  options: VoxelStageOptions,
): Promise<VoxelLevel> {
  const vx = config.voxels!, tr = config.stimulus.tr;
  const phantom = vx.phantom ? await phantomData(backend, config, models, options) : undefined;
  const data = loaded ?? phantom!.loaded;
  const planted: PlantedTruth | undefined = phantom
    ? { truth: phantom.truth, networks: vx.phantom!.networks, model: phantom.model }
    : options.planted;
  const { mask, subjects } = data;
  const resolution = voxelSizes(mask.grid.affine)[0] >= 3.5 ? 4 : 2;
  // The phantom's own networks are matched first, so that recovery can be scored on them.
  const choices = [
    ...new Set<NetworkChoice>([
      ...(planted ? [planted.networks] : []),
      ...config.networks,
    ]),
  ];
  const templates: TemplateSet[] = [];
  for (const n of choices) {
    templates.push(await templateNetworks(n, mask, resolution, options.data));
  }
  options.log(
    `voxels: ${subjects.length} subjects × ${mask.indices.length} voxels (${
      phantom ? "phantom" : vx.mask
    })`,
  );
  const voxelP = vx.voxelP, permutations = vx.permutations ?? config.permutations;
  // Stories heard one after another: each fold holds one story out.
  const stories = storySpans(config.stimulus.runs);
  if (stories.length >= 2) {
    options.log(
      `cross-validation: leave one story out (${stories.map((s) => s.story).join(", ")})`,
    );
  }
  // On by default where stability learned other seeds' dictionaries: their cost is learned already.
  const seedSpread = vx.seedSpread ?? (config.stability?.seeds ?? 0) > 0;
  const analysis = await analyzeVoxels(
    backend,
    subjects,
    models.map((m) => ({
      name: m.name,
      atoms: m.atoms.atoms,
      layerCounts: m.layerCounts,
      ...(seedSpread && m.stability ? { seedAtoms: seedAtomsOf(m.stability.fits) } : {}),
    })),
    templates,
    {
      permutations,
      seed: config.seed,
      voxelP,
      maps: vx.maps,
      ...(vx.bootstrap ? { bootstrap: vx.bootstrap } : {}),
      ...(seedSpread ? { seedSpread } : {}),
      method: config.nullMethod,
      ...(stories.length >= 2 ? { folds: stories.map((s) => s.rows) } : {}),
      tr,
      highPassSeconds: vx.highPassSeconds,
      ...(options.runs ? { runs: options.runs } : {}),
      ...(data.keepRows ? { keepRows: data.keepRows } : {}),
      cacheDir: cacheDirFor(options.data),
      ...(options.analyzer ? { analyzer: options.analyzer } : {}),
      // Series kept on disk by loadUserVoxels: blocks sized again on the voxels kept.
      ...(loaded?.spill
        ? {
          analyzer: blockedAnalyzer(loaded.spill, {
            blockVoxels: voxelBlocks({
              subjects: subjects.length,
              volumes: subjects[0].data.rows,
              voxels: loaded.spill.voxels,
              atoms: Math.max(...models.map((m) => m.atoms.atoms.cols)),
            }, { memoryGiB: vx.memoryGiB, blockVoxels: vx.blockVoxels })?.blockVoxels ??
              loaded.spill.voxels,
          }),
        }
        : {}),
      log: options.log,
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    },
  );
  await loaded?.spill?.dispose();
  const { models: results, noiseCeiling } = analysis, truth = planted?.truth;
  // The spatial null works on the group maps: after a sharded merge as after one process.
  const spatialNull = vx.spatialNull
    ? await addSpatialNull(results, templates, mask, {
      surrogates: vx.spatialNull,
      seed: config.seed,
      cacheDir: cacheDirFor(options.data),
      log: options.log,
    })
    : undefined;
  const partition = (vx.variancePartition || vx.lowLevel) && options.wordRate
    ? await partitionVoxelLevel(backend, {
      subjects,
      models: models.map((m) => ({ name: m.name, atoms: m.atoms.atoms, layerCounts: [] })),
      wordRate: options.wordRate,
      lowLevelFiles: vx.lowLevel ?? [],
      inMemory: !options.analyzer && !loaded?.spill,
      log: options.log,
    }, {
      cacheDir: cacheDirFor(options.data),
      tr,
      highPassSeconds: vx.highPassSeconds,
      ...(stories.length >= 2 ? { folds: stories.map((s) => s.rows) } : {}),
      ...(options.runs ? { runs: options.runs } : {}),
      ...(data.keepRows ? { keepRows: data.keepRows } : {}),
    })
    : undefined;
  const summary: VoxelSummary = {
    dataset: phantom ? "phantom" : "user",
    subjects: subjects.length,
    voxels: mask.indices.length,
    ...(loaded
      ? {
        qc: {
          subjects: loaded.verdicts,
          maskVoxels: loaded.maskVoxels,
          droppedVoxels: loaded.dropped.length,
          ...(loaded.confounds
            ? {
              confounds: {
                ...loaded.confounds,
                censoredVolumes: loaded.keepRows
                  ? loaded.keepRows.reduce((n, k) => n + (k ? 0 : 1), 0)
                  : 0,
              },
            }
            : {}),
        },
      }
      : {}),
    space: {
      data: config.bids?.space ?? "MNI (as the mask's affine says)",
      templates: "MNI152NLin6Asym",
      note: "both MNI: templates resampled onto the data's grid through the images' affines " +
        "(nearest label for parcellations, linear for continuous maps), no nonlinear warp " +
        "between the two MNI templates",
    },
    ...(truth
      ? {
        phantom: {
          links: truth.links,
          undrivenAtoms: truth.undrivenAtoms,
          subjects: truth.subjects,
          r2: truth.r2,
          medianR2: truth.medianR2,
          voxels: truth.voxels,
          noise: truth.noise,
          seed: truth.seed,
          networks: templateSetName(planted!.networks),
          resolutionMm: resolution,
          model: planted!.model,
        },
      }
      : {}),
    permutations,
    voxelP,
    threshold: results[0].threshold,
    noiseCeiling: noiseCeilingSummary(noiseCeiling),
    ...(spatialNull ? { spatialNull } : {}),
    ...(vx.bootstrap ? { bootstrap: bootstrapSummary(vx.bootstrap, config.seed) } : {}),
    ...(results[0]?.seedSpread
      ? { seedSpread: seedSpreadSummary(results[0].seedSpread.seeds) }
      : {}),
    models: results.map((r, i) => ({
      name: r.model,
      subjects: subjectSummaries(r),
      voxelsMeanRQ05: r.group.qR.reduce((a, q) => a + (q <= 0.05 ? 1 : 0), 0),
      medianFractionOfCeiling: medianFractionOfCeiling(r, noiseCeiling),
      templates: r.templates.map((t) =>
        withSeedSpread(
          withBootstrap({
            name: t.name,
            metrics: t.metrics,
            links: t.matches.filter((m) => m.linked),
          }, r.bootstrap),
          r.seedSpread,
        )
      ),
      ...(r.bootstrap ? { mapReliability: r.bootstrap.maps } : {}),
      ...(partition ? { variancePartition: voxelVarianceSummary(partition[i]) } : {}),
      ...(truth
        ? {
          recovery: scoreRecovery(
            truth.links,
            r.templates[0].matches.filter((m) => m.linked),
            truth.undrivenAtoms,
          ),
        }
        : {}),
    })),
  };
  for (const m of summary.models) {
    const first = m.templates[0];
    options.log(
      `${m.name}: ${first.links.length} ${first.name} links, ` +
        `${first.metrics.networksEngaged} networks engaged` +
        (m.recovery
          ? `; against the ${truth!.links.length} planted: precision ${
            m.recovery.precision.toFixed(2)
          }, recall ${m.recovery.recall.toFixed(2)}`
          : ""),
    );
  }
  return {
    summary,
    tables: [
      ...(loaded ? voxelQcTables(loaded) : []),
      ...(truth
        ? [{
          ...RESULT_FILES.recovery,
          rows: summary.models.map((m) => ({ model: m.name, ...m.recovery })),
        }]
        : []),
    ],
    async write(dir) {
      if (truth) await writeJsonAtomic(join(dir, RESULT_FILES.phantomTruth), truth);
      await writeTemplateFiles(dir, mask, templates, options.data);
      await writeNoiseCeilingFiles(dir, { mask, templates, analysis });
      if (spatialNull) await writeSpatialNullTables(dir, results);
      for (const r of results) {
        await writeVoxelResults(dir, mask, r);
        await writeBootstrapFiles(dir, mask, r);
        await writeSeedSpreadFiles(dir, r, config.seed);
      }
      for (const p of partition ?? []) await writeVoxelVarianceMaps(dir, mask, p);
    },
  };
}

/** The phantom the analysis describes: generated once (then read from the cache), loaded as data. */
async function phantomData(
  backend: Backend,
  config: AnalysisConfig,
  models: CapturedModel[],
  options: VoxelStageOptions,
) {
  const vx = config.voxels!, spec = vx.phantom!;
  const planted = spec.model ? models.find((m) => m.name === spec.model) : models[0];
  if (!planted) {
    throw new RangeError(
      `voxels.phantom.model is "${spec.model}", not one of the models: ${
        models.map((m) => m.name).join(", ")
      }`,
    );
  }
  const space = { resolution: Number(spec.resolution) as 2 | 4, networks: spec.networks };
  const key = sha256(
    JSON.stringify({
      generator: "brainorg.phantom/1",
      space,
      subjects: spec.subjects,
      r2: spec.r2,
      seed: config.seed,
    }) + sha256(new Uint8Array(planted.atoms.atoms.data.buffer)),
  ).slice(0, 16);
  const dir = join(cacheDirFor(options.data), "phantom", key);
  const { truth, cached } = await cachedPhantom(dir, backend, planted.atoms.atoms, space, {
    subjects: spec.subjects,
    r2: spec.r2,
    seed: config.seed,
    tr: config.stimulus.tr,
    data: options.data,
    onMiss: () =>
      options.log(
        `phantom: ${spec.subjects} subjects, ${planted.name}'s atoms planted on ` +
          `${templateSetName(spec.networks)} at ${spec.resolution} mm, median R² ${spec.r2} ` +
          `in driven voxels`,
      ),
  });
  if (cached) options.log(`phantom: read from the cache (${dir})`);
  const files = phantomFiles(dir, spec.subjects);
  const loaded = await loadVoxelSubjects(backend, {
    file: config.file,
    mask: files.mask,
    subjects: files.subjects.map((s) => ({ id: s.id, bold: s.path })),
    discarded: 0,
    maxBadVoxelShare: vx.maxBadVoxelShare,
    highPassSeconds: vx.highPassSeconds,
    confounds: vx.confounds,
  }, { volumes: options.volumes, tr: config.stimulus.tr, runs: options.runs, log: options.log });
  return { truth, loaded, model: planted.name };
}
