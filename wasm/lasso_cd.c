// LASSO / elastic-net problems sharing one Gram matrix, one target after
// another along a warm-started penalty path: coordinate descent as
// scikit-learn's enet_coordinate_descent_gram in float64 (the same iterates
// as packages/kernels/lasso_cd_reference.ts), with an active-set solver in
// front of it for LASSO (see "The active-set solver" below). Compiled to
// WebAssembly with 128-bit SIMD by `deno task wasm`; the host
// (packages/kernels/lasso_cd_wasm.ts) lays the arrays out in linear memory
// and calls lasso_batch.
//
// Layouts: G is p × p, row-major, rows padded to pp = p rounded up to even
// (zeros in the padding) so that a row is whole f64x2 lanes; per-target
// arrays are column-major in the host's sense (element (j, v) at j·V + v).

#include <wasm_simd128.h>

#include "bump_alloc.h"

// g ← g − d · row, over pp entries (pp even).
static inline void axpy(double *g, const double *row, double d, int pp) {
  v128_t dv = wasm_f64x2_splat(d);
  int k = 0;
  for (; k + 4 <= pp; k += 4) {
    v128_t g0 = wasm_v128_load(g + k), g1 = wasm_v128_load(g + k + 2);
    v128_t r0 = wasm_v128_load(row + k), r1 = wasm_v128_load(row + k + 2);
    wasm_v128_store(g + k, wasm_f64x2_sub(g0, wasm_f64x2_mul(r0, dv)));
    wasm_v128_store(g + k + 2, wasm_f64x2_sub(g1, wasm_f64x2_mul(r1, dv)));
  }
  for (; k < pp; k += 2) {
    v128_t g0 = wasm_v128_load(g + k), r0 = wasm_v128_load(row + k);
    wasm_v128_store(g + k, wasm_f64x2_sub(g0, wasm_f64x2_mul(r0, dv)));
  }
}

static inline double absd(double x) { return __builtin_fabs(x); }

static double gap_from_sums(double qw, double wGw, double dual, double l1n, double w2, double yy,
                            double alpha, double beta);

// scikit-learn's duality gap for the Gram formulation, from the gradient
// g = q − G w (see gapFromSums in lasso_cd_reference.ts).
static double duality_gap(const double *w, const double *g, const double *q, int p, double yy,
                          double alpha, double beta, int positive) {
  double qw = 0, wGw = 0, dual = 0, l1n = 0, w2 = 0;
  for (int j = 0; j < p; j++) {
    qw += w[j] * q[j];
    wGw += w[j] * (q[j] - g[j]);
    double xta = g[j] - beta * w[j];
    double a = positive ? xta : absd(xta);
    if (a > dual) dual = a;
    l1n += absd(w[j]);
    w2 += w[j] * w[j];
  }
  return gap_from_sums(qw, wGw, dual, l1n, w2, yy, alpha, beta);
}

// The gap from its sums over coordinates: qw = wᵀq, wGw = wᵀGw, dual =
// max |g − βw| (or max of g − βw when positive), l1n = ||w||₁, w2 = ||w||².
static double gap_from_sums(double qw, double wGw, double dual, double l1n, double w2, double yy,
                            double alpha, double beta) {
  double r2 = yy + wGw - 2 * qw;
  if (r2 < 0) r2 = 0;
  double gap, c;
  if (dual > alpha) {
    c = alpha / dual;
    gap = 0.5 * (r2 + r2 * c * c);
  } else {
    c = 1;
    gap = r2;
  }
  return gap + alpha * l1n - c * (yy - qw) + 0.5 * beta * (1 + c * c) * w2;
}

// Σ a_i b_i over n entries.
static inline double dot(const double *a, const double *b, int n) {
  v128_t s0 = wasm_f64x2_splat(0), s1 = wasm_f64x2_splat(0);
  int i = 0;
  for (; i + 4 <= n; i += 4) {
    s0 = wasm_f64x2_add(s0, wasm_f64x2_mul(wasm_v128_load(a + i), wasm_v128_load(b + i)));
    s1 = wasm_f64x2_add(s1, wasm_f64x2_mul(wasm_v128_load(a + i + 2), wasm_v128_load(b + i + 2)));
  }
  s0 = wasm_f64x2_add(s0, s1);
  double r = wasm_f64x2_extract_lane(s0, 0) + wasm_f64x2_extract_lane(s0, 1);
  for (; i < n; i++) r += a[i] * b[i];
  return r;
}

// (Σ a_i b_i, Σ a_i c_i) over n entries, into *x and *y.
static inline void dot2(const double *a, const double *b, const double *c, int n, double *x,
                        double *y) {
  v128_t s0 = wasm_f64x2_splat(0), s1 = wasm_f64x2_splat(0);
  int i = 0;
  for (; i + 2 <= n; i += 2) {
    v128_t av = wasm_v128_load(a + i);
    s0 = wasm_f64x2_add(s0, wasm_f64x2_mul(av, wasm_v128_load(b + i)));
    s1 = wasm_f64x2_add(s1, wasm_f64x2_mul(av, wasm_v128_load(c + i)));
  }
  double r0 = wasm_f64x2_extract_lane(s0, 0) + wasm_f64x2_extract_lane(s0, 1);
  double r1 = wasm_f64x2_extract_lane(s1, 0) + wasm_f64x2_extract_lane(s1, 1);
  for (; i < n; i++) {
    r0 += a[i] * b[i];
    r1 += a[i] * c[i];
  }
  *x = r0;
  *y = r1;
}

// y ← y − d · x over n entries (any n, any alignment).
static inline void axpy_n(double *y, const double *x, double d, int n) {
  v128_t dv = wasm_f64x2_splat(d);
  int i = 0;
  for (; i + 2 <= n; i += 2)
    wasm_v128_store(y + i, wasm_f64x2_sub(wasm_v128_load(y + i),
                                          wasm_f64x2_mul(wasm_v128_load(x + i), dv)));
  for (; i < n; i++) y[i] -= x[i] * d;
}

// The active-set solver. Between events the LASSO path is linear in the
// penalty: with the active set A and its signs s fixed, w_A = c1 − l1·c2
// where G_AA c1 = q_A and G_AA c2 = s_A, and the gradient is
// g = t1 + l1·t2 with t1 = q − G_:A c1 and t2 = G_:A c2. So one solve serves
// every penalty until the set changes, and a penalty where it does not
// costs O(p): far less than coordinate sweeps once dozens of coordinates
// are active. The Cholesky factor of G_AA is extended as coordinates enter
// and downdated by Givens rotations as they leave. Coordinate descent
// remains the fallback whenever the set does not settle or G_AA is
// singular, and every solution passes the same duality-gap test.
typedef struct {
  int p, pp, k;
  int solved;    // c1, c2, t1, t2 are current
  int sseReady;  // the held-out coefficients below are current
  int *idx;      // active coordinates (k)
  int *in;       // membership (p)
  double *s;     // signs (k)
  double *L;     // lower Cholesky factor of G_AA, row stride pp
  double *GA;    // G's active columns, compacted: GA[j·pp + r] = G[j, idx[r]]
  const double *HG;  // the held-out Gram matrix, or 0
  double *HA;    // its active columns, compacted like GA
  double *y1, *y2;  // L⁻¹ q_A and L⁻¹ s_A
  double *c1, *c2;
  double *t1, *t2;  // (pp)
  // The held-out error at l1 is hyy − 2(lin0 − l1·lin1) + h11 − 2·l1·h12 + l1²·h22.
  double lin0, lin1, h11, h12, h22;
} Active;

// Append coordinate j with sign sg: one new row of the factor and of y1,
// y2. Returns 0 when G_AA would not be safely positive definite.
static int active_add(Active *a, const double *G, const double *q, int j, double sg) {
  int k = a->k, pp = a->pp;
  double *row = a->L + k * pp;
  const double *gj = a->GA + j * pp;
  for (int i = 0; i < a->p; i++) a->GA[i * pp + k] = G[j * pp + i];
  if (a->HG)
    for (int i = 0; i < a->p; i++) a->HA[i * pp + k] = a->HG[j * pp + i];
  for (int r = 0; r < k; r++) {
    const double *Lr = a->L + r * pp;
    row[r] = (gj[r] - dot(Lr, row, r)) / Lr[r];
  }
  double d = G[j * pp + j] - dot(row, row, k);
  if (!(d > 1e-10 * G[j * pp + j])) return 0;
  double l = __builtin_sqrt(d);
  row[k] = l;
  a->y1[k] = (q[j] - dot(row, a->y1, k)) / l;
  a->y2[k] = (sg - dot(row, a->y2, k)) / l;
  a->idx[k] = j;
  a->s[k] = sg;
  a->in[j] = 1;
  a->k = k + 1;
  a->solved = 0;
  return 1;
}

// Remove the coordinate at position r: delete row r of the factor, then
// rotate column pairs to make it triangular again (L·Q keeps L·Lᵀ), the
// same rotations carrying y1 and y2 along.
static void active_remove(Active *a, int r) {
  int k = a->k, pp = a->pp;
  double *L = a->L;
  a->in[a->idx[r]] = 0;
  for (int i = r; i < k - 1; i++) {
    for (int c = 0; c <= i + 1; c++) L[i * pp + c] = L[(i + 1) * pp + c];
    a->idx[i] = a->idx[i + 1];
    a->s[i] = a->s[i + 1];
  }
  for (int j = 0; j < a->p; j++)
    for (int c = r; c < k - 1; c++) a->GA[j * pp + c] = a->GA[j * pp + c + 1];
  if (a->HG)
    for (int j = 0; j < a->p; j++)
      for (int c = r; c < k - 1; c++) a->HA[j * pp + c] = a->HA[j * pp + c + 1];
  double *y1 = a->y1, *y2 = a->y2;
  for (int i = r; i < k - 1; i++) {
    double x = L[i * pp + i], z = L[i * pp + i + 1];
    double rho = __builtin_sqrt(x * x + z * z), c = x / rho, sn = z / rho;
    for (int m = i; m < k - 1; m++) {
      double u = L[m * pp + i], v = L[m * pp + i + 1];
      L[m * pp + i] = c * u + sn * v;
      L[m * pp + i + 1] = -sn * u + c * v;
    }
    L[i * pp + i + 1] = 0;
    double u1 = y1[i], v1 = y1[i + 1], u2 = y2[i], v2 = y2[i + 1];
    y1[i] = c * u1 + sn * v1;
    y1[i + 1] = -sn * u1 + c * v1;
    y2[i] = c * u2 + sn * v2;
    y2[i + 1] = -sn * u2 + c * v2;
  }
  a->k = k - 1;
  a->solved = 0;
}

// c = L⁻ᵀ y for both right-hand sides, then the gradient pieces t1, t2.
static void active_solve(Active *a, const double *G, const double *q) {
  int k = a->k, p = a->p, pp = a->pp;
  for (int r = 0; r < k; r++) {
    a->c1[r] = a->y1[r];
    a->c2[r] = a->y2[r];
  }
  for (int r = k - 1; r >= 0; r--) {
    const double *Lr = a->L + r * pp;
    a->c1[r] /= Lr[r];
    a->c2[r] /= Lr[r];
    axpy_n(a->c1, Lr, a->c1[r], r);
    axpy_n(a->c2, Lr, a->c2[r], r);
  }
  // The gradient of the inactive coordinates; the active ones' is l1·s by
  // the equations just solved.
  for (int j = 0; j < pp; j++) {
    a->t1[j] = 0;
    a->t2[j] = 0;
  }
  for (int j = 0; j < p; j++) {
    if (a->in[j]) continue;
    double d1, d2;
    dot2(a->GA + j * pp, a->c1, a->c2, k, &d1, &d2);
    a->t1[j] = q[j] - d1;
    a->t2[j] = d2;
  }
  for (int r = 0; r < k; r++) a->t2[a->idx[r]] = a->s[r];
  a->solved = 1;
  a->sseReady = 0;
}

// The held-out error's coefficients in l1 for the current set: with
// w_A = c1 − l1·c2, wᵀH w and wᵀq_h are quadratic and linear in l1.
static void active_held(Active *a, const float *hq, int V, int v) {
  int k = a->k, pp = a->pp;
  a->lin0 = a->lin1 = a->h11 = a->h12 = a->h22 = 0;
  for (int r = 0; r < k; r++) {
    double u1, u2;  // (H_AA c1)_r, (H_AA c2)_r
    dot2(a->HA + a->idx[r] * pp, a->c1, a->c2, k, &u1, &u2);
    a->h11 += a->c1[r] * u1;
    a->h12 += a->c1[r] * u2;
    a->h22 += a->c2[r] * u2;
    a->lin0 += a->c1[r] * hq[a->idx[r] * V + v];
    a->lin1 += a->c2[r] * hq[a->idx[r] * V + v];
  }
  a->sseReady = 1;
}

// The active set of a solution: its support and signs. Returns 0 when the
// factor fails.
static int active_from(Active *a, const double *G, const double *q, const double *w) {
  for (int r = 0; r < a->k; r++) a->in[a->idx[r]] = 0;
  a->k = 0;
  a->solved = 0;
  for (int j = 0; j < a->p; j++)
    if (w[j] != 0 && !active_add(a, G, q, j, w[j] > 0 ? 1 : -1)) return 0;
  return 1;
}

// Try to reach the LASSO solution at penalty l1 from the current active
// set in a few rounds of dropping sign-violating and adding
// condition-violating coordinates. On success w holds the solution, *gap
// its duality gap (yy = yᵀy), and 1 is returned; the caller's gradient is
// then stale. On failure w is untouched and the set may be stale (the
// caller rebuilds it).
static int active_step(Active *a, const double *G, const double *q, int positive, double l1,
                       double yy, double *w, double *gap) {
  int p = a->p, pp = a->pp;
  for (int round = 0; round < 8; round++) {
    if (!a->solved) active_solve(a, G, q);
    int dropped = 0;
    for (int r = a->k - 1; r >= 0; r--) {
      if ((a->c1[r] - l1 * a->c2[r]) * a->s[r] > 0) continue;
      active_remove(a, r);
      dropped++;
    }
    if (dropped) continue;
    // Conditions of the inactive coordinates, with a little slack so that a
    // coordinate exactly at its event does not enter with a zero weight.
    double bound = l1 * (1 + 1e-9), dual = a->k ? l1 : 0;
    int added = 0;
    for (int j = 0; j < p; j++) {
      if (a->in[j]) continue;
      double gj = a->t1[j] + l1 * a->t2[j];
      double m = positive ? gj : absd(gj);
      if (m > dual) dual = m;
      int enter = positive ? gj > bound : (gj > bound || gj < -bound);
      if (!enter) continue;
      if (!active_add(a, G, q, j, gj > 0 ? 1 : -1)) return 0;
      added++;
    }
    if (added) continue;
    // The gap's sums over the support; the active gradient is l1·s.
    double qw = 0, wGw = 0, l1n = 0, w2 = 0;
    for (int j = 0; j < pp; j++) w[j] = 0;
    for (int r = 0; r < a->k; r++) {
      int j = a->idx[r];
      double v = a->c1[r] - l1 * a->c2[r];
      w[j] = v;
      qw += v * q[j];
      wGw += v * (q[j] - l1 * a->s[r]);
      l1n += absd(v);
      w2 += v * v;
    }
    *gap = gap_from_sums(qw, wGw, dual, l1n, w2, yy, l1, 0);
    return 1;
  }
  return 0;
}

// Solve targets [v0, v1) of a batch of V (the host calls a few targets at
// a time: V8 swaps in optimized code between calls, not during one).
// Inputs: G, diag (p), q (p × V), yy, scale, path (nA), stop (V, the last
// penalty index per target), warm (p × V, or 0). Held-out inputs HG
// (p × pp), hq (p × V), hyy (V), or 0. Outputs, each optional: sse
// (nA × V), weights at stop (p × V), path weights (V × nA × p), iterations
// (V), objective at the last penalty (V). work: lasso_work_size(p) doubles
// of scratch. With activeSet set (and l1Ratio = 1) the active-set solver
// goes first at each penalty.
__attribute__((export_name("lasso_work_size"))) int lasso_work_size(int p) {
  int pp = p + (p & 1);
  return 3 * p * pp + 8 * p + 10 * pp;
}

__attribute__((export_name("lasso_batch"))) void lasso_batch(
    int p, int pp, int V, int v0, int v1, int nA, const double *G, const double *diag,
    const float *q, const float *yy, const float *scale, const double *path,
    const unsigned short *stop, const float *warm, double l1Ratio, int positive, double tol,
    int maxIter, const double *HG, const float *hq, const float *hyy, float *sse, float *weights,
    float *pathWeights, unsigned int *iterations, double *objective, int activeSet,
    double *work) {
  double *w = work, *g = w + pp, *q1 = g + pp, *u = q1 + pp;
  Active act = {p, pp, 0};
  act.t1 = u + pp;
  act.t2 = act.t1 + pp;
  act.L = act.t2 + pp;
  act.GA = act.L + p * pp;
  act.HG = HG;
  act.HA = act.GA + p * pp;
  act.s = act.HA + p * pp;
  act.y1 = act.s + p;
  act.y2 = act.y1 + p;
  act.c1 = act.y2 + p;
  act.c2 = act.c1 + p;
  act.idx = (int *)(act.c2 + p);
  act.in = act.idx + p;
  for (int j = 0; j < p; j++) act.in[j] = 0;
  int useActive = activeSet && l1Ratio == 1;
  for (int v = v0; v < v1; v++) {
    for (int j = 0; j < pp; j++) {
      w[j] = (j < p && warm) ? warm[j * V + v] : 0;
      q1[j] = j < p ? q[j * V + v] : 0;
      g[j] = q1[j];
    }
    for (int j = 0; j < p; j++)
      if (w[j] != 0) axpy(g, G + j * pp, w[j], pp);
    int last = stop[v];
    double yyv = yy[v];
    int gStale = 0;
    unsigned int its = 0;
    int haveSet = useActive && active_from(&act, G, q1, w), failures = 0;
    for (int i = 0; i <= last; i++) {
      double pen = scale[v] * path[i];
      double l1 = pen * l1Ratio, l2 = pen * (1 - l1Ratio);
      int solved = 0;
      // From a cold start (nothing active at the first penalty) coordinate
      // descent finds the set faster than adding coordinates by rounds.
      if (haveSet && !(act.k == 0 && i == 0)) {
        its++;
        double gap;
        if (active_step(&act, G, q1, positive, l1, yyv, w, &gap)) {
          gStale = 1;
          solved = gap <= tol * yyv;
        }
      }
      if (!solved && gStale) {
        for (int j = 0; j < pp; j++) g[j] = q1[j];
        for (int j = 0; j < p; j++)
          if (w[j] != 0) axpy(g, G + j * pp, w[j], pp);
        gStale = 0;
      }
      for (int sweep = 0; !solved && sweep < maxIter; sweep++) {
        its++;
        double maxDelta = 0, maxW = 0;
        for (int j = 0; j < p; j++) {
          double old = w[j], dj = diag[j];
          double z = g[j] + dj * old;
          double nw = 0;
          if (dj > 0) {
            if (z > l1) nw = (z - l1) / (dj + l2);
            else if (!positive && z < -l1) nw = (z + l1) / (dj + l2);
          }
          if (nw != old) {
            double d = nw - old;
            axpy(g, G + j * pp, d, pp);
            w[j] = nw;
            if (absd(d) > maxDelta) maxDelta = absd(d);
          }
          if (absd(nw) > maxW) maxW = absd(nw);
        }
        if (maxW == 0 || maxDelta / maxW < tol || sweep == maxIter - 1) {
          if (duality_gap(w, g, q1, p, yyv, l1, l2, positive) <= tol * yyv) break;
        }
      }
      // The set coordinate descent settled on seeds the next penalty (given
      // up on after a few singular factors: G_AA is then rank-deficient).
      if (useActive && !solved && failures < 3 && i < last) {
        haveSet = active_from(&act, G, q1, w);
        failures += !haveSet;
      }
      if (pathWeights)
        for (int j = 0; j < p; j++) pathWeights[(v * nA + i) * p + j] = (float)w[j];
      if (sse && solved) {
        if (!act.sseReady) active_held(&act, hq, V, v);
        double lin = act.lin0 - l1 * act.lin1;
        double quad = act.h11 - 2 * l1 * act.h12 + l1 * l1 * act.h22;
        sse[i * V + v] = (float)(hyy[v] - 2 * lin + quad);
      } else if (sse) {
        // ||y_h − X_h w||² from the held-out Gram quantities alone.
        double lin = 0, quad = 0;
        for (int k = 0; k < pp; k++) u[k] = 0;
        for (int j = 0; j < p; j++) {
          if (w[j] == 0) continue;
          lin += w[j] * hq[j * V + v];
          axpy(u, HG + j * pp, -w[j], pp);
        }
        for (int j = 0; j < p; j++) quad += w[j] * u[j];
        sse[i * V + v] = (float)(hyy[v] - 2 * lin + quad);
      }
    }
    if (weights)
      for (int j = 0; j < p; j++) weights[j * V + v] = (float)w[j];
    if (objective) {
      // ½||y − Xw||² + l1||w||₁ + ½ l2||w||² at the last penalty, with
      // wᵀGw = wᵀ(q − g).
      if (gStale) {
        for (int j = 0; j < pp; j++) g[j] = q1[j];
        for (int j = 0; j < p; j++)
          if (w[j] != 0) axpy(g, G + j * pp, w[j], pp);
      }
      double pen = scale[v] * path[last], qw = 0, wGw = 0, l1n = 0, w2 = 0;
      for (int j = 0; j < p; j++) {
        qw += w[j] * q1[j];
        wGw += w[j] * (q1[j] - g[j]);
        l1n += absd(w[j]);
        w2 += w[j] * w[j];
      }
      double r2 = yyv - 2 * qw + wGw;
      objective[v] = 0.5 * (r2 > 0 ? r2 : 0) + pen * l1Ratio * l1n + 0.5 * pen * (1 - l1Ratio) * w2;
    }
    iterations[v] = its;
  }
}
