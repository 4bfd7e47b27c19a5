/**
 * Worker entry of {@linkcode lassoCDParallel}: solves the share of a batch
 * it is sent with {@linkcode lassoCDWasm} and posts the result back.
 *
 * @module
 */

import type { LassoBatch, LassoBatchResult } from "./lasso_batch.ts";
import { lassoCDWasm } from "./lasso_cd_wasm.ts";

/** A share of a batch; path weights go to `pathOut` (shared memory) when given. */
export interface LassoShare {
  batch: LassoBatch;
  pathOut?: Float32Array;
}

const scope = globalThis as unknown as {
  onmessage: (e: MessageEvent<LassoShare>) => void;
  postMessage(message: unknown, transfer: Transferable[]): void;
};

scope.onmessage = (e) => {
  try {
    const { batch, pathOut } = e.data;
    const res: LassoBatchResult = lassoCDWasm(batch, { pathOut });
    // Shared path weights are already in place.
    if (pathOut) delete res.pathWeights;
    const transfer = [res.sse, res.weights, res.pathWeights, res.objective, res.iterations]
      .filter((a) => a !== undefined).map((a) => a!.buffer as ArrayBuffer);
    scope.postMessage({ ok: res }, transfer);
  } catch (err) {
    scope.postMessage({ error: String(err instanceof Error ? err.message : err) }, []);
  }
};
