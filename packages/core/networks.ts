/**
 * Atom maps against functional brain network templates: each atom's group
 * map, thresholded, positive and negative parts apart, compared with each
 * network by Dice and overlap rate; p-values from the same
 * shifted-regressor null that made the maps (it keeps the brain's spatial
 * autocorrelation, which a voxel-shuffling null would destroy), corrected
 * over the whole atoms × signs × networks table by the maximum statistic.
 *
 * @module
 */

import type { Matrix } from "@brainorg/kernels";
import type { NetworkTemplate } from "@brainorg/neuro";
import { benjaminiHochberg, normalUpper, permutationPValue } from "./stats.ts";

/** A network as a set of mask voxels. */
export interface NetworkSet {
  /** The template's label value (label atlases) or 1-based map index (continuous maps). */
  index: number;
  /** The network's name, as in the template. */
  name: string;
  /** 1 where the voxel belongs to the network (V). */
  member: Uint8Array;
  /** Voxels in the network. */
  voxels: number;
}

/**
 * Templates as voxel sets: label networks as they are, continuous maps
 * thresholded at a quantile of their positive values within the mask.
 *
 * @param quantile for continuous maps, e.g. 0.9 keeps the top 10% of voxels. Default: 0.9.
 */
export function networkSets(
  templates: NetworkTemplate[],
  kind: "labels" | "continuous",
  quantile = 0.9,
): NetworkSet[] {
  return templates.map((t) => {
    let cut = 0.5;
    if (kind === "continuous") {
      const sorted = Float32Array.from(t.values).sort();
      cut = sorted[Math.min(sorted.length - 1, Math.floor(quantile * sorted.length))];
      cut = Math.max(cut, Number.MIN_VALUE);
    }
    const member = Uint8Array.from(t.values, (v) => (v >= cut ? 1 : 0));
    return { index: t.index, name: t.name, member, voxels: member.reduce((a, b) => a + b, 0) };
  });
}

/** One atom × sign × network comparison. */
export interface NetworkMatch {
  /** The atom's index (0-based column of the atoms). */
  atom: number;
  /** +1: the atom's positive (activated) part; −1: its negative part. */
  sign: 1 | -1;
  /** The network's position in the template set (0-based). */
  network: number;
  /** The network's name. */
  networkName: string;
  /** Voxels in the atom's thresholded part. */
  voxels: number;
  /** 2 |A ∩ N| / (|A| + |N|). */
  dice: number;
  /** |A ∩ N| / |A|: the share of the atom's part inside the network. */
  overlap: number;
  /** Uncorrected permutation p of the Dice (against this cell's own null). */
  p: number;
  /** (Dice − null mean) / null SD of this cell. */
  z: number;
  /** Benjamini–Hochberg q over all cells, from the normal tail of z. */
  q: number;
  /** Family-wise p over all atoms, signs and networks (maximum statistic). */
  pFWE: number;
  /** Whether the atom's part is linked to the network: Dice > 0, p ≤ α and q ≤ α. */
  linked: boolean;
}

/** Dice of every atom × sign × network for a statistic map (K × V) thresholded at ±threshold. */
export function diceTable(
  stat: Matrix,
  networks: NetworkSet[],
  threshold: number,
): { dice: Float64Array; overlap: Float64Array; voxels: Uint32Array } {
  const K = stat.rows, V = stat.cols, N = networks.length;
  const dice = new Float64Array(K * 2 * N), overlap = new Float64Array(K * 2 * N);
  const voxels = new Uint32Array(K * 2);
  const inter = new Uint32Array(N);
  for (let k = 0; k < K; k++) {
    for (let s = 0; s < 2; s++) {
      inter.fill(0);
      let size = 0;
      for (let v = 0; v < V; v++) {
        const x = stat.data[k * V + v];
        if (s === 0 ? x > threshold : x < -threshold) {
          size++;
          for (let n = 0; n < N; n++) inter[n] += networks[n].member[v];
        }
      }
      voxels[k * 2 + s] = size;
      for (let n = 0; n < N; n++) {
        const i = (k * 2 + s) * N + n;
        dice[i] = size + networks[n].voxels > 0 ? (2 * inter[n]) / (size + networks[n].voxels) : 0;
        overlap[i] = size > 0 ? inter[n] / size : 0;
      }
    }
  }
  return { dice, overlap, voxels };
}

/**
 * Collects the null (call {@linkcode NetworkMatcher.observe} with each
 * surrogate's group map) and then scores the real map.
 */
export class NetworkMatcher {
  readonly #networks: NetworkSet[];
  readonly #threshold: number;
  readonly #nullDice: Float64Array[] = [];

  /**
   * A matcher with no null recorded yet.
   *
   * @param networks the template sets
   * @param threshold |statistic| a voxel must exceed to be in an atom's map
   */
  constructor(networks: NetworkSet[], threshold: number) {
    this.#networks = networks;
    this.#threshold = threshold;
  }

  /** Record one surrogate's map (K × V). */
  observe = (stat: Matrix): void => {
    this.#nullDice.push(diceTable(stat, this.#networks, this.#threshold).dice);
  };

  /**
   * Record one surrogate's Dice table (K × 2 × N, atom-major, as
   * {@linkcode diceTable} returns it), computed elsewhere: a sharded run adds
   * up each block's counts (`shard_voxels.ts`).
   */
  observeDice(dice: Float64Array): void {
    this.#nullDice.push(dice);
  }

  /** Surrogates recorded so far. */
  get permutations(): number {
    return this.#nullDice.length;
  }

  /**
   * Score the real map (K × V). A cell is linked when its Dice beats its own
   * null (empirical p ≤ `alpha`) and survives FDR over the whole table at
   * `alpha` (q from the null's mean and SD, since a few hundred surrogates
   * cannot give the small empirical p-values that FDR over hundreds of cells
   * needs). The maximum-statistic family-wise p is reported too: strict,
   * because a shifted atom can align by chance with whichever planted or
   * real signal a network carries.
   */
  match(stat: Matrix, alpha = 0.05): NetworkMatch[] {
    const N = this.#networks.length, P = this.#nullDice.length;
    if (P < 2) throw new Error("NetworkMatcher.match: fewer than 2 null maps were observed");
    const { dice, overlap, voxels } = diceTable(stat, this.#networks, this.#threshold);
    const maxNull = this.#nullDice.map((d) => d.reduce((a, b) => Math.max(a, b), 0));
    const out: NetworkMatch[] = [];
    for (let k = 0; k < stat.rows; k++) {
      for (let s = 0; s < 2; s++) {
        for (let n = 0; n < N; n++) {
          const i = (k * 2 + s) * N + n, d = dice[i];
          let ge = 0, geMax = 0, m = 0, sq = 0;
          for (let j = 0; j < P; j++) {
            const x = this.#nullDice[j][i];
            if (x >= d) ge++;
            if (maxNull[j] >= d) geMax++;
            m += x / P;
            sq += (x * x) / P;
          }
          // A floor on the SD: a cell whose null is all zeros must not make any overlap infinite.
          const sd = Math.max(Math.sqrt(Math.max(0, sq - m * m) * P / (P - 1)), 0.01);
          out.push({
            atom: k,
            sign: s === 0 ? 1 : -1,
            network: n,
            networkName: this.#networks[n].name,
            voxels: voxels[k * 2 + s],
            dice: d,
            overlap: overlap[i],
            p: permutationPValue(ge, P),
            z: (d - m) / sd,
            q: NaN,
            pFWE: permutationPValue(geMax, P),
            linked: false,
          });
        }
      }
    }
    const q = benjaminiHochberg(out.map((c) => normalUpper(c.z)));
    out.forEach((c, i) => {
      c.q = q[i];
      c.linked = c.dice > 0 && c.p <= alpha && c.q <= alpha;
    });
    return out;
  }
}
