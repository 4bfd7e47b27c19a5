/** Seeded random inputs and comparisons for the kernel tests. */

import type { LassoBatch } from "./lasso_batch.ts";
import type { Matrix } from "./matrix.ts";
import { rng } from "./random.ts";

export { rng };

/** Standard normal samples (Box–Muller). */
export function normal(rand: () => number, count: number): Float32Array {
  const out = new Float32Array(count);
  for (let i = 0; i < count; i += 2) {
    const u = Math.max(rand(), 1e-12), v = rand();
    const r = Math.sqrt(-2 * Math.log(u));
    out[i] = r * Math.cos(2 * Math.PI * v);
    if (i + 1 < count) out[i + 1] = r * Math.sin(2 * Math.PI * v);
  }
  return out;
}

/** A (rows × cols) matrix of standard normal values. */
export function randomMatrix(rows: number, cols: number, seed: number): Matrix {
  return { rows, cols, data: normal(rng(seed), rows * cols) };
}

/** Largest |a − b| / (atol + |b|) over all elements. */
export function maxRelativeError(a: ArrayLike<number>, b: ArrayLike<number>, atol = 1e-6): number {
  if (a.length !== b.length) throw new RangeError(`lengths differ: ${a.length} vs ${b.length}`);
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    worst = Math.max(worst, Math.abs(a[i] - b[i]) / (atol + Math.abs(b[i])));
  }
  return worst;
}

/** Max |a − b| relative to the largest |b|: the error scale of a float32 product. */
export function scaledError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new RangeError(`lengths differ: ${a.length} vs ${b.length}`);
  let worst = 0, scale = 0;
  for (let i = 0; i < b.length; i++) {
    scale = Math.max(scale, Math.abs(b[i]));
    worst = Math.max(worst, Math.abs(a[i] - b[i]));
  }
  return worst / (scale || 1);
}

/**
 * Signals made of known atoms: K smooth unit-norm atoms (T × K), and N
 * signals (T × N) each a random mix of `perSignal` of them plus noise.
 */
export function plantedSignals(
  o: { T: number; K: number; N: number; perSignal: number; noise: number; seed: number },
): { atoms: Matrix; signals: Matrix } {
  const rand = rng(o.seed);
  const atoms = new Float32Array(o.T * o.K);
  for (let k = 0; k < o.K; k++) {
    // A sum of a few random sinusoids: smooth like a convolved time course.
    let norm = 0;
    const f = [1 + rand() * 6, 1 + rand() * 6, 1 + rand() * 6],
      ph = [rand(), rand(), rand()].map((v) => v * 6.28);
    for (let t = 0; t < o.T; t++) {
      const v = f.reduce((s, fi, i) => s + Math.sin((2 * Math.PI * fi * t) / o.T + ph[i]), 0);
      atoms[t * o.K + k] = v;
      norm += v * v;
    }
    for (let t = 0; t < o.T; t++) atoms[t * o.K + k] /= Math.sqrt(norm);
  }
  const signals = new Float32Array(o.T * o.N);
  const noise = normal(rand, o.T * o.N);
  for (let n = 0; n < o.N; n++) {
    for (let j = 0; j < o.perSignal; j++) {
      const k = Math.floor(rand() * o.K), w = (rand() < 0.5 ? -1 : 1) * (0.5 + rand());
      for (let t = 0; t < o.T; t++) signals[t * o.N + n] += w * atoms[t * o.K + k];
    }
    for (let t = 0; t < o.T; t++) {
      signals[t * o.N + n] += (o.noise / Math.sqrt(o.T)) * noise[t * o.N + n];
    }
  }
  return {
    atoms: { rows: o.T, cols: o.K, data: atoms },
    signals: { rows: o.T, cols: o.N, data: signals },
  };
}

/** Pearson r between every column of a and every column of b: (a.cols × b.cols). */
export function pearsonColumns(a: Matrix, b: Matrix): Float64Array {
  const T = a.rows, out = new Float64Array(a.cols * b.cols);
  const col = (m: Matrix, c: number) => {
    const v = Float64Array.from({ length: T }, (_, t) => m.data[t * m.cols + c]);
    const mu = v.reduce((s, x) => s + x, 0) / T;
    const sd = Math.sqrt(v.reduce((s, x) => s + (x - mu) ** 2, 0)) || 1;
    return v.map((x) => (x - mu) / sd);
  };
  const ca = Array.from({ length: a.cols }, (_, i) => col(a, i));
  const cb = Array.from({ length: b.cols }, (_, j) => col(b, j));
  for (let i = 0; i < a.cols; i++) {
    for (let j = 0; j < b.cols; j++) {
      out[i * b.cols + j] = ca[i].reduce((s, x, t) => s + x * cb[j][t], 0);
    }
  }
  return out;
}

/**
 * A LASSO batch of a design and targets: Gram matrix, Xᵀy, yᵀy and α scale
 * from the first `nTrain` rows, the rest held out; `nA` penalties from 1 to
 * 1e-3 (relative to each target's α_max scale), tolerance 1e-6.
 *
 * @param x design (n × p), row-major
 * @param y targets (n × V), row-major
 */
export function lassoBatchOf(
  x: Float32Array,
  y: Float32Array,
  sizes: { n: number; nTrain: number; p: number; V: number; nA: number },
): LassoBatch {
  const { n, nTrain, p, V, nA } = sizes;
  const cross = (
    a: Float32Array,
    ca: number,
    b: Float32Array,
    cb: number,
    r0: number,
    r1: number,
  ) => {
    const out = new Float32Array(ca * cb);
    for (let r = r0; r < r1; r++) {
      for (let j = 0; j < ca; j++) {
        for (let k = 0; k < cb; k++) out[j * cb + k] += a[r * ca + j] * b[r * cb + k];
      }
    }
    return out;
  };
  const q = cross(x, p, y, V, 0, nTrain);
  const yy = new Float32Array(V), hyy = new Float32Array(V), scale = new Float32Array(V);
  for (let c = 0; c < V; c++) {
    for (let r = 0; r < n; r++) (r < nTrain ? yy : hyy)[c] += y[r * V + c] ** 2;
    for (let j = 0; j < p; j++) scale[c] = Math.max(scale[c], Math.abs(q[j * V + c]));
  }
  return {
    p,
    gram: cross(x, p, x, p, 0, nTrain),
    q,
    yy,
    scale,
    path: Float64Array.from({ length: nA }, (_, i) => 10 ** (-3 * i / (nA - 1))),
    tol: 1e-6,
    heldOut: { gram: cross(x, p, x, p, nTrain, n), q: cross(x, p, y, V, nTrain, n), yy: hyy },
  };
}
