/** Wrong command-line usage; carries the help text to print with it. */
export class UsageError extends Error {
  /** The help of the command that was misused. */
  readonly help: string;
  constructor(message: string, help: string) {
    super(message);
    this.name = "UsageError";
    this.help = help;
  }
}
