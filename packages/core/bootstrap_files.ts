/**
 * The bootstrap over subjects in the results folder: the voxel summary's
 * links with their reappearance and metrics with their intervals, the
 * per-model tables and frequency map, and the ROI group scores' intervals.
 *
 * @module
 */

import { join } from "node:path";
import { type BrainMask, unmask, writeNifti } from "@brainorg/neuro";
import {
  BOOTSTRAP_LEVEL,
  BOOTSTRAP_NOTE,
  bootstrapIndices,
  meanInterval,
  type VoxelBootstrap,
} from "./bootstrap.ts";
import type {
  BootstrapSummary,
  ModelRoiGroup,
  RoiGroupScore,
  RoiScore,
  TemplateResult,
} from "./results.ts";
import { voxelFiles } from "./results.ts";
import { writeTable } from "./results_writer.ts";
import type { ModelVoxelResult } from "./voxel_encoding.ts";
import { SEED_SPREAD_NOTE, type SeedSpread } from "./seed_spread.ts";

/**
 * The summary's record of a bootstrap.
 *
 * @param resamples resamples drawn
 * @param seed their seed
 * @param note how they are analysed. Default: the voxel level's ({@linkcode BOOTSTRAP_NOTE}).
 */
export function bootstrapSummary(
  resamples: number,
  seed: number,
  note = BOOTSTRAP_NOTE,
): BootstrapSummary {
  return { resamples, seed, level: BOOTSTRAP_LEVEL, note };
}

type Cell = { atom: number; sign: number; network: number };

/** A cell's reappearance among `links` (0 where it never reappeared). */
function reappearanceOf(links: readonly (Cell & { reappearance: number })[]): (l: Cell) => number {
  const key = (l: Cell) => `${l.atom} ${l.sign} ${l.network}`;
  const found = new Map(links.map((l) => [key(l), l.reappearance]));
  return (l) => found.get(key(l)) ?? 0;
}

/**
 * A template set's summary entry with the bootstrap's results added: each
 * link's reappearance and the metrics' intervals (unchanged without one).
 *
 * @param entry the summary's entry for the set (links: the linked cells)
 * @param boot the model's bootstrap, if any
 */
export function withBootstrap(entry: TemplateResult, boot?: VoxelBootstrap): TemplateResult {
  const t = boot?.templates.find((b) => b.name === entry.name);
  if (!t) return entry;
  const found = reappearanceOf(t.links);
  return {
    ...entry,
    links: entry.links.map((l) => ({ ...l, reappearance: found(l) })),
    metricIntervals: t.metrics,
  };
}

/**
 * Write a model's bootstrap into the results folder `dir` (nothing without
 * one): per template set its links' reappearance and metrics' intervals,
 * the maps' reliability, and the frequency map (4-D, one volume per atom).
 */
export async function writeBootstrapFiles(
  dir: string,
  mask: BrainMask,
  result: ModelVoxelResult,
): Promise<void> {
  const boot = result.bootstrap;
  if (!boot) return;
  const files = voxelFiles(result.model);
  for (const t of boot.templates) {
    await writeTable(dir, { ...files.bootstrapLinks(t.name), rows: t.links });
    await writeTable(dir, { ...files.bootstrapMetrics(t.name), rows: t.metrics });
  }
  await writeTable(dir, { ...files.bootstrapMaps, rows: boot.maps });
  await writeNifti(join(dir, files.bootstrapFrequency), {
    ...unmask(boot.frequency, mask),
    description: `${result.model}: share of ${boot.resamples} resamples in the atom's map`,
  });
}

/**
 * The summary's record of a seed spread: the extra seeds and how they are
 * analysed ({@linkcode SEED_SPREAD_NOTE}).
 *
 * @param seeds the extra seeds
 */
export function seedSpreadSummary(seeds: number[]): { seeds: number[]; note: string } {
  return { seeds, note: SEED_SPREAD_NOTE };
}

/**
 * A template set's summary entry with the seed spread's results added: each
 * link's reappearance over the other seeds (`seedReappearance`) and the
 * metrics' values per seed and spread (`seedMetrics`); unchanged without one.
 *
 * @param entry the summary's entry for the set (links: the linked cells)
 * @param spread the model's seed spread, if any
 */
export function withSeedSpread(entry: TemplateResult, spread?: SeedSpread): TemplateResult {
  const t = spread?.templates.find((b) => b.name === entry.name);
  if (!t) return entry;
  const found = reappearanceOf(t.links);
  return {
    ...entry,
    links: entry.links.map((l) => ({ ...l, seedReappearance: found(l) })),
    seedMetrics: t.metrics,
  };
}

/**
 * Write a model's seed spread into the results folder `dir` (nothing
 * without one): per template set its links' reappearance over the seeds,
 * the metrics' spread, and the metrics' value per seed (one row per metric
 * and seed, the reference's first with `reference` true).
 *
 * @param dir the results folder
 * @param result the model's voxel result
 * @param referenceSeed the reference dictionary's seed (the run's)
 */
export async function writeSeedSpreadFiles(
  dir: string,
  result: ModelVoxelResult,
  referenceSeed: number,
): Promise<void> {
  const spread = result.seedSpread;
  if (!spread) return;
  const files = voxelFiles(result.model);
  for (const t of spread.templates) {
    await writeTable(dir, { ...files.seedSpreadLinks(t.name), rows: t.links });
    await writeTable(dir, {
      ...files.seedSpreadMetrics(t.name),
      rows: t.metrics.map(({ perSeed: _p, ...m }) => m),
    });
    await writeTable(dir, {
      ...files.seedSpreadValues(t.name),
      rows: t.metrics.flatMap((m) => [
        { metric: m.metric, seed: referenceSeed, reference: true, value: m.value },
        ...m.perSeed.map((value, i) => ({
          metric: m.metric,
          seed: spread.seeds[i],
          reference: false,
          value,
        })),
      ]),
    });
  }
}

/**
 * ROI group scores with their bootstrap intervals: every score drawn with
 * the same resamples of the subjects (so a gain pairs each subject's model
 * r with its own baseline r).
 *
 * @param subjects the usable subjects, in order (the draws index them)
 * @param rows per subject × ROI, the regressor set's scores
 * @param groups the set's group scores per ROI
 * @param options resamples and seed, and the baseline's rows where a gain is wanted
 * @returns the groups with `meanRLow`, `meanRHigh` (and `gainLow`, `gainHigh` with a baseline)
 */
export function withRoiIntervals<G extends RoiGroupScore | ModelRoiGroup>(
  subjects: readonly string[],
  rows: readonly RoiScore[],
  groups: readonly G[],
  options: { resamples: number; seed: number; baseline?: readonly RoiScore[] },
): G[] {
  const indices = bootstrapIndices(subjects.length, options.resamples, options.seed);
  const r = (scores: readonly RoiScore[], roi: string) =>
    subjects.map((s) => scores.find((x) => x.subject === s && x.roi === roi)?.r ?? NaN);
  return groups.map((g) => {
    const mine = r(rows, g.roi), ci = meanInterval(mine, indices);
    const out = { ...g, meanRLow: ci.low, meanRHigh: ci.high };
    if (!options.baseline || !("gainOverBaseline" in g)) return out;
    const base = r(options.baseline, g.roi);
    const gain = meanInterval(mine.map((x, i) => x - base[i]), indices);
    return { ...out, gainLow: gain.low, gainHigh: gain.high };
  });
}
