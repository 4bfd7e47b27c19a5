/**
 * The per-target half of {@linkcode RidgeRefits} as large BLAS products:
 * the arithmetic of `wasm/ridge_null.c` (see its header) in the training
 * eigenbasis, so that every target of a block shares one product per
 * design and fold whatever its α. With G_f = E diag(s²) Eᵀ the training
 * Gram matrix of fold f, C_f the held-out one and d_α = 1/(s² + α):
 *
 *   A   = Eᵀ Σ_g P_g,  B = Eᵀ P_f                    two products (K × K)·(K × n)
 *   û   = (A − B − (Eᵀμ_f)·(Σ y − Σ_f y)) ∘ d_α      the fold's weights, w = E û
 *   cov = Σ_k û ∘ (B − (Eᵀx̄_f)·Σ_f y)                = wᵀ g (held-out XᵀY, centered)
 *   var = Σ_k û ∘ (Q_f û),  Q_f = Eᵀ C_f E           = wᵀ C_f w, a third product
 *
 * and r_f = cov / √(var · yss_f), r = tanh(mean_f atanh r_f); the weights on
 * all samples are E_w ((E_wᵀ Σ_g P_g − (E_wᵀμ)·Σ y) ∘ d_α,w), two more.
 * That is 3 K² per target and fold where the kernel's sorted-α form needs
 * 1.5 K², but in products of n = {@linkcode COLUMNS} targets at once, which
 * a BLAS with 256- or 512-bit vectors runs many times faster than 128-bit
 * WebAssembly; the targets need no sorting by α. What is left per target is
 * O(K) and streams: two passes per fold over (K × n), in WebAssembly SIMD
 * (`null_fold`, `null_score`) in this thread, on buffers in the module's
 * memory that the products write and read directly.
 *
 * @module
 */

import type { Backend } from "./backend.ts";
import type { RefitShare } from "./ridge_null_wasm.ts";

/** Floats of one fold's part of a design record (`fold_size` in `wasm/ridge_null.c`). */
function foldSize(K: number, nA: number): number {
  return 2 * K + K * K + nA * K + nA * K * K + K * K;
}

/**
 * Targets per product: wide enough for the BLAS to run near its peak, and
 * narrow enough that a column block's (K × n) intermediates stay in cache
 * between the products and the passes that read them. Not a power of two:
 * the passes read K rows at once, and rows 8 KiB apart would all fall in
 * the same sets of the L1 cache.
 */
const COLUMNS = 2036;

/** Per design, what {@linkcode refitShareGemm} multiplies by, from its record (float32). */
export interface EigenDesign {
  /** [E_1ᵀ; …; E_Fᵀ; E_wᵀ]: ((F + 1)·K × K). */
  rotations: Float32Array;
  /** Q_f = E_fᵀ C_f E_f per fold: (F × K × K). */
  heldGram: Float32Array;
  /** E_w, the all-sample eigenvectors: (K × K). */
  weightBasis: Float32Array;
  /** E_fᵀ μ_f and E_fᵀ x̄_f per fold, then E_wᵀ μ: ((2F + 1) × K). */
  means: Float32Array;
  /** 1/(s² + α) per fold and α of the grid: (F × nA × K); then per weight α: (nW × K). */
  scales: Float32Array;
}

/**
 * Each design's rotations and held-out Gram matrices in its training
 * eigenbasis, from the records `RidgeRefits.designs` wrote (float64
 * arithmetic, float32 results). Computed once per batch of designs and
 * reused for every subject and block.
 *
 * @param records the batch's design records (B × record size)
 * @param dims regressors K, folds F, designs B, penalties nA and weight penalties nW
 * @returns one {@linkcode EigenDesign} per design
 */
export function eigenDesigns(
  records: Float32Array,
  dims: { K: number; F: number; B: number; nA: number; nW: number },
): EigenDesign[] {
  const { K, F, B, nA, nW } = dims, KK = K * K, fsz = foldSize(K, nA);
  const rec = records.length / B;
  // Eᵀv for E stored with E[j·K + i] = component j of eigenvector i.
  const rotate = (E: Float32Array, v: Float32Array, out: Float32Array, at: number) => {
    for (let i = 0; i < K; i++) {
      let acc = 0;
      for (let j = 0; j < K; j++) acc += E[j * K + i] * v[j];
      out[at + i] = acc;
    }
  };
  const transposed = (E: Float32Array, out: Float32Array, at: number) => {
    for (let i = 0; i < K; i++) for (let j = 0; j < K; j++) out[at + i * K + j] = E[j * K + i];
  };
  return Array.from({ length: B }, (_, b) => {
    const base = b * rec;
    const rotations = new Float32Array((F + 1) * KK), heldGram = new Float32Array(F * KK);
    const means = new Float32Array((2 * F + 1) * K), scales = new Float32Array((F * nA + nW) * K);
    const re = new Float64Array(KK);
    for (let f = 0; f < F; f++) {
      const at = base + f * fsz, mu = records.subarray(at, at + K);
      const xbar = records.subarray(at + K, at + 2 * K);
      const E = records.subarray(at + 2 * K, at + 2 * K + KK);
      const d = records.subarray(at + 2 * K + KK, at + 2 * K + KK + nA * K);
      const rAt = at + 2 * K + KK + nA * K + nA * KK, R = records.subarray(rAt, rAt + KK);
      transposed(E, rotations, f * KK);
      rotate(E, mu, means, f * K);
      rotate(E, xbar, means, (F + f) * K);
      scales.set(d, f * nA * K);
      // Q = (R E)ᵀ (R E), with R upper triangular: Rᵀ R = C_f.
      for (let i = 0; i < K; i++) {
        for (let j = 0; j < K; j++) {
          let acc = 0;
          for (let k = i; k < K; k++) acc += R[i * K + k] * E[k * K + j];
          re[i * K + j] = acc;
        }
      }
      for (let i = 0; i < K; i++) {
        for (let j = i; j < K; j++) {
          let acc = 0;
          for (let k = 0; k < K; k++) acc += re[k * K + i] * re[k * K + j];
          heldGram[f * KK + i * K + j] = heldGram[f * KK + j * K + i] = acc;
        }
      }
    }
    const full = base + F * fsz, Ew = records.subarray(full + K, full + K + KK);
    transposed(Ew, rotations, F * KK);
    rotate(Ew, records.subarray(full, full + K), means, 2 * F * K);
    scales.set(records.subarray(full + K + KK, full + K + KK + nW * K), F * nA * K);
    return { rotations, heldGram, weightBasis: Float32Array.from(Ew), means, scales };
  });
}

/** The exports of `wasm/ridge_null.c` this path uses: its streaming passes. */
export interface NullPasses {
  memory: WebAssembly.Memory;
  alloc(bytes: number): number;
  reset(): void;
  null_sum(F: number, m: number, x: number, out: number): void;
  null_fold(...args: number[]): void;
  null_score(...args: number[]): void;
  null_r(F: number, n: number, z: number, r: number): void;
  null_weights(...args: number[]): void;
}

/**
 * Held-out r (nb × vp) and weights (nb × K × vp) of a share's designs, as
 * `refitShareWasm` computes them, written into the share's `rOut` and
 * `weightsOut`. The share's targets may be in any order.
 *
 * @param backend runs the products
 * @param share the designs, fold products and targets (see {@linkcode RefitShare})
 * @param designs the share's designs from {@linkcode eigenDesigns} (nb)
 * @param wasm an instance of `wasm/ridge_null.c` that nothing else uses until
 *   this resolves (its memory holds the buffers across the products' awaits)
 * @throws {RangeError} when the module's memory cannot hold a column block
 */
export async function refitShareGemm(
  backend: Backend,
  share: RefitShare,
  designs: EigenDesign[],
  wasm: NullPasses,
): Promise<void> {
  const { K, F, nb, vp, nA, nW, P, foldSum, foldSS, alphaIndex, weightIndex, rOut, weightsOut } =
    share;
  const KK = K * K, slab = nb * K * vp, W = Math.min(COLUMNS, vp), KW = K * W;
  wasm.reset();
  const sizes = {
    rotated: (F + 1) * KW,
    held: KW,
    u: KW,
    qu: KW,
    ysum: F * W,
    ytot: W,
    yss: F * W,
    aIdx: W,
    wIdx: W,
    cov: W,
    z: 2 * W,
    r: W,
    means: (2 * F + 1) * K,
    scales: (F * nA + nW) * K,
  };
  const at = {} as Record<keyof typeof sizes, number>;
  for (const [name, count] of Object.entries(sizes) as [keyof typeof sizes, number][]) {
    at[name] = wasm.alloc(count * 4);
    if (at[name] === 0) {
      throw new RangeError(
        `ridge refits: WebAssembly memory exhausted for a block of ${W} targets × ${K} regressors`,
      );
    }
  }
  // Views only after every allocation: growing memory detaches older ones.
  const buf = wasm.memory.buffer;
  const view = (name: keyof typeof sizes, count = sizes[name], from = 0) =>
    new Float32Array(buf, at[name] + 4 * from, count);
  const ysum = view("ysum"), yss = view("yss"), r = view("r");
  const aIdx = new Int32Array(buf, at.aIdx, W), wIdx = new Int32Array(buf, at.wIdx, W);
  const z = new Float64Array(buf, at.z, W), means = view("means"), scales = view("scales");
  const byte = (name: keyof typeof sizes, floats = 0) => at[name] + 4 * floats;
  for (let b = 0; b < nb; b++) {
    const d = designs[b];
    means.set(d.means);
    scales.set(d.scales);
    for (let c0 = 0; c0 < vp; c0 += W) {
      const n = Math.min(W, vp - c0), Kn = K * n;
      for (let f = 0; f < F; f++) {
        ysum.set(foldSum.subarray(f * vp + c0, f * vp + c0 + n), f * n);
        yss.set(foldSS.subarray(f * vp + c0, f * vp + c0 + n), f * n);
      }
      aIdx.set(alphaIndex.subarray(c0, c0 + n));
      wIdx.set(weightIndex.subarray(c0, c0 + n));
      wasm.null_sum(F, n, at.ysum, at.ytot);
      // Every fold's Eᵀ Σ P, and the all-sample E_wᵀ Σ P, in one product.
      const pAt = (f: number) => f * slab + b * K * vp + c0;
      await backend.gemm(
        { rows: (F + 1) * K, cols: K, data: d.rotations },
        { rows: K, cols: n, data: P, rowStride: vp, offset: pAt(F) },
        { out: view("rotated", (F + 1) * Kn) },
      );
      z.fill(0, 0, n);
      for (let f = 0; f < F; f++) {
        await backend.gemm(
          { rows: K, cols: K, data: d.rotations.subarray(f * KK, (f + 1) * KK) },
          { rows: K, cols: n, data: P, rowStride: vp, offset: pAt(f) },
          { out: view("held", Kn) },
        );
        wasm.null_fold(
          K,
          n,
          byte("rotated", f * Kn),
          at.held,
          byte("means", f * K),
          byte("means", (F + f) * K),
          at.ytot,
          byte("ysum", f * n),
          at.aIdx,
          byte("scales", f * nA * K),
          at.u,
          at.cov,
        );
        await backend.gemm(
          { rows: K, cols: K, data: d.heldGram.subarray(f * KK, (f + 1) * KK) },
          { rows: K, cols: n, data: view("u", Kn) },
          { out: view("qu", Kn) },
        );
        wasm.null_score(K, n, at.u, at.qu, at.cov, byte("yss", f * n), at.z);
      }
      wasm.null_r(F, n, at.z, at.r);
      rOut.set(r.subarray(0, n), b * vp + c0);
      // Weights on all samples: E_w ((E_wᵀ Σ P − E_wᵀμ · Σ y) ∘ d_w).
      wasm.null_weights(
        K,
        n,
        byte("rotated", F * Kn),
        byte("means", 2 * F * K),
        at.ytot,
        at.wIdx,
        byte("scales", F * nA * K),
        at.u,
      );
      const w = view("qu", Kn);
      await backend.gemm(
        { rows: K, cols: K, data: d.weightBasis },
        { rows: K, cols: n, data: view("u", Kn) },
        { out: w },
      );
      for (let k = 0; k < K; k++) {
        weightsOut.set(w.subarray(k * n, (k + 1) * n), (b * K + k) * vp + c0);
      }
    }
  }
}
