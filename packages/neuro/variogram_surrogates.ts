/**
 * Surrogate brain maps with a target map's spatial autocorrelation, in the
 * volume: Burt et al. 2020's variogram matching (brainsmash), on a mask's
 * voxel lattice. A surrogate is the target's values randomly permuted over
 * the mask (no spatial structure left), smoothed to put autocorrelation
 * back, scaled and given white noise so that its variogram — half the mean
 * squared difference of voxel pairs by their distance — is the target's.
 *
 * Neither a V × V distance matrix nor a k-nearest-neighbour table is ever
 * formed: voxels lie on a lattice, so the neighbours of any voxel within a
 * distance are the same index offsets everywhere. Variograms sum over a
 * sample of voxels × the offsets within `maxDistanceMm` (brainsmash's
 * "Sampled" variant: a subset of rows of the kNN distance matrix), and the
 * smoothing is a separable exponential kernel run as two recursive passes
 * per axis (O(1) per voxel whatever the bandwidth, where brainsmash's
 * kernel sum over k neighbours costs O(k)), normalized by the smoothed mask
 * so that voxels near the mask's edge are averages of in-mask voxels only.
 *
 * Unlike brainsmash, which tries every bandwidth for every surrogate, the
 * bandwidth and the regression's scale and nugget are fitted once per
 * target, on the mean variogram of a few calibration permutations (at tens
 * of thousands of voxels the variogram of a smoothed permutation hardly
 * varies from one permutation to the next), and reused for every surrogate.
 *
 * @module
 */

import { InputError } from "@brainorg/common";
import type { BrainMask } from "./masker.ts";
import { voxelSizes } from "./smooth.ts";

/**
 * Uniform [0, 1) numbers from a 32-bit seed (mulberry32, as `@brainorg/kernels`' `rng`, which
 * this package sits below).
 */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A mask's voxels as lattice points, for neighbour offsets and separable smoothing. */
export interface MaskLattice {
  /** Voxels in the mask (V). */
  voxels: number;
  /** Voxel → world (mm) linear part: columns of the affine's 3 × 3 (9, column-major). */
  axes: Float64Array;
  /** Voxel sizes (mm) along i, j, k. */
  spacing: [number, number, number];
  /** The mask's bounding box: shape `[bx, by, bz]`. */
  box: [number, number, number];
  /** Each voxel's box coordinates i, j, k: (V × 3), row-major. */
  ijk: Int32Array;
  /** Each voxel's flat box index (V), i fastest. */
  boxIndex: Int32Array;
  /** Box index → voxel (−1 outside the mask): (bx·by·bz). */
  lookup: Int32Array;
}

/**
 * The lattice of a mask's voxels.
 *
 * @param mask the analysis mask (its grid's affine gives distances in mm)
 * @returns the voxels' box coordinates and lookups
 *
 * @example
 * ```ts
 * import { maskLattice } from "@brainorg/neuro";
 * const affine = Float64Array.from([2, 0, 0, 0, 0, 2, 0, 0, 0, 0, 2, 0, 0, 0, 0, 1]);
 * const lattice = maskLattice({
 *   grid: { shape: [4, 4, 4], affine },
 *   indices: Uint32Array.of(0, 1, 5, 21),
 *   source: "example",
 * });
 * console.log(lattice.box); // [2, 2, 2]
 * ```
 */
export function maskLattice(mask: BrainMask): MaskLattice {
  const [nx, ny] = mask.grid.shape, V = mask.indices.length;
  if (V === 0) {
    throw new InputError("the mask has no voxels", {
      file: mask.source,
      field: "indices",
      expected: "at least 1 voxel",
      found: "0",
    });
  }
  const a = mask.grid.affine;
  const axes = Float64Array.from([a[0], a[4], a[8], a[1], a[5], a[9], a[2], a[6], a[10]]);
  const lo = [Infinity, Infinity, Infinity], hi = [-Infinity, -Infinity, -Infinity];
  const raw = new Int32Array(V * 3);
  for (let v = 0; v < V; v++) {
    const f = mask.indices[v],
      i = f % nx,
      j = Math.floor(f / nx) % ny,
      k = Math.floor(f / (nx * ny));
    raw.set([i, j, k], v * 3);
    for (let c = 0; c < 3; c++) {
      lo[c] = Math.min(lo[c], raw[v * 3 + c]);
      hi[c] = Math.max(hi[c], raw[v * 3 + c]);
    }
  }
  const box: [number, number, number] = [hi[0] - lo[0] + 1, hi[1] - lo[1] + 1, hi[2] - lo[2] + 1];
  const lookup = new Int32Array(box[0] * box[1] * box[2]).fill(-1);
  const boxIndex = new Int32Array(V);
  for (let v = 0; v < V; v++) {
    for (let c = 0; c < 3; c++) raw[v * 3 + c] -= lo[c];
    const b = raw[v * 3] + box[0] * (raw[v * 3 + 1] + box[1] * raw[v * 3 + 2]);
    boxIndex[v] = b;
    lookup[b] = v;
  }
  return { voxels: V, axes, spacing: voxelSizes(a), box, ijk: raw, boxIndex, lookup };
}

/** Lattice offsets within a distance, each with its variogram bin. */
interface Offsets {
  /** (n × 3) di, dj, dk. */
  d: Int32Array;
  /** Bin of each offset (n). */
  bin: Int32Array;
}

/** Options of {@linkcode variogram}. */
export interface VariogramOptions {
  /** Largest pair distance (mm) counted. Default: 24. */
  maxDistanceMm?: number;
  /** Distance bins, evenly spaced centres from the smallest lattice distance to the largest. Default: 12. */
  bins?: number;
  /** The voxels whose pairs are counted (each with every voxel within range). Default: all. */
  sources?: ArrayLike<number>;
}

/** An empirical variogram. */
export interface Variogram {
  /** Bin centres, mm (bins). */
  distances: Float64Array;
  /** Per bin, the mean of ½ (x_i − x_j)² over the pairs whose distance is nearest that centre; NaN for an empty bin (bins). */
  gamma: Float64Array;
  /** Pairs counted per bin, both orders (bins). */
  pairs: Float64Array;
}

function offsetsWithin(lattice: MaskLattice, maxMm: number, bins: number) {
  const ax = lattice.axes,
    dist = (i: number, j: number, k: number) =>
      Math.hypot(
        i * ax[0] + j * ax[3] + k * ax[6],
        i * ax[1] + j * ax[4] + k * ax[7],
        i * ax[2] + j * ax[5] + k * ax[8],
      );
  const reach = lattice.spacing.map((s) => Math.floor(maxMm / s + 1e-9));
  const found: { d: [number, number, number]; mm: number }[] = [];
  for (let k = -reach[2]; k <= reach[2]; k++) {
    for (let j = -reach[1]; j <= reach[1]; j++) {
      for (let i = -reach[0]; i <= reach[0]; i++) {
        const mm = dist(i, j, k);
        if (mm > 0 && mm <= maxMm * (1 + 1e-9)) found.push({ d: [i, j, k], mm });
      }
    }
  }
  if (found.length === 0) {
    throw new InputError("no voxel pair lies within the variogram's largest distance", {
      field: "maxDistanceMm",
      expected: `at least the smallest voxel size, ${Math.min(...lattice.spacing)} mm`,
      found: `${maxMm} mm`,
    });
  }
  const dmin = Math.min(...found.map((f) => f.mm));
  const step = bins > 1 ? (maxMm - dmin) / (bins - 1) : 1;
  const distances = Float64Array.from({ length: bins }, (_, b) => dmin + b * step);
  const offsets: Offsets = {
    d: new Int32Array(found.length * 3),
    bin: new Int32Array(found.length),
  };
  found.forEach((f, n) => {
    offsets.d.set(f.d, n * 3);
    offsets.bin[n] = bins > 1 ? Math.min(bins - 1, Math.round((f.mm - dmin) / step)) : 0;
  });
  return { offsets, distances };
}

/**
 * The empirical variogram of a map on a mask's lattice: per distance bin,
 * γ = mean over voxel pairs (i, j) with |r_i − r_j| nearest the bin's centre
 * of ½ (x_i − x_j)², over pairs up to `maxDistanceMm` apart whose first
 * voxel is one of `sources`.
 *
 * @param map values per mask voxel (V)
 * @param lattice the mask's {@linkcode maskLattice}
 * @returns the bin centres, γ and pair counts
 *
 * @example
 * ```ts
 * import { maskLattice, variogram } from "@brainorg/neuro";
 * const affine = Float64Array.from([2, 0, 0, 0, 0, 2, 0, 0, 0, 0, 2, 0, 0, 0, 0, 1]);
 * const lattice = maskLattice({
 *   grid: { shape: [3, 1, 1], affine },
 *   indices: Uint32Array.of(0, 1, 2),
 *   source: "example",
 * });
 * const v = variogram(Float32Array.of(0, 1, 3), lattice, { maxDistanceMm: 4, bins: 2 });
 * console.log(v.gamma); // [1.25, 4.5]: pairs 2 mm apart (½·1, ½·4), 4 mm apart (½·9)
 * ```
 */
export function variogram(
  map: ArrayLike<number>,
  lattice: MaskLattice,
  options: VariogramOptions = {},
): Variogram {
  const maxMm = options.maxDistanceMm ?? 24, bins = options.bins ?? 12;
  checkMap(map, lattice, "map");
  if (!(maxMm > 0) || !(Number.isInteger(bins) && bins >= 1)) {
    throw new InputError("the variogram's range and bins must be positive", {
      field: "maxDistanceMm, bins",
      expected: "a distance > 0 mm and an integer count ≥ 1",
      found: `${maxMm} mm, ${bins}`,
    });
  }
  const { offsets, distances } = offsetsWithin(lattice, maxMm, bins);
  return accumulate(map, lattice, offsets, distances, options.sources);
}

function checkMap(map: ArrayLike<number>, lattice: MaskLattice, field: string): void {
  if (map.length !== lattice.voxels) {
    throw new InputError("the map does not have one value per mask voxel", {
      field,
      expected: `${lattice.voxels} values`,
      found: `${map.length}`,
    });
  }
}

function accumulate(
  map: ArrayLike<number>,
  lattice: MaskLattice,
  offsets: Offsets,
  distances: Float64Array,
  sources?: ArrayLike<number>,
): Variogram {
  const bins = distances.length, sum = new Float64Array(bins), pairs = new Float64Array(bins);
  const [bx, by, bz] = lattice.box, { ijk, lookup } = lattice, n = offsets.bin.length;
  const S = sources ? sources.length : lattice.voxels;
  for (let s = 0; s < S; s++) {
    const v = sources ? sources[s] : s, x = map[v];
    const i = ijk[v * 3], j = ijk[v * 3 + 1], k = ijk[v * 3 + 2];
    for (let o = 0; o < n; o++) {
      const ii = i + offsets.d[o * 3], jj = j + offsets.d[o * 3 + 1], kk = k + offsets.d[o * 3 + 2];
      if (ii < 0 || jj < 0 || kk < 0 || ii >= bx || jj >= by || kk >= bz) continue;
      const u = lookup[ii + bx * (jj + by * kk)];
      if (u < 0) continue;
      const diff = x - map[u], b = offsets.bin[o];
      sum[b] += 0.5 * diff * diff;
      pairs[b]++;
    }
  }
  return { distances, gamma: sum.map((g, b) => (pairs[b] > 0 ? g / pairs[b] : NaN)), pairs };
}

/**
 * Smooth a map inside the mask with the separable kernel
 * w(Δ) = exp(−(|Δx| + |Δy| + |Δz|) / h) (Δ in mm along the voxel axes),
 * normalized by the same kernel applied to the mask: each voxel becomes a
 * weighted mean of in-mask voxels.
 *
 * @param map values per mask voxel (V)
 * @param lattice the mask's {@linkcode maskLattice}
 * @param bandwidthMm h, mm (> 0)
 * @returns the smoothed map (V)
 */
export function smoothOnLattice(
  map: ArrayLike<number>,
  lattice: MaskLattice,
  bandwidthMm: number,
): Float64Array {
  checkMap(map, lattice, "map");
  if (!(bandwidthMm > 0)) {
    throw new InputError("the smoothing bandwidth must be positive", {
      field: "bandwidthMm",
      expected: "> 0 mm",
      found: `${bandwidthMm}`,
    });
  }
  const norm = expSmoothBox(
    Float64Array.from({ length: lattice.voxels }, () => 1),
    lattice,
    bandwidthMm,
  );
  const out = expSmoothBox(map, lattice, bandwidthMm);
  for (let v = 0; v < out.length; v++) out[v] /= norm[v];
  return out;
}

/** The exponential kernel's sum at each mask voxel (unnormalized), over the mask's bounding box. */
function expSmoothBox(
  map: ArrayLike<number>,
  lattice: MaskLattice,
  h: number,
  work?: Float64Array,
) {
  const [bx, by, bz] = lattice.box, V = lattice.voxels;
  const box = work ?? new Float64Array(bx * by * bz), index = lattice.boxIndex;
  box.fill(0);
  for (let v = 0; v < V; v++) box[index[v]] = map[v];
  const line = new Float64Array(Math.max(bx, by, bz)), plane = bx * by;
  filterLines(box, line, bx, by * bz, Math.exp(-lattice.spacing[0] / h));
  // Along y and z a line's neighbours are rows or planes apart: filter whole rows (planes) at a
  // time so that memory is read in order.
  const forward = new Float64Array(box.length), back = new Float64Array(plane);
  filterRows(
    box,
    forward,
    back,
    { outer: bz, n: by, stride: bx },
    Math.exp(-lattice.spacing[1] / h),
  );
  filterRows(
    box,
    forward,
    back,
    { outer: 1, n: bz, stride: plane },
    Math.exp(-lattice.spacing[2] / h),
  );
  const out = new Float64Array(V);
  for (let v = 0; v < V; v++) out[v] = box[index[v]];
  return out;
}

/**
 * Two-sided recursive filter along x, on `lines` contiguous lines of length
 * `n`: each value becomes Σ_m a^|t−m| x[m], the causal and anticausal sums
 * less the centre they both count.
 */
function filterLines(box: Float64Array, line: Float64Array, n: number, lines: number, a: number) {
  for (let l = 0, s0 = 0; l < lines; l++, s0 += n) {
    let c = 0;
    for (let t = 0; t < n; t++) line[t] = c = box[s0 + t] + a * c;
    let r = 0;
    for (let t = n - 1; t >= 0; t--) {
      const x = box[s0 + t];
      r = x + a * r;
      box[s0 + t] = line[t] + r - x;
    }
  }
}

/**
 * The same filter along an axis whose steps are `stride` values apart
 * (y: a row, z: a plane), `stride` lines at once: `outer` blocks of `n`
 * steps each.
 */
function filterRows(
  box: Float64Array,
  forward: Float64Array,
  back: Float64Array,
  shape: { outer: number; n: number; stride: number },
  a: number,
) {
  const { outer, n, stride } = shape;
  for (let o = 0; o < outer; o++) {
    const base = o * n * stride;
    for (let i = 0; i < stride; i++) forward[base + i] = box[base + i];
    for (let t = 1; t < n; t++) {
      const row = base + t * stride, prev = row - stride;
      for (let i = 0; i < stride; i++) forward[row + i] = box[row + i] + a * forward[prev + i];
    }
    back.fill(0, 0, stride);
    for (let t = n - 1; t >= 0; t--) {
      const row = base + t * stride;
      for (let i = 0; i < stride; i++) {
        const x = box[row + i];
        back[i] = x + a * back[i];
        box[row + i] = forward[row + i] + back[i] - x;
      }
    }
  }
}

/** Options of {@linkcode VariogramSurrogates}. */
export interface SurrogateOptions extends Omit<VariogramOptions, "sources"> {
  /** Seed of the permutations, the voxel sample and the noise. Default: 0. */
  seed?: number;
  /** Candidate smoothing bandwidths h (mm). Default: 0.5 to 3 voxel sizes, 6 steps, geometric. */
  bandwidthsMm?: number[];
  /** Permutations whose mean variogram the bandwidth, scale and nugget are fitted on. Default: 3. */
  calibration?: number;
  /** Voxels sampled as the variograms' first voxel of each pair (brainsmash's `ns`). Default: 1000. */
  samples?: number;
  /** Give each surrogate the target's values, by rank (brainsmash's `resample`). Default: true. */
  resample?: boolean;
}

/**
 * Surrogate maps whose variogram matches a target map's (Burt et al. 2020),
 * drawn one at a time, deterministic for a seed.
 *
 * Fit (once per target): for each bandwidth h, the mean variogram γ_h of
 * `calibration` permuted-and-smoothed maps; the least-squares line
 * γ_target ≈ α + β γ_h over the bins; the h with the smallest residual
 * wins. A surrogate is then √|β| · smooth_h(permuted target) + √max(α, 0) · ε,
 * ε white Gaussian noise (the nugget), demeaned, or given the target's
 * values by rank (`resample`).
 *
 * @example
 * ```ts
 * import { maskLattice, VariogramSurrogates } from "@brainorg/neuro";
 * const affine = Float64Array.from([4, 0, 0, 0, 0, 4, 0, 0, 0, 0, 4, 0, 0, 0, 0, 1]);
 * const indices = Uint32Array.from({ length: 512 }, (_, i) => i);
 * const lattice = maskLattice({ grid: { shape: [8, 8, 8], affine }, indices, source: "cube" });
 * const target = Float32Array.from(indices, (i) => Math.sin(i % 8) + Math.cos(i / 64));
 * const gen = new VariogramSurrogates(target, lattice, { seed: 1, maxDistanceMm: 12, bins: 4 });
 * const surrogate = gen.next(); // (512) the target's values, placed anew
 * ```
 */
export class VariogramSurrogates {
  /** The target's variogram (on the sampled voxels). */
  readonly target: Variogram;
  /** The chosen bandwidth (mm). */
  readonly bandwidthMm: number;
  /** The fit's intercept α (nugget variance; clamped at 0 when drawn). */
  readonly alpha: number;
  /** The fit's slope β (variance scale of the smoothed permutation). */
  readonly beta: number;
  /** Sum of squared residuals of the chosen fit, over the bins. */
  readonly residual: number;
  readonly #values: Float64Array;
  readonly #sorted: Float64Array | null;
  readonly #lattice: MaskLattice;
  readonly #rand: () => number;
  readonly #norm: Float64Array;
  readonly #work: Float64Array;

  /**
   * Fit the generator to a target map.
   *
   * @param map the target's values per mask voxel (V); NaN is not allowed
   * @param lattice the mask's {@linkcode maskLattice}
   * @param options bandwidths, calibration, variogram range and bins, seed
   * @throws {InputError} for a map of the wrong length or with non-finite values, or bad options
   */
  constructor(map: ArrayLike<number>, lattice: MaskLattice, options: SurrogateOptions = {}) {
    checkMap(map, lattice, "map");
    const V = lattice.voxels;
    for (let v = 0; v < V; v++) {
      if (!Number.isFinite(map[v])) {
        throw new InputError("the target map has a non-finite value", {
          field: `map[${v}]`,
          expected: "finite values",
          found: String(map[v]),
        });
      }
    }
    const maxMm = options.maxDistanceMm ?? 24, bins = options.bins ?? 12;
    const voxel = Math.min(...lattice.spacing);
    const hs = options.bandwidthsMm ??
      Array.from({ length: 6 }, (_, i) => voxel * 0.5 * Math.pow(6, i / 5));
    const calibration = options.calibration ?? 3, samples = Math.min(V, options.samples ?? 1000);
    if (hs.length === 0 || hs.some((h) => !(h > 0)) || !(calibration >= 1)) {
      throw new InputError("bad surrogate options", {
        field: "bandwidthsMm, calibration",
        expected: "bandwidths > 0 mm and at least 1 calibration permutation",
        found: `${JSON.stringify(hs)}, ${calibration}`,
      });
    }
    this.#lattice = lattice;
    this.#rand = rng(options.seed ?? 0);
    let mean = 0;
    for (let v = 0; v < V; v++) mean += map[v] / V;
    this.#values = Float64Array.from({ length: V }, (_, v) => map[v] - mean);
    this.#sorted = options.resample === false ? null : Float64Array.from(map).sort();
    this.#work = new Float64Array(lattice.box[0] * lattice.box[1] * lattice.box[2]);
    // The variograms' first voxels: a fixed sample, the same for target and surrogates.
    const order = this.#permutation();
    const sources = order.subarray(0, samples);
    const { offsets, distances } = offsetsWithin(lattice, maxMm, bins);
    const vario = (m: ArrayLike<number>) => accumulate(m, lattice, offsets, distances, sources);
    this.target = vario(this.#values);
    const perms = Array.from({ length: calibration }, () => this.#permuted());
    const ones = new Float64Array(V).fill(1);
    let best = { h: hs[0], alpha: 0, beta: 1, residual: Infinity, norm: ones };
    for (const h of hs) {
      const norm = expSmoothBox(ones, lattice, h, this.#work);
      const mean = new Float64Array(bins);
      for (const p of perms) {
        const s = expSmoothBox(p, lattice, h, this.#work);
        for (let v = 0; v < V; v++) s[v] /= norm[v];
        vario(s).gamma.forEach((g, b) => (mean[b] += g / calibration));
      }
      const fit = regress(mean, this.target.gamma);
      if (fit.residual < best.residual) best = { h, ...fit, norm };
    }
    this.bandwidthMm = best.h;
    this.alpha = best.alpha;
    this.beta = best.beta;
    this.residual = best.residual;
    this.#norm = best.norm;
  }

  /** A random order of the voxels (Fisher–Yates). */
  #permutation(): Uint32Array {
    const n = this.#lattice.voxels, p = new Uint32Array(n), rand = this.#rand;
    for (let i = 0; i < n; i++) p[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1)), t = p[i];
      p[i] = p[j];
      p[j] = t;
    }
    return p;
  }

  /** The target's values in a random order (V), shuffled in place of a copy. */
  #permuted(): Float64Array {
    const out = this.#values.slice(), rand = this.#rand;
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1)), t = out[i];
      out[i] = out[j];
      out[j] = t;
    }
    return out;
  }

  /**
   * The next surrogate before any resampling: smoothed permutation, scaled,
   * plus the nugget's noise, demeaned (V). Its ranks are those of
   * {@linkcode next}'s values.
   */
  nextRaw(): Float64Array {
    const V = this.#lattice.voxels;
    const s = expSmoothBox(this.#permuted(), this.#lattice, this.bandwidthMm, this.#work);
    const b = Math.sqrt(Math.abs(this.beta)), a = Math.sqrt(Math.max(this.alpha, 0));
    const norm = this.#norm, rand = this.#rand;
    let mean = 0;
    for (let v = 0; v < V; v += 2) {
      // Box–Muller: two normal deviates per pair of uniforms.
      const r = Math.sqrt(-2 * Math.log(Math.max(rand(), 1e-300))), th = 2 * Math.PI * rand();
      s[v] = (b * s[v]) / norm[v] + a * r * Math.cos(th);
      if (v + 1 < V) s[v + 1] = (b * s[v + 1]) / norm[v + 1] + a * r * Math.sin(th);
    }
    for (let v = 0; v < V; v++) mean += s[v] / V;
    for (let v = 0; v < V; v++) s[v] -= mean;
    return s;
  }

  /** The next surrogate map (V): with the target's values by rank, unless `resample` is false. */
  next(): Float64Array {
    const raw = this.nextRaw();
    if (!this.#sorted) return raw;
    const order = Uint32Array.from({ length: raw.length }, (_, i) => i).sort((i, j) =>
      raw[i] - raw[j]
    );
    const out = new Float64Array(raw.length);
    order.forEach((v, r) => (out[v] = this.#sorted![r]));
    return out;
  }
}

/** Least squares y ≈ α + β x over the bins where both are finite. */
function regress(x: ArrayLike<number>, y: ArrayLike<number>) {
  let n = 0, mx = 0, my = 0;
  for (let b = 0; b < x.length; b++) {
    if (Number.isFinite(x[b]) && Number.isFinite(y[b])) n++, mx += x[b], my += y[b];
  }
  if (n === 0) return { alpha: 0, beta: 1, residual: Infinity };
  mx /= n;
  my /= n;
  let sxy = 0, sxx = 0;
  for (let b = 0; b < x.length; b++) {
    if (!(Number.isFinite(x[b]) && Number.isFinite(y[b]))) continue;
    sxy += (x[b] - mx) * (y[b] - my);
    sxx += (x[b] - mx) ** 2;
  }
  const beta = sxx > 0 ? sxy / sxx : 0, alpha = my - beta * mx;
  let residual = 0;
  for (let b = 0; b < x.length; b++) {
    if (Number.isFinite(x[b]) && Number.isFinite(y[b])) {
      residual += (y[b] - alpha - beta * x[b]) ** 2;
    }
  }
  return { alpha, beta, residual };
}
