/**
 * What the BIDS phantom plants besides the atoms' signal: the plan of links
 * (leaving the word-rate atom and one network free), and the speech-locked
 * head-motion artefact's pieces.
 *
 * @module
 */

import type { Matrix } from "@brainorg/kernels";
import { type BrainMask, smoothVolumes } from "@brainorg/neuro";
import { gaussian } from "./_bids_confounds.ts";
import { leastCorrelatedAtoms, type PlantedLink } from "./phantom.ts";
import { pearson } from "./stats.ts";

/**
 * The plan: the atom most correlated with the word rate drives nothing (it
 * is the artefact's suspect); six others, least correlated with each other,
 * drive six networks (one atom two networks, one network two atoms of
 * opposite signs, one negative link); the artefact network gets no atom.
 */
export function plan(atoms: Matrix, rate: Float32Array, artefactNetwork: number, networks: number) {
  const K = atoms.cols, T = atoms.rows;
  const atomRateCorrelation = Array.from(
    { length: K },
    (_, k) => pearson(Float32Array.from({ length: T }, (_, t) => atoms.data[t * K + k]), rate),
  );
  let rateAtom = 0;
  for (let k = 1; k < K; k++) {
    if (Math.abs(atomRateCorrelation[k]) > Math.abs(atomRateCorrelation[rateAtom])) rateAtom = k;
  }
  const others = Array.from({ length: K }, (_, k) => k).filter((k) => k !== rateAtom);
  const sub: Matrix = {
    rows: T,
    cols: others.length,
    data: Float32Array.from(
      { length: T * others.length },
      (_, i) => atoms.data[Math.floor(i / others.length) * K + others[i % others.length]],
    ),
  };
  const [a, b, c, d, e, f] = leastCorrelatedAtoms(sub, 6).map((i) => others[i]);
  const [n0, n1, n2, n3, n4, n5] = Array.from({ length: networks }, (_, n) => n).filter((n) =>
    n !== artefactNetwork
  );
  const links: PlantedLink[] = [
    { atom: a, network: n0, sign: 1 },
    { atom: b, network: n1, sign: 1 },
    { atom: c, network: n2, sign: -1 },
    { atom: d, network: n3, sign: 1 },
    { atom: d, network: n4, sign: 1 },
    { atom: e, network: n5, sign: 1 },
    { atom: f, network: n5, sign: -1 },
  ];
  return { links, rateAtom, atomRateCorrelation };
}

/** The network's positive, smooth weights: 1 ± 0.5 inside, 0 outside (V). */
export function networkWeights(
  mask: BrainMask,
  member: Uint8Array,
  rand: () => number,
): Float64Array {
  const shape = mask.grid.shape, n = shape[0] * shape[1] * shape[2];
  const grid = Float32Array.from({ length: n }, () => gaussian(rand));
  smoothVolumes(grid, shape, [2, 2, 2]);
  const values = Float64Array.from(mask.indices, (i) => grid[i]);
  const mu = values.reduce((s, x) => s + x, 0) / values.length;
  const sd = Math.sqrt(values.reduce((s, x) => s + (x - mu) ** 2, 0) / values.length) || 1;
  return values.map((x, v) => member[v] ? 1 + 0.5 * Math.tanh((x - mu) / sd) : 0);
}

/** A z-scored copy (population SD; a constant series becomes 0). */
export function zscore(x: ArrayLike<number>): Float64Array {
  const n = x.length;
  let mu = 0, ss = 0;
  for (let i = 0; i < n; i++) mu += x[i] / n;
  for (let i = 0; i < n; i++) ss += (x[i] - mu) ** 2 / n;
  const sd = Math.sqrt(ss) || 1;
  return Float64Array.from(x, (v) => (v - mu) / sd);
}

/** Voxels of the mask with a face neighbour outside it. */
export function boundary(mask: BrainMask): Uint8Array {
  const [nx, ny] = mask.grid.shape;
  const inside = new Set(mask.indices);
  return Uint8Array.from(mask.indices, (i) => {
    const x = i % nx, y = Math.floor(i / nx) % ny;
    const near = [
      x > 0 ? i - 1 : -1,
      x < nx - 1 ? i + 1 : -1,
      y > 0 ? i - nx : -1,
      y < ny - 1 ? i + nx : -1,
      i - nx * ny,
      i + nx * ny,
    ];
    return near.some((j) => !inside.has(j)) ? 1 : 0;
  });
}

/** Column `c` of a run's (T × 6) motion, minus the run's mean. */
export function centred(motion: Float64Array, T: number, c: number): Float64Array {
  let mu = 0;
  for (let t = 0; t < T; t++) mu += motion[t * 6 + c] / T;
  return Float64Array.from({ length: T }, (_, t) => motion[t * 6 + c] - mu);
}
