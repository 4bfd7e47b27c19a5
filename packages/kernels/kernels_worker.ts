/**
 * Worker entry of {@linkcode WorkerPool}: runs the task it is sent (a share
 * of a LASSO batch, or of a batch of ridge refits) in its own WebAssembly
 * instance and posts the result back, its buffers transferred.
 *
 * @module
 */

import type { LassoBatch, LassoBatchResult } from "./lasso_batch.ts";
import { lassoCDWasm } from "./lasso_cd_wasm.ts";
import { type RefitShare, refitShareWasm } from "./ridge_null_wasm.ts";

/** A task for a worker. */
export type WorkerTask =
  /** LASSO targets; path weights go to `pathOut` (shared memory) when given. */
  | { kind: "lasso"; batch: LassoBatch; pathOut?: Float32Array }
  /** Ridge refits of some designs of a batch (see {@linkcode refitShareWasm}); the share comes back. */
  | { kind: "refit"; share: RefitShare };

/** A worker's answer. */
export type WorkerReply = { ok: unknown } | { error: string };

const scope = globalThis as unknown as {
  onmessage: (e: MessageEvent<WorkerTask>) => void;
  postMessage(message: unknown, transfer: Transferable[]): void;
};

const buffers = (arrays: (ArrayBufferView | undefined)[]) =>
  arrays.filter((a) => a !== undefined).map((a) => a!.buffer as ArrayBuffer);

scope.onmessage = (e) => {
  try {
    const task = e.data;
    if (task.kind === "lasso") {
      const res: LassoBatchResult = lassoCDWasm(task.batch, { pathOut: task.pathOut });
      // Shared path weights are already in place.
      if (task.pathOut) delete res.pathWeights;
      scope.postMessage(
        { ok: res },
        buffers([res.sse, res.weights, res.pathWeights, res.objective, res.iterations]),
      );
    } else {
      // The share's buffers go back, filled, for the host to use again.
      const { share } = task;
      refitShareWasm(share);
      scope.postMessage({ ok: share }, buffers([share.P, share.rOut, share.weightsOut]));
    }
  } catch (err) {
    scope.postMessage({ error: String(err instanceof Error ? err.message : err) }, []);
  }
};
