/**
 * The CPU backend's LASSO on several cores: a batch's targets are split into
 * contiguous shares, each solved by {@linkcode lassoCDWasm} in a worker
 * thread, and the results put back together. Targets are independent, so
 * the results are those of one thread, bit for bit.
 *
 * Workers are a {@linkcode WorkerPool}'s: started on first use, stopped
 * after a second without work or on {@linkcode LassoPool.close} (the CPU
 * backend's `dispose`). Where workers cannot start, the batch is solved in
 * the calling thread.
 *
 * @module
 */

import type { LassoBatch, LassoBatchResult } from "./lasso_batch.ts";
import { lassoCDWasm } from "./lasso_cd_wasm.ts";
import { WorkerPool } from "./_worker_pool.ts";

/** Fewer targets than this per share are not worth a message round trip. */
const MIN_SHARE = 32;

/** A set of worker threads solving LASSO batches. */
export class LassoPool {
  readonly #pool: WorkerPool;
  #queue: Promise<unknown> = Promise.resolve();

  /** @param size worker threads (≥ 1); typically the number of cores */
  constructor(readonly size: number) {
    this.#pool = new WorkerPool(size);
  }

  /** Solve a batch, spread over the workers when it is big enough; calls run one after another. */
  solve(batch: LassoBatch): Promise<LassoBatchResult> {
    const next = this.#queue.then(() => this.#solve(batch));
    this.#queue = next.catch(() => {});
    return next;
  }

  async #solve(batch: LassoBatch): Promise<LassoBatchResult> {
    const V = batch.yy.length;
    const shares = Math.min(this.size, Math.floor(V / MIN_SHARE));
    if (shares < 2 || this.#pool.broken) return lassoCDWasm(batch);
    try {
      const bounds = Array.from({ length: shares + 1 }, (_, i) => Math.round((i * V) / shares));
      // The path weights (the bulk of the output) are written by the workers
      // straight into shared memory where it exists (Deno; isolated pages).
      const per = batch.path.length * batch.p;
      const shared = batch.keepPath && typeof SharedArrayBuffer === "function"
        ? new Float32Array(new SharedArrayBuffer(V * per * 4))
        : undefined;
      const parts = await Promise.all(
        bounds.slice(0, -1).map((v0, i) =>
          this.#pool.run<LassoBatchResult>(i, {
            kind: "lasso",
            batch: share(batch, v0, bounds[i + 1]),
            pathOut: shared?.subarray(v0 * per, bounds[i + 1] * per),
          })
        ),
      );
      const res = merge(batch, bounds, parts);
      return shared ? { ...res, pathWeights: shared } : res;
    } catch (err) {
      if (!this.#pool.broken) throw err;
      return lassoCDWasm(batch);
    }
  }

  /** Stop the workers (a later `solve` starts them again). */
  close(): void {
    this.#pool.close();
  }
}

/** Columns v0 … v1−1 of a (rows × V) column-per-target array. */
function columns(a: Float32Array, rows: number, V: number, v0: number, v1: number): Float32Array {
  const n = v1 - v0, out = new Float32Array(rows * n);
  for (let r = 0; r < rows; r++) out.set(a.subarray(r * V + v0, r * V + v1), r * n);
  return out;
}

/** The sub-batch of targets v0 … v1−1. */
function share(b: LassoBatch, v0: number, v1: number): LassoBatch {
  const V = b.yy.length, p = b.p;
  return {
    ...b,
    q: columns(b.q, p, V, v0, v1),
    yy: b.yy.slice(v0, v1),
    scale: b.scale.slice(v0, v1),
    ...(b.warmStart ? { warmStart: columns(b.warmStart, p, V, v0, v1) } : {}),
    ...(b.stopIndex ? { stopIndex: b.stopIndex.slice(v0, v1) } : {}),
    ...(b.heldOut
      ? {
        heldOut: {
          gram: b.heldOut.gram,
          q: columns(b.heldOut.q, p, V, v0, v1),
          yy: b.heldOut.yy.slice(v0, v1),
        },
      }
      : {}),
  };
}

/** The shares' results as one batch's. */
function merge(b: LassoBatch, bounds: number[], parts: LassoBatchResult[]): LassoBatchResult {
  const V = b.yy.length;
  const join = (pick: (r: LassoBatchResult) => Float32Array | undefined, rows: number) => {
    if (!pick(parts[0])) return undefined;
    const out = new Float32Array(rows * V);
    parts.forEach((r, i) => {
      const v0 = bounds[i], n = bounds[i + 1] - v0, a = pick(r)!;
      for (let k = 0; k < rows; k++) out.set(a.subarray(k * n, (k + 1) * n), k * V + v0);
    });
    return out;
  };
  const nA = b.path.length;
  const sse = join((r) => r.sse, nA);
  const weights = join((r) => r.weights, b.p);
  let pathWeights: Float32Array | undefined;
  if (parts.every((r) => r.pathWeights)) {
    // Target-major: the shares follow one another.
    pathWeights = new Float32Array(V * nA * b.p);
    parts.forEach((r, i) => pathWeights!.set(r.pathWeights!, bounds[i] * nA * b.p));
  }
  const iterations = new Uint32Array(V);
  parts.forEach((r, i) => iterations.set(r.iterations, bounds[i]));
  let objective: Float64Array | undefined;
  if (parts.every((r) => r.objective)) {
    objective = new Float64Array(V);
    parts.forEach((r, i) => objective!.set(r.objective!, bounds[i]));
  }
  return {
    ...(objective ? { objective } : {}),
    ...(sse ? { sse } : {}),
    ...(weights ? { weights } : {}),
    ...(pathWeights ? { pathWeights } : {}),
    iterations,
  };
}
