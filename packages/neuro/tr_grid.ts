/**
 * From word events to the scanner's TR grid: per-word features placed at
 * word onsets, convolved with an HRF (or Lanczos-downsampled, optionally with
 * FIR delays) and sampled at each kept volume's acquisition time.
 *
 * The mapping is linear, so it is built once as a sparse volumes × words
 * design matrix D and applied to any number of features as D · X.
 *
 * @module
 */

import { InputError } from "@brainorg/common";
import { type GammaDifference, hrfAt, HRFS } from "./hrf.ts";
import type { Transcript } from "./transcript.ts";

/** Timing of one fMRI run. */
export interface RunTiming {
  /** Volumes kept for analysis. */
  volumes: number;
  /** Volumes acquired before those and discarded (e.g. 10 for the Alice data). Default: 0. */
  discarded?: number;
  /** Scanner time (s) at which the run's audio (time 0 of the transcript) starts. Default: 0. */
  stimulusOffset?: number;
}

/** How words become regressors on the TR grid. */
export interface TrGridOptions {
  /** Repetition time (s). */
  tr: number;
  /** One entry per transcript run, in order. */
  runs: RunTiming[];
  /**
   * `"hrf"`: convolve with an HRF (default). `"lanczos"`: Lanczos
   * downsampling (Huth et al. 2016) with no HRF. `"fir"`: Lanczos
   * downsampling, then stacked delayed copies (see `delays`).
   */
  method?: "hrf" | "lanczos" | "fir";
  /** HRF for `method: "hrf"`. Default: `"spm"`. */
  hrf?: keyof typeof HRFS | GammaDifference;
  /**
   * `"impulse"`: each word is a stick at its onset (default). `"duration"`:
   * a boxcar from onset to offset (integrated at TR/oversampling steps).
   */
  events?: "impulse" | "duration";
  /** Steps per TR for integrating word durations. Default: 16. */
  oversampling?: number;
  /** Where in its TR a volume is sampled, as a fraction (0 = start). Default: 0. */
  sliceTime?: number;
  /** Lanczos window (lobes). Default: 3. */
  lanczosWindow?: number;
  /** Delays in volumes for `method: "fir"`. Default: `[1, 2, 3, 4]`. */
  delays?: number[];
}

/**
 * A sparse (volumes × words) design in CSR form, plus the delays to stack.
 * Row r holds `weights[k]` for words `cols[k]`, k in `rowPtr[r]..rowPtr[r+1]`.
 */
export interface WordDesign {
  /** Kept volumes over all runs: the design's rows. */
  volumes: number;
  /** Words of the transcript: the design's columns. */
  words: number;
  /** Row r's entries are `rowPtr[r] … rowPtr[r + 1] − 1`: (volumes + 1). */
  rowPtr: Uint32Array;
  /** Word index of each entry (nnz). */
  cols: Uint32Array;
  /** Weight of each entry (nnz): how much that word drives that volume. */
  weights: Float64Array;
  /** Run of each kept volume. */
  volumeRun: Uint16Array;
  /** Scanner time (s) of each kept volume, within its run. */
  volumeTime: Float64Array;
  /** Delays (volumes) stacked by {@linkcode applyDesign}; `[0]` unless FIR. */
  delays: number[];
}

function lanczos(t: number, cutoff: number, window: number): number {
  const x = t * cutoff;
  if (x === 0) return 1;
  if (Math.abs(x) > window) return 0;
  return (window * Math.sin(Math.PI * x) * Math.sin(Math.PI * x / window)) /
    (Math.PI * Math.PI * x * x);
}

/**
 * Build the design mapping a transcript's words onto the kept volumes.
 *
 * @param transcript words with onsets (s, from each run's audio start)
 * @param options TR, run timing and method
 * @returns the sparse design; apply it with {@linkcode applyDesign}
 * @throws {InputError} when the runs disagree with the transcript or a word
 *   falls after the last volume of its run
 *
 * @example
 * ```ts
 * import { buildWordDesign, readTranscript } from "@brainorg/neuro";
 * const t = await readTranscript("story.TextGrid");
 * const d = buildWordDesign(t, { tr: 2, runs: [{ volumes: 362, discarded: 10 }] });
 * ```
 */
export function buildWordDesign(transcript: Transcript, options: TrGridOptions): WordDesign {
  const { tr, runs, method = "hrf", events = "impulse", oversampling = 16 } = options;
  const sliceTime = options.sliceTime ?? 0;
  if (!(tr > 0)) {
    throw new RangeError(`tr must be a positive number of seconds: current value is ${tr}`);
  }
  if (runs.length !== transcript.runCount) {
    throw new InputError("the fMRI runs do not match the transcript's runs", {
      file: transcript.source,
      field: "runs",
      expected: `${transcript.runCount} run timing(s), one per transcript run`,
      found: `${runs.length}`,
    });
  }
  const hrf = typeof options.hrf === "object" ? options.hrf : HRFS[options.hrf ?? "spm"];
  const window = options.lanczosWindow ?? 3;
  const cutoff = 1 / tr;
  const support = method === "hrf" ? hrf.length : window / cutoff;

  // Scanner time of each word, and the end of each run's acquisition.
  const wordsByRun: number[][] = runs.map(() => []);
  transcript.words.forEach((w, k) => {
    const run = runs[w.run];
    const end = ((run.discarded ?? 0) + run.volumes) * tr;
    const at = (run.stimulusOffset ?? 0) + w.onset;
    if (at >= end) {
      throw new InputError("a word falls after the last volume of its run", {
        file: transcript.source,
        field: `onset of word ${k + 1} ("${w.word}", run ${w.run + 1})`,
        expected: `before the end of acquisition at ${end.toFixed(3)} s ` +
          `(${(run.discarded ?? 0) + run.volumes} volumes × TR ${tr} s)`,
        found: `${at.toFixed(3)} s`,
      });
    }
    wordsByRun[w.run].push(k);
  });

  const volumes = runs.reduce((s, r) => s + r.volumes, 0);
  const rowPtr = new Uint32Array(volumes + 1);
  const cols: number[] = [];
  const weights: number[] = [];
  const volumeRun = new Uint16Array(volumes);
  const volumeTime = new Float64Array(volumes);
  let row = 0;
  const dt = tr / oversampling;
  runs.forEach((run, r) => {
    const offset = run.stimulusOffset ?? 0;
    const idx = wordsByRun[r];
    for (let i = 0; i < run.volumes; i++, row++) {
      const t = ((run.discarded ?? 0) + i + sliceTime) * tr;
      volumeRun[row] = r;
      volumeTime[row] = t;
      for (const k of idx) {
        const w = transcript.words[k];
        const on = offset + w.onset;
        if (on > t + support || offset + w.offset < t - support) continue;
        let weight = 0;
        if (method === "hrf") {
          if (events === "duration" && w.offset > w.onset) {
            const steps = Math.max(1, Math.round((w.offset - w.onset) / dt));
            const step = (w.offset - w.onset) / steps;
            for (let s = 0; s < steps; s++) {
              weight += hrfAt(hrf, t - (on + (s + 0.5) * step)) * step;
            }
          } else {
            weight = hrfAt(hrf, t - on);
          }
        } else {
          weight = lanczos(t - on, cutoff, window);
        }
        if (weight !== 0) {
          cols.push(k);
          weights.push(weight);
        }
      }
      rowPtr[row + 1] = cols.length;
    }
  });
  const delays = method === "fir" ? (options.delays ?? [1, 2, 3, 4]) : [0];
  if (delays.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new RangeError(`delays must be non-negative integers: current value is [${delays}]`);
  }
  return {
    volumes,
    words: transcript.words.length,
    rowPtr,
    cols: Uint32Array.from(cols),
    weights: Float64Array.from(weights),
    volumeRun,
    volumeTime,
    delays,
  };
}

/**
 * Apply a design to per-word features.
 *
 * @param design from {@linkcode buildWordDesign}
 * @param features shape (words, F), row-major
 * @returns shape (volumes, F × delays.length), row-major; column `d * F + f`
 *   is feature f delayed by `delays[d]` volumes (zero before its run starts)
 * @throws {RangeError} when `features.length` is not a multiple of the word count
 *
 * @example
 * ```ts
 * import { applyDesign, buildWordDesign, parseTranscript } from "@brainorg/neuro";
 * const t = parseTranscript("word,onset,offset\nAlice,1.0,1.4\nwas,1.4,1.6\n", "story.csv");
 * const design = buildWordDesign(t, { tr: 2, runs: [{ volumes: 20 }] });
 * const wordRate = applyDesign(design, Float32Array.of(1, 1)); // (20, 1): the HRF's rise and fall
 * ```
 */
export function applyDesign(design: WordDesign, features: Float32Array): Float32Array {
  const { volumes, words, rowPtr, cols, weights, delays, volumeRun } = design;
  if (words === 0 || features.length % words !== 0) {
    throw new RangeError(
      `features has ${features.length} values: expected (words = ${words}) × F, row-major`,
    );
  }
  const F = features.length / words;
  const base = new Float32Array(volumes * F);
  const acc = new Float64Array(F);
  for (let r = 0; r < volumes; r++) {
    acc.fill(0);
    for (let k = rowPtr[r]; k < rowPtr[r + 1]; k++) {
      const w = weights[k], off = cols[k] * F;
      for (let f = 0; f < F; f++) acc[f] += w * features[off + f];
    }
    base.set(acc, r * F);
  }
  if (delays.length === 1 && delays[0] === 0) return base;
  const D = delays.length;
  const out = new Float32Array(volumes * F * D);
  for (let r = 0; r < volumes; r++) {
    for (let d = 0; d < D; d++) {
      const src = r - delays[d];
      if (src < 0 || volumeRun[src] !== volumeRun[r]) continue;
      out.set(base.subarray(src * F, (src + 1) * F), (r * D + d) * F);
    }
  }
  return out;
}
