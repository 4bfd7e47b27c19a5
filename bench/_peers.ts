/**
 * The Python peers of the benchmarks (bench/peers.py): which Python runs
 * them, chosen by the modules it imports, and each run's outcome. A peer
 * that fails is reported with its command, its exit code or signal and the
 * tail of its stderr ({@linkcode PeerError}), never as an empty error.
 *
 * @module
 */

import { join } from "node:path";

const SCRIPT = join(import.meta.dirname!, "peers.py");

/** A BLAS library a Python process had loaded, as peers.py reports it. */
export interface PeerBlas {
  /** File of the library. */
  library: string;
  /** `openblas`, `mkl`, `blis`, … (threadpoolctl's internal_api); null where unknown. */
  api: string | null;
  version: string | null;
  /** The core type / architecture its kernels are for (OpenBLAS: e.g. `Haswell`, `Zen`). */
  core: string | null;
  threads: number | null;
  /** `openblas_get_config()` where it was read through ctypes. */
  config?: string | null;
  /** How it was found: `threadpoolctl` or `ctypes`. */
  via: string;
}

/** A Python interpreter as peers.py's `info` reports it. */
export interface PeerPython {
  /** The command run (`/usr/bin/python3`, `python3`, `$BRAINORG_PYTHON`'s value). */
  command: string;
  /** `sys.executable`. */
  executable: string;
  python: string;
  numpy: string | null;
  sklearn: string | null;
  threadpoolctl: string | null;
  /** Why numpy or scikit-learn did not import, per module. */
  missing: Record<string, string>;
  /** numpy's BLAS as built (numpy's own build configuration), where it says. */
  numpyBlasBuild: string | null;
  /** The BLAS numpy loaded, with `OPENBLAS_CORETYPE` unset (OpenBLAS's own detection). */
  blas: PeerBlas[];
}

/** The Python chosen for the peers, and what was tried. */
export interface PeerPythons {
  /** The one the peers run on: the first with numpy and scikit-learn, else the first with numpy. */
  chosen: PeerPython | null;
  /** Whether the chosen one has scikit-learn. */
  sklearn: boolean;
  /** Every candidate and what it had (or why it did not run). */
  tried: string[];
}

/** How a peer run ended, for {@linkcode PeerError}. */
export interface PeerExit {
  /** The command line, environment additions first. */
  command: string;
  /** Exit code; null where a signal ended it or it never started. */
  code: number | null;
  /** Signal that ended it (e.g. `SIGILL`), or null. */
  signal: string | null;
  /** Last lines of stderr ("" where there were none). */
  stderrTail: string;
}

/** A peer run that failed: the message names the command, the exit, and stderr's tail. */
export class PeerError extends Error {
  readonly command: string;
  readonly code: number | null;
  readonly signal: string | null;
  readonly stderrTail: string;

  constructor(message: string, exit: PeerExit & { cause?: unknown }) {
    super(message, exit.cause === undefined ? undefined : { cause: exit.cause });
    this.name = "PeerError";
    this.command = exit.command;
    this.code = exit.code;
    this.signal = exit.signal;
    this.stderrTail = exit.stderrTail;
  }
}

/** What a signal that kills a numeric peer usually means. */
const SIGNAL_MEANING: Record<string, string> = {
  SIGILL: "illegal instruction: typically kernels for instructions this CPU lacks",
  SIGSEGV: "segmentation fault",
  SIGBUS: "bus error",
  SIGABRT: "aborted",
  SIGKILL: "killed, e.g. by the out-of-memory killer",
  SIGFPE: "arithmetic exception",
};

/** The last `lines` non-empty lines of a text, each trimmed of trailing space. */
function tail(text: string, lines = 12): string {
  return text.split("\n").map((l) => l.trimEnd()).filter((l) => l !== "").slice(-lines).join(
    "\n",
  );
}

/** A shell-like rendering of a command, for messages. */
function commandLine(exe: string, args: string[], env: Record<string, string>): string {
  const quote = (s: string) => /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`;
  return [...Object.entries(env).map(([k, v]) => `${k}=${quote(v)}`), exe, ...args.map(quote)]
    .join(" ");
}

/**
 * Run a Python with peers.py; its stdout is one JSON object.
 *
 * The peer gets this process's environment without `OPENBLAS_CORETYPE`
 * (which brainorg sets for itself when it loads OpenBLAS, and which a user
 * may have set) unless `env` names one: "as installed" means OpenBLAS's own
 * detection.
 *
 * @param python the interpreter command
 * @param args peers.py's arguments
 * @param options.env variables added to the peer's environment (default none)
 * @returns the parsed JSON object
 * @throws {PeerError} when the peer cannot start, exits non-zero, is
 *   killed by a signal, or prints no JSON object
 */
export async function runPeer(
  python: string,
  args: string[],
  options: { env?: Record<string, string> } = {},
): Promise<Record<string, unknown>> {
  const env = options.env ?? {};
  const full: Record<string, string> = { ...Deno.env.toObject(), ...env };
  if (!("OPENBLAS_CORETYPE" in env)) delete full.OPENBLAS_CORETYPE;
  const command = commandLine(python, [SCRIPT, ...args], env);
  let r: Deno.CommandOutput;
  try {
    r = await new Deno.Command(python, {
      args: [SCRIPT, ...args],
      env: full,
      clearEnv: true,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
  } catch (err) {
    throw new PeerError(
      `could not start \`${command}\`: ${(err as Error).message}`,
      { command, code: null, signal: null, stderrTail: "", cause: err },
    );
  }
  const stderr = tail(new TextDecoder().decode(r.stderr));
  const stdout = new TextDecoder().decode(r.stdout);
  if (!r.success) {
    const how = r.signal
      ? `was killed by ${r.signal}${
        SIGNAL_MEANING[r.signal] ? ` (${SIGNAL_MEANING[r.signal]})` : ""
      }`
      : `exited with code ${r.code}`;
    throw new PeerError(
      `\`${command}\` ${how}; ${stderr ? `stderr ends: ${stderr}` : "stderr was empty"}`,
      { command, code: r.signal ? null : r.code, signal: r.signal ?? null, stderrTail: stderr },
    );
  }
  try {
    const value = JSON.parse(stdout);
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      throw new SyntaxError("not a JSON object");
    }
    return value;
  } catch (err) {
    throw new PeerError(
      `\`${command}\` printed no JSON object (${(err as Error).message}); stdout ends: ${
        JSON.stringify(stdout.slice(-300))
      }${stderr ? `; stderr ends: ${stderr}` : ""}`,
      { command, code: 0, signal: null, stderrTail: stderr },
    );
  }
}

/**
 * Find the Python for the peers. Candidates, in order: `$BRAINORG_PYTHON`
 * alone when it is set (the user's choice is not second-guessed), else
 * Debian's `/usr/bin/python3`, then the first `python3` on PATH. The first
 * that imports numpy and scikit-learn is chosen; failing that, the first
 * with numpy, which serves the numpy peers only.
 *
 * @returns the choice and a line per candidate tried
 */
export async function findPeerPython(): Promise<PeerPythons> {
  let own: string | undefined;
  try {
    own = Deno.env.get("BRAINORG_PYTHON") || undefined;
  } catch { /* no --allow-env: the usual candidates */ }
  const candidates = own ? [own] : ["/usr/bin/python3", "python3"];
  const tried: string[] = [];
  const found: PeerPython[] = [];
  const seen = new Set<string>();
  for (const command of candidates) {
    let info: PeerPython;
    try {
      info = { command, ...(await runPeer(command, ["info"])) } as PeerPython;
    } catch (err) {
      if (!(err instanceof PeerError)) throw err;
      tried.push(
        `${command}${own ? " ($BRAINORG_PYTHON)" : ""}: ${
          err.cause instanceof Deno.errors.NotFound ? "not found" : err.message
        }`,
      );
      continue;
    }
    if (seen.has(info.executable)) continue; // python3 on PATH may be /usr/bin/python3
    seen.add(info.executable);
    const missing = Object.entries(info.missing).map(([m, why]) => `no ${m} (${why})`);
    tried.push(
      `${command}${
        command === info.executable ? "" : ` (${info.executable})`
      }: Python ${info.python}, ${
        [
          info.numpy ? `numpy ${info.numpy}` : "",
          info.sklearn ? `scikit-learn ${info.sklearn}` : "",
          ...missing,
        ].filter((s) => s !== "").join(", ")
      }`,
    );
    found.push(info);
  }
  const full = found.find((p) => p.numpy && p.sklearn);
  const chosen = full ?? found.find((p) => p.numpy) ?? null;
  return { chosen, sklearn: chosen?.sklearn != null, tried };
}

/**
 * One line naming the peers' Python, its numpy and the BLAS it loaded.
 *
 * @param p the search ({@linkcode findPeerPython})
 * @returns e.g. `peers: /usr/bin/python3 (Python 3.11.2), numpy 1.24.2, scikit-learn 1.2.1;
 *   BLAS: OpenBLAS 0.3.21, core Zen (threadpoolctl), 2 threads, libopenblasp-r0.3.21.so`
 */
export function pythonLine(p: PeerPythons): string {
  const c = p.chosen;
  if (!c) return `peers: no Python with numpy (tried ${p.tried.join("; ")})`;
  const blas = c.blas.length === 0
    ? "BLAS not identified"
    : c.blas.map((b) =>
      `${b.api ?? "BLAS"} ${b.version ?? ""}, core ${b.core ?? "unknown"} (${b.via}), ${
        b.threads ?? "?"
      } threads, ${b.library}`
    ).join("; ");
  return `peers: ${c.command} (Python ${c.python}), numpy ${c.numpy}, ${
    c.sklearn ? `scikit-learn ${c.sklearn}` : "no scikit-learn: its peers are not run"
  }; BLAS as detected: ${blas}${c.numpyBlasBuild ? `; numpy built with ${c.numpyBlasBuild}` : ""}`;
}
