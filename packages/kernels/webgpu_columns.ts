/**
 * The per-column reductions of the WebGPU backend: column statistics,
 * correlations and stacked R². Each is tiled over column blocks that fit one
 * storage binding and over row chunks short enough for Mesa's loop limit
 * ({@linkcode ROWS_PER_INVOCATION}); the chunks' means and centred sums are
 * merged here in float64 with the pairwise update of Chan, Golub and LeVeque
 * (1979), so a long column costs no accuracy.
 *
 * @module
 */

import type { Matrix, MatrixView } from "./matrix.ts";
import { validateMatrix } from "./matrix.ts";
import { type KernelContext, packPadded } from "./webgpu_context.ts";
import { type KernelSet, ROWS_PER_INVOCATION } from "./webgpu_kernels.ts";

/** What the tiling may use on a device. */
export interface ColumnLimits {
  /** Elements in one storage binding. */
  maxElems: number;
  /** Workgroups per dispatch dimension. */
  maxWg: number;
  /** Rows per kernel invocation. Default: {@linkcode ROWS_PER_INVOCATION}. */
  rowsPerInvocation?: number;
}

/**
 * Merge a chunk of nB rows (its mean and Σ (x − mean)²) into the running
 * `mean` and `m2` of column `at` over nA rows, in place. Returns the chunk's
 * mean minus the running mean before the merge, δ, from which a pair of
 * columns' co-moment gains δa·δb·nA·nB/(nA + nB).
 */
function mergeInto(
  mean: Float64Array,
  m2: Float64Array,
  at: number,
  nA: number,
  nB: number,
  meanB: number,
  m2B: number,
): number {
  const delta = meanB - mean[at], n = nA + nB;
  mean[at] += delta * nB / n;
  m2[at] += m2B + delta * delta * nA * nB / n;
  return delta;
}

/**
 * Column blocks (start, width) and row chunks (start, height) of a
 * (rows × cols) reduction whose column block holds `rowsPerColumnBlock`
 * chunks of rows (S + 1 for stacked R²), each block within one binding.
 */
function* tiles(
  rows: number,
  cols: number,
  rowsPerColumnBlock: number,
  limits: ColumnLimits,
): Generator<{ c0: number; nc: number; r0: number; nr: number }> {
  const chunk = Math.max(
    1,
    Math.min(
      rows,
      limits.rowsPerInvocation ?? ROWS_PER_INVOCATION,
      Math.floor(limits.maxElems / rowsPerColumnBlock),
    ),
  );
  const step = Math.max(
    1,
    Math.min(cols, Math.floor(limits.maxElems / (chunk * rowsPerColumnBlock)), limits.maxWg * 64),
  );
  for (let c0 = 0; c0 < cols; c0 += step) {
    const nc = Math.min(step, cols - c0);
    for (let r0 = 0; r0 < rows; r0 += chunk) yield { c0, nc, r0, nr: Math.min(chunk, rows - r0) };
  }
}

/**
 * Per-column mean and population standard deviation on the device.
 *
 * @param x (n × p)
 * @returns `mean` and `std`, each of length p
 */
export async function columnStatsOnDevice(
  ctx: KernelContext,
  kernels: KernelSet,
  x: MatrixView,
  limits: ColumnLimits,
): Promise<{ mean: Float32Array; std: Float32Array }> {
  validateMatrix("x", x, false);
  const { rows, cols } = x;
  const mean = new Float64Array(cols), m2 = new Float64Array(cols);
  for (const { c0, nc, r0, nr } of tiles(rows, cols, 1, limits)) {
    const res = await ctx.run(
      kernels.columnStats,
      { rows: nr, cols: nc },
      [packPadded(x, false, r0, nr, c0, nc, nr, nc)],
      2 * nc,
    );
    for (let c = 0; c < nc; c++) {
      mergeInto(mean, m2, c0 + c, r0, nr, res[c], res[nc + c] * res[nc + c] * nr);
    }
  }
  return {
    mean: Float32Array.from(mean),
    std: Float32Array.from(m2, (s) => Math.sqrt(s / rows)),
  };
}

/**
 * Per-column Pearson correlation on the device; 0 where a column is constant.
 *
 * @param a (n × p)
 * @param b (n × p)
 * @returns r, length p
 */
export async function columnCorrelationOnDevice(
  ctx: KernelContext,
  kernels: KernelSet,
  a: MatrixView,
  b: MatrixView,
  limits: ColumnLimits,
): Promise<Float32Array> {
  validateMatrix("a", a, false);
  validateMatrix("b", b, false);
  if (a.rows !== b.rows || a.cols !== b.cols) {
    throw new RangeError(
      `columnCorrelation: shapes differ: ${a.rows} × ${a.cols} and ${b.rows} × ${b.cols}`,
    );
  }
  const { rows, cols } = a;
  const ma = new Float64Array(cols), mb = new Float64Array(cols);
  const saa = new Float64Array(cols), sbb = new Float64Array(cols), sab = new Float64Array(cols);
  for (const { c0, nc, r0, nr } of tiles(rows, cols, 2, limits)) {
    const res = await ctx.run(
      kernels.columnCorrelation,
      { rows: nr, cols: nc },
      [
        packPadded(a, false, r0, nr, c0, nc, nr, nc),
        packPadded(b, false, r0, nr, c0, nc, nr, nc),
      ],
      5 * nc,
    );
    for (let c = 0; c < nc; c++) {
      const at = c0 + c;
      const da = mergeInto(ma, saa, at, r0, nr, res[c], res[2 * nc + c]);
      const db = mergeInto(mb, sbb, at, r0, nr, res[nc + c], res[3 * nc + c]);
      sab[at] += res[4 * nc + c] + da * db * r0 * nr / (r0 + nr);
    }
  }
  return Float32Array.from(
    { length: cols },
    (_, c) => saa[c] > 0 && sbb[c] > 0 ? sab[c] / Math.sqrt(saa[c] * sbb[c]) : 0,
  );
}

/**
 * R² of S stacked predictions on the device (see `Backend.stackedR2`).
 *
 * @param pred (S·n × p): S blocks of n rows
 * @param y (n × p)
 * @returns (S × p), row-major
 */
export async function stackedR2OnDevice(
  ctx: KernelContext,
  kernels: KernelSet,
  pred: MatrixView,
  y: MatrixView,
  limits: ColumnLimits,
): Promise<Matrix> {
  validateMatrix("pred", pred, false);
  validateMatrix("y", y, false);
  const n = y.rows, p = y.cols;
  if (pred.cols !== p || pred.rows % n !== 0) {
    throw new RangeError(
      `stackedR2: pred is ${pred.rows} × ${pred.cols}; expected S·${n} × ${p}`,
    );
  }
  const S = pred.rows / n;
  const mean = new Float64Array(p), sst = new Float64Array(p), sse = new Float64Array(S * p);
  // A column block holds S + 1 chunks of rows: the S predictions and y.
  for (const { c0, nc, r0, nr } of tiles(n, p, S + 1, limits)) {
    const predBlock = new Float32Array(S * nr * nc);
    for (let s = 0; s < S; s++) {
      predBlock.set(packPadded(pred, false, s * n + r0, nr, c0, nc, nr, nc), s * nr * nc);
    }
    const res = await ctx.run(
      kernels.stackedR2,
      { n: nr, p: nc, S },
      [predBlock, packPadded(y, false, r0, nr, c0, nc, nr, nc)],
      (S + 2) * nc,
    );
    for (let c = 0; c < nc; c++) {
      mergeInto(mean, sst, c0 + c, r0, nr, res[c], res[nc + c]);
      for (let s = 0; s < S; s++) sse[s * p + c0 + c] += res[(2 + s) * nc + c];
    }
  }
  const out = new Float32Array(S * p);
  for (let s = 0; s < S; s++) {
    for (let j = 0; j < p; j++) {
      const e = sse[s * p + j];
      out[s * p + j] = sst[j] > 0 ? 1 - e / sst[j] : (e === 0 ? 1 : 0);
    }
  }
  return { rows: S, cols: p, data: out };
}
