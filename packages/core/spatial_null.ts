/**
 * A second null for the atom → network links, in the map domain: each
 * atom's group t map against surrogate maps with the same spatial
 * autocorrelation (variogram-matched, Burt et al. 2020, in the volume:
 * `@brainorg/neuro`'s {@linkcode VariogramSurrogates}). Where the
 * shifted-regressor null asks "could an atom with no relation to the story
 * make this map?", this one asks "could any map as smooth as this one
 * overlap the network this much?": a large smooth blob overlaps large
 * networks by chance, whatever made it.
 *
 * Surrogates take the target's values by rank, so that each surrogate's
 * thresholded parts have exactly the atom's part sizes: the test is of
 * where the suprathreshold voxels lie, not how many there are. Dice after
 * the same threshold as {@linkcode NetworkMatcher}; p per cell, FDR over the
 * table as the matcher does (from the null's mean and SD).
 *
 * @module
 */

import { join } from "node:path";
import { readFile } from "node:fs/promises";
import { BRAINORG_VERSION, InputError, writeJsonAtomic } from "@brainorg/common";
import type { Matrix } from "@brainorg/kernels";
import {
  type BrainMask,
  type MaskLattice,
  maskLattice,
  type SurrogateOptions,
  VariogramSurrogates,
} from "@brainorg/neuro";
import { diceTable, type NetworkMatch, type NetworkSet, networkSets } from "./networks.ts";
import { benjaminiHochberg, normalUpper, permutationPValue } from "./stats.ts";
import type { TemplateSet } from "./templates.ts";
import { cacheKey } from "./voxel_cache.ts";
import type { ModelVoxelResult } from "./voxel_encoding.ts";
import { type SpatialNullSummary, voxelFiles } from "./results.ts";
import { writeTable } from "./results_writer.ts";
import { selectKth } from "./_select.ts";

/** The spatial null of one atom × sign × network cell. */
export interface SpatialNullCell {
  /** Permutation p of the cell's Dice among its surrogates' ((1 + #≥) / (1 + N)). */
  p: number;
  /** (Dice − surrogate mean) / surrogate SD (SD floored at 0.01, as the shift null's). */
  z: number;
  /** Benjamini–Hochberg q over the template set's table, from the normal tail of z. */
  q: number;
  /** Dice > 0, p ≤ α and q ≤ α. */
  linked: boolean;
}

/** Options of {@linkcode spatialNullCells}. */
export interface SpatialNullOptions {
  /** Surrogate maps per atom (≥ 2). */
  surrogates: number;
  /** |t| a voxel must exceed to be in an atom's part (the matcher's). */
  threshold: number;
  /** Seed: atom k's surrogates are drawn from seed · 1000 + k. Default: 0. */
  seed?: number;
  /** Level of a link (per-cell p and FDR q). Default: 0.05. */
  alpha?: number;
  /** The surrogate generator's options (bandwidths, variogram range). Default: its defaults. */
  generator?: Omit<SurrogateOptions, "seed" | "resample">;
}

/**
 * The spatial null of every atom × sign × network cell of each template
 * set: per atom, `surrogates` variogram-matched maps with the atom's t
 * values; each surrogate's top and bottom voxels (as many as the atom's
 * positive and negative parts hold) are its parts; their Dice with each
 * network against the atom's.
 *
 * @param t group t maps (K × V), row-major, over the mask's voxels
 * @param lattice the mask's lattice (`maskLattice`)
 * @param sets per template set, its networks as voxel sets
 * @param options surrogates, threshold, seed, α
 * @returns per template set, cells in {@linkcode diceTable}'s order (atom, sign + then −, network),
 *   and the bandwidth (mm) fitted per atom (NaN for an atom with empty parts)
 * @throws {InputError} for fewer than 2 surrogates or maps not on the lattice
 *
 * @example
 * ```ts
 * import { maskLattice } from "@brainorg/neuro";
 * import { spatialNullCells } from "@brainorg/core";
 * const affine = Float64Array.from([4, 0, 0, 0, 0, 4, 0, 0, 0, 0, 4, 0, 0, 0, 0, 1]);
 * const indices = Uint32Array.from({ length: 512 }, (_, i) => i);
 * const lattice = maskLattice({ grid: { shape: [8, 8, 8], affine }, indices, source: "cube" });
 * const t = { rows: 1, cols: 512, data: Float32Array.from(indices, (i) => (i < 64 ? 5 : 0)) };
 * const net = { index: 1, name: "slab", member: Uint8Array.from(indices, (i) => (i < 64 ? 1 : 0)), voxels: 64 };
 * const { cells } = spatialNullCells(t, lattice, [[net]], { surrogates: 20, threshold: 3 });
 * console.log(cells[0][0].p); // small: no surrogate puts its top 64 voxels on the slab
 * ```
 */
export function spatialNullCells(
  t: Matrix,
  lattice: MaskLattice,
  sets: NetworkSet[][],
  options: SpatialNullOptions,
): { cells: SpatialNullCell[][]; bandwidthsMm: number[] } {
  const K = t.rows, V = t.cols, P = options.surrogates, thr = options.threshold;
  if (!(Number.isInteger(P) && P >= 2)) {
    throw new InputError("the spatial null needs at least 2 surrogates", {
      field: "voxels.spatialNull",
      expected: "an integer ≥ 2 (or 0: off)",
      found: String(P),
    });
  }
  if (V !== lattice.voxels) {
    throw new InputError("the t maps are not on the mask's voxels", {
      field: "t.cols",
      expected: `${lattice.voxels} voxels`,
      found: String(V),
    });
  }
  // Null Dice per set: (P × K × 2 × N), surrogate-major; zero where an atom has no parts.
  const nulls = sets.map((s) => new Float64Array(P * K * 2 * s.length));
  const bandwidthsMm: number[] = [];
  // The parts' voxels, listed: a part is small next to the mask.
  const pos = new Int32Array(V), neg = new Int32Array(V);
  for (let k = 0; k < K; k++) {
    const row = t.data.subarray(k * V, (k + 1) * V);
    let nPos = 0, nNeg = 0;
    for (let v = 0; v < V; v++) (row[v] > thr && nPos++), (row[v] < -thr && nNeg++);
    if (nPos + nNeg === 0) {
      bandwidthsMm.push(NaN);
      continue;
    }
    const gen = new VariogramSurrogates(row, lattice, {
      ...options.generator,
      seed: (options.seed ?? 0) * 1000 + k,
    });
    bandwidthsMm.push(gen.bandwidthMm);
    const scratch = new Float64Array(V);
    for (let j = 0; j < P; j++) {
      const s = gen.nextRaw();
      // Rank-matched parts: the nPos largest and nNeg smallest values (ties have measure zero).
      scratch.set(s);
      const hiCut = nPos ? selectKth(scratch, V - nPos) : Infinity;
      const loCut = nNeg ? selectKth(scratch, nNeg - 1) : -Infinity;
      let np = 0, nn = 0;
      for (let v = 0; v < V; v++) {
        if (s[v] >= hiCut) pos[np++] = v;
        else if (s[v] <= loCut) neg[nn++] = v;
      }
      sets.forEach((networks, i) => {
        const N = networks.length;
        for (let sign = 0; sign < 2; sign++) {
          const part = sign === 0 ? pos : neg, size = sign === 0 ? np : nn;
          if (size === 0) continue;
          for (let n = 0; n < N; n++) {
            const m = networks[n].member;
            let inter = 0;
            for (let e = 0; e < size; e++) inter += m[part[e]];
            nulls[i][((j * K + k) * 2 + sign) * N + n] = (2 * inter) / (size + networks[n].voxels);
          }
        }
      });
    }
  }
  const alpha = options.alpha ?? 0.05;
  const cells = sets.map((networks, i) => {
    const { dice } = diceTable(t, networks, thr), C = dice.length, stride = C;
    const out: SpatialNullCell[] = [];
    for (let c = 0; c < C; c++) {
      let ge = 0, m = 0, sq = 0;
      for (let j = 0; j < P; j++) {
        const x = nulls[i][j * stride + c];
        if (x >= dice[c]) ge++;
        m += x / P;
        sq += (x * x) / P;
      }
      const sd = Math.max(Math.sqrt(Math.max(0, sq - m * m) * P / (P - 1)), 0.01);
      out.push({ p: permutationPValue(ge, P), z: (dice[c] - m) / sd, q: NaN, linked: false });
    }
    const q = benjaminiHochberg(out.map((c) => normalUpper(c.z)));
    out.forEach((c, n) => {
      c.q = q[n];
      c.linked = dice[n] > 0 && c.p <= alpha && c.q <= alpha;
    });
    return out;
  });
  return { cells, bandwidthsMm };
}

/** A network cell with its spatial null, where it was computed. */
export type SpatialMatch = NetworkMatch & {
  /** The spatial null's p. */
  spatialP?: number;
  /** The spatial null's FDR q. */
  spatialQ?: number;
  /** Linked under the spatial null. */
  spatialLinked?: boolean;
  /** Linked under both nulls (the shift null's `linked` and `spatialLinked`). */
  linkedBoth?: boolean;
};

/** The null, in words, for the summary and the report. */
export const SPATIAL_NULL_METHOD: string =
  "variogram-matched surrogates of each atom's group t map (Burt et al. 2020, brainsmash's " +
  "Sampled variant on the mask's lattice: permuted map, separable exponential smoothing with the " +
  "bandwidth, scale and nugget fitted to the map's variogram up to 24 mm, values resampled by rank)";

/** Options of {@linkcode addSpatialNull}. */
export interface AddSpatialNullOptions {
  /** Surrogate maps per atom. */
  surrogates: number;
  /** Seed of the surrogates. Default: 0. */
  seed?: number;
  /** Level of a link. Default: 0.05. */
  alpha?: number;
  /** Keep each model's cells here (`spatial_null/<key>.json`) and reuse them. Default: no cache. */
  cacheDir?: string;
  /** Lines of the run's narrative. */
  log?: (line: string) => void;
}

/**
 * Add the spatial null to every model's network cells (their `spatialP`,
 * `spatialQ`, `spatialLinked`, `linkedBoth` fields), computed from the group
 * t maps — after a sharded run's merge as after a single process, so both
 * give the same folder.
 *
 * @param results every model's voxel results (their matches are completed in place)
 * @param templates the template sets the models were matched with, in the same order
 * @param mask the analysis mask the maps are on
 * @param options surrogates, seed, α, cache
 * @returns the summary's counts
 */
export async function addSpatialNull(
  results: ModelVoxelResult[],
  templates: TemplateSet[],
  mask: BrainMask,
  options: AddSpatialNullOptions,
): Promise<SpatialNullSummary> {
  // Built on the first cache miss only: a warm run reads every model's cells without them.
  let built: { lattice: MaskLattice; sets: NetworkSet[][] } | undefined;
  const inputs = () =>
    built ??= {
      lattice: maskLattice(mask),
      sets: templates.map((t) => networkSets(t.networks, t.kind)),
    };
  const sizes = templates.map((t) => t.networks.length);
  const models: SpatialNullSummary["models"] = [];
  for (const r of results) {
    const started = performance.now();
    const key = options.cacheDir
      ? cacheKey([
        `brainorg ${BRAINORG_VERSION} spatial-null/1`,
        JSON.stringify({
          surrogates: options.surrogates,
          seed: options.seed ?? 0,
          alpha: options.alpha ?? 0.05,
          threshold: r.threshold,
        }),
        r.group.t.data,
        mask.indices,
        mask.grid.affine,
        ...templates.flatMap((t) => [t.name, t.kind, ...t.networks.map((n) => n.values)]),
      ]).slice(0, 32)
      : "";
    const file = key ? join(options.cacheDir!, "spatial_null", `${key}.json`) : "";
    let found = file ? await readCached(file, sizes) : null;
    if (!found) {
      found = spatialNullCells(r.group.t, inputs().lattice, inputs().sets, {
        surrogates: options.surrogates,
        threshold: r.threshold,
        seed: options.seed ?? 0,
        alpha: options.alpha ?? 0.05,
      });
      if (file) await writeJsonAtomic(file, found);
      options.log?.(
        `${r.model}: spatial null, ${options.surrogates} surrogates per atom, in ${
          ((performance.now() - started) / 1000).toFixed(1)
        } s`,
      );
    } else options.log?.(`${r.model}: spatial null read from the cache`);
    const counts = r.templates.map((t, i) => {
      const N = sizes[i];
      for (const m of t.matches as SpatialMatch[]) {
        const c = found!.cells[i][(m.atom * 2 + (m.sign > 0 ? 0 : 1)) * N + m.network];
        m.spatialP = c.p;
        m.spatialQ = c.q;
        m.spatialLinked = c.linked;
        m.linkedBoth = m.linked && c.linked;
      }
      const ms = t.matches as SpatialMatch[];
      return {
        name: t.name,
        shiftLinks: ms.filter((m) => m.linked).length,
        spatialLinks: ms.filter((m) => m.spatialLinked).length,
        bothLinks: ms.filter((m) => m.linkedBoth).length,
      };
    });
    models.push({
      name: r.model,
      bandwidthsMm: found.bandwidthsMm.map((h) => (Number.isFinite(h) ? h : null)),
      templates: counts,
    });
  }
  return { surrogates: options.surrogates, method: SPATIAL_NULL_METHOD, models };
}

/** A cached result whose shape fits the sets, or null (missing, unreadable or not fitting). */
async function readCached(file: string, sizes: number[]) {
  try {
    const got = JSON.parse(await readFile(file, "utf8"));
    const ok = Array.isArray(got.cells) && got.cells.length === sizes.length &&
      Array.isArray(got.bandwidthsMm) &&
      got.cells.every((c: unknown[], i: number) =>
        Array.isArray(c) && c.length === (got.bandwidthsMm.length * 2 * sizes[i])
      );
    if (!ok) return null;
    got.bandwidthsMm = got.bandwidthsMm.map((h: number | null) => h ?? NaN);
    return got as { cells: SpatialNullCell[][]; bandwidthsMm: number[] };
  } catch {
    return null;
  }
}

/**
 * Rows of `voxels/<model>/spatial_null_<set>.csv`: every cell with both nulls' p, q and verdicts.
 *
 * @param matches a template set's cells, completed by {@linkcode addSpatialNull}
 */
export function spatialNullRows(matches: NetworkMatch[]): Record<string, unknown>[] {
  return (matches as SpatialMatch[]).map((m) => ({
    atom: m.atom,
    sign: m.sign,
    network: m.network,
    networkName: m.networkName,
    voxels: m.voxels,
    dice: m.dice,
    p: m.p,
    q: m.q,
    linked: m.linked,
    spatialP: m.spatialP ?? NaN,
    spatialQ: m.spatialQ ?? NaN,
    spatialLinked: m.spatialLinked ?? false,
    linkedBoth: m.linkedBoth ?? false,
  }));
}

/**
 * Write `voxels/<model>/spatial_null_<set>.csv` for every model and template
 * set of a run whose cells {@linkcode addSpatialNull} completed.
 *
 * @param dir the results folder
 * @param results every model's voxel results
 */
export async function writeSpatialNullTables(
  dir: string,
  results: ModelVoxelResult[],
): Promise<void> {
  for (const r of results) {
    for (const t of r.templates) {
      await writeTable(dir, {
        ...voxelFiles(r.model).spatialNull(t.name),
        rows: spatialNullRows(t.matches),
      });
    }
  }
}
