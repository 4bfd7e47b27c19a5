/** Exit codes that scripts can rely on. */
export const EXIT = {
  ok: 0,
  /** A bug or an unexpected failure. */
  failure: 1,
  /** Wrong command-line usage. */
  usage: 2,
  /** An input file or option that cannot be used as it is. */
  input: 3,
  /** A reference file that is missing or has the wrong checksum. */
  data: 4,
  /** A results folder or cache that cannot be written (read-only, full, no permission). */
  output: 5,
} as const;
