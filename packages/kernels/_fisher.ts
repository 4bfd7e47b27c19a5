/**
 * Fisher's z transform with the project's one clamp. It lives in the
 * kernels package because its solvers average held-out r through z and
 * the kernels must not import the analysis package; `@brainorg/core`'s
 * statistics re-export it, and `wasm/ridge_null.c` repeats the constant
 * (C cannot import it; its comment points here).
 *
 * @module
 */

/**
 * The largest |r| that {@linkcode fisherZ} transforms as it is: r beyond it
 * is clamped to ±0.999999, so z stays finite (|z| ≤ atanh(0.999999) ≈ 7.25).
 * A perfect correlation then counts as a very strong one instead of making
 * a mean over folds or subjects infinite.
 */
export const FISHER_R_LIMIT = 0.999999;

/**
 * Fisher's z of a correlation: atanh(r), with r clamped to ±{@linkcode FISHER_R_LIMIT}.
 *
 * @param r a correlation (NaN gives NaN)
 * @returns z, finite for every r that is not NaN
 *
 * @example
 * ```ts
 * import { fisherZ } from "@brainorg/kernels";
 * fisherZ(0.5); // 0.5493…
 * fisherZ(1); // 7.2543…, atanh(0.999999)
 * ```
 */
export function fisherZ(r: number): number {
  return Math.atanh(Math.max(-FISHER_R_LIMIT, Math.min(FISHER_R_LIMIT, r)));
}
