// Ridge refits of many designs against one subject's voxels, at a fixed α
// per voxel: what a permutation null repeats for every surrogate of the
// regressors. The host (packages/kernels/ridge_null.ts) has already formed
// the products that touch every sample, P_f = X_fᵀ Y_f for each contiguous
// fold f (raw, uncentered, all designs stacked), and each design's small
// float64 algebra. What is left is per voxel and O(K²): this kernel does it
// in one pass, four voxels to a 128-bit vector, so nothing but P is read
// from memory.
//
// Per design b, fold f and voxel c (ridgeFixedAlpha's arithmetic):
//   xty = Σ_{g≠f} P_g − μ_f·(Σ y − Σ_f y)      training XᵀY, centered
//   g   = P_f − x̄_f·Σ_f y                       held-out XᵀY, centered
//   w   = (G_f + α_c I)⁻¹ xty = M_f(α_c) xty    the fold's weights
//   r_f = wᵀg / √(wᵀ C_f w · yss_f)             held-out Pearson r
// with G_f the training Gram matrix and C_f = R_fᵀ R_f the held-out one;
// r = tanh(mean_f atanh r_f), and the weights refit on all samples,
// w = M(α_w) xty_all.
//
// The host sorts each block's voxels by α, so the four voxels of a vector
// nearly always share theirs: then M_f(α) is one matrix for the vector, and
// a fold costs a product with M and a triangular one with R (1.5 K² per
// voxel). A vector whose voxels differ goes through the eigenbasis of G_f
// instead (u = Eᵀ xty, w = E (u / (s² + α)): 3 K²).
//
// Layouts (float32): P is F × (B·K) × vb, row-major; per-voxel arrays are
// padded to vb, a multiple of 4; the design records are described at
// ridge_null_record_size.

#include <wasm_simd128.h>

#include "bump_alloc.h"

// Natural log for x > 0 in float64: x = m·2^e with m in [√½, √2), then
// log m = 2 atanh((m − 1)/(m + 1)) by its series (|t| ≤ 0.172, so ten
// terms reach 1e-15): there is no libm here.
static double log_pos(double x) {
  union { double d; unsigned long long u; } v = {x};
  int e = (int)((v.u >> 52) & 0x7ff) - 1023;
  v.u = (v.u & 0x000fffffffffffffull) | 0x3ff0000000000000ull;
  double m = v.d;
  if (m > 1.4142135623730951) {
    m *= 0.5;
    e += 1;
  }
  double t = (m - 1) / (m + 1), t2 = t * t;
  double s = 1.0 / 19;
  s = 1.0 / 17 + t2 * s;
  s = 1.0 / 15 + t2 * s;
  s = 1.0 / 13 + t2 * s;
  s = 1.0 / 11 + t2 * s;
  s = 1.0 / 9 + t2 * s;
  s = 1.0 / 7 + t2 * s;
  s = 1.0 / 5 + t2 * s;
  s = 1.0 / 3 + t2 * s;
  s = 1 + t2 * s;
  return 2 * t * s + e * 0.6931471805599453;
}

// Fisher's z of r, clamped as the host's fisherZ: |r| ≤ FISHER_R_LIMIT = 0.999999
// (packages/kernels/_fisher.ts; keep the two equal).
static double fisher_z(double r) {
  if (r > 0.999999) r = 0.999999;
  if (r < -0.999999) r = -0.999999;
  return 0.5 * log_pos((1 + r) / (1 - r));
}

// tanh(m) = (e^{2m} − 1)/(e^{2m} + 1); e^{2m} by its series at 2m/32
// (|2m| ≤ 14.6 after clamping, so 14 terms), squared five times.
static double tanh_of(double m) {
  double xs = 2 * m / 32, e2 = 1, term = 1;
  for (int k = 1; k <= 14; k++) {
    term *= xs / k;
    e2 += term;
  }
  for (int k = 0; k < 5; k++) e2 *= e2;
  return (e2 - 1) / (e2 + 1);
}

static inline float lane(v128_t v, int l) {
  switch (l) {
    case 0: return wasm_f32x4_extract_lane(v, 0);
    case 1: return wasm_f32x4_extract_lane(v, 1);
    case 2: return wasm_f32x4_extract_lane(v, 2);
    default: return wasm_f32x4_extract_lane(v, 3);
  }
}

// A multiply and an add: relaxed SIMD's fused multiply-add would halve the
// count, but Debian 12's clang 14 emits its pre-standard opcodes.
#define FMA(acc, a, b) acc = wasm_f32x4_add(acc, wasm_f32x4_mul(a, b))
#define SPLAT(p) wasm_v128_load32_splat(p)

// w = M x for a K × K row-major M and K voxel-quads: w[j] = Σ_i M[j·K + i] x[i].
// Four outputs at a time stay in registers while the inputs stream past.
// With `upper`, M is upper triangular and the zeros left of each block of
// rows are skipped.
static void rotate(const float *M, const v128_t *x, v128_t *w, int K, int upper) {
  int j = 0;
  for (; j + 4 <= K; j += 4) {
    v128_t w0 = wasm_f32x4_splat(0), w1 = w0, w2 = w0, w3 = w0;
    const float *m0 = M + j * K, *m1 = m0 + K, *m2 = m1 + K, *m3 = m2 + K;
    for (int i = upper ? j : 0; i < K; i++) {
      v128_t xi = x[i];
      FMA(w0, SPLAT(m0 + i), xi);
      FMA(w1, SPLAT(m1 + i), xi);
      FMA(w2, SPLAT(m2 + i), xi);
      FMA(w3, SPLAT(m3 + i), xi);
    }
    w[j] = w0, w[j + 1] = w1, w[j + 2] = w2, w[j + 3] = w3;
  }
  for (; j < K; j++) {
    v128_t wj = wasm_f32x4_splat(0);
    for (int i = upper ? j : 0; i < K; i++) FMA(wj, SPLAT(M + j * K + i), x[i]);
    w[j] = wj;
  }
}

// u = Mᵀ x: u[i] = Σ_j M[j·K + i] x[j] (see rotate).
static void rotate_t(const float *M, const v128_t *x, v128_t *u, int K) {
  int i = 0;
  for (; i + 4 <= K; i += 4) {
    v128_t u0 = wasm_f32x4_splat(0), u1 = u0, u2 = u0, u3 = u0;
    for (int j = 0; j < K; j++) {
      const float *m = M + j * K + i;
      v128_t xj = x[j];
      FMA(u0, SPLAT(m), xj);
      FMA(u1, SPLAT(m + 1), xj);
      FMA(u2, SPLAT(m + 2), xj);
      FMA(u3, SPLAT(m + 3), xj);
    }
    u[i] = u0, u[i + 1] = u1, u[i + 2] = u2, u[i + 3] = u3;
  }
  for (; i < K; i++) {
    v128_t ui = wasm_f32x4_splat(0);
    for (int j = 0; j < K; j++) FMA(ui, SPLAT(M + j * K + i), x[j]);
    u[i] = ui;
  }
}

// Four lanes of table[idx[l]·K + i].
static inline v128_t gather(const float *table, const int *idx, int K, int i) {
  return wasm_f32x4_make(table[idx[0] * K + i], table[idx[1] * K + i], table[idx[2] * K + i],
                         table[idx[3] * K + i]);
}

// Floats of scratch the kernel needs for K regressors.
__attribute__((export_name("ridge_null_work_size"))) int ridge_null_work_size(int K) {
  return 5 * K * 4;
}

// Floats of one fold's part of a design record:
//   mu[K]      training means          xbar[K]   held-out means
//   E[K·K]     training eigenvectors (E[j·K + i]: component j of vector i)
//   d[nA·K]    1/(s²_i + α_a)          M[nA·K·K] E diag(d_a) Eᵀ per α
//   R[K·K]     upper triangular, Rᵀ R the held-out centered Gram
static int fold_size(int K, int nA) { return 2 * K + K * K + nA * K + nA * K * K + K * K; }

// Floats of one design's record: F folds' parts, then the all-sample fit's
// mu[K], E[K·K], dw[nW·K] and Mw[nW·K·K] (as above, per weight α).
__attribute__((export_name("ridge_null_record_size"))) int ridge_null_record_size(int K, int F,
                                                                                  int nA, int nW) {
  return F * fold_size(K, nA) + K + K * K + nW * K + nW * K * K;
}

__attribute__((export_name("ridge_null"))) void ridge_null(
    int K, int F, int B, int b0, int b1, int vb, int nA, int nW,
    const float *P,        // F × (B·K) × vb
    const float *ysum,     // F × vb: Σ y over each fold's rows
    const float *yss,      // F × vb: Σ (y − ȳ_f)² over each fold's rows
    const int *aIdx,       // vb: α index of each voxel's fold fits
    const int *wIdx,       // vb: α index of each voxel's all-sample weights
    const float *designs,  // B records
    float *rOut,           // B × vb: held-out r, Fisher-averaged over folds (designs b0…b1−1)
    float *wOut,           // B × K × vb: weights
    float *work) {
  const int rec = ridge_null_record_size(K, F, nA, nW), fsz = fold_size(K, nA);
  const long slab = (long)B * K * vb;  // one fold's P
  v128_t *tot = (v128_t *)work, *xty = tot + K, *u = xty + K, *w = u + K, *t = w + K;
  for (int b = b0; b < b1; b++) {
    const float *des = designs + (long)b * rec;
    const float *full = des + F * fsz;
    for (int c = 0; c < vb; c += 4) {
      double z[4] = {0, 0, 0, 0};
      const int *ai = aIdx + c, *wi = wIdx + c;
      const int sameA = ai[0] == ai[1] && ai[0] == ai[2] && ai[0] == ai[3];
      const int sameW = wi[0] == wi[1] && wi[0] == wi[2] && wi[0] == wi[3];
      v128_t ytot = wasm_f32x4_splat(0);
      for (int j = 0; j < K; j++) tot[j] = wasm_f32x4_splat(0);
      for (int f = 0; f < F; f++) {
        const float *pf = P + f * slab + (long)b * K * vb + c;
        for (int j = 0; j < K; j++) tot[j] = wasm_f32x4_add(tot[j], wasm_v128_load(pf + (long)j * vb));
        ytot = wasm_f32x4_add(ytot, wasm_v128_load(ysum + (long)f * vb + c));
      }
      for (int f = 0; f < F; f++) {
        const float *rf = des + f * fsz;
        const float *mu = rf, *xbar = rf + K, *E = xbar + K, *d = E + K * K, *M = d + nA * K;
        const float *R = M + nA * K * K;
        const float *pf = P + f * slab + (long)b * K * vb + c;
        v128_t sf = wasm_v128_load(ysum + (long)f * vb + c);
        v128_t strain = wasm_f32x4_sub(ytot, sf);
        for (int j = 0; j < K; j++) {
          xty[j] = wasm_f32x4_sub(wasm_f32x4_sub(tot[j], wasm_v128_load(pf + (long)j * vb)),
                                  wasm_f32x4_mul(wasm_f32x4_splat(mu[j]), strain));
        }
        if (sameA) {
          rotate(M + ai[0] * K * K, xty, w, K, 0);
        } else {
          rotate_t(E, xty, u, K);
          for (int i = 0; i < K; i++) u[i] = wasm_f32x4_mul(u[i], gather(d, ai, K, i));
          rotate(E, u, w, K, 0);
        }
        v128_t cov = wasm_f32x4_splat(0), vp = wasm_f32x4_splat(0);
        for (int j = 0; j < K; j++) {
          v128_t g = wasm_f32x4_sub(wasm_v128_load(pf + (long)j * vb),
                                    wasm_f32x4_mul(wasm_f32x4_splat(xbar[j]), sf));
          FMA(cov, w[j], g);
        }
        rotate(R, w, t, K, 1);
        for (int i = 0; i < K; i++) FMA(vp, t[i], t[i]);
        v128_t ys = wasm_v128_load(yss + (long)f * vb + c);
        for (int l = 0; l < 4; l++) {
          double v = lane(vp, l), y = lane(ys, l);
          double r = v > 0 && y > 0 ? lane(cov, l) / __builtin_sqrt(v * y) : 0;
          z[l] += fisher_z(r);
        }
      }
      for (int l = 0; l < 4; l++) rOut[(long)b * vb + c + l] = (float)tanh_of(z[l] / F);
      // Weights on all samples.
      const float *mu = full, *E = full + K, *dw = E + K * K, *Mw = dw + nW * K;
      for (int j = 0; j < K; j++) {
        xty[j] = wasm_f32x4_sub(tot[j], wasm_f32x4_mul(wasm_f32x4_splat(mu[j]), ytot));
      }
      if (sameW) {
        rotate(Mw + wi[0] * K * K, xty, w, K, 0);
      } else {
        rotate_t(E, xty, u, K);
        for (int i = 0; i < K; i++) u[i] = wasm_f32x4_mul(u[i], gather(dw, wi, K, i));
        rotate(E, u, w, K, 0);
      }
      float *wb = wOut + (long)b * K * vb + c;
      for (int j = 0; j < K; j++) wasm_v128_store(wb + (long)j * vb, w[j]);
    }
  }
}

// ---------------------------------------------------------------------------
// The BLAS path's streaming passes (packages/kernels/ridge_null_gemm.ts).
// There the host's BLAS forms the products in the training eigenbasis, and
// these do the O(K) work per target between them, four targets to a vector:
// in typed-array loops it took most of that path's time. Matrices are K × n,
// row-major, n a multiple of 4; per-target vectors are n long.

#define LOAD(p) wasm_v128_load(p)
#define STORE(p, v) wasm_v128_store(p, v)

// out = Σ_f x_f over F slabs of m floats each (m a multiple of 4).
__attribute__((export_name("null_sum"))) void null_sum(int F, int m, const float *x, float *out) {
  for (long i = 0; i < m; i += 4) {
    v128_t acc = LOAD(x + i);
    for (int f = 1; f < F; f++) acc = wasm_f32x4_add(acc, LOAD(x + (long)f * m + i));
    STORE(out + i, acc);
  }
}

// One fold, with A = Eᵀ Σ_g P_g and H = Eᵀ P_f from the BLAS:
//   u   = (A − H − em·(ytot − sf)) ∘ d[α]     the fold's weights in the eigenbasis
//   cov = Σ_k u ∘ (H − ex·sf)                   wᵀ g, g the held-out XᵀY centered
// with em = Eᵀμ_f, ex = Eᵀx̄_f (K) and d (nA × K) = 1/(s² + α) per α.
__attribute__((export_name("null_fold"))) void null_fold(int K, int n, const float *A,
                                                           const float *H, const float *em,
                                                           const float *ex, const float *ytot,
                                                           const float *sf, const int *aIdx,
                                                           const float *d, float *u, float *cov) {
  for (int i = 0; i < n; i += 4) {
    const v128_t s = LOAD(sf + i), strain = wasm_f32x4_sub(LOAD(ytot + i), s);
    const float *d0 = d + aIdx[i] * K, *d1 = d + aIdx[i + 1] * K, *d2 = d + aIdx[i + 2] * K,
                *d3 = d + aIdx[i + 3] * K;
    v128_t c = wasm_f32x4_splat(0);
    for (int k = 0; k < K; k++) {
      const long at = (long)k * n + i;
      const v128_t h = LOAD(H + at);
      const v128_t x = wasm_f32x4_sub(wasm_f32x4_sub(LOAD(A + at), h),
                                      wasm_f32x4_mul(wasm_f32x4_splat(em[k]), strain));
      const v128_t v = wasm_f32x4_mul(x, wasm_f32x4_make(d0[k], d1[k], d2[k], d3[k]));
      STORE(u + at, v);
      FMA(c, v, wasm_f32x4_sub(h, wasm_f32x4_mul(wasm_f32x4_splat(ex[k]), s)));
    }
    STORE(cov + i, c);
  }
}

// The fold's held-out r from cov and var = Σ_k u ∘ (Q u), added to z as
// Fisher's z (0 where either variance is 0, as ridge_null).
__attribute__((export_name("null_score"))) void null_score(int K, int n, const float *u,
                                                             const float *qu, const float *cov,
                                                             const float *yss, double *z) {
  for (int i = 0; i < n; i += 4) {
    v128_t vp = wasm_f32x4_splat(0);
    for (int k = 0; k < K; k++) {
      const long at = (long)k * n + i;
      FMA(vp, LOAD(u + at), LOAD(qu + at));
    }
    for (int l = 0; l < 4; l++) {
      double v = lane(vp, l), y = yss[i + l];
      z[i + l] += fisher_z(v > 0 && y > 0 ? cov[i + l] / __builtin_sqrt(v * y) : 0);
    }
  }
}

// r = tanh(mean of the folds' z).
__attribute__((export_name("null_r"))) void null_r(int F, int n, const double *z, float *r) {
  for (int i = 0; i < n; i++) r[i] = (float)tanh_of(z[i] / F);
}

// The all-sample weights in the eigenbasis: u = (A − em·ytot) ∘ d[α_w].
__attribute__((export_name("null_weights"))) void null_weights(int K, int n, const float *A,
                                                                 const float *em,
                                                                 const float *ytot,
                                                                 const int *wIdx,
                                                                 const float *d, float *u) {
  for (int i = 0; i < n; i += 4) {
    const v128_t yt = LOAD(ytot + i);
    const float *d0 = d + wIdx[i] * K, *d1 = d + wIdx[i + 1] * K, *d2 = d + wIdx[i + 2] * K,
                *d3 = d + wIdx[i + 3] * K;
    for (int k = 0; k < K; k++) {
      const long at = (long)k * n + i;
      const v128_t x = wasm_f32x4_sub(LOAD(A + at), wasm_f32x4_mul(wasm_f32x4_splat(em[k]), yt));
      STORE(u + at, wasm_f32x4_mul(x, wasm_f32x4_make(d0[k], d1[k], d2[k], d3[k])));
    }
  }
}
