/**
 * Story transcripts with word timings: Praat TextGrid (long and short text
 * formats), CSV/TSV tables (`word,onset,offset[,run]`) and Gentle alignments
 * (`align.csv`, JSON). Several runs per story.
 *
 * @module
 */

import { InputError, unreadableFile } from "@brainorg/common";
import {
  checkTimings,
  cleanWord,
  decodeTranscriptText,
  type LocatedWord,
  splitLines,
} from "./_transcript_text.ts";

/** One spoken word. Times are seconds from the start of its run's audio. */
export interface WordEvent {
  /** The word as spoken (NFC, invisible characters removed). */
  word: string;
  /** Start, seconds from the start of the run's audio. */
  onset: number;
  /** End, seconds from the start of the run's audio (≥ onset). */
  offset: number;
  /** 0-based run index. */
  run: number;
}

/** The words of a story, in spoken order within each run. */
export interface Transcript {
  /** The words, run by run, in spoken order. */
  words: WordEvent[];
  /** Number of runs (the largest `run` + 1). */
  runCount: number;
  /** File the words came from. */
  source: string;
  /** The format the file was read as: a Praat TextGrid, a CSV/TSV table, or Gentle's CSV or JSON. */
  format: "textgrid" | "table" | "gentle-csv" | "gentle-json";
  /** Entries skipped, with why (silences, unaligned words). */
  dropped: { count: number; reason: string }[];
}

/** Options for reading transcripts. */
export interface TranscriptOptions {
  /** TextGrid tier to read. Default: a tier named `word`/`words`, else the only interval tier. */
  tier?: string;
  /** Interval texts that mark silence, compared case-insensitively. Default: `["", "sp", "sil", "<sil>", "spn", "{sl}", "#"]`. */
  silence?: string[];
  /**
   * For tables without a `run` column: start a new run when the onset goes
   * back by more than this many seconds. Default: 1.
   */
  runRestartSeconds?: number;
}

const DEFAULT_SILENCE = ["", "sp", "sil", "<sil>", "spn", "{sl}", "#"];

// --- TextGrid -------------------------------------------------------------

type Token = { kind: "str"; value: string } | { kind: "num"; value: number };

function tokenizeTextGrid(text: string): Token[] {
  const tokens: Token[] = [];
  // Strings (Praat doubles quotes inside), numbers; keys, [n] indices and
  // <exists> flags carry nothing that the token order does not.
  const re = /"((?:[^"]|"")*)"|\[\s*\d*\s*\]|<\w+>|(-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)/g;
  for (const m of text.matchAll(re)) {
    if (m[1] !== undefined) tokens.push({ kind: "str", value: m[1].replace(/""/g, '"') });
    else if (m[2] !== undefined) tokens.push({ kind: "num", value: Number(m[2]) });
  }
  return tokens;
}

interface Tier {
  name: string;
  kind: "IntervalTier" | "TextTier";
  items: { xmin: number; xmax: number; text: string }[];
}

function parseTextGrid(text: string, file: string): Tier[] {
  const toks = tokenizeTextGrid(text);
  let i = 0;
  const fail = (field: string, expected: string): never => {
    const t = toks[i];
    throw new InputError("malformed TextGrid", {
      file,
      field,
      expected,
      found: t ? JSON.stringify(t.value) : "end of file",
    });
  };
  const str = (field: string) =>
    toks[i]?.kind === "str" ? toks[i++].value as string : fail(field, "a quoted string");
  const num = (field: string) =>
    toks[i]?.kind === "num" && Number.isFinite(toks[i].value)
      ? toks[i++].value as number
      : fail(field, "a finite number");
  if (str("File type") !== "ooTextFile") {
    i--;
    fail("File type", '"ooTextFile"');
  }
  if (str("Object class") !== "TextGrid") {
    i--;
    fail("Object class", '"TextGrid"');
  }
  num("xmin");
  num("xmax");
  const nTiers = num("size");
  const tiers: Tier[] = [];
  for (let t = 0; t < nTiers; t++) {
    const kind = str(`tier ${t + 1} class`);
    if (kind !== "IntervalTier" && kind !== "TextTier") {
      i--;
      fail(`tier ${t + 1} class`, '"IntervalTier" or "TextTier"');
    }
    const name = str(`tier ${t + 1} name`);
    num(`tier ${name} xmin`);
    num(`tier ${name} xmax`);
    const n = num(`tier ${name} size`);
    const items: Tier["items"] = [];
    for (let k = 0; k < n; k++) {
      const xmin = num(`tier ${name} item ${k + 1} time`);
      const xmax = kind === "IntervalTier" ? num(`tier ${name} item ${k + 1} xmax`) : xmin;
      items.push({ xmin, xmax, text: str(`tier ${name} item ${k + 1} text`) });
    }
    tiers.push({ name, kind: kind as Tier["kind"], items });
  }
  return tiers;
}

function fromTextGrid(text: string, file: string, options: TranscriptOptions): Transcript {
  const tiers = parseTextGrid(text, file);
  const intervalTiers = tiers.filter((t) => t.kind === "IntervalTier");
  let tier: Tier | undefined;
  if (options.tier !== undefined) {
    tier = tiers.find((t) => t.name === options.tier);
  } else {
    tier = intervalTiers.find((t) => /^words?$/i.test(t.name.trim())) ??
      (intervalTiers.length === 1 ? intervalTiers[0] : undefined);
  }
  if (!tier) {
    throw new InputError("cannot choose the word tier", {
      file,
      field: "tier",
      expected: options.tier !== undefined
        ? `a tier named "${options.tier}"`
        : 'a tier named "word" or "words", or a single interval tier (name it with the tier option)',
      found: tiers.length ? tiers.map((t) => `"${t.name}" (${t.kind})`).join(", ") : "no tiers",
    });
  }
  const silence = new Set((options.silence ?? DEFAULT_SILENCE).map((s) => s.toLowerCase()));
  const words: LocatedWord[] = [];
  let dropped = 0;
  tier.items.forEach((it, k) => {
    const where = `tier "${tier.name}" interval ${k + 1}`;
    const w = cleanWord(it.text, file, `text (${where})`);
    if (silence.has(w.toLowerCase())) dropped++;
    else words.push({ word: w, onset: it.xmin, offset: it.xmax, run: 0, where });
  });
  checkTimings(words, file);
  if (words.length === 0) {
    throw new InputError("the word tier holds no words", {
      file,
      field: `tier "${tier.name}"`,
      expected: "at least one non-silent interval",
      found: `${tier.items.length} intervals, all silence or empty`,
    });
  }
  return {
    words: words.map(unlocated),
    runCount: 1,
    source: file,
    format: "textgrid",
    dropped: dropped ? [{ count: dropped, reason: "silence or empty interval" }] : [],
  };
}

function unlocated({ where: _, ...w }: LocatedWord): WordEvent {
  return w;
}

// --- Tables (CSV/TSV) and Gentle ---------------------------------------------

function splitDelimited(line: string, delim: string): string[] {
  if (!line.includes('"')) return line.split(delim);
  const out: string[] = [];
  let cur = "", quoted = false;
  for (let k = 0; k < line.length; k++) {
    const ch = line[k];
    if (quoted) {
      if (ch === '"' && line[k + 1] === '"') {
        cur += '"';
        k++;
      } else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === delim) {
      out.push(cur);
      cur = "";
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

const COLUMN_ALIASES = {
  word: ["word", "words", "token", "text", "trial_type"],
  onset: ["onset", "start", "begin", "tmin", "start_time"],
  offset: ["offset", "end", "stop", "tmax", "end_time"],
  run: ["run", "section", "segment", "block"],
};

function parseNumber(value: string, file: string, field: string, line: number): number {
  const v = Number(value.trim());
  if (value.trim() === "" || !Number.isFinite(v)) {
    throw new InputError(`not a number at line ${line}`, {
      file,
      field,
      expected: "a finite number of seconds",
      found: JSON.stringify(value),
    });
  }
  return v;
}

function assignRuns(words: LocatedWord[], restart: number): number {
  let run = 0;
  for (let k = 1; k < words.length; k++) {
    if (words[k].onset < words[k - 1].onset - restart) run++;
    words[k].run = run;
  }
  return run + 1;
}

const NO_WORD = "no word (empty or invisible characters only)";

function droppedList(unaligned: number, empty: number): Transcript["dropped"] {
  return [
    ...(unaligned ? [{ count: unaligned, reason: "not aligned to the audio" }] : []),
    ...(empty ? [{ count: empty, reason: NO_WORD }] : []),
  ];
}

function fromTable(text: string, file: string, options: TranscriptOptions): Transcript {
  const lines = splitLines(text).map((l, k) => ({ l, k })).filter(({ l }) => l.trim() !== "");
  if (lines.length === 0) {
    throw new InputError("transcript table is empty", {
      file,
      field: "rows",
      expected: "a header and rows",
      found: "no lines",
    });
  }
  const delim = lines[0].l.includes("\t") ? "\t" : ",";
  const header = splitDelimited(lines[0].l, delim).map((h) => h.trim().toLowerCase());
  const col = (key: keyof typeof COLUMN_ALIASES) =>
    header.findIndex((h) => COLUMN_ALIASES[key].includes(h));
  const iw = col("word"), io = col("onset"), ie = col("offset"), ir = col("run");
  if (iw < 0 || io < 0) {
    throw new InputError("transcript table lacks a word or onset column", {
      file,
      field: "header",
      expected: "columns word and onset (offset and run optional), e.g. word,onset,offset",
      found: header.join(delim === "\t" ? "\\t" : ","),
    });
  }
  const words: LocatedWord[] = [];
  let empty = 0;
  for (const { l, k } of lines.slice(1)) {
    const cells = splitDelimited(l, delim), line = k + 1, where = `line ${line}`;
    const onset = parseNumber(cells[io] ?? "", file, header[io], line);
    const offset = ie >= 0 ? parseNumber(cells[ie] ?? "", file, header[ie], line) : onset;
    const run = ir >= 0 ? parseNumber(cells[ir] ?? "", file, header[ir], line) : 0;
    const word = cleanWord(cells[iw] ?? "", file, `${header[iw]} (${where})`);
    if (word === "") empty++;
    else words.push({ word, onset, offset, run, where });
  }
  if (words.length === 0) {
    throw new InputError("transcript table has a header but no words", {
      file,
      field: "rows",
      expected: "rows with a word and its onset",
      found: `${lines.length - 1} rows${empty ? `, ${empty} without a word` : ""}`,
    });
  }
  let runCount: number;
  if (ir >= 0) {
    // Runs may be numbered from 1 or 0; renumber from 0 in order of appearance.
    const ids = [...new Set(words.map((w) => w.run))];
    for (const w of words) w.run = ids.indexOf(w.run);
    runCount = ids.length;
  } else {
    runCount = assignRuns(words, options.runRestartSeconds ?? 1);
  }
  checkTimings(words, file);
  return {
    words: words.map(unlocated),
    runCount,
    source: file,
    format: "table",
    dropped: droppedList(0, empty),
  };
}

function fromGentleCsv(text: string, file: string): Transcript {
  const words: LocatedWord[] = [];
  let dropped = 0, empty = 0;
  const lines = splitLines(text).map((l, k) => ({ l, k })).filter(({ l }) => l.trim() !== "");
  for (const { l, k } of lines) {
    const [word, _aligned, start, end] = splitDelimited(l, ",");
    const where = `line ${k + 1}`;
    const clean = cleanWord(word, file, `word (${where})`);
    if (clean === "") {
      empty++;
      continue;
    }
    if (start === undefined || start.trim() === "" || end === undefined || end.trim() === "") {
      dropped++;
      continue;
    }
    words.push({
      word: clean,
      onset: parseNumber(start, file, "start", k + 1),
      offset: parseNumber(end, file, "end", k + 1),
      run: 0,
      where,
    });
  }
  if (words.length === 0) {
    throw new InputError("Gentle alignment holds no aligned words", {
      file,
      field: "rows",
      expected: "rows word,alignedWord,start,end",
      found: `${lines.length} rows, none aligned`,
    });
  }
  checkTimings(words, file);
  return {
    words: words.map(unlocated),
    runCount: 1,
    source: file,
    format: "gentle-csv",
    dropped: droppedList(dropped, empty),
  };
}

function fromGentleJson(text: string, file: string): Transcript {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new InputError("Gentle alignment is not valid JSON", {
      file,
      field: "(the whole file)",
      expected: "JSON",
      found: (err as Error).message,
      cause: err,
    });
  }
  const list = typeof doc === "object" && doc !== null && !Array.isArray(doc)
    ? (doc as { words?: unknown }).words
    : undefined;
  if (!Array.isArray(list)) {
    throw new InputError("Gentle alignment lacks its word list", {
      file,
      field: "words",
      expected: "an object whose words are an array of {word, start, end, case}",
      found: Array.isArray(doc) ? "an array at the top" : doc === null ? "null" : typeof list,
    });
  }
  const words: LocatedWord[] = [];
  let dropped = 0, empty = 0;
  list.forEach((item: unknown, k) => {
    const w = (typeof item === "object" && item !== null ? item : {}) as Record<string, unknown>;
    const where = `words[${k}]`;
    const word = typeof w.word === "string" || typeof w.word === "number"
      ? cleanWord(String(w.word), file, `${where}.word`)
      : "";
    if (word === "") {
      empty++;
      return;
    }
    if (
      typeof w.start !== "number" || typeof w.end !== "number" || w.case === "not-found-in-audio"
    ) {
      dropped++;
      return;
    }
    words.push({ word, onset: w.start, offset: w.end, run: 0, where });
  });
  if (words.length === 0) {
    throw new InputError("Gentle alignment holds no aligned words", {
      file,
      field: "words",
      expected: "words with start and end times",
      found: `${list.length} words, none aligned`,
    });
  }
  checkTimings(words, file);
  return {
    words: words.map(unlocated),
    runCount: 1,
    source: file,
    format: "gentle-json",
    dropped: droppedList(dropped, empty),
  };
}

/**
 * Parse a transcript from its text; the format is chosen from the file name
 * and content.
 *
 * Words are cleaned of invisible characters (controls, NUL, bidirectional
 * marks, zero-width characters) and put in Unicode NFC; entries left
 * without a word are dropped and counted. Times must be finite and not
 * negative, offsets not before onsets, and onsets must not go back within
 * a run.
 *
 * @param text the file's content
 * @param file its name (`.TextGrid`, `.csv`, `.tsv`, `.json`)
 * @param options tier, silence marks, run restarts (see {@linkcode TranscriptOptions}). Default: all defaults.
 * @returns the words in order, with runs numbered from 0
 * @throws {InputError} naming the file and field (line, interval or JSON
 *   path) for malformed input, impossible timings, a word over 1,000
 *   characters or an empty word tier
 *
 * @example
 * ```ts
 * import { parseTranscript } from "@brainorg/neuro";
 * const t = parseTranscript("word,onset,offset\nAlice,0.10,0.45\nwas,0.45,0.60\n", "story.csv");
 * console.log(t.words.length, t.words[0].word, t.format); // 2 "Alice" "table"
 * ```
 */
export function parseTranscript(
  text: string,
  file: string,
  options: TranscriptOptions = {},
): Transcript {
  text = text.replace(/^\uFEFF/, "");
  const lower = file.toLowerCase();
  const head = text.trimStart().slice(0, 200);
  if (lower.endsWith(".textgrid") || head.includes("ooTextFile")) {
    return fromTextGrid(text, file, options);
  }
  if (lower.endsWith(".json")) return fromGentleJson(text, file);
  const first = splitLines(text)[0].toLowerCase();
  const hasHeader = /(^|[,\t])\s*(word|words|token|text|onset|start)\s*([,\t]|$)/.test(first);
  if (!hasHeader && lower.endsWith(".csv")) return fromGentleCsv(text, file);
  return fromTable(text, file, options);
}

/**
 * Read a transcript file (see {@linkcode parseTranscript}): UTF-8, or
 * UTF-16 by its byte-order mark; invalid bytes are an error naming their
 * offset and line.
 *
 * @param path the transcript file (`.TextGrid`, `.csv`, `.tsv`, `.json`)
 * @param options tier, silence marks, run restarts (see {@linkcode TranscriptOptions}). Default: all defaults.
 * @returns the words in order, with runs numbered from 0
 * @throws {InputError} naming the file when it is missing, unreadable or malformed
 *
 * @example
 * ```ts
 * import { readTranscript } from "@brainorg/neuro";
 * const t = await readTranscript("DownTheRabbitHoleFinal_exp120_pad_1.TextGrid");
 * console.log(t.words.length, t.words[0]);
 * ```
 */
export async function readTranscript(
  path: string,
  options: TranscriptOptions = {},
): Promise<Transcript> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (err) {
    throw unreadableFile(path, err);
  }
  return parseTranscript(decodeTranscriptText(bytes, path), path, options);
}
