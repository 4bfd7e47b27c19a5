/**
 * The demo's voxel part: a phantom planted with stories260K's atoms on the
 * Yeo-7 networks (generated once, then read from the cache), analysed with
 * each model's atoms, scored against the truth.
 *
 * @module
 */

import { join } from "node:path";
import { sha256, writeJsonAtomic, writeTextFileAtomic } from "@brainorg/common";
import { cacheDirFor, type ResolveOptions } from "@brainorg/datasets";
import type { Backend } from "@brainorg/kernels";
import type { CapturedModel } from "./capture_atoms.ts";
import { toCsv } from "./csv.ts";
import type { NetworkMatch } from "./networks.ts";
import type { OrganizationMetrics } from "./organization.ts";
import { type PhantomTruth, type Recovery, scoreRecovery } from "./phantom.ts";
import { brainMask, cachedPhantom, phantomFiles, templateNetworks } from "./phantom_files.ts";
import {
  analyzeVoxels,
  loadVoxelData,
  type ModelVoxelResult,
  subjectSummaries,
  writeTemplateFiles,
  writeVoxelResults,
} from "./voxel_analysis.ts";

/** Options of {@linkcode runPhantomVoxels}. */
export interface PhantomVoxelOptions {
  data: ResolveOptions;
  subjects: number;
  r2: number;
  permutations: number;
  seed: number;
  tr: number;
  log: (line: string) => void;
  onProgress?: (label: string, done: number, total: number) => void;
}

/** The voxel section of the demo's summary. */
export interface VoxelSummary {
  dataset: "phantom";
  phantom:
    & Pick<
      PhantomTruth,
      "links" | "undrivenAtoms" | "subjects" | "r2" | "medianR2" | "voxels" | "noise" | "seed"
    >
    & {
      networks: string;
      resolutionMm: number;
    };
  permutations: number;
  voxelP: number;
  threshold: number;
  models: {
    name: string;
    subjects: { subject: string; medianR: number; medianR2: number; voxelsQ05: number }[];
    voxelsMeanRQ05: number;
    templates: {
      name: string;
      metrics: OrganizationMetrics;
      links: NetworkMatch[];
    }[];
    /** Against the planted links (Yeo-7). */
    recovery: Recovery;
  }[];
}

/** Generate (or reuse) the phantom, analyse it with every model's atoms, score recovery. */
export async function runPhantomVoxels(
  backend: Backend,
  models: CapturedModel[],
  options: PhantomVoxelOptions,
): Promise<{ summary: VoxelSummary; write: (dir: string) => Promise<void> }> {
  const planted = models[0];
  const space = { resolution: 4 as const, networks: "yeo7" as const };
  const spec = {
    generator: "brainorg.phantom/1",
    space,
    subjects: options.subjects,
    r2: options.r2,
    seed: options.seed,
  };
  const key = sha256(
    JSON.stringify(spec) + sha256(new Uint8Array(planted.atoms.atoms.data.buffer)),
  ).slice(0, 16);
  const dir = join(cacheDirFor(options.data), "phantom", key);
  const files = phantomFiles(dir, options.subjects);
  const { truth, cached } = await cachedPhantom(dir, backend, planted.atoms.atoms, space, {
    subjects: options.subjects,
    r2: options.r2,
    seed: options.seed,
    tr: options.tr,
    data: options.data,
    onMiss: () =>
      options.log(
        `phantom: ${options.subjects} subjects, ${planted.name}'s atoms planted on Yeo-7 at 4 mm, ` +
          `median R² ${options.r2} in driven voxels`,
      ),
  });
  if (cached) options.log(`phantom: read from the cache (${dir})`);
  const { mask } = await brainMask(4, options.data);
  const templates = [
    await templateNetworks("yeo7", mask, 4, options.data),
    await templateNetworks("giles", mask, 4, options.data),
  ];
  const subjects = await loadVoxelData(backend, {
    mask,
    subjects: files.subjects,
    tr: options.tr,
  }, planted.atoms.atoms.rows);
  const voxelP = 0.01;
  const results: ModelVoxelResult[] = await analyzeVoxels(
    backend,
    subjects,
    models.map((m) => ({ name: m.name, atoms: m.atoms.atoms, layerCounts: m.layerCounts })),
    templates,
    {
      permutations: options.permutations,
      seed: options.seed,
      voxelP,
      tr: options.tr,
      cacheDir: cacheDirFor(options.data),
      log: options.log,
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    },
  );
  const summary: VoxelSummary = {
    dataset: "phantom",
    phantom: {
      links: truth.links,
      undrivenAtoms: truth.undrivenAtoms,
      subjects: truth.subjects,
      r2: truth.r2,
      medianR2: truth.medianR2,
      voxels: truth.voxels,
      noise: truth.noise,
      seed: truth.seed,
      networks: "Yeo-7",
      resolutionMm: 4,
    },
    permutations: options.permutations,
    voxelP,
    threshold: results[0].threshold,
    models: results.map((r) => {
      const yeo = r.templates[0];
      const found = yeo.matches.filter((m) => m.linked);
      return {
        name: r.model,
        subjects: subjectSummaries(r),
        voxelsMeanRQ05: r.group.qR.reduce((a, q) => a + (q <= 0.05 ? 1 : 0), 0),
        templates: r.templates.map((t) => ({
          name: t.name,
          metrics: t.metrics,
          links: t.matches.filter((m) => m.linked),
        })),
        recovery: scoreRecovery(truth.links, found, truth.undrivenAtoms),
      };
    }),
  };
  for (const m of summary.models) {
    const rec = m.recovery;
    options.log(
      `${m.name} on the phantom: ${m.templates[0].links.length} Yeo-7 links; ` +
        `precision ${rec.precision.toFixed(2)}, recall ${rec.recall.toFixed(2)} ` +
        `against the ${truth.links.length} planted`,
    );
  }
  return {
    summary,
    write: async (out: string) => {
      await writeJsonAtomic(join(out, "phantom", "truth.json"), truth);
      await writeTemplateFiles(join(out, "voxels"), mask, templates, options.data);
      for (const r of results) await writeVoxelResults(join(out, "voxels", r.model), mask, r);
      await writeTextFileAtomic(
        join(out, "voxels", "recovery.csv"),
        toCsv(
          ["model", "truePositives", "falsePositives", "falseNegatives", "precision", "recall"],
          summary.models.map((m) => ({ model: m.name, ...m.recovery })),
        ),
      );
    },
  };
}
