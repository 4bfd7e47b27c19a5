/**
 * Coordinate descent for blocks of LASSO targets in lockstep, the CPU
 * backend's fast path when a BLAS is loaded: every target of a block
 * updates coordinate j together, so the gradient update of all of them is
 * one BLAS call (per group of coordinates) instead of a scalar loop per target. The
 * objective, stopping rule and results are those of
 * {@linkcode lassoCDReference}, which finishes the few targets still moving
 * when most of a block has converged.
 *
 * @module
 */

import type { Blas } from "./blas_ffi.ts";
import type { LassoBatch, LassoBatchResult } from "./lasso_batch.ts";
import { gapFromSums, lassoCDReference } from "./lasso_cd_reference.ts";

/** Targets updated together. */
const BLOCK = 512;
/** Coordinates whose gradient updates are applied together. */
const GROUP = 2;

/** Solve a batch with BLAS-backed lockstep coordinate descent (see the module doc). */
export function lassoCDBlas(blas: Blas, batch: LassoBatch): LassoBatchResult {
  const { p, yy, path, l1Ratio = 1, positive = false, tol = 1e-4, maxIter = 1000 } = batch;
  // The lockstep gradient is float32: tighter tolerances than it can reach
  // (asked for by exactness checks) go to the float64 reference instead.
  if (tol < 1e-6) return lassoCDReference(batch);
  const V = yy.length, nA = path.length;
  const held = batch.heldOut;
  const sse = held ? new Float32Array(nA * V) : undefined;
  const weights = batch.stopIndex || !held ? new Float32Array(p * V) : undefined;
  const pathWeights = batch.keepPath ? new Float32Array(nA * p * V) : undefined;
  const iterations = new Uint32Array(V);
  const G = Float32Array.from(batch.gram);
  const G64 = Float64Array.from(batch.gram);
  const HG = held ? Float32Array.from(held.gram) : undefined;
  const diag = Float64Array.from({ length: p }, (_, j) => G64[j * p + j]);

  for (let v0 = 0; v0 < V; v0 += BLOCK) {
    const B = Math.min(BLOCK, V - v0);
    const block = (m: Float32Array) => {
      const out = new Float32Array(p * B);
      for (let j = 0; j < p; j++) out.set(m.subarray(j * V + v0, j * V + v0 + B), j * B);
      return out;
    };
    const column = (m: Float32Array, b: number) =>
      Float32Array.from({ length: p }, (_, j) => m[j * B + b]);
    const Q = block(batch.q);
    const W = batch.warmStart ? block(batch.warmStart) : new Float32Array(p * B);
    const HQ = held ? block(held.q) : undefined;
    const stop = Uint16Array.from(
      { length: B },
      (_, b) => batch.stopIndex ? batch.stopIndex[v0 + b] : nA - 1,
    );
    let lastAlpha = 0;
    for (const s of stop) lastAlpha = Math.max(lastAlpha, s);
    const Dg = new Float32Array(GROUP * B), a1 = new Float64Array(B), a2 = new Float64Array(B);
    const maxDelta = new Float64Array(B), maxW = new Float64Array(B), sweeps = new Uint32Array(B);
    const active = new Uint8Array(B);
    const Gr = new Float32Array(p * B);

    // Duality gap of target b (scikit-learn's Gram version), from W and Gr.
    const gapOf = (b: number): number => {
      const alpha = a1[b], beta = a2[b];
      let qw = 0, wGw = 0, dual = 0, l1n = 0, w2 = 0;
      for (let j = 0; j < p; j++) {
        const w = W[j * B + b], qj = Q[j * B + b], g = Gr[j * B + b];
        qw += w * qj;
        wGw += w * (qj - g);
        const xta = g - beta * w;
        const a = positive ? xta : Math.abs(xta);
        if (a > dual) dual = a;
        l1n += Math.abs(w);
        w2 += w * w;
      }
      return gapFromSums(qw, wGw, dual, l1n, w2, yy[v0 + b], alpha, beta);
    };

    for (let i = 0; i <= lastAlpha; i++) {
      // The gradient from scratch at each penalty: q − G W (float32 drifts otherwise).
      const gw = blas.sgemm({ rows: p, cols: p, data: G }, { rows: p, cols: B, data: W }, {
        out: Gr,
      });
      for (let k = 0; k < p * B; k++) Gr[k] = Q[k] - gw.data[k];
      let nActive = 0;
      for (let b = 0; b < B; b++) {
        active[b] = i <= stop[b] ? 1 : 0;
        nActive += active[b];
        sweeps[b] = 0;
        const pen = batch.scale[v0 + b] * path[i];
        a1[b] = pen * l1Ratio;
        a2[b] = pen * (1 - l1Ratio);
      }
      // Lockstep sweeps while enough targets move to make the dense update pay.
      while (nActive > B / 8) {
        maxDelta.fill(0);
        maxW.fill(0);
        // Coordinates in groups of GROUP: inside a group the gradient is
        // corrected for the group's own earlier updates, and the rest of it
        // is brought up to date once per group by one product (BLAS-3):
        // the same iterates as one coordinate at a time.
        for (let j0 = 0; j0 < p; j0 += GROUP) {
          const s = Math.min(GROUP, p - j0);
          Dg.fill(0, 0, s * B);
          const any = groupSweep(
            j0,
            s,
            p,
            B,
            G,
            diag,
            Gr,
            W,
            Dg,
            active,
            a1,
            a2,
            positive,
            maxDelta,
            maxW,
          );
          // Gr −= G[:, J] · D_J; G is symmetric, so G[:, J] is rows J of G, transposed.
          if (any) {
            blas.sgemmUpdate(
              { rows: s, cols: p, data: G, offset: j0 * p },
              { rows: s, cols: B, data: Dg },
              Gr,
              { transA: true, alpha: -1, beta: 1 },
            );
          }
        }
        for (let b = 0; b < B; b++) {
          if (!active[b]) continue;
          sweeps[b]++;
          const small = maxW[b] === 0 || maxDelta[b] / maxW[b] < tol;
          if (sweeps[b] >= maxIter || (small && gapOf(b) <= tol * yy[v0 + b])) {
            active[b] = 0;
            nActive--;
          }
        }
      }
      // The stragglers, one by one, with the reference solver at this penalty.
      for (let b = 0; b < B; b++) {
        if (!active[b]) continue;
        const one = lassoCDReference({
          p,
          gram: G64,
          q: column(Q, b),
          yy: yy.subarray(v0 + b, v0 + b + 1),
          scale: batch.scale.subarray(v0 + b, v0 + b + 1),
          path: path.subarray(i, i + 1),
          l1Ratio,
          positive,
          tol,
          maxIter: Math.max(1, maxIter - sweeps[b]),
          warmStart: column(W, b),
        });
        for (let j = 0; j < p; j++) W[j * B + b] = one.weights![j];
        sweeps[b] += one.iterations[0];
      }
      for (let b = 0; b < B; b++) if (i <= stop[b]) iterations[v0 + b] += sweeps[b];
      if (pathWeights) {
        for (let j = 0; j < p; j++) {
          pathWeights.set(W.subarray(j * B, (j + 1) * B), (i * p + j) * V + v0);
        }
      }
      if (sse && HG && HQ) {
        const hw = blas.sgemm({ rows: p, cols: p, data: HG }, { rows: p, cols: B, data: W });
        for (let b = 0; b < B; b++) {
          let lin = 0, quad = 0;
          for (let j = 0; j < p; j++) {
            const w = W[j * B + b];
            lin += w * HQ[j * B + b];
            quad += w * hw.data[j * B + b];
          }
          sse[i * V + v0 + b] = held!.yy[v0 + b] - 2 * lin + quad;
        }
      }
      if (weights) {
        for (let b = 0; b < B; b++) {
          if (i !== stop[b]) continue;
          for (let j = 0; j < p; j++) weights[j * V + v0 + b] = W[j * B + b];
        }
      }
    }
  }
  return {
    ...(sse ? { sse } : {}),
    ...(weights ? { weights } : {}),
    ...(pathWeights ? { pathWeights } : {}),
    iterations,
  };
}

/**
 * Coordinates j0 … j0+s−1 of every active target, in order; returns
 * whether any weight moved. `Gr` is current except for this group's own
 * updates, which are applied from `Dg` (the group's deltas, s × B).
 */
function groupSweep(
  j0: number,
  s: number,
  p: number,
  B: number,
  G: Float32Array,
  diag: Float64Array,
  Gr: Float32Array,
  W: Float32Array,
  Dg: Float32Array,
  active: Uint8Array,
  a1: Float64Array,
  a2: Float64Array,
  positive: boolean,
  maxDelta: Float64Array,
  maxW: Float64Array,
): boolean {
  let any = false;
  for (let jj = 0; jj < s; jj++) {
    const j = j0 + jj, dj = diag[j], row = j * B, grow = j * p + j0;
    for (let b = 0; b < B; b++) {
      if (active[b] === 0) continue;
      let g = Gr[row + b];
      for (let kk = 0; kk < jj; kk++) g -= G[grow + kk] * Dg[kk * B + b];
      const old = W[row + b];
      const z = g + dj * old;
      const l1 = a1[b];
      let nw = 0;
      if (dj > 0) {
        if (z > l1) nw = (z - l1) / (dj + a2[b]);
        else if (!positive && z < -l1) nw = (z + l1) / (dj + a2[b]);
      }
      const aw = nw < 0 ? -nw : nw;
      if (aw > maxW[b]) maxW[b] = aw;
      if (nw !== old) {
        const delta = nw - old;
        Dg[jj * B + b] = delta;
        W[row + b] = nw;
        any = true;
        const ad = delta < 0 ? -delta : delta;
        if (ad > maxDelta[b]) maxDelta[b] = ad;
      }
    }
  }
  return any;
}
