/**
 * Word capture from a GGUF file, in memory or streamed: the model is read
 * whole ({@linkcode readGgufLlama}, windows shared out among worker threads)
 * when it fits a memory budget, and block by block from the file
 * ({@linkcode captureWordsStreamed}) when it does not: Llama-3-8B in F16 is
 * 30 GiB as float32, and each worker thread holds a copy.
 *
 * @module
 */

import { readGgufLlama, readGgufLlamaHeader } from "./gguf_model.ts";
import { ggufFloat32Bytes } from "./gguf_tensors.ts";
import { captureWordsParallel, randomizeWeights, type WordActivations } from "./capture.ts";
import { captureWordsStreamed, type StreamedCaptureOptions } from "./llama_streamed.ts";
import { createTokenizer } from "./tokenizer.ts";

/** Options of {@linkcode captureGgufWords}. */
export interface GgufCaptureOptions extends StreamedCaptureOptions {
  /**
   * `"auto"`: streamed when the in-memory path would need more than
   * `memoryBudget`; `true` or `false`: that path. Default: `"auto"`.
   */
  streamed?: "auto" | boolean;
  /**
   * Bytes the in-memory path may take: the model's float32 weights once in
   * this thread and once per worker thread. Default: half the machine's
   * memory (8 GiB where it cannot be read).
   */
  memoryBudget?: number;
  /** Worker threads of the in-memory path. Default: the number of cores. */
  threads?: number;
}

/** What {@linkcode captureGgufWords} returns. */
export interface GgufCapture {
  /** The responses, (words × layers·dim). */
  activations: WordActivations;
  /** Whether the weights were streamed block by block. */
  streamed: boolean;
  /** Why that path: the bytes the in-memory path would take, and the budget. */
  reason: string;
  /** The model's source (file and tensor types), as {@linkcode LlamaModel.source}. */
  source: string;
}

/** Half the machine's memory, or 8 GiB without permission to read it. */
function defaultBudget(): number {
  try {
    return Deno.systemMemoryInfo().total / 2;
  } catch {
    return 8 * 2 ** 30;
  }
}

/**
 * Capture a story's words from a GGUF Llama file, in memory or streamed
 * block by block (see {@linkcode GgufCaptureOptions.streamed}): the same
 * responses either way, up to float32 rounding.
 *
 * @param path the `.gguf` file
 * @param words the transcript's words in order
 * @param options the path, the memory budget, threads, and the capture's
 *   options (see {@linkcode GgufCaptureOptions}). Default: automatic, half
 *   the machine's memory, 64 words of context, mean.
 * @returns the responses, the path taken and why
 * @throws {InputError} as {@linkcode readGgufLlama} and {@linkcode captureWords}
 * @throws {RangeError} for a `memoryBudget` that is not a positive number
 *
 * @example
 * ```ts
 * import { captureGgufWords } from "@brainorg/models";
 * const { activations, streamed, reason } = await captureGgufWords("Meta-Llama-3-8B.F16.gguf",
 *   ["Once", "upon", "a", "time"]);
 * console.log(streamed, reason); // true, "in memory it would take 90.0 GiB …"
 * ```
 */
export async function captureGgufWords(
  path: string,
  words: string[],
  options: GgufCaptureOptions = {},
): Promise<GgufCapture> {
  const budget = options.memoryBudget ?? defaultBudget();
  if (!(budget > 0)) {
    throw new RangeError(
      `\`memoryBudget\` must be a number of bytes > 0: current value is ${budget}`,
    );
  }
  const header = await readGgufLlamaHeader(path);
  const tokenizer = createTokenizer(header.vocab);
  const threads = Math.max(1, options.threads ?? navigator.hardwareConcurrency ?? 1);
  const windows = Math.ceil(words.length / Math.max(1, options.context ?? 64));
  // Each worker gets a structured clone of the whole model.
  const copies = 1 + (Math.min(threads, windows) > 1 ? Math.min(threads, windows) : 0);
  const dense = ggufFloat32Bytes(header) * copies;
  const gib = (b: number) => `${(b / 2 ** 30).toFixed(1)} GiB`;
  const streamed = options.streamed === undefined || options.streamed === "auto"
    ? dense > budget
    : options.streamed;
  const reason = `in memory it would take ${gib(dense)} (float32 weights × ${copies}), ` +
    `the budget is ${gib(budget)}` +
    (options.streamed === true || options.streamed === false ? " (path chosen by option)" : "");
  const source = options.randomSeed === undefined
    ? header.source
    : `${header.source} (weights redrawn, seed ${options.randomSeed})`;
  if (streamed) {
    const activations = await captureWordsStreamed(header, tokenizer, words, options);
    return { activations, streamed, reason, source };
  }
  const trained = await readGgufLlama(path);
  const model = options.randomSeed === undefined
    ? trained
    : randomizeWeights(trained, options.randomSeed);
  const activations = await captureWordsParallel(model, tokenizer, words, { ...options, threads });
  return { activations, streamed, reason, source };
}
