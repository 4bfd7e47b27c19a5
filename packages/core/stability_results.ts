/**
 * The atoms' stability in the results folder: the per-model tables
 * (`stability.csv`, `matched_<control>.csv`), the summary's line per model,
 * and the voxel summary's links with their atom's stability (only stable
 * atoms' links where a `minStability` is set; the networks tables keep
 * every cell).
 *
 * @module
 */

import type { Matrix } from "@brainorg/kernels";
import { modelFiles, type ModelSummary, type ResultTable, type VoxelSummary } from "./results.ts";
import { type AtomStability, matchAtoms } from "./stability.ts";

/** A model as these helpers read it. */
export interface StabilityModel {
  /** The model's name; a control ends in `-random`. */
  name: string;
  /** Its atoms' time courses (T × K). */
  atoms: Matrix;
  /** Its atoms' stability, where computed. */
  stability?: AtomStability;
}

/**
 * Volumes of each story, where the runs tell two or more stories apart
 * (consecutive runs of one story are one span); otherwise undefined, and the
 * stability fits use the two halves.
 *
 * @param runVolumes volumes of each run, in order
 * @param runStories the story of each run, where named
 */
export function storySpans(runVolumes: number[], runStories?: string[]): number[] | undefined {
  if (!runStories || new Set(runStories).size < 2) return undefined;
  const spans: number[] = [];
  runVolumes.forEach((v, i) => {
    if (i > 0 && runStories[i] === runStories[i - 1]) spans[spans.length - 1] += v;
    else spans.push(v);
  });
  return spans;
}

/**
 * The tables: each model's `stability.csv` (where computed) and, for each
 * model with its control among `models`, `matched_<control>.csv`.
 *
 * @param minStability an atom is `stable` when its stability ≥ this
 */
export function stabilityTables(models: StabilityModel[], minStability: number): ResultTable[] {
  const out: ResultTable[] = [];
  for (const m of models) {
    const f = modelFiles(m.name);
    if (m.stability) {
      out.push({
        ...f.stability,
        rows: m.stability.atoms.map((a) => ({
          atom: a.atom,
          stability: a.stability,
          seedMedianR: a.seedMedianR,
          halvesMedianR: a.halvesMedianR,
          stable: a.stability >= minStability,
        })),
      });
    }
    const control = models.find((c) => c.name === `${m.name}-random`);
    if (control) {
      out.push({ ...f.matched(control.name), rows: matchAtoms(m.atoms, control.atoms) });
    }
  }
  return out;
}

/** The summary's stability of one model (undefined where not computed). */
export function stabilitySummary(
  s: AtomStability | undefined,
  minStability: number,
): ModelSummary["stability"] {
  if (!s) return undefined;
  return {
    median: s.median,
    fits: {
      seeds: s.fits.filter((f) => f.kind === "seed").length,
      parts: s.fits.filter((f) => f.kind === "part").length,
    },
    stableAtoms: s.atoms.filter((a) => a.stability >= minStability).length,
    minStability,
  };
}

/**
 * The voxel summary with each link's atom stability, and only links of
 * atoms whose stability ≥ `minStability` (all of them at 0). Organization
 * metrics are left as computed from every link.
 */
export function withLinkStability(
  voxel: VoxelSummary,
  models: StabilityModel[],
  minStability: number,
): VoxelSummary {
  return {
    ...voxel,
    models: voxel.models.map((vm) => {
      const s = models.find((m) => m.name === vm.name)?.stability;
      if (!s) return vm;
      return {
        ...vm,
        templates: vm.templates.map((t) => ({
          ...t,
          links: t.links
            .map((l) => ({ ...l, stability: s.atoms[l.atom]?.stability ?? NaN }))
            .filter((l) => minStability <= 0 || l.stability >= minStability),
        })),
      };
    }),
  };
}
