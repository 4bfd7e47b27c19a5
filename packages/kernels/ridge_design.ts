/**
 * The eigen-decomposed, centered design that the ridge solvers share
 * (internal: not exported from the package).
 *
 * @module
 */

import { centeredDesign } from "./cross_validation.ts";
import { eigh } from "./linalg.ts";
import type { Matrix, MatrixView } from "./matrix.ts";

/** Eigen-decomposed, centered design on a set of rows. */
export interface Design {
  /** Column means over the rows used (zeros without intercept). */
  mean: Float64Array;
  /** X centered, rows outside the set zeroed: (n × p). */
  masked: Float32Array;
  /** Eigenvalues s² of the Gram matrix (p). */
  s2: Float64Array;
  /** Eigenvectors (p × p), column j for s2[j]. */
  vectors: Float64Array;
}

export function designOn(x: MatrixView, rows: (r: number) => boolean, intercept: boolean): Design {
  const { mean, masked, gram } = centeredDesign(x, rows, intercept);
  const { values, vectors } = eigh(gram, x.cols);
  return { mean, masked, s2: values.map((v) => Math.max(v, 0)), vectors };
}

export function transposed(v: Float64Array, p: number): Matrix {
  const out = new Float32Array(p * p);
  for (let i = 0; i < p; i++) for (let j = 0; j < p; j++) out[j * p + i] = v[i * p + j];
  return { rows: p, cols: p, data: out };
}
