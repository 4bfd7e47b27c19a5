/**
 * Progress for long work: a redrawn bar on a terminal, plain lines otherwise
 * (logs, CI), nothing at all when quiet.
 *
 * @module
 */

/** Where progress is written and how. */
export interface ProgressOptions {
  /** What is being done, e.g. `"ridge CV"`. */
  label: string;
  /** Units of work in all (e.g. folds × batches); 0 or less when unknown. */
  total: number;
  /** Print nothing. Default: false. */
  quiet?: boolean;
  /** Redraw one line in place. Default: whether stderr is a terminal. */
  tty?: boolean;
  /** Sink for the text. Default: stderr. */
  write?: (text: string) => void;
  /** Least time between two plain lines, in ms. Default: 1000. */
  minIntervalMs?: number;
  /** Clock in ms, for tests. Default: `performance.now`. */
  now?: () => number;
}

/** A running progress report; see {@linkcode createProgress}. */
export interface Progress {
  /** Advance by `n` units (default 1). */
  tick(n?: number): void;
  /** Finish, with an optional closing remark. */
  done(note?: string): void;
}

const encoder = new TextEncoder();

function defaultWrite(text: string): void {
  Deno.stderr.writeSync(encoder.encode(text));
}

function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return "?";
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)}s`;
  return `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, "0")}s`;
}

/**
 * Start a progress report.
 *
 * On a terminal the bar is redrawn at most every 100 ms; otherwise a line is
 * printed when another 10% of the work is done and at least `minIntervalMs`
 * has passed (every 10 s when the total is unknown), so logs stay short and
 * quick work prints only its closing line.
 *
 * @param options label, total, where and how to write (see {@linkcode ProgressOptions})
 * @returns the report: `tick` as work is done, `done` at the end
 *
 * @example
 * ```ts
 * import { createProgress } from "@brainorg/common";
 * const p = createProgress({ label: "folds", total: 5, tty: false });
 * for (let i = 0; i < 5; i++) p.tick();
 * p.done();
 * ```
 */
export function createProgress(options: ProgressOptions): Progress {
  const { label, total, quiet = false } = options;
  const write = options.write ?? defaultWrite;
  const now = options.now ?? (() => performance.now());
  const tty = options.tty ?? (() => {
    try {
      return Deno.stderr.isTerminal();
    } catch {
      return false;
    }
  })();
  const minInterval = options.minIntervalMs ?? 1000;
  const start = now();
  let count = 0;
  let lastDraw = tty ? -Infinity : start;
  let lastStep = -1;
  let finished = false;

  const line = (): string => {
    const elapsed = (now() - start) / 1000;
    if (total > 0) {
      const frac = Math.min(1, count / total);
      const eta = frac > 0 ? elapsed * (1 - frac) / frac : NaN;
      const width = 24;
      const filled = Math.round(frac * width);
      const bar = tty ? `[${"#".repeat(filled)}${".".repeat(width - filled)}] ` : "";
      return `${bar}${label}: ${count}/${total} (${Math.round(frac * 100)}%), ` +
        `${formatSeconds(elapsed)} elapsed, ETA ${formatSeconds(eta)}`;
    }
    return `${label}: ${count} done, ${formatSeconds(elapsed)} elapsed`;
  };

  return {
    tick(n = 1) {
      if (quiet || finished) {
        count += n;
        return;
      }
      count += n;
      const t = now();
      if (tty) {
        if (t - lastDraw >= 100 || count >= total) {
          write(`\r\x1b[2K${line()}`);
          lastDraw = t;
        }
      } else if (total > 0) {
        const step = Math.floor((count / total) * 10);
        if (step > lastStep && t - lastDraw >= minInterval) {
          lastDraw = t;
          lastStep = step;
          write(`${line()}\n`);
        }
      } else if (t - lastDraw >= 10_000) {
        lastDraw = t;
        write(`${line()}\n`);
      }
    },
    done(note) {
      if (finished) return;
      finished = true;
      if (quiet) return;
      const elapsed = formatSeconds((now() - start) / 1000);
      const text = `${label}: done in ${elapsed}${note ? ` — ${note}` : ""}`;
      write(tty ? `\r\x1b[2K${text}\n` : `${text}\n`);
    },
  };
}
