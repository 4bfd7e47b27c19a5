/**
 * Worker entry of {@linkcode captureWordsParallel}: records its share of
 * the windows and posts their words' rows back.
 *
 * @module
 */

import { type CaptureReply, type CaptureTask, runWindows } from "./capture.ts";

const scope = globalThis as unknown as {
  onmessage: (e: MessageEvent<CaptureTask>) => void;
  postMessage(message: CaptureReply, transfer?: Transferable[]): void;
};

scope.onmessage = (e) => {
  try {
    const { model, windows, from, to, aggregate } = e.data;
    const units = model.config.layers * model.config.dim;
    const w0 = windows.starts[from];
    const w1 = to < windows.starts.length ? windows.starts[to] : windows.tokens.length;
    const rows = new Float32Array((w1 - w0) * units);
    runWindows(
      model,
      windows,
      { from, to, firstWord: w0 },
      aggregate,
      rows,
      (window) => scope.postMessage({ window }),
    );
    scope.postMessage({ rows }, [rows.buffer]);
  } catch (err) {
    scope.postMessage({ error: String(err instanceof Error ? err.message : err) });
  }
};
