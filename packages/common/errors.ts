/**
 * Errors that name the input at fault: the file, the field, what was expected
 * and what was found, so that a user can fix the input without reading code.
 *
 * @module
 */

/** Where in the user's inputs an error lies, and what was wrong there. */
export interface InputErrorDetails {
  /** The file (or other named input) at fault, e.g. `mask.nii.gz`. */
  file?: string;
  /** The field, header entry, column or option at fault, e.g. `dim[4]`. */
  field?: string;
  /** What a valid input has there, e.g. `91×109×91`. */
  expected?: string;
  /** What this input has there, e.g. `45×54×45`. */
  found?: string;
  /** The lower-level error, if any. */
  cause?: unknown;
}

function describe(message: string, d: InputErrorDetails): string {
  const parts = [message];
  if (d.field !== undefined) parts.push(`field: ${d.field}`);
  if (d.expected !== undefined) parts.push(`expected: ${d.expected}`);
  if (d.found !== undefined) parts.push(`found: ${d.found}`);
  if (d.file !== undefined) parts.push(`file: ${d.file}`);
  return parts.length === 1 ? message : `${message} (${parts.slice(1).join("; ")})`;
}

/**
 * A user input (file, table, option) that brainorg cannot use as it is.
 *
 * @example
 * ```ts
 * import { InputError } from "@brainorg/common";
 * const err = new InputError("mask does not match the image grid", {
 *   file: "mask.nii.gz", field: "dim", expected: "91×109×91", found: "45×54×45",
 * });
 * console.log(err.message);
 * ```
 */
export class InputError extends Error {
  /** The file at fault, if known. */
  readonly file?: string;
  /** The field at fault, if known. */
  readonly field?: string;
  /** What was expected, if stated. */
  readonly expected?: string;
  /** What was found, if stated. */
  readonly found?: string;

  /**
   * An error whose message adds the field, expected and found values and
   * the file to `message`, in parentheses.
   *
   * @param message what is wrong, in the user's words
   * @param details where and how it is wrong. Default: none.
   */
  constructor(message: string, details: InputErrorDetails = {}) {
    super(describe(message, details), { cause: details.cause });
    this.name = "InputError";
    this.file = details.file;
    this.field = details.field;
    this.expected = details.expected;
    this.found = details.found;
  }
}

/**
 * The error for an input file that cannot be read at all: missing, a
 * folder, not permitted. Its field is `(file)`: nothing inside was reached.
 *
 * @param path the file
 * @param err what the file system said
 * @returns an {@linkcode InputError} naming the file, with `err` as its cause
 *
 * @example
 * ```ts
 * import { unreadableFile } from "@brainorg/common";
 * try {
 *   await Deno.readFile("bold.nii.gz");
 * } catch (err) {
 *   throw unreadableFile("bold.nii.gz", err);
 * }
 * ```
 */
export function unreadableFile(path: string, err: unknown): InputError {
  return new InputError(
    err instanceof Deno.errors.NotFound ? "file not found" : "file cannot be read",
    {
      file: path,
      field: "(file)",
      expected: "a readable file",
      found: String((err as Error)?.message ?? err),
      cause: err,
    },
  );
}

/**
 * A reference file that could be found nowhere brainorg looked.
 *
 * @example
 * ```ts
 * import { DataNotFoundError } from "@brainorg/common";
 * const err = new DataNotFoundError(
 *   "atlases/Yeo-7.csv",
 *   ["--data-dir /data: no such file", "cache ~/.cache/brainorg: offline"],
 *   "Run `deno task data fetch` with network access.",
 * );
 * console.log(err.message); // names the file, every place looked, and the hint
 * ```
 */
export class DataNotFoundError extends Error {
  /** The registry name of the file. */
  readonly dataName: string;
  /** Every place looked, in order. */
  readonly searched: readonly string[];

  /**
   * An error whose message lists every place looked, one per line, then the hint.
   *
   * @param dataName registry name of the file
   * @param searched each place looked, in order, with why it did not serve
   * @param hint how a user can provide the file
   */
  constructor(dataName: string, searched: readonly string[], hint: string) {
    super(
      `reference file "${dataName}" was not found.\nLooked in, in order:\n` +
        searched.map((s) => `  - ${s}`).join("\n") + `\n${hint}`,
    );
    this.name = "DataNotFoundError";
    this.dataName = dataName;
    this.searched = searched;
  }
}

/**
 * A file whose content does not have the SHA-256 digest it must have.
 *
 * @example
 * ```ts
 * import { ChecksumError } from "@brainorg/common";
 * const err = new ChecksumError("/data/atlases/Yeo-7.csv", "9f86d0…", "e3b0c4…");
 * console.log(err.path, err.message); // "checksum mismatch for /data/atlases/Yeo-7.csv: …"
 * ```
 */
export class ChecksumError extends Error {
  /** The path of the file that failed the check. */
  readonly path: string;

  /**
   * An error whose message gives both digests and says the file was not used.
   *
   * @param path the file
   * @param expected its registered SHA-256 (hex)
   * @param found the SHA-256 of its actual content (hex)
   */
  constructor(path: string, expected: string, found: string) {
    super(
      `checksum mismatch for ${path}: expected sha256 ${expected}, found ${found}. ` +
        `The file is corrupt, truncated or a different version; it was not used.`,
    );
    this.name = "ChecksumError";
    this.path = path;
  }
}

/**
 * A folder or file brainorg cannot write: a read-only or full disk, a
 * missing permission. Nothing partial is left where it was to go: an earlier
 * folder of that name is unchanged.
 *
 * @example
 * ```ts
 * import { OutputError } from "@brainorg/common";
 * const err = new OutputError("the results folder", "/mnt/ro/out", new Error("Read-only file system (os error 30)"));
 * console.log(err.message); // cannot write the results folder /mnt/ro/out: Read-only file system (os error 30)
 * ```
 */
export class OutputError extends Error {
  /** The folder or file that could not be written. */
  readonly path: string;

  /**
   * An error whose message names what could not be written, where, and the
   * operating system's reason.
   *
   * @param what what `path` is, e.g. `"the results folder"`
   * @param path the folder or file
   * @param cause what the file system said (its message is repeated)
   * @param detail said last, in parentheses, e.g. which file was being written
   */
  constructor(what: string, path: string, cause: unknown, detail?: string) {
    super(`cannot write ${what} ${path}: ${osMessage(cause)}${detail ? ` (${detail})` : ""}`, {
      cause,
    });
    this.name = "OutputError";
    this.path = path;
  }
}

/** The operating system's words for a failure, without an inner OutputError's preamble. */
function osMessage(err: unknown): string {
  if (err instanceof OutputError) return osMessage(err.cause);
  return String((err as Error)?.message ?? err);
}
