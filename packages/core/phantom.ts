/**
 * A voxel-level phantom whose truth is known: real atoms drive real
 * networks (Yeo, Giles) inside a real brain mask, under noise that looks
 * like fMRI. The pipeline must find the planted atom → network links.
 *
 * @module
 */

import { type Backend, type Matrix, rng } from "@brainorg/kernels";
import { type BrainMask, type NetworkTemplate, smoothVolumes } from "@brainorg/neuro";
import { median, zscoreColumns } from "./stats.ts";

/** One planted link: an atom drives a network with a sign. */
export interface PlantedLink {
  /** The driving atom's index (0-based column of the atoms). */
  atom: number;
  /** Index into the networks given to the generator. */
  network: number;
  /** +1: the atom activates the network; −1: it deactivates it. */
  sign: 1 | -1;
}

/** Options of {@linkcode generatePhantom}. */
export interface PhantomOptions {
  /** Subjects. Default: 6. */
  subjects?: number;
  /**
   * Median over driven voxels of the true R² (signal variance over signal
   * plus noise variance): 0.1 is what Sun et al. report for real data. Default: 0.1.
   */
  r2?: number;
  /** Links to plant. Default: {@linkcode defaultLinks} on the least correlated atoms. */
  links?: PlantedLink[];
  /** Smoothness of weights and noise: FWHM in voxels. Default: 2. */
  fwhmVoxels?: number;
  /** Subject-to-subject SD of each link's amplitude (relative). Default: 0.2. */
  subjectVariation?: number;
  /** Seed of the weights, their variation and the noise. Default: 0. */
  seed?: number;
}

/** What was planted, as written to `truth.json`. */
export interface PhantomTruth {
  /** The version of this record's shape. */
  schema: "brainorg.phantom/1";
  /** The planted links, with the atom's (`atomN`) and the network's names. */
  links: (PlantedLink & { atomName: string; networkName: string })[];
  /** Atoms that drive no network (0-based). */
  undrivenAtoms: number[];
  /** The networks given, in order: template index, name and voxels in the network. */
  networks: { index: number; name: string; voxels: number }[];
  /** Subjects generated. */
  subjects: number;
  /** Volumes per subject (the atoms' time points). */
  volumes: number;
  /** Voxels of the mask. */
  voxels: number;
  /** The target median true R² over driven voxels. */
  r2: number;
  /** Noise scale chosen per subject to reach `r2`. */
  noiseScale: number[];
  /** Median true R² over driven voxels, per subject (≈ r2). */
  medianR2: number[];
  /** Smoothness of weights and noise: FWHM in voxels. */
  fwhmVoxels: number;
  /** Subject-to-subject SD of each link's amplitude (relative). */
  subjectVariation: number;
  /** The noise model, in words: its components and their shares of the variance. */
  noise: string;
  /** The generator's seed. */
  seed: number;
}

/**
 * The plan of links for the given atoms (at least 7 of them) and at least 7
 * networks: one atom drives two networks, one network is driven by two
 * atoms (of opposite signs), one link is negative; every other atom drives
 * nothing.
 */
export function defaultLinks(atoms: number[]): PlantedLink[] {
  if (atoms.length < 7) throw new RangeError(`the default plan needs 7 atoms, got ${atoms.length}`);
  const [a, b, c, d, e, f, g] = atoms;
  return [
    { atom: a, network: 0, sign: 1 },
    { atom: b, network: 1, sign: 1 },
    { atom: c, network: 2, sign: -1 },
    { atom: d, network: 3, sign: 1 },
    { atom: d, network: 4, sign: 1 },
    { atom: e, network: 5, sign: 1 },
    { atom: f, network: 5, sign: -1 },
    { atom: g, network: 6, sign: 1 },
  ];
}

/** Atoms chosen greedily so that each has the smallest largest |r| with those already chosen. */
export function leastCorrelatedAtoms(atoms: Matrix, count: number): number[] {
  const T = atoms.rows, K = atoms.cols;
  const z = zscoreColumns(atoms).data;
  const corr = (i: number, j: number) => {
    let s = 0;
    for (let t = 0; t < T; t++) s += z[t * K + i] * z[t * K + j];
    return Math.abs(s / T);
  };
  const chosen = [0];
  while (chosen.length < Math.min(count, K)) {
    let best = -1, bestScore = Infinity;
    for (let k = 0; k < K; k++) {
      if (chosen.includes(k)) continue;
      const score = Math.max(...chosen.map((c) => corr(c, k)));
      if (score < bestScore) (bestScore = score), (best = k);
    }
    chosen.push(best);
  }
  return chosen;
}

function gaussian(rand: () => number): number {
  const u = Math.max(rand(), 1e-12), v = rand();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** `count` smooth random fields on the mask, each z-scored over the mask: (count × V). */
function smoothFields(
  mask: BrainMask,
  count: number,
  fwhm: number,
  rand: () => number,
): Float32Array {
  const n = mask.grid.shape[0] * mask.grid.shape[1] * mask.grid.shape[2], V = mask.indices.length;
  const grid = new Float32Array(n * count);
  for (let i = 0; i < grid.length; i++) grid[i] = gaussian(rand);
  smoothVolumes(grid, mask.grid.shape, [fwhm, fwhm, fwhm], count);
  const out = new Float32Array(count * V);
  for (let c = 0; c < count; c++) {
    let mu = 0, ss = 0;
    for (let v = 0; v < V; v++) mu += grid[c * n + mask.indices[v]] / V;
    for (let v = 0; v < V; v++) ss += (grid[c * n + mask.indices[v]] - mu) ** 2 / V;
    const sd = Math.sqrt(ss) || 1;
    for (let v = 0; v < V; v++) out[c * V + v] = (grid[c * n + mask.indices[v]] - mu) / sd;
  }
  return out;
}

/** (T × count) AR(1) series with unit variance. */
function ar1(T: number, count: number, rho: number, rand: () => number): Float32Array {
  const out = new Float32Array(T * count), innov = Math.sqrt(1 - rho * rho);
  for (let c = 0; c < count; c++) {
    let x = gaussian(rand);
    for (let t = 0; t < T; t++) {
      out[t * count + c] = x;
      x = rho * x + innov * gaussian(rand);
    }
  }
  return out;
}

/** Per-column variance of a (T × V) matrix. */
function columnVariance(m: Float32Array, T: number, V: number): Float64Array {
  const mean = new Float64Array(V), sq = new Float64Array(V);
  for (let t = 0; t < T; t++) {
    const row = t * V;
    for (let v = 0; v < V; v++) {
      const x = m[row + v];
      mean[v] += x;
      sq[v] += x * x;
    }
  }
  return sq.map((s, v) => s / T - (mean[v] / T) ** 2);
}

/**
 * Generate the phantom, one subject at a time.
 *
 * @param atoms the atoms' time courses (T × K), e.g. learned from stories260K on the Alice story
 * @param networks ground-truth networks on the mask (label templates: 0/1 values)
 * @param onSubject receives each subject's data (T × V, row-major) in order
 * @returns the truth
 */
export async function generatePhantom(
  backend: Backend,
  mask: BrainMask,
  networks: NetworkTemplate[],
  atoms: Matrix,
  onSubject: (subject: number, data: Matrix) => Promise<void>,
  options: PhantomOptions = {},
): Promise<PhantomTruth> {
  const S = options.subjects ?? 6, target = options.r2 ?? 0.1, seed = options.seed ?? 0;
  const fwhm = options.fwhmVoxels ?? 2, variation = options.subjectVariation ?? 0.2;
  const T = atoms.rows, K = atoms.cols, V = mask.indices.length;
  if (!(target > 0 && target < 1)) throw new RangeError(`r2 must be in (0, 1): ${target}`);
  if (networks.length < 7 && !options.links) {
    throw new RangeError(`the default plan needs 7 networks, got ${networks.length}`);
  }
  const links = options.links ?? defaultLinks(leastCorrelatedAtoms(atoms, 7));
  for (const l of links) {
    if (l.atom < 0 || l.atom >= K || l.network < 0 || l.network >= networks.length) {
      throw new RangeError(
        `link ${JSON.stringify(l)} is outside ${K} atoms × ${networks.length} networks`,
      );
    }
  }
  const rand = rng(seed);
  const xMatrix = zscoreColumns(atoms);
  // Population weights: smooth inside each network, from 0.5 to 1.5 of the amplitude.
  const base = smoothFields(mask, links.length, fwhm, rand);
  const driven = new Uint8Array(V);
  for (const l of links) {
    const net = networks[l.network].values;
    for (let v = 0; v < V; v++) if (net[v] > 0) driven[v] = 1;
  }
  const truthNoise: number[] = [], medianR2: number[] = [];
  const noiseParts = "AR(1) ρ 0.3 white (45%), 30 smooth AR(1) ρ 0.6 components (35%), " +
    "cubic drift (10%), 6 random-walk motion confounds with smooth loadings (10%)";
  for (let s = 0; s < S; s++) {
    const modulation = smoothFields(mask, links.length, fwhm, rand);
    const w = new Float32Array(K * V);
    links.forEach((l, i) => {
      const gain = Math.max(0.3, 1 + variation * gaussian(rand));
      const net = networks[l.network].values;
      for (let v = 0; v < V; v++) {
        if (net[v] <= 0) continue;
        const shape = 1 + 0.5 * Math.tanh(base[i * V + v]);
        w[l.atom * V + v] += l.sign * gain * shape *
          Math.max(0, 1 + variation * modulation[i * V + v]);
      }
    });
    const signal = await backend.gemm(xMatrix, { rows: K, cols: V, data: w });

    // Noise components, each scaled to a share of the variance.
    const parts: { share: number; data: Float32Array }[] = [];
    const white = ar1(T, V, 0.3, rand);
    parts.push({ share: 0.45, data: white });
    const J = 30;
    const comp = await backend.gemm(
      { rows: T, cols: J, data: ar1(T, J, 0.6, rand) },
      { rows: J, cols: V, data: smoothFields(mask, J, fwhm, rand) },
    );
    parts.push({ share: 0.35, data: comp.data });
    const poly = new Float32Array(T * 3);
    for (let t = 0; t < T; t++) {
      const u = (2 * t) / (T - 1) - 1;
      poly.set([u, u * u - 1 / 3, u * u * u - 0.6 * u], t * 3);
    }
    const drift = await backend.gemm(
      { rows: T, cols: 3, data: poly },
      { rows: 3, cols: V, data: smoothFields(mask, 3, fwhm * 2, rand) },
    );
    parts.push({ share: 0.1, data: drift.data });
    const walks = new Float32Array(T * 6);
    for (let c = 0; c < 6; c++) {
      let acc = 0;
      for (let t = 0; t < T; t++) walks[t * 6 + c] = acc += 0.3 * gaussian(rand);
    }
    const motion = await backend.gemm(
      { rows: T, cols: 6, data: walks },
      { rows: 6, cols: V, data: smoothFields(mask, 6, fwhm * 3, rand) },
    );
    parts.push({ share: 0.1, data: motion.data });
    const noise = new Float32Array(T * V);
    for (const part of parts) {
      const variance = columnVariance(part.data, T, V);
      let meanVar = 0;
      for (let v = 0; v < V; v++) meanVar += variance[v] / V;
      const k = Math.sqrt(part.share / meanVar);
      for (let i = 0; i < noise.length; i++) noise[i] += k * part.data[i];
    }
    // The noise scale c with median over driven voxels of s / (s + c² n) equal to the target.
    const sVar = columnVariance(signal.data, T, V), nVar = columnVariance(noise, T, V);
    const drivenIdx = [...driven.keys()].filter((v) => driven[v]);
    const r2At = (c: number) => median(drivenIdx.map((v) => sVar[v] / (sVar[v] + c * c * nVar[v])));
    let lo = 1e-6, hi = 1e6;
    if (drivenIdx.length === 0) lo = hi = 1; // nothing planted: noise at unit scale
    for (let i = 0; i < 100 && lo < hi; i++) {
      const mid = Math.sqrt(lo * hi);
      if (r2At(mid) > target) lo = mid;
      else hi = mid;
    }
    const c = Math.sqrt(lo * hi);
    truthNoise.push(c);
    medianR2.push(drivenIdx.length ? r2At(c) : 0);
    const data = signal.data;
    // A baseline of 100 so the series look like BOLD in arbitrary units.
    for (let i = 0; i < data.length; i++) data[i] = 100 + data[i] + c * noise[i];
    await onSubject(s, { rows: T, cols: V, data });
  }
  const linkedAtoms = new Set(links.map((l) => l.atom));
  return {
    schema: "brainorg.phantom/1",
    links: links.map((l) => ({
      ...l,
      atomName: `atom${l.atom}`,
      networkName: networks[l.network].name,
    })),
    undrivenAtoms: Array.from({ length: K }, (_, k) => k).filter((k) => !linkedAtoms.has(k)),
    networks: networks.map((n) => ({
      index: n.index,
      name: n.name,
      voxels: n.values.reduce((a, v) => a + (v > 0 ? 1 : 0), 0),
    })),
    subjects: S,
    volumes: T,
    voxels: V,
    r2: target,
    noiseScale: truthNoise,
    medianR2,
    fwhmVoxels: fwhm,
    subjectVariation: variation,
    noise: noiseParts,
    seed,
  };
}

/** How well network matching found the planted links. */
export interface Recovery {
  /** Found links (atom, network, sign) that were planted. */
  truePositives: number;
  /** Found links that were not planted. */
  falsePositives: number;
  /** Planted links not found. */
  falseNegatives: number;
  /** True positives / found links (1 when nothing was found). */
  precision: number;
  /** True positives / planted links (1 when nothing was planted). */
  recall: number;
  /** Undriven atoms that got a network anyway. */
  undrivenLinked: number[];
}

/**
 * Compare found links (atom, network, sign) with the planted ones.
 * Precision is 1 when nothing was found (no false claim was made).
 */
export function scoreRecovery(
  planted: PlantedLink[],
  found: { atom: number; network: number; sign: 1 | -1 }[],
  undriven: number[],
): Recovery {
  const key = (l: { atom: number; network: number; sign: number }) =>
    `${l.atom}/${l.network}/${l.sign}`;
  const truth = new Set(planted.map(key)), got = new Set(found.map(key));
  const tp = [...got].filter((k) => truth.has(k)).length;
  const fp = got.size - tp, fn = truth.size - tp;
  return {
    truePositives: tp,
    falsePositives: fp,
    falseNegatives: fn,
    precision: got.size ? tp / got.size : 1,
    recall: truth.size ? tp / truth.size : 1,
    undrivenLinked: [...new Set(found.map((f) => f.atom))].filter((a) => undriven.includes(a)),
  };
}
