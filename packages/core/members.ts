/**
 * Which ANs belong to each atom's sub-group: the code matrix over every AN
 * the model has (dead ones as zero columns), one row per non-zero code for
 * `members.csv`, and each atom's strongest ANs for the report. An AN is
 * named by its layer and its unit within the layer, `L3.u117`: in the full
 * index the layers follow one another, so AN j of layers of `units` ANs
 * each is layer ⌊j / units⌋, unit j mod units.
 *
 * @module
 */

import type { Matrix } from "@brainorg/kernels";

/** One AN of an atom's sub-group: a row of `members.csv`. */
export interface Member {
  /** The AN's layer (transformer block), from 0. */
  layer: number;
  /** The AN's unit within its layer, from 0. */
  unit: number;
  /** The atom, from 0. */
  atom: number;
  /** Its code on the atom (non-zero; a float32 value). */
  code: number;
}

/** An atom's sub-group: its size and its strongest ANs. */
export interface AtomMembers {
  /** The atom, from 0. */
  atom: number;
  /** ANs with a non-zero code on the atom. */
  size: number;
  /** Of those, ANs with a positive code. */
  positive: number;
  /** Of those, ANs with a negative code. */
  negative: number;
  /** The strongest, by |code| descending (ties: lower AN index first). */
  top: Member[];
}

/** A model's sub-groups, as the report shows them. */
export interface ModelMembers {
  /** The model's name. */
  model: string;
  /** Per atom, in order. */
  atoms: AtomMembers[];
}

/**
 * The code matrix over every AN recorded, dead ANs included as zero columns.
 *
 * @param codes (K × kept ANs) codes of the ANs that were kept, row-major
 * @param kept the full AN index of each column of `codes`, each below `ans`
 * @param ans ANs recorded in all (kept and dead)
 * @returns (K × ans) codes, row-major: column j is AN j
 * @throws {RangeError} when `kept` does not have one index below `ans` per column of `codes`
 *
 * @example
 * ```ts
 * import { fullCodes } from "@brainorg/core";
 * const c = fullCodes({ rows: 1, cols: 2, data: Float32Array.of(0.5, -1) }, Uint32Array.of(0, 2), 3);
 * c.data; // Float32Array [0.5, 0, -1]
 * ```
 */
export function fullCodes(codes: Matrix, kept: Uint32Array, ans: number): Matrix {
  if (kept.length !== codes.cols) {
    throw new RangeError(
      `\`kept\` must have one AN index per column of \`codes\` (${codes.cols}): ` +
        `current length is ${kept.length}`,
    );
  }
  const bad = kept.findIndex((j) => j >= ans);
  if (bad >= 0) {
    throw new RangeError(
      `\`kept\` must index ANs below ${ans}: current value at ${bad} is ${kept[bad]}`,
    );
  }
  const K = codes.rows, N = codes.cols, out = new Float32Array(K * ans);
  for (let k = 0; k < K; k++) {
    for (let n = 0; n < N; n++) out[k * ans + kept[n]] = codes.data[k * N + n];
  }
  return { rows: K, cols: ans, data: out };
}

/** Layer and unit of every AN of the full index, from the layers' sizes. */
function anPlaces(layerSizes: readonly number[], ans: number) {
  const total = layerSizes.reduce((a, b) => a + b, 0);
  if (total !== ans || !layerSizes.every((n) => Number.isInteger(n) && n >= 0)) {
    throw new RangeError(
      `\`layerSizes\` must be whole numbers adding up to the codes' ${ans} columns: ` +
        `current sum is ${total}`,
    );
  }
  const layer = new Uint32Array(ans), unit = new Uint32Array(ans);
  let j = 0;
  layerSizes.forEach((size, l) => {
    for (let u = 0; u < size; u++, j++) (layer[j] = l), (unit[j] = u);
  });
  return { layer, unit };
}

const F32 = new Float32Array(1), F32_BITS = new Uint32Array(F32.buffer);

/** The ANs with a non-zero code on atom k, by |code| descending, then AN index; NaN last. */
function atomOrder(codes: Matrix, k: number): Uint32Array {
  const N = codes.cols, row = codes.data.subarray(k * N, (k + 1) * N);
  let count = 0;
  for (let j = 0; j < N; j++) if (row[j] !== 0) count++;
  const shift = 2 ** Math.max(1, Math.ceil(Math.log2(N + 1)));
  if (shift <= 2 ** 21) {
    // One number per AN, sorted natively: a rank from |code|'s float32 bits
    // (for |x| the bits grow with the value) times 2^b, plus the index; exact
    // below 2^53. About 2.5× faster than a comparator (64 atoms × 26,000 ANs).
    const keys = new Float64Array(count);
    for (let j = 0, i = 0; j < N; j++) {
      if (row[j] === 0) continue;
      F32[0] = row[j];
      const rank = Number.isNaN(row[j]) ? 2 ** 31 : 0x7fffffff - (F32_BITS[0] & 0x7fffffff);
      keys[i++] = rank * shift + j;
    }
    keys.sort();
    const order = new Uint32Array(count);
    for (let i = 0; i < count; i++) order[i] = keys[i] % shift;
    return order;
  }
  const nz = new Uint32Array(count);
  for (let j = 0, i = 0; j < N; j++) if (row[j] !== 0) nz[i++] = j;
  const key = (j: number) => (Number.isNaN(row[j]) ? -1 : Math.abs(row[j]));
  return nz.sort((a, b) => key(b) - key(a) || a - b);
}

/**
 * A float32 value as the shortest decimal that reads back as the same
 * float32, as a number: `String()` of it prints those digits (0.82, not
 * 0.8199999928474426), and `Math.fround()` of it is the value again.
 *
 * @param x a float32 value (a double is first rounded to float32)
 * @returns the same float32, as its shortest decimal
 *
 * @example
 * ```ts
 * import { shortFloat32 } from "@brainorg/core";
 * String(shortFloat32(Float32Array.of(0.82)[0])); // "0.82"
 * ```
 */
export function shortFloat32(x: number): number {
  if (!Number.isFinite(x) || x === 0) return x;
  const f = Math.fround(x);
  const fits = (p: number) => Math.fround(Number(f.toPrecision(p))) === f;
  // Most codes need 8 or 9 digits: start there rather than at 1.
  let p = 8;
  if (fits(p)) { while (p > 1 && fits(p - 1)) p--; }
  else while (p < 9 && !fits(p)) p++;
  return Number(f.toPrecision(p));
}

/**
 * The rows of `members.csv`: one per non-zero code, by atom, then |code|
 * descending (ties: lower AN index first), each AN placed by layer and unit.
 *
 * @param codes (K × ans) codes over every AN (see {@linkcode fullCodes}), row-major
 * @param layerSizes ANs per layer; they add up to `codes.cols`
 * @returns a generator (the table can have millions of rows): read it once
 * @throws {RangeError} when `layerSizes` does not add up to `codes.cols`
 *
 * @example
 * ```ts
 * import { memberRows } from "@brainorg/core";
 * const codes = { rows: 1, cols: 4, data: Float32Array.of(0, 0.25, -0.5, 0) };
 * [...memberRows(codes, [2, 2])];
 * // [{ layer: 1, unit: 0, atom: 0, code: -0.5 }, { layer: 0, unit: 1, atom: 0, code: 0.25 }]
 * ```
 */
export function* memberRows(codes: Matrix, layerSizes: readonly number[]): Generator<Member> {
  const place = anPlaces(layerSizes, codes.cols), N = codes.cols;
  for (let k = 0; k < codes.rows; k++) {
    for (const j of atomOrder(codes, k)) {
      yield {
        layer: place.layer[j],
        unit: place.unit[j],
        atom: k,
        code: shortFloat32(codes.data[k * N + j]),
      };
    }
  }
}

/**
 * Each atom's sub-group size and its strongest ANs.
 *
 * @param codes (K × ans) codes over every AN (see {@linkcode fullCodes}), row-major
 * @param layerSizes ANs per layer; they add up to `codes.cols`
 * @param options `top`: how many ANs per atom. Default: 5.
 * @returns one entry per atom, in order
 *
 * @example
 * ```ts
 * import { topMembers } from "@brainorg/core";
 * const codes = { rows: 1, cols: 4, data: Float32Array.of(0, 0.25, -0.5, 0) };
 * topMembers(codes, [2, 2], { top: 1 })[0].top; // [{ layer: 1, unit: 0, atom: 0, code: -0.5 }]
 * ```
 */
export function topMembers(
  codes: Matrix,
  layerSizes: readonly number[],
  options: { top?: number } = {},
): AtomMembers[] {
  const place = anPlaces(layerSizes, codes.cols), N = codes.cols, top = options.top ?? 5;
  return Array.from({ length: codes.rows }, (_, k) => {
    const order = atomOrder(codes, k);
    let positive = 0;
    for (const j of order) if (codes.data[k * N + j] > 0) positive++;
    return {
      atom: k,
      size: order.length,
      positive,
      negative: order.length - positive,
      top: Array.from(order.subarray(0, top), (j) => ({
        layer: place.layer[j],
        unit: place.unit[j],
        atom: k,
        code: shortFloat32(codes.data[k * N + j]),
      })),
    };
  });
}

/**
 * An AN's name, `L<layer>.u<unit>`, with its code when there is one: `L3.u117 (+0.82)`.
 *
 * @param m the AN's layer and unit, and its code
 * @param digits decimals of the code. Default: 2.
 *
 * @example
 * ```ts
 * import { memberLabel } from "@brainorg/core";
 * memberLabel({ layer: 3, unit: 117, code: 0.8213 }); // "L3.u117 (+0.82)"
 * ```
 */
export function memberLabel(m: { layer: number; unit: number; code?: number }, digits = 2): string {
  const name = `L${m.layer}.u${m.unit}`;
  if (m.code === undefined) return name;
  return `${name} (${m.code >= 0 ? "+" : ""}${m.code.toFixed(digits)})`;
}
