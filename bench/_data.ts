/** Deterministic inputs shared by the benchmark scripts. */

/** n uniform values in [−0.5, 0.5) from a linear congruential generator with this seed. */
export function seeded(n: number, seed: number): Float32Array {
  let a = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    a = (a * 1664525 + 1013904223) >>> 0;
    out[i] = a / 2 ** 32 - 0.5;
  }
  return out;
}
