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

/**
 * A fold's held-out rows `[s, s + nv)` of X, centered by the training mean
 * and rotated into the training eigenbasis (the left factor of the
 * out-of-fold predictions), and every α's map from the training XᵀY to
 * the held-out predictions, (X_val − x̄) V (S² + α)⁻¹ Vᵀ, stacked α-major;
 * each with a last column of ones that adds the training mean of y.
 *
 * @returns `rotated` (nv × (p + 1)) and `stacked` ((nα · nv) × (p + 1))
 */
export function heldOutMaps(
  getX: (r: number, c: number) => number,
  d: Design,
  s: number,
  nv: number,
  alphaGrid: readonly number[],
): { rotated: Matrix; stacked: Matrix } {
  const p = d.mean.length, p1 = p + 1, nA = alphaGrid.length;
  const rotated = new Float32Array(nv * p1);
  const stacked = new Float32Array(nA * nv * p1);
  const row = new Float64Array(p), scaledRow = new Float64Array(p);
  for (let i = 0; i < nv; i++) {
    for (let j = 0; j < p; j++) {
      let acc = 0;
      for (let k = 0; k < p; k++) acc += (getX(s + i, k) - d.mean[k]) * d.vectors[k * p + j];
      row[j] = acc;
      rotated[i * p1 + j] = acc;
    }
    rotated[i * p1 + p] = 1;
    alphaGrid.forEach((alpha, a) => {
      const out = (a * nv + i) * p1;
      for (let j = 0; j < p; j++) scaledRow[j] = row[j] / (d.s2[j] + alpha);
      for (let k = 0; k < p; k++) {
        let acc = 0;
        for (let j = 0, at = k * p; j < p; j++, at++) acc += scaledRow[j] * d.vectors[at];
        stacked[out + k] = acc;
      }
      stacked[out + p] = 1;
    });
  }
  return {
    rotated: { rows: nv, cols: p1, data: rotated },
    stacked: { rows: nA * nv, cols: p1, data: stacked },
  };
}
