/**
 * What the story said when an atom was strongest: the words heard in each
 * volume's acquisition window, the volumes where an atom's time course is
 * highest, and the words over-represented in those volumes. Plain
 * functions of the atom's time course and the transcript, computed on the
 * server so that the page carries a few lists, not the transcript.
 *
 * @module
 */

/** A word of the transcript and its onset in seconds. */
export interface TimedWord {
  word: string;
  onset: number;
}

/**
 * The words heard during each volume's acquisition window: onsets in
 * `(t − tr, t]` for a volume at time `t` (the TR before it).
 *
 * @param words the transcript, any order; words without a finite onset are left out
 * @param times each volume's time in seconds, length T
 * @param tr the repetition time in seconds
 * @returns per volume, its words in onset order (length T)
 *
 * @example
 * ```ts
 * wordsPerVolume([{ word: "a", onset: 1 }, { word: "b", onset: 3 }], [2, 4], 2); // [["a"], ["b"]]
 * ```
 */
export function wordsPerVolume(words: TimedWord[], times: number[], tr: number): string[][] {
  const sorted = words.filter((w) => Number.isFinite(w.onset)).sort((a, b) => a.onset - b.onset);
  let first = 0;
  return times.map((t) => {
    // Times rise, so the window's start only moves forward: one pass over the transcript.
    while (first < sorted.length && sorted[first].onset <= t - tr) first++;
    const heard: string[] = [];
    for (let i = first; i < sorted.length && sorted[i].onset <= t; i++) heard.push(sorted[i].word);
    return heard;
  });
}

/** A volume where the atom is high. */
export interface TopVolume {
  /** The volume's index on the TR grid. */
  volume: number;
  /** Its time in seconds (NaN where the run has no time for it). */
  time: number;
  /** The atom's time course there. */
  value: number;
  /** Words heard in its acquisition window. */
  words: string[];
}

/** Volume indices by value, highest first; non-finite values are left out. Ties: earlier first. */
function ranked(course: number[]): number[] {
  return course.map((_, i) => i).filter((i) => Number.isFinite(course[i]))
    .sort((a, b) => course[b] - course[a] || a - b);
}

/**
 * The `n` volumes where the time course is highest.
 *
 * @param course the atom's time course, length T
 * @param times each volume's time (may be shorter than T)
 * @param heard each volume's words, from {@linkcode wordsPerVolume}
 * @param n how many. Default: 10.
 * @returns at most `n` volumes, highest value first
 *
 * @example
 * ```ts
 * topVolumes([0, 3, 1], [2, 4, 6], [[], ["a"], ["b"]], 1); // [{ volume: 1, time: 4, value: 3, words: ["a"] }]
 * ```
 */
export function topVolumes(
  course: number[],
  times: number[],
  heard: string[][],
  n = 10,
): TopVolume[] {
  return ranked(course).slice(0, n).map((v) => ({
    volume: v,
    time: times[v] ?? NaN,
    value: course[v],
    words: heard[v] ?? [],
  }));
}

/** A word's counts in the atom's top volumes and in all volumes. */
export interface WordEnrichment {
  word: string;
  /** Times heard in the top volumes. */
  top: number;
  /** Times heard in all volumes. */
  all: number;
  /** `(top / topWords) / (all / allWords)`: 1 is the word's share of the whole story. */
  ratio: number;
}

/** Options of {@linkcode wordEnrichment}. */
export interface EnrichmentOptions {
  /** Share of volumes counted as the top ones (rounded up). Default: 0.1. */
  fraction?: number;
  /** Fewest times a word is heard in all volumes to be listed. Default: 3. */
  minCount?: number;
  /** Most words returned. Default: 15. */
  limit?: number;
}

/** A word as counted: lower case, without surrounding punctuation (`"Alice,"` is `alice`). */
export function wordKey(word: string): string {
  return word.toLowerCase().replace(/^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$/gu, "");
}

/**
 * The words heard more often in the atom's top volumes than in the story
 * as a whole: for each word heard at least `minCount` times in all volumes
 * and at least once in the top `fraction` of volumes (by the time course),
 * the ratio of its share of the words heard in the top volumes to its
 * share of all words heard. Highest ratio first, then most heard in the top.
 *
 * @param course the atom's time course, length T
 * @param heard each volume's words, from {@linkcode wordsPerVolume}, length T
 * @returns the words, the number of top volumes, and the words heard in them and in all
 *
 * @example
 * ```ts
 * const r = wordEnrichment([5, 0, 0], [["a", "a", "a"], ["b"], ["a", "b", "b"]], { minCount: 1 });
 * r.words[0]; // { word: "a", top: 3, all: 4, ratio: 1.75 }
 * ```
 */
export function wordEnrichment(
  course: number[],
  heard: string[][],
  options: EnrichmentOptions = {},
): { words: WordEnrichment[]; topVolumes: number; topWords: number; allWords: number } {
  const fraction = options.fraction ?? 0.1, minCount = options.minCount ?? 3;
  const limit = options.limit ?? 15;
  const T = Math.min(course.length, heard.length);
  const order = ranked(course.slice(0, T)), nTop = Math.ceil(order.length * fraction);
  const count = (volumes: Iterable<number>) => {
    const counts = new Map<string, number>();
    let total = 0;
    for (const v of volumes) {
      for (const w of heard[v]) {
        const key = wordKey(w);
        if (key === "") continue;
        counts.set(key, (counts.get(key) ?? 0) + 1);
        total++;
      }
    }
    return { counts, total };
  };
  const top = count(order.slice(0, nTop)), all = count(course.slice(0, T).keys());
  const words: WordEnrichment[] = [];
  for (const [word, t] of top.counts) {
    const a = all.counts.get(word) ?? 0;
    if (a < minCount) continue;
    words.push({ word, top: t, all: a, ratio: (t / top.total) / (a / all.total) });
  }
  words.sort((x, y) => y.ratio - x.ratio || y.top - x.top || (x.word < y.word ? -1 : 1));
  return {
    words: words.slice(0, limit),
    topVolumes: nTop,
    topWords: top.total,
    allWords: all.total,
  };
}
