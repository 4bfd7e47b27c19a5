/**
 * Tails and quantiles of the distributions the pipeline tests against
 * (Student's t, the standard normal), for `stats.ts`, which re-exports
 * them: the special functions stay out of the way of the statistics.
 *
 * @module
 */

import { logGamma } from "@brainorg/neuro";

/** Continued fraction of the incomplete beta function (modified Lentz). */
function betaFraction(a: number, b: number, x: number): number {
  const tiny = 1e-300;
  let c = 1, d = 1 - ((a + b) * x) / (a + 1);
  d = 1 / (Math.abs(d) < tiny ? tiny : d);
  let h = d;
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m;
    for (
      const num of [
        (m * (b - m) * x) / ((a + m2 - 1) * (a + m2)),
        (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1)),
      ]
    ) {
      d = 1 + num * d;
      d = 1 / (Math.abs(d) < tiny ? tiny : d);
      c = 1 + num / c;
      if (Math.abs(c) < tiny) c = tiny;
      h *= d * c;
    }
    if (Math.abs(d * c - 1) < 1e-15) break;
  }
  return h;
}

/**
 * The regularized incomplete beta function I_x(a, b) (continued fraction,
 * relative error ≈ 1e-13 where it is not tiny).
 *
 * @param x in [0, 1]; 0 below, 1 above
 * @param a, b positive shape parameters
 *
 * @example
 * ```ts
 * import { incompleteBeta } from "@brainorg/core";
 * incompleteBeta(0.5, 2, 2); // 0.5
 * ```
 */
export function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(
    logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x),
  );
  return x < (a + 1) / (a + b + 2)
    ? (front * betaFraction(a, b, x)) / a
    : 1 - (front * betaFraction(b, a, 1 - x)) / b;
}

/**
 * P(T ≥ t) for Student's t with `df` degrees of freedom (scipy's
 * `stats.t.sf`): 0 at t = +∞, NaN for NaN t or df.
 *
 * @example
 * ```ts
 * import { studentTUpper } from "@brainorg/core";
 * studentTUpper(2.0555, 26); // ≈ 0.025
 * ```
 */
export function studentTUpper(t: number, df: number): number {
  if (Number.isNaN(t) || Number.isNaN(df)) return NaN;
  const tail = 0.5 * incompleteBeta(df / (df + t * t), df / 2, 0.5);
  return t >= 0 ? tail : 1 - tail;
}

/**
 * The two-sided p of a t statistic, P(|T| ≥ |t|), at most 1.
 *
 * @example
 * ```ts
 * import { studentTTwoSided } from "@brainorg/core";
 * studentTTwoSided(-2.0555, 26); // ≈ 0.05
 * ```
 */
export function studentTTwoSided(t: number, df: number): number {
  return Math.min(1, 2 * studentTUpper(Math.abs(t), df));
}

/**
 * The t with P(T ≥ t) = p (scipy's `stats.t.isf`): bisection on
 * {@linkcode studentTUpper} to a relative 1e-12, after doubling the bracket
 * until it holds the answer (df = 1 and p = 1e-12 need t ≈ 3·10¹¹).
 *
 * @param p upper-tail probability, 0 < p < 1
 * @param df degrees of freedom, positive and finite
 * @throws {RangeError} when p or df is outside its range
 *
 * @example
 * ```ts
 * import { studentTQuantileUpper } from "@brainorg/core";
 * studentTQuantileUpper(0.01, 5); // 3.3649…
 * ```
 */
export function studentTQuantileUpper(p: number, df: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`p must be in (0, 1): current value is ${p}`);
  if (!(df > 0 && df < Infinity)) {
    throw new RangeError(`df must be positive and finite: current value is ${df}`);
  }
  if (p > 0.5) return -studentTQuantileUpper(1 - p, df);
  let lo = 0, hi = 1;
  while (studentTUpper(hi, df) > p) (lo = hi), (hi *= 2);
  for (let i = 0; i < 200 && hi - lo > 1e-12 * hi; i++) {
    const mid = (lo + hi) / 2;
    if (studentTUpper(mid, df) > p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/**
 * P(Z ≥ z) for a standard normal (scipy's `stats.norm.sf`): erfc by
 * Numerical Recipes' Chebyshev fit, relative error below 1.2e-7 for every z.
 *
 * @example
 * ```ts
 * import { normalUpper } from "@brainorg/core";
 * normalUpper(1.959964); // ≈ 0.025
 * ```
 */
export function normalUpper(z: number): number {
  const x = Math.abs(z) / Math.SQRT2, t = 1 / (1 + 0.5 * x);
  const erfc = t * Math.exp(
    -x * x - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 +
                  t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 +
                                  t * (-0.82215223 + t * 0.17087277)))))))),
  );
  return z >= 0 ? erfc / 2 : 1 - erfc / 2;
}
