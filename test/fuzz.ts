/**
 * The fuzz tests' tools: a seeded generator per section (so one failure
 * reproduces alone), and the one acceptance rule every reader is held to —
 * a sensible result, or the project's InputError naming the file and the
 * field; never a raw TypeError, RangeError or crash.
 *
 * `BRAINORG_FUZZ_SEED=<n>` runs another corpus; failures print the seed.
 * `BRAINORG_FUZZ_REPORT=1` prints how each section's cases ended; `2` also
 * names every accepted case.
 *
 * @module
 */

import { basename } from "node:path";
import { InputError } from "@brainorg/common";
import { rng } from "@brainorg/kernels";

/** The corpus's seed: `$BRAINORG_FUZZ_SEED`, else 14 (the number). */
export const FUZZ_SEED = Number(Deno.env.get("BRAINORG_FUZZ_SEED") ?? 14);

/** A seeded generator with helpers, one per section of the corpus. */
export interface Fuzzer {
  /** Uniform in [0, 1). */
  next(): number;
  /** A whole number in [0, n). */
  int(n: number): number;
  /** One of the items. */
  pick<T>(items: readonly T[]): T;
}

/** The generator for a section: the corpus seed mixed with the section's name. */
export function fuzzer(section: string): Fuzzer {
  let h = FUZZ_SEED >>> 0;
  for (const ch of section) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0;
  const next = rng(h);
  const int = (n: number) => Math.floor(next() * n);
  return { next, int, pick: (items) => items[int(items.length)] };
}

/** How each case of a section ended, so a test can require both outcomes. */
export interface Tally {
  accepted: number;
  refused: number;
  /** Refusals per error message (without its details), for the failure report. */
  messages: Map<string, number>;
}

/** An empty tally. */
export function tally(): Tally {
  return { accepted: 0, refused: 0, messages: new Map() };
}

/**
 * Run one case: it must return (then `check` judges the result) or throw
 * an InputError that names `file` and a field. Anything else fails the test
 * with the case's label and the corpus seed.
 *
 * @returns the InputError when the case was refused, else undefined
 */
export async function verdict<T>(
  t: Tally,
  label: string,
  file: string,
  run: () => T | Promise<T>,
  check?: (result: T) => void,
): Promise<InputError | undefined> {
  const where = `case "${label}" (BRAINORG_FUZZ_SEED=${FUZZ_SEED})`;
  let result: T;
  try {
    result = await run();
  } catch (err) {
    if (!(err instanceof InputError)) {
      throw new Error(`${where}: not an InputError but ${(err as Error)?.stack ?? err}`);
    }
    if (!err.message.includes(basename(file)) || !(err.file ?? "").includes(basename(file))) {
      throw new Error(`${where}: the error does not name the file ${file}: ${err.message}`);
    }
    if (!err.field) throw new Error(`${where}: the error names no field: ${err.message}`);
    t.refused++;
    const key = err.message.replace(/ \(field:[\s\S]*$/, "").replace(/\d+/g, "N");
    t.messages.set(key, (t.messages.get(key) ?? 0) + 1);
    return err;
  }
  try {
    check?.(result);
  } catch (err) {
    throw new Error(
      `${where}: accepted, but the result is not sensible: ${(err as Error).message}`,
    );
  }
  t.accepted++;
  if (Deno.env.get("BRAINORG_FUZZ_REPORT") === "2") console.log(`accepted: ${label}`);
  return undefined;
}

/** A short account of a tally, for assertion messages. */
export function describeTally(t: Tally): string {
  return `${t.accepted} accepted, ${t.refused} refused: ` +
    [...t.messages].map(([m, n]) => `${n}× ${m}`).join("; ");
}

/** Print a section's tally when `BRAINORG_FUZZ_REPORT=1`. */
export function report(section: string, t: Tally): void {
  if (Deno.env.get("BRAINORG_FUZZ_REPORT")) console.log(`${section}: ${describeTally(t)}`);
}
