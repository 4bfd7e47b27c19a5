/**
 * How a model's atoms organize against brain networks: diversity and
 * consistency, which Sun et al. (2024) discuss without defining. Our
 * definitions, and why:
 *
 * - **Diversity** asks how many different networks a model's atoms reach
 *   and how evenly. `networksEngaged` counts networks with at least one
 *   linked atom; `assignmentEntropy` is the Shannon entropy (bits) of the
 *   share of links per network, and `normalizedEntropy` divides it by
 *   log₂ of the number of networks (1: links spread evenly over all
 *   networks; 0: one network or none). `layerSpread` is the mean, over
 *   linked atoms, of the normalized entropy of the atom's sub-group over
 *   layers (1: its ANs sit evenly in every layer; 0: all in one layer).
 * - **Consistency** asks whether the atoms linked to one network behave
 *   alike. Per network with two or more linked atoms: `timeCourse` is the
 *   mean pairwise correlation of their time courses, each multiplied by its
 *   link's sign (an atom that deactivates a network counts with its course
 *   reversed); `mapOverlap` is the mean pairwise Dice of their thresholded
 *   maps' linked parts. The model's values are the means over such networks
 *   (NaN when there are none, which is itself a finding).
 *
 * @module
 */

import type { Matrix } from "@brainorg/kernels";
import type { NetworkMatch } from "./networks.ts";
import { pearson } from "./stats.ts";

/** The organization metrics of one model (see the module documentation). */
export interface OrganizationMetrics {
  /** The model's atoms (K). */
  atoms: number;
  /** Atoms with at least one link. */
  linkedAtoms: number;
  /** Linked atom × sign × network cells. */
  links: number;
  /** Networks in the template set. */
  networks: number;
  /** Networks with at least one linked atom. */
  networksEngaged: number;
  /** Shannon entropy (bits) of the share of links per network. */
  assignmentEntropy: number;
  /** `assignmentEntropy` / log₂(networks), in [0, 1]: 1 when links spread evenly over all. */
  normalizedEntropy: number;
  /** Mean normalized entropy of linked atoms' sub-groups over layers, in [0, 1]; NaN: 1 layer. */
  layerSpread: number;
  /** How alike the atoms linked to one network are, over networks with two or more. */
  consistency: {
    /** Mean sign-corrected pairwise r of the linked atoms' time courses (NaN: no such network). */
    timeCourse: number;
    /** Mean pairwise Dice of the linked atoms' thresholded map parts (NaN: no such network). */
    mapOverlap: number;
    /** Per network with two or more linked atoms: its name, atom count and the two means. */
    perNetwork: { network: string; atoms: number; timeCourse: number; mapOverlap: number }[];
  };
}

const log2 = (x: number) => Math.log(x) / Math.LN2;

function entropy(counts: number[]): number {
  const total = counts.reduce((a, b) => a + b, 0);
  if (total === 0) return 0;
  return -counts.reduce((h, c) => (c > 0 ? h + (c / total) * log2(c / total) : h), 0);
}

const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);

/**
 * Compute the metrics.
 *
 * @param matches every atom × sign × network cell (as from network matching)
 * @param networkNames the template's networks, in order
 * @param atoms atom time courses (T × K)
 * @param layerCounts per atom, its sub-group's AN count in each layer
 * @param partOf the thresholded map part (V) of an atom and sign, 0/1
 */
export function organizationMetrics(
  matches: NetworkMatch[],
  networkNames: string[],
  atoms: Matrix,
  layerCounts: number[][],
  partOf: (atom: number, sign: 1 | -1) => Uint8Array,
): OrganizationMetrics {
  const links = matches.filter((m) => m.linked);
  const perNetwork = networkNames.map((_, n) => links.filter((l) => l.network === n));
  const linkedAtoms = [...new Set(links.map((l) => l.atom))];
  const layers = layerCounts[0]?.length ?? 1;
  const course = (k: number) =>
    Array.from({ length: atoms.rows }, (_, t) => atoms.data[t * atoms.cols + k]);
  const dice = (a: Uint8Array, b: Uint8Array) => {
    let i = 0, na = 0, nb = 0;
    for (let v = 0; v < a.length; v++) (i += a[v] & b[v]), (na += a[v]), (nb += b[v]);
    return na + nb > 0 ? (2 * i) / (na + nb) : 0;
  };
  const consistency = perNetwork.flatMap((ls, n) => {
    if (ls.length < 2) return [];
    const tc: number[] = [], mo: number[] = [];
    for (let i = 0; i < ls.length; i++) {
      for (let j = i + 1; j < ls.length; j++) {
        tc.push(ls[i].sign * ls[j].sign * pearson(course(ls[i].atom), course(ls[j].atom)));
        mo.push(dice(partOf(ls[i].atom, ls[i].sign), partOf(ls[j].atom, ls[j].sign)));
      }
    }
    return [{
      network: networkNames[n],
      atoms: ls.length,
      timeCourse: mean(tc),
      mapOverlap: mean(mo),
    }];
  });
  const h = entropy(perNetwork.map((l) => l.length));
  return {
    atoms: atoms.cols,
    linkedAtoms: linkedAtoms.length,
    links: links.length,
    networks: networkNames.length,
    networksEngaged: perNetwork.filter((l) => l.length > 0).length,
    assignmentEntropy: h,
    normalizedEntropy: networkNames.length > 1 ? h / log2(networkNames.length) : 0,
    layerSpread: layers > 1
      ? mean(linkedAtoms.map((k) => entropy(layerCounts[k]) / log2(layers)))
      : NaN,
    consistency: {
      timeCourse: mean(consistency.map((c) => c.timeCourse)),
      mapOverlap: mean(consistency.map((c) => c.mapOverlap)),
      perNetwork: consistency,
    },
  };
}
