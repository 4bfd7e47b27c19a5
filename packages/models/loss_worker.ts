/**
 * Worker entry of {@linkcode nextTokenLosses}: the losses of its share of
 * the ablations, posted back as (ablations × texts).
 *
 * @module
 */

import { lossesOf, type LossReply, type LossTask } from "./loss.ts";

const scope = globalThis as unknown as {
  onmessage: (e: MessageEvent<LossTask>) => void;
  postMessage(message: LossReply, transfer?: Transferable[]): void;
};

scope.onmessage = (e) => {
  try {
    const { model, texts, ablations, context } = e.data;
    const T = texts.length, losses = new Float64Array(ablations.length * T);
    lossesOf(model, texts, ablations, context, (a, l) => {
      losses.set(l, a * T);
      scope.postMessage({ done: 1 });
    });
    scope.postMessage({ losses }, [losses.buffer]);
  } catch (err) {
    scope.postMessage({ error: String(err instanceof Error ? err.message : err) });
  }
};
