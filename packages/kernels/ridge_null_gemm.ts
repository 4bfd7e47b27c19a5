/**
 * The per-target half of {@linkcode RidgeRefits} as BLAS products: the
 * same arithmetic as `wasm/ridge_null.c` (see its header), with the O(K²)
 * part per target done by the backend's GEMM instead of 128-bit WebAssembly
 * SIMD. The host sorts each block's targets by (α, weight α), so targets
 * sharing an α are a contiguous range of columns; for each design, fold and
 * such range one product gives the fold's weights and what the held-out
 * variance needs:
 *
 *   [W; C_f W] = [M_f(α); C_f M_f(α)] · XTY_f[:, range]   (2K × K)·(K × n)
 *
 * with M_f(α) = (G_f + αI)⁻¹ and C_f = R_fᵀR_f the held-out Gram matrix.
 * The O(K) rest per target (training XᵀY from the fold sums, cov = Σ W∘g,
 * var = Σ W∘(C_f W), Fisher z, tanh) are typed-array loops in this thread.
 *
 * @module
 */

import type { Backend } from "./backend.ts";
import { fisherZ } from "./_fisher.ts";
import type { RefitShare } from "./ridge_null_wasm.ts";

/** Floats of one fold's part of a design record (`fold_size` in `wasm/ridge_null.c`). */
function foldSize(K: number, nA: number): number {
  return 2 * K + K * K + nA * K + nA * K * K + K * K;
}

/**
 * Per design and fold, `[M_f(α); C_f M_f(α)]` for every α of the grid:
 * (F × nA × 2K × K), float32, row-major per α. Computed once per batch of
 * designs (kept with its records) and reused for every subject and block.
 *
 * @param backend computes C_f · M_f(α)
 * @param records the batch's design records (B × record size)
 * @param dims regressors K, folds F, designs B, penalties nA of the records
 * @returns (B × F × nA × 2K × K)
 */
export async function foldSolvers(
  backend: Backend,
  records: Float32Array,
  dims: { K: number; F: number; B: number; nA: number },
): Promise<Float32Array> {
  const { K, F, B, nA } = dims, KK = K * K, fsz = foldSize(K, nA);
  const rec = records.length / B, out = new Float32Array(B * F * nA * 2 * KK);
  const c = new Float32Array(KK);
  for (let b = 0; b < B; b++) {
    for (let f = 0; f < F; f++) {
      const base = b * rec + f * fsz, mAt = base + 2 * K + KK + nA * K, rAt = mAt + nA * KK;
      const R = records.subarray(rAt, rAt + KK);
      // C = RᵀR in float64: R is upper triangular, so k ≤ min(i, j).
      for (let i = 0; i < K; i++) {
        for (let j = i; j < K; j++) {
          let acc = 0;
          for (let k = 0; k <= i; k++) acc += R[k * K + i] * R[k * K + j];
          c[i * K + j] = c[j * K + i] = acc;
        }
      }
      for (let a = 0; a < nA; a++) {
        const dst = ((b * F + f) * nA + a) * 2 * KK,
          M = records.subarray(mAt + a * KK, mAt + (a + 1) * KK);
        out.set(M, dst);
        await backend.gemm(
          { rows: K, cols: K, data: c },
          { rows: K, cols: K, data: M },
          { out: out.subarray(dst + KK, dst + 2 * KK) },
        );
      }
    }
  }
  return out;
}

/**
 * Columns per product: a run of targets sharing an α is cut into pieces of
 * at most this many, so that a piece's XᵀY, its products and its running
 * sums stay in the core's cache between the fold loop's passes.
 */
const PIECE = 512;

/** Runs of equal values in idx[0 … n − 1], cut at `most` long: [start, end, value] triples. */
function runs(idx: Int32Array, n: number, most: number): number[] {
  const out: number[] = [];
  let s = 0;
  for (let c = 1; c <= n; c++) {
    if (c === n || idx[c] !== idx[s] || c - s === most) {
      out.push(s, c, idx[s]);
      s = c;
    }
  }
  return out;
}

/**
 * Held-out r (nb × vp) and weights (nb × K × vp) of a share's designs, as
 * `refitShareWasm` computes them, written into the share's
 * `rOut` and `weightsOut`.
 *
 * @param backend runs the products
 * @param share the designs, fold products and targets (see {@linkcode RefitShare})
 * @param solvers the share's `[M_f(α); C_f M_f(α)]` from {@linkcode foldSolvers}: (nb × F × nA × 2K × K)
 */
export async function refitShareGemm(
  backend: Backend,
  share: RefitShare,
  solvers: Float32Array,
): Promise<void> {
  const { K, F, nb, vp, nA, nW, P, foldSum, foldSS, records, rOut, weightsOut } = share;
  const KK = K * K, fsz = foldSize(K, nA), rec = records.length / nb, slab = nb * K * vp;
  const pieces = runs(share.alphaIndex, vp, PIECE), wIdx = share.weightIndex;
  const tot = new Float32Array(K * PIECE), xty = new Float32Array(K * PIECE);
  const wc = new Float32Array(2 * K * PIECE), ytot = new Float32Array(vp);
  const z = new Float64Array(PIECE), cov = new Float64Array(PIECE), vr = new Float64Array(PIECE);
  const strain = new Float32Array(PIECE), sf = new Float32Array(PIECE);
  for (let f = 0; f < F; f++) {
    for (let c = 0; c < vp; c++) ytot[c] += foldSum[f * vp + c];
  }
  for (let b = 0; b < nb; b++) {
    const des = b * rec, full = des + F * fsz, muAll = records.subarray(full, full + K);
    const mwAt = full + K + KK + nW * K;
    for (let g = 0; g < pieces.length; g += 3) {
      const c0 = pieces[g], n = pieces[g + 1] - c0, a = pieces[g + 2];
      // Σ_f P_f over the piece's columns: (K × n).
      for (let j = 0; j < K; j++) {
        const row = j * n, src = b * K * vp + j * vp + c0;
        for (let i = 0; i < n; i++) tot[row + i] = P[src + i];
        for (let f = 1; f < F; f++) {
          const at = f * slab + src;
          for (let i = 0; i < n; i++) tot[row + i] += P[at + i];
        }
      }
      z.fill(0, 0, n);
      for (let f = 0; f < F; f++) {
        const pAt = f * slab + b * K * vp + c0, sAt = f * vp + c0, fAt = des + f * fsz;
        for (let i = 0; i < n; i++) {
          sf[i] = foldSum[sAt + i];
          strain[i] = ytot[c0 + i] - sf[i];
        }
        // Training XᵀY, centered: Σ_{g≠f} P_g − μ_f·(Σ y − Σ_f y).
        for (let j = 0; j < K; j++) {
          const row = j * n, src = pAt + j * vp, m = records[fAt + j];
          for (let i = 0; i < n; i++) {
            xty[row + i] = tot[row + i] - P[src + i] - m * strain[i];
          }
        }
        const aAt = ((b * F + f) * nA + a) * 2 * KK;
        await backend.gemm(
          { rows: 2 * K, cols: K, data: solvers.subarray(aAt, aAt + 2 * KK) },
          { rows: K, cols: n, data: xty },
          { out: wc },
        );
        cov.fill(0, 0, n);
        vr.fill(0, 0, n);
        for (let j = 0; j < K; j++) {
          const wRow = j * n, cwRow = (K + j) * n, src = pAt + j * vp, xb = records[fAt + K + j];
          for (let i = 0; i < n; i++) {
            const w = wc[wRow + i];
            // Held-out XᵀY, centered: P_f − x̄_f·Σ_f y.
            cov[i] += w * (P[src + i] - xb * sf[i]);
            vr[i] += w * wc[cwRow + i];
          }
        }
        for (let i = 0; i < n; i++) {
          const v = vr[i], y = foldSS[sAt + i];
          z[i] += fisherZ(v > 0 && y > 0 ? cov[i] / Math.sqrt(v * y) : 0);
        }
      }
      for (let i = 0; i < n; i++) rOut[b * vp + c0 + i] = Math.tanh(z[i] / F);
      // Weights on all samples: M(α_w) (Σ_f P_f − μ·Σ y), per run of one weight α.
      for (let j = 0; j < K; j++) {
        const row = j * n, m = muAll[j];
        for (let i = 0; i < n; i++) xty[row + i] = tot[row + i] - m * ytot[c0 + i];
      }
      for (let s = 0; s < n;) {
        let e = s + 1;
        while (e < n && wIdx[c0 + e] === wIdx[c0 + s]) e++;
        const w = wIdx[c0 + s], m = e - s;
        await backend.gemm(
          { rows: K, cols: K, data: records.subarray(mwAt + w * KK, mwAt + (w + 1) * KK) },
          { rows: K, cols: m, data: xty, rowStride: n, offset: s },
          { out: wc },
        );
        for (let j = 0; j < K; j++) {
          weightsOut.set(wc.subarray(j * m, (j + 1) * m), (b * K + j) * vp + c0 + s);
        }
        s = e;
      }
    }
  }
}
