/**
 * Haemodynamic response functions: SPM's canonical double gamma and
 * Glover's, in the gamma-difference form nilearn also uses.
 *
 * @module
 */

/** Parameters of a difference of two gamma densities. */
export interface GammaDifference {
  /** Peak delay (s) of the response. */
  delay: number;
  /** Delay (s) of the undershoot. */
  undershoot: number;
  /** Dispersion of the response (gamma scale). */
  dispersion: number;
  /** Dispersion of the undershoot. */
  undershootDispersion: number;
  /** Undershoot amplitude relative to the response. */
  ratio: number;
  /** Support (s): the response is 0 from here on. */
  length: number;
}

/** The HRFs brainorg offers by name. */
export const HRFS: Readonly<Record<"spm" | "glover", GammaDifference>> = {
  // spm_hrf: p = [6 16 1 1 6 0 32]
  spm: {
    delay: 6,
    undershoot: 16,
    dispersion: 1,
    undershootDispersion: 1,
    ratio: 1 / 6,
    length: 32,
  },
  // Glover (1999), as in nilearn's glover_hrf
  glover: {
    delay: 6,
    undershoot: 12,
    dispersion: 0.9,
    undershootDispersion: 0.9,
    ratio: 0.35,
    length: 32,
  },
};

/**
 * ln Γ(x) (Lanczos approximation, g = 7, n = 9: about 15 digits); for
 * x < 0.5 through the reflection formula.
 *
 * @param x a positive number (or any non-integer ≤ 0, where Γ is finite and positive)
 * @returns ln Γ(x)
 *
 * @example
 * ```ts
 * import { logGamma } from "@brainorg/neuro";
 * const ln24 = logGamma(5); // ln 4! ≈ 3.1781
 * ```
 */
export function logGamma(x: number): number {
  const c = [
    0.99999999999980993,
    676.5203681218851,
    -1259.1392167224028,
    771.32342877765313,
    -176.61502916214059,
    12.507343278686905,
    -0.13857109526572012,
    9.9843695780195716e-6,
    1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  x -= 1;
  let a = c[0];
  const t = x + 7.5;
  for (let i = 1; i < 9; i++) a += c[i] / (x + i);
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a);
}

/**
 * Gamma density with shape `k` and scale `theta` at `t` (0 for t ≤ 0).
 *
 * @param t where to evaluate it
 * @param k the shape
 * @param theta the scale
 * @returns the density
 */
export function gammaPdf(t: number, k: number, theta: number): number {
  if (t <= 0) return 0;
  return Math.exp((k - 1) * Math.log(t) - t / theta - logGamma(k) - k * Math.log(theta));
}

/**
 * Sample an HRF at `dt` steps from 0 up to its length, scaled to unit area over
 * (0, ∞) (so a 1-s event of height 1 produces a response whose integral is
 * 1 s).
 *
 * @param hrf a named HRF or its parameters
 * @param dt sampling step in seconds (e.g. TR / 16)
 * @returns `Float64Array` of length ⌈length / dt⌉; element i is h(i · dt)
 *
 * @example
 * ```ts
 * import { sampleHrf } from "@brainorg/neuro";
 * const h = sampleHrf("spm", 0.1); // peak near 5 s
 * ```
 */
export function sampleHrf(hrf: keyof typeof HRFS | GammaDifference, dt: number): Float64Array {
  if (!(dt > 0)) throw new RangeError(`dt must be positive: current value is ${dt}`);
  const p = typeof hrf === "string" ? HRFS[hrf] : hrf;
  const out = new Float64Array(Math.ceil(p.length / dt));
  for (let i = 0; i < out.length; i++) out[i] = hrfAt(p, i * dt);
  return out;
}

/**
 * Value of an HRF (unit area, as {@linkcode sampleHrf}) at time `t` seconds.
 *
 * @param hrf a named HRF or its parameters
 * @param t seconds after the event
 * @returns h(t); 0 for t ≤ 0 and from the HRF's length on
 *
 * @example
 * ```ts
 * import { hrfAt } from "@brainorg/neuro";
 * const peak = hrfAt("spm", 5); // near the maximum of SPM's canonical HRF
 * ```
 */
export function hrfAt(hrf: keyof typeof HRFS | GammaDifference, t: number): number {
  const p = typeof hrf === "string" ? HRFS[hrf] : hrf;
  if (t <= 0 || t >= p.length) return 0;
  const norm = 1 - p.ratio; // both densities integrate to 1 over (0, ∞)
  return (gammaPdf(t, p.delay / p.dispersion, p.dispersion) -
    p.ratio * gammaPdf(t, p.undershoot / p.undershootDispersion, p.undershootDispersion)) / norm;
}
