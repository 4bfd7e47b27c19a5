/**
 * Seeded random numbers, so every random choice a solver makes can be
 * reproduced from the seed in its provenance.
 *
 * @module
 */

/**
 * A seeded generator of uniform numbers in [0, 1) (mulberry32): the same
 * seed gives the same sequence on every platform.
 *
 * @param seed any number; only its low 32 bits matter
 * @returns a function that returns the next number each call
 *
 * @example
 * ```ts
 * import { rng } from "@brainorg/kernels";
 * const rand = rng(42);
 * const u = [rand(), rand(), rand()]; // the same three numbers for seed 42, every time
 * ```
 */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
