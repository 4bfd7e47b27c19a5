/**
 * Text-level care for transcripts: strict decoding (UTF-8, or UTF-16 by its
 * byte-order mark), every line ending, words cleaned of invisible
 * characters, and the timing rules every format shares. Private to
 * `@brainorg/neuro`.
 *
 * @module
 */

import { InputError } from "@brainorg/common";

/**
 * A word longer than this is not a spoken word but a parsing accident (a
 * wrong delimiter, an unclosed quote), and would overflow a model's window.
 */
export const MAX_WORD_LENGTH = 1000;

/** Where the first invalid UTF-8 sequence starts, or -1. */
function invalidUtf8At(bytes: Uint8Array): number {
  for (let i = 0; i < bytes.length;) {
    const b = bytes[i];
    if (b < 0x80) {
      i++;
      continue;
    }
    const n = b >= 0xc2 && b <= 0xdf
      ? 1
      : b >= 0xe0 && b <= 0xef
      ? 2
      : b >= 0xf0 && b <= 0xf4
      ? 3
      : -1;
    if (n < 0 || i + n >= bytes.length) return i;
    // Second-byte limits exclude overlong forms, surrogates and code points above U+10FFFF.
    const lo = b === 0xe0 ? 0xa0 : b === 0xf0 ? 0x90 : 0x80;
    const hi = b === 0xed ? 0x9f : b === 0xf4 ? 0x8f : 0xbf;
    for (let k = 1; k <= n; k++) {
      const c = bytes[i + k];
      if (k === 1 ? c < lo || c > hi : c < 0x80 || c > 0xbf) return i;
    }
    i += n + 1;
  }
  return -1;
}

/**
 * Decode a transcript's bytes: UTF-16 when a byte-order mark says so, else
 * UTF-8 (a leading BOM dropped). Invalid bytes are an error, not a silent
 * U+FFFD: a Latin-1 "café" would otherwise reach the model as "caf�".
 *
 * @throws {InputError} naming the byte offset and line of the first invalid sequence
 */
export function decodeTranscriptText(bytes: Uint8Array, file: string): string {
  if ((bytes[0] === 0xfe && bytes[1] === 0xff) || (bytes[0] === 0xff && bytes[1] === 0xfe)) {
    const encoding = bytes[0] === 0xfe ? "utf-16be" : "utf-16le";
    try {
      return new TextDecoder(encoding, { fatal: true }).decode(bytes);
    } catch (err) {
      throw new InputError("the file is not valid UTF-16", {
        file,
        field: "text encoding",
        expected: `${encoding.toUpperCase()} (as its byte-order mark says)`,
        found: "an unpaired surrogate or an odd number of bytes",
        cause: err,
      });
    }
  }
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes).replace(/^\uFEFF/, "");
  } catch { /* located below */ }
  const at = Math.max(0, invalidUtf8At(bytes));
  let line = 1;
  for (let i = 0; i < at; i++) if (bytes[i] === 0x0a) line++;
  const shown = [...bytes.subarray(at, at + 4)].map((b) => b.toString(16).padStart(2, "0"));
  throw new InputError("the file is not valid UTF-8", {
    file,
    field: `byte ${at} (line ${line})`,
    expected: "UTF-8 text, or UTF-16 with a byte-order mark (re-save the file as UTF-8)",
    found: `bytes ${shown.join(" ")}`,
  });
}

/** Lines, whatever their endings (LF, CRLF, a lone CR). */
export function splitLines(text: string): string[] {
  return text.split(/\r\n|\r|\n/);
}

// C0 and C1 controls (NUL included), bidirectional marks and embeddings,
// zero-width characters and stray byte-order marks: invisible, and never part
// of a word a listener heard.
const INVISIBLE =
  // deno-lint-ignore no-control-regex -- control characters are exactly what it removes
  /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/g;

/**
 * A word as the model should read it: invisible characters removed,
 * Unicode NFC, surrounding white space trimmed. May be "" (then dropped).
 *
 * @throws {InputError} for a word longer than {@linkcode MAX_WORD_LENGTH}
 */
export function cleanWord(word: string, file: string, field: string): string {
  const w = word.replace(INVISIBLE, "").normalize("NFC").trim();
  if (w.length > MAX_WORD_LENGTH) {
    throw new InputError("a word is implausibly long", {
      file,
      field,
      expected: `at most ${MAX_WORD_LENGTH} characters (is the delimiter or a quote wrong?)`,
      found: `${w.length} characters, starting ${JSON.stringify(w.slice(0, 40))}`,
    });
  }
  return w;
}

/** A word with where it came from, for errors. */
export interface LocatedWord {
  word: string;
  onset: number;
  offset: number;
  run: number;
  /** E.g. `line 12` or `interval 40`. */
  where: string;
}

/**
 * The timing rules every format shares: onsets and offsets are finite and
 * not negative (times count from the run's audio start), a word does not
 * end before it starts, and onsets do not go back within a run (the words'
 * order is the order the model reads them in).
 *
 * @throws {InputError} naming the word's line or interval and the field
 */
export function checkTimings(words: readonly LocatedWord[], file: string): void {
  const lastOnset = new Map<number, { onset: number; where: string }>();
  for (const w of words) {
    const fail = (field: string, expected: string, found: string): never => {
      throw new InputError(`word timing is impossible at ${w.where}`, {
        file,
        field: `${field} (${w.where}, "${w.word.slice(0, 40)}")`,
        expected,
        found,
      });
    };
    if (!Number.isFinite(w.onset) || w.onset < 0) {
      fail("onset", "a finite number of seconds ≥ 0 from the run's audio start", String(w.onset));
    }
    if (!Number.isFinite(w.offset) || w.offset < w.onset) {
      fail("offset", `a finite time ≥ the onset (${w.onset})`, String(w.offset));
    }
    const prev = lastOnset.get(w.run);
    if (prev && w.onset < prev.onset) {
      fail(
        "onset",
        `≥ ${prev.onset}, the onset at ${prev.where} (words in spoken order within a run)`,
        String(w.onset),
      );
    }
    lastOnset.set(w.run, { onset: w.onset, where: w.where });
  }
}
