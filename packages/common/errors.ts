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
   * @param message what is wrong, in the user's words
   * @param details where and how it is wrong
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

/** A reference file that could be found nowhere brainorg looked. */
export class DataNotFoundError extends Error {
  /** The registry name of the file. */
  readonly dataName: string;
  /** Every place looked, in order. */
  readonly searched: readonly string[];

  /**
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

/** A file whose content does not have the SHA-256 digest it must have. */
export class ChecksumError extends Error {
  /** The path of the file that failed the check. */
  readonly path: string;

  /**
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
