/**
 * fMRIPrep's confounds, recomputed for the BIDS phantom: the columns of a
 * `desc-confounds_timeseries.tsv` with fMRIPrep's names and its `n/a` in the
 * first row of every backward difference. Framewise displacement follows
 * Power et al. 2012, DVARS nipype's `compute_dvars` (the one fMRIPrep runs),
 * CompCor nipype's `compute_noise_components` (cosine high-pass, variance
 * normalization, SVD), the cosine basis nilearn's `cosine_drift`.
 *
 * @module
 */

import type { Backend } from "@brainorg/kernels";
import { eigh } from "@brainorg/kernels";
import { selectKth } from "./_select.ts";

/** fMRIPrep's six rigid-body parameters: translations (mm), then rotations (rad). */
export const MOTION_COLUMNS = ["trans_x", "trans_y", "trans_z", "rot_x", "rot_y", "rot_z"] as const;

/** One column of a confounds table; NaN is written as `n/a`. */
export interface ConfoundColumn {
  /** fMRIPrep's column name. */
  name: string;
  /** Its values (volumes). */
  values: Float64Array;
}

/** A normal deviate from a uniform source (Box–Muller). */
export function gaussian(rand: () => number): number {
  const u = Math.max(rand(), 1e-12), v = rand();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/**
 * Head-motion-like parameters of one run: a slow random walk plus rare
 * small jumps, translations in mm and rotations in radians.
 *
 * @param volumes the run's volumes (T)
 * @param rand the uniform source
 * @returns (T × 6) row-major, columns in {@linkcode MOTION_COLUMNS} order
 */
export function motionParameters(volumes: number, rand: () => number): Float64Array {
  const out = new Float64Array(volumes * 6);
  for (let c = 0; c < 6; c++) {
    // 0.01 mm or 0.0002 rad (0.011°) per volume of drift; a jump of 0.15 mm
    // or 0.003 rad about once in 80 volumes: a still, cooperative listener.
    const step = c < 3 ? 0.01 : 0.0002, jump = c < 3 ? 0.15 : 0.003;
    let x = 0;
    for (let t = 0; t < volumes; t++) {
      x += step * gaussian(rand);
      if (rand() < 1 / 80) x += jump * gaussian(rand);
      out[t * 6 + c] = x;
    }
  }
  return out;
}

/**
 * Framewise displacement (Power et al. 2012): the summed absolute backward
 * differences of the six parameters, rotations turned into mm on a sphere.
 *
 * @param motion (T × 6) row-major, {@linkcode MOTION_COLUMNS} order
 * @param volumes T
 * @param radius the head's radius in mm. Default: 50
 * @returns FD (T), NaN in the first row as fMRIPrep writes `n/a`
 */
export function framewiseDisplacement(
  motion: ArrayLike<number>,
  volumes: number,
  radius = 50,
): Float64Array {
  const fd = new Float64Array(volumes);
  fd[0] = NaN;
  for (let t = 1; t < volumes; t++) {
    let s = 0;
    for (let c = 0; c < 6; c++) {
      s += (c < 3 ? 1 : radius) * Math.abs(motion[t * 6 + c] - motion[(t - 1) * 6 + c]);
    }
    fd[t] = s;
  }
  return fd;
}

/**
 * A series and fMRIPrep's expansions of it, in fMRIPrep's order: `name`,
 * `name_derivative1` (backward difference, NaN first), `name_derivative1_power2`
 * and `name_power2`.
 */
export function expansions(name: string, x: ArrayLike<number>): ConfoundColumn[] {
  const T = x.length;
  const d = Float64Array.from({ length: T }, (_, t) => t === 0 ? NaN : x[t] - x[t - 1]);
  return [
    { name, values: Float64Array.from(x) },
    { name: `${name}_derivative1`, values: d },
    { name: `${name}_derivative1_power2`, values: d.map((v) => v * v) },
    { name: `${name}_power2`, values: Float64Array.from(x, (v) => v * v) },
  ];
}

/**
 * The discrete cosine basis of a high-pass filter, as nilearn's
 * `cosine_drift` (fMRIPrep's `cosineNN` columns) without its constant:
 * `sqrt(2/T) cos(π (t + ½) k / T)` for k = 1 … ⌊2 T tr / cutoff⌋ − 1.
 *
 * @param volumes T
 * @param tr repetition time, s
 * @param cutoff the filter's period, s. Default: 128
 * @returns the basis vectors, each of length T
 */
export function cosineBasis(volumes: number, tr: number, cutoff = 128): Float64Array[] {
  const order = Math.floor((2 * volumes * tr) / cutoff);
  const norm = Math.sqrt(2 / volumes);
  return Array.from(
    { length: Math.max(0, order - 1) },
    (_, i) =>
      Float64Array.from(
        { length: volumes },
        (_, t) => norm * Math.cos((Math.PI / volumes) * (t + 0.5) * (i + 1)),
      ),
  );
}

/**
 * DVARS as nipype's `compute_dvars` (intensity normalization to a median of
 * 1000): the RMS over voxels of the backward difference, and that divided
 * by its expected value under an AR(1) model of each voxel (robust SD from
 * the interquartile range, lag-1 autocorrelation by Yule–Walker).
 *
 * @param data (T × V) row-major: volumes × voxels
 * @returns `dvars` and `std` (T each), NaN in the first row
 */
export function dvars(
  data: ArrayLike<number>,
  volumes: number,
  voxels: number,
): { dvars: Float64Array; std: Float64Array } {
  const T = volumes, V = voxels;
  const scale = 1000 / median32(Float32Array.from(data));
  let sdMean = 0;
  const col = new Float64Array(T);
  for (let v = 0; v < V; v++) {
    let mu = 0;
    for (let t = 0; t < T; t++) mu += (col[t] = data[t * V + v] * scale) / T;
    const sorted = Float64Array.from(col).sort();
    const sd = (quantileSorted(sorted, 0.75) - quantileSorted(sorted, 0.25)) / 1.349;
    let r0 = 0, r1 = 0;
    for (let t = 0; t < T; t++) r0 += (col[t] - mu) ** 2;
    for (let t = 1; t < T; t++) r1 += (col[t] - mu) * (col[t - 1] - mu);
    const ar1 = r0 > 0 ? r1 / r0 : 0;
    sdMean += Math.sqrt(2 * (1 - ar1)) * sd / V;
  }
  const out = new Float64Array(T), std = new Float64Array(T);
  out[0] = std[0] = NaN;
  for (let t = 1; t < T; t++) {
    let s = 0;
    for (let v = 0; v < V; v++) s += ((data[t * V + v] - data[(t - 1) * V + v]) * scale) ** 2;
    out[t] = Math.sqrt(s / V);
    std[t] = out[t] / sdMean;
  }
  return { dvars: out, std };
}

/**
 * numpy's median of `values` (reordered in place) by selection, not a
 * sort: a run's 12 million values would take seconds to sort.
 */
function median32(values: Float32Array): number {
  const n = values.length, k = Math.floor((n - 1) / 2);
  selectKth(values, k);
  if (n % 2) return values[k];
  let next = Infinity; // the smallest value above position k
  for (let i = k + 1; i < n; i++) if (values[i] < next) next = values[i];
  return (values[k] + next) / 2;
}

function quantileSorted(sorted: Float64Array, q: number): number {
  const pos = q * (sorted.length - 1), lo = Math.floor(pos), hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/** CompCor's components and what fMRIPrep's sidecar says of each. */
export interface CompCor {
  /** (T × k) row-major: the left singular vectors, largest first. */
  components: Float64Array;
  /** The singular values (k). */
  singularValues: number[];
  /** Each component's share of the variance (k). */
  varianceExplained: number[];
}

/**
 * CompCor (Behzadi et al. 2007) as nipype computes it for fMRIPrep: each
 * voxel's series high-pass filtered by the cosine basis (with the mean),
 * divided by its SD, and the top `k` left singular vectors of the result.
 * The singular vectors come from subspace iteration on the (T × T) Gram
 * matrix, which is far cheaper than a full decomposition for k ≪ T.
 *
 * @param backend the product M Mᵀ runs there
 * @param data (T × V) row-major: volumes × the noise region's voxels
 * @param options the components kept, the TR and the cosine cut-off (s, default 128)
 */
export async function compCor(
  backend: Backend,
  data: Float32Array,
  options: { volumes: number; voxels: number; components: number; tr: number; cutoff?: number },
): Promise<CompCor> {
  const T = options.volumes, V = options.voxels, k = options.components;
  if (data.length !== T * V) {
    throw new RangeError(`compCor: data has ${data.length} values, expected ${T} × ${V}`);
  }
  const basis = [
    Float64Array.from({ length: T }, () => 1 / Math.sqrt(T)),
    ...cosineBasis(T, options.tr, options.cutoff ?? 128),
  ];
  const mt = new Float32Array(V * T); // (V × T): each voxel filtered and normalized
  const x = new Float64Array(T);
  for (let v = 0; v < V; v++) {
    for (let t = 0; t < T; t++) x[t] = data[t * V + v];
    for (const b of basis) {
      let dot = 0;
      for (let t = 0; t < T; t++) dot += x[t] * b[t];
      for (let t = 0; t < T; t++) x[t] -= dot * b[t];
    }
    let ss = 0;
    for (let t = 0; t < T; t++) ss += x[t] * x[t];
    const sd = Math.sqrt(ss / T) || 1;
    for (let t = 0; t < T; t++) mt[v * T + t] = x[t] / sd;
  }
  const m = new Float32Array(T * V);
  for (let v = 0; v < V; v++) for (let t = 0; t < T; t++) m[t * V + v] = mt[v * T + t];
  const g = (await backend.gemm({ rows: T, cols: V, data: m }, { rows: V, cols: T, data: mt }))
    .data;
  let trace = 0;
  for (let t = 0; t < T; t++) trace += g[t * T + t];
  const { vectors, values } = topEigen(g, T, k);
  return {
    components: vectors,
    singularValues: values.map((w) => Math.sqrt(Math.max(w, 0))),
    varianceExplained: values.map((w) => w / trace),
  };
}

/**
 * The `k` largest eigenpairs of a symmetric positive semi-definite (n × n)
 * matrix by subspace iteration with a Rayleigh–Ritz step.
 */
function topEigen(
  g: ArrayLike<number>,
  n: number,
  k: number,
): { vectors: Float64Array; values: number[] } {
  const p = Math.min(n, k + 6);
  let q = new Float64Array(n * p);
  // A fixed start: the result must not depend on a random source.
  for (let i = 0; i < n; i++) for (let j = 0; j < p; j++) q[i * p + j] = Math.cos(i * (j + 1) + j);
  orthonormalize(q, n, p);
  for (let iter = 0; iter < 60; iter++) {
    q = multiply(g, q, n, p);
    orthonormalize(q, n, p);
  }
  const gq = multiply(g, q, n, p);
  const b = new Float64Array(p * p);
  for (let a = 0; a < p; a++) {
    for (let c = 0; c < p; c++) {
      let s = 0;
      for (let i = 0; i < n; i++) s += q[i * p + a] * gq[i * p + c];
      b[a * p + c] = s;
    }
  }
  for (let a = 0; a < p; a++) {
    for (let c = a + 1; c < p; c++) b[a * p + c] = b[c * p + a] = (b[a * p + c] + b[c * p + a]) / 2;
  }
  const small = eigh(b, p);
  const vectors = new Float64Array(n * k);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < k; j++) {
      let s = 0;
      for (let a = 0; a < p; a++) s += q[i * p + a] * small.vectors[a * p + j];
      vectors[i * k + j] = s;
    }
  }
  // A sign convention so that reruns and references agree: the largest |entry| positive.
  for (let j = 0; j < k; j++) {
    let big = 0;
    for (let i = 0; i < n; i++) {
      if (Math.abs(vectors[i * k + j]) > Math.abs(big)) big = vectors[i * k + j];
    }
    if (big < 0) { for (let i = 0; i < n; i++) vectors[i * k + j] *= -1; }
  }
  return { vectors, values: Array.from(small.values.subarray(0, k)) };
}

function multiply(
  g: ArrayLike<number>,
  q: Float64Array,
  n: number,
  p: number,
): Float64Array<ArrayBuffer> {
  const out = new Float64Array(n * p);
  for (let i = 0; i < n; i++) {
    for (let l = 0; l < n; l++) {
      const a = g[i * n + l];
      if (a === 0) continue;
      for (let j = 0; j < p; j++) out[i * p + j] += a * q[l * p + j];
    }
  }
  return out;
}

/** Modified Gram–Schmidt on the columns of (n × p) row-major `q`, in place. */
function orthonormalize(q: Float64Array, n: number, p: number): void {
  for (let j = 0; j < p; j++) {
    for (let c = 0; c < j; c++) {
      let dot = 0;
      for (let i = 0; i < n; i++) dot += q[i * p + j] * q[i * p + c];
      for (let i = 0; i < n; i++) q[i * p + j] -= dot * q[i * p + c];
    }
    let ss = 0;
    for (let i = 0; i < n; i++) ss += q[i * p + j] ** 2;
    const norm = Math.sqrt(ss) || 1;
    for (let i = 0; i < n; i++) q[i * p + j] /= norm;
  }
}

/**
 * A confounds table as fMRIPrep writes it: tab-separated, a header of the
 * column names, NaN as `n/a`, numbers in full precision.
 */
export function confoundsTsv(columns: readonly ConfoundColumn[]): string {
  const T = columns[0]?.values.length ?? 0;
  const lines = [columns.map((c) => c.name).join("\t")];
  for (let t = 0; t < T; t++) {
    lines.push(
      columns.map((c) => Number.isNaN(c.values[t]) ? "n/a" : String(c.values[t])).join("\t"),
    );
  }
  return lines.join("\n") + "\n";
}

/** Columns (voxels `cols`) of a (T × V) matrix, as (T × cols.length). */
function columns(data: Float32Array, T: number, V: number, cols: number[]): Float32Array {
  const out = new Float32Array(T * cols.length);
  for (let t = 0; t < T; t++) {
    for (let j = 0; j < cols.length; j++) out[t * cols.length + j] = data[t * V + cols[j]];
  }
  return out;
}

function rowMean(data: Float32Array, T: number, V: number, cols: number[]): Float64Array {
  const out = new Float64Array(T);
  for (let t = 0; t < T; t++) {
    let s = 0;
    for (const v of cols) s += data[t * V + v];
    out[t] = s / cols.length;
  }
  return out;
}

const TWO = (i: number) => String(i).padStart(2, "0");

/**
 * One run's confounds table and its sidecar, as fMRIPrep writes them:
 * global, CSF and white-matter signals with their expansions, DVARS, FD,
 * tCompCor (the 2% most variable voxels) and aCompCor (the noise region),
 * the cosine basis and the 24 motion columns.
 *
 * @param run (T × V) row-major: the run's BOLD on the mask
 * @param motion (T × 6) row-major, {@linkcode MOTION_COLUMNS} order
 * @param options T, V, TR, and the voxels (indices into V) standing for white matter and CSF
 * @returns the columns in fMRIPrep's order, and the CompCor columns' sidecar entries
 */
export async function fmriprepConfounds(
  backend: Backend,
  run: Float32Array,
  motion: Float64Array,
  options: { volumes: number; voxels: number; tr: number; wm: number[]; csf: number[] },
): Promise<{ columns: ConfoundColumn[]; sidecar: Record<string, unknown> }> {
  const T = options.volumes, V = options.voxels;
  const all = Array.from({ length: V }, (_, v) => v);
  const cols: ConfoundColumn[] = [
    ...expansions("global_signal", rowMean(run, T, V, all)),
    ...expansions("csf", rowMean(run, T, V, options.csf)),
    ...expansions("white_matter", rowMean(run, T, V, options.wm)),
    { name: "csf_wm", values: rowMean(run, T, V, [...options.csf, ...options.wm]) },
  ];
  const dv = dvars(run, T, V);
  cols.push({ name: "std_dvars", values: dv.std }, { name: "dvars", values: dv.dvars });
  cols.push({ name: "framewise_displacement", values: framewiseDisplacement(motion, T) });
  // tCompCor's region: the 2% of voxels with the largest temporal variance.
  const variance = all.map((v) => {
    let mu = 0, ss = 0;
    for (let t = 0; t < T; t++) mu += run[t * V + v] / T;
    for (let t = 0; t < T; t++) ss += (run[t * V + v] - mu) ** 2;
    return ss;
  });
  const top = [...all].sort((p, q) => variance[q] - variance[p]).slice(0, Math.ceil(0.02 * V));
  const sidecar: Record<string, unknown> = {};
  for (
    const [prefix, method, voxels, k, maskName] of [
      ["t_comp_cor", "tCompCor", top, 3, "tCompCor"],
      ["a_comp_cor", "aCompCor", [...options.csf, ...options.wm], 6, "combined"],
    ] as const
  ) {
    const c = await compCor(backend, columns(run, T, V, [...voxels]), {
      volumes: T,
      voxels: voxels.length,
      components: k,
      tr: options.tr,
    });
    let cumulative = 0;
    for (let j = 0; j < k; j++) {
      const name = `${prefix}_${TWO(j)}`;
      cols.push({
        name,
        values: Float64Array.from({ length: T }, (_, t) => c.components[t * k + j]),
      });
      cumulative += c.varianceExplained[j];
      sidecar[name] = {
        CumulativeVarianceExplained: cumulative,
        Mask: maskName,
        Method: method,
        Retained: true,
        SingularValue: c.singularValues[j],
        VarianceExplained: c.varianceExplained[j],
      };
    }
  }
  cosineBasis(T, options.tr).forEach((b, i) => cols.push({ name: `cosine${TWO(i)}`, values: b }));
  MOTION_COLUMNS.forEach((name, c) =>
    cols.push(...expansions(name, Float64Array.from({ length: T }, (_, t) => motion[t * 6 + c])))
  );
  return { columns: cols, sidecar };
}
