// Held-out R² of S stacked prediction sets against one block of targets:
// what ridge CV's scoring repeats for every fold, α and target, its
// hottest loop after the products. The arithmetic is the TypeScript
// reference's (stackedR2Reference): per column, the mean and Σ(y − ȳ)² in
// float64 summed in row order, then per set Σ(y − ŷ)² in float64 in row
// order, each difference taken on the float32 values promoted exactly;
// only the lanes differ, so the results are the reference's to the bit.
//
// Layouts (float32, row-major): pred is (S·n) × m, y is n × m, out is
// S × m; work holds (2 + S)·m doubles (means, Σ(y − ȳ)², one set's sums).
// The rows are swept in order, two columns to a float64 vector, with the
// column sums in a row of doubles that stays in cache: reading the
// predictions column-wise instead (sums in registers, rows far apart) is
// three times slower here.

#include <wasm_simd128.h>

#include "bump_alloc.h"

__attribute__((export_name("stacked_r2_work_size"))) unsigned long stacked_r2_work_size(int S,
                                                                                         int m) {
  return (unsigned long)(2 + S) * (unsigned long)m * 8ul;
}

static float finish(double sst, double sse) {
  return (float)(sst > 0 ? 1.0 - sse / sst : (sse == 0 ? 1.0 : 0.0));
}

// Both float32 lanes pairs of v promoted exactly: (v0, v1) and (v2, v3).
#define LOW(v) wasm_f64x2_promote_low_f32x4(v)
#define HIGH(v) wasm_f64x2_promote_low_f32x4(wasm_i32x4_shuffle(v, v, 2, 3, 0, 1))

// sum[j] += (a[j] − b[j])² for float32 rows a and b.
static void add_squared_differences(double *sum, const float *a, const float *b, int m) {
  int j = 0;
  for (; j + 4 <= m; j += 4) {
    v128_t av = wasm_v128_load(a + j), bv = wasm_v128_load(b + j);
    v128_t e0 = wasm_f64x2_sub(LOW(av), LOW(bv)), e1 = wasm_f64x2_sub(HIGH(av), HIGH(bv));
    wasm_v128_store(sum + j, wasm_f64x2_add(wasm_v128_load(sum + j), wasm_f64x2_mul(e0, e0)));
    wasm_v128_store(sum + j + 2,
                    wasm_f64x2_add(wasm_v128_load(sum + j + 2), wasm_f64x2_mul(e1, e1)));
  }
  for (; j < m; j++) {
    double e = (double)a[j] - (double)b[j];
    sum[j] += e * e;
  }
}

__attribute__((export_name("stacked_r2"))) void stacked_r2(const float *pred, const float *y,
                                                           int n, int S, int m, float *out,
                                                           double *work) {
  double *mean = work, *sst = work + m, *sse = work + 2 * m;
  for (int j = 0; j < m; j++) mean[j] = sst[j] = 0;
  for (int i = 0; i < n; i++) {
    const float *yr = y + (unsigned long)i * m;
    for (int j = 0; j < m; j++) mean[j] += (double)yr[j];
  }
  for (int j = 0; j < m; j++) mean[j] /= n;
  for (int i = 0; i < n; i++) {
    const float *yr = y + (unsigned long)i * m;
    for (int j = 0; j < m; j++) {
      double d = (double)yr[j] - mean[j];
      sst[j] += d * d;
    }
  }
  for (int s = 0; s < S; s++) {
    for (int j = 0; j < m; j++) sse[j] = 0;
    for (int i = 0; i < n; i++) {
      add_squared_differences(sse, y + (unsigned long)i * m, pred + ((unsigned long)s * n + i) * m,
                              m);
    }
    for (int j = 0; j < m; j++) out[(unsigned long)s * m + j] = finish(sst[j], sse[j]);
  }
}
