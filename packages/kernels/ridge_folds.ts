/**
 * Ridge CV's work on one block of targets with every fold at once: each
 * fold's held-out [X − x̄ | 1]ᵀY, their sum, and every α's held-out squared
 * errors from the training XᵀY, as one call to a backend that can fuse them
 * (the CPU backend with MLAS runs them as one onnxruntime session run, on
 * all cores; see `foldErrorsModel` in mlas_gemm.ts). The fold's training
 * XᵀY update (all rows' XᵀY less the fold's own, less the training mean's
 * share) is linear, so it is folded into the maps once per fit instead of
 * being applied to every block in JavaScript.
 *
 * Folds may differ in size: each is padded to the largest with zero rows
 * (zero columns of its left factors), which add nothing to the sums.
 *
 * @module
 */

/**
 * One block's inputs, F folds padded to L rows, S maps (α) per fold,
 * k = p + 1 columns of the design, m targets; all float32, row-major.
 */
export interface FoldProducts {
  /** F: the folds. */
  folds: number;
  /** L: rows per fold after padding (the largest fold's). */
  rows: number;
  /** S: maps per fold, one per α. */
  maps: number;
  /** k: columns of the design, p + 1. */
  k: number;
  /** m: the block's targets. */
  m: number;
  /** Each fold's held-out rows of Y, zero rows after its own: (F × L × m). */
  y: Float32Array;
  /** Each fold's held-out rows of [X − x̄ | 1], transposed, zero columns after its own: (F × k × L). */
  xh: Float32Array;
  /** Each fold's maps from (XᵀY − the fold's own) to its held-out predictions: (F × S·L × k). */
  g: Float32Array;
  /** 1 for a fold's real rows, 0 for padding: (F × L). */
  mask: Float32Array;
  /** Each fold's real rows: (F). */
  counts: Float32Array;
}

/** What {@linkcode FoldProducts} give, float32 sums. */
export interface FoldErrors {
  /** `H[f] = XH[f] · Y[f]`: (F × k × m). */
  held: Float32Array;
  /** `Σ_f H[f]`, XᵀY and (last row) Y's column sums on all rows: (k × m). */
  all: Float32Array;
  /** `Σ_i ((G[f] · (all − H[f]))[s·L + i, j] − Y[f, i, j])²`: (F × S × m). */
  sse: Float32Array;
  /** `Σ_i (Y[f, i, j] − ȳ_f,j)²` over the fold's real rows: (F × m); 0 for a constant column. */
  sst: Float32Array;
}

/** The parts of a fit that every block shares, built once by {@linkcode planFolds}. */
export type FoldPlan = Omit<FoldProducts, "m" | "y">;

/**
 * Build the shared inputs of a fit: the padded held-out designs, and each
 * fold's maps with its training update folded in. For a fold with held-out
 * XᵀY part H and all rows' A, the training rows' centered XᵀY is
 * `(A − H)[j] − shift_j · (A − H)[p]` and the training mean of y
 * `(A − H)[p] / nTrain` (0 without intercept), a (k × k) map M; so
 * `G = stacked · M`.
 *
 * @param xc1 the globally centered design with a last column of ones: (n × k)
 * @param folds held-out row ranges, tiling the rows in order
 * @param stacked per fold, every α's map to the held-out predictions: (S·nv × k), α-major
 * @param shifts per fold, its training mean of the centered design (p)
 * @param intercept whether the training mean of y is added
 * @returns the plan
 */
export function planFolds(
  xc1: { rows: number; cols: number; data: Float32Array },
  folds: readonly (readonly [number, number])[],
  stacked: readonly { rows: number; cols: number; data: Float32Array }[],
  shifts: readonly Float64Array[],
  intercept: boolean,
): FoldPlan {
  const n = xc1.rows, k = xc1.cols, p = k - 1, F = folds.length;
  const L = Math.max(...folds.map(([s, e]) => e - s));
  const S = stacked[0].rows / (folds[0][1] - folds[0][0]);
  const xh = new Float32Array(F * k * L), g = new Float32Array(F * S * L * k);
  const mask = new Float32Array(F * L), counts = new Float32Array(F);
  folds.forEach(([s, e], f) => {
    const nv = e - s, st = stacked[f].data, shift = shifts[f];
    counts[f] = nv;
    for (let i = 0; i < nv; i++) {
      mask[f * L + i] = 1;
      for (let j = 0; j < k; j++) xh[(f * k + j) * L + i] = xc1.data[(s + i) * k + j];
    }
    const meanShare = intercept ? 1 / (n - nv) : 0;
    for (let a = 0; a < S; a++) {
      for (let i = 0; i < nv; i++) {
        const src = (a * nv + i) * k, dst = ((f * S + a) * L + i) * k;
        let last = st[src + p] * meanShare;
        for (let j = 0; j < p; j++) {
          g[dst + j] = st[src + j];
          last -= st[src + j] * shift[j];
        }
        g[dst + p] = last;
      }
    }
  });
  return { folds: F, rows: L, maps: S, k, xh, g, mask, counts };
}

/**
 * Copy a block of targets into the padded per-fold layout of
 * {@linkcode FoldProducts}' `y`, padding rows zeroed (a reused buffer
 * holds another width's rows there).
 *
 * @param y targets: `data` with row stride `stride`, the block starting at column `c0`
 * @param folds held-out row ranges
 * @param L rows per fold after padding
 * @param m the block's width
 * @param out (F × L × m), at least
 */
export function foldRowsOf(
  y: { data: Float32Array; stride: number; offset: number },
  folds: readonly (readonly [number, number])[],
  L: number,
  m: number,
  out: Float32Array,
): void {
  folds.forEach(([s, e], f) => {
    for (let r = s; r < e; r++) {
      const from = y.offset + r * y.stride;
      out.set(y.data.subarray(from, from + m), (f * L + r - s) * m);
    }
    out.fill(0, (f * L + e - s) * m, (f + 1) * L * m);
  });
}

/**
 * The plain TypeScript reference of {@linkcode FoldErrors} (float64 sums):
 * what the fused backends are tested against.
 *
 * @param input one block
 * @returns held, all, sse, sst
 */
export function foldErrorsReference(input: FoldProducts): FoldErrors {
  const { folds: F, rows: L, maps: S, k, m, y, xh, g, mask, counts } = input;
  const held = new Float32Array(F * k * m), all = new Float32Array(k * m);
  const sse = new Float32Array(F * S * m), sst = new Float32Array(F * m);
  const h64 = new Float64Array(F * k * m);
  for (let f = 0; f < F; f++) {
    for (let j = 0; j < k; j++) {
      for (let c = 0; c < m; c++) {
        let acc = 0;
        for (let i = 0; i < L; i++) acc += xh[(f * k + j) * L + i] * y[(f * L + i) * m + c];
        h64[(f * k + j) * m + c] = acc;
      }
    }
  }
  for (let i = 0; i < k * m; i++) {
    let acc = 0;
    for (let f = 0; f < F; f++) acc += h64[f * k * m + i];
    all[i] = acc;
  }
  for (let f = 0; f < F; f++) {
    held.set(Float32Array.from(h64.subarray(f * k * m, (f + 1) * k * m)), f * k * m);
    for (let c = 0; c < m; c++) {
      for (let a = 0; a < S; a++) {
        let e2 = 0;
        for (let i = 0; i < L; i++) {
          let pred = 0;
          for (let j = 0; j < k; j++) {
            pred += g[((f * S + a) * L + i) * k + j] * (all[j * m + c] - h64[(f * k + j) * m + c]);
          }
          const d = pred - y[(f * L + i) * m + c];
          e2 += d * d;
        }
        sse[(f * S + a) * m + c] = e2;
      }
      let mean = 0;
      for (let i = 0; i < L; i++) mean += mask[f * L + i] * y[(f * L + i) * m + c];
      mean /= counts[f];
      let t = 0;
      for (let i = 0; i < L; i++) t += mask[f * L + i] * (y[(f * L + i) * m + c] - mean) ** 2;
      sst[f * m + c] = t;
    }
  }
  return { held, all, sse, sst };
}
