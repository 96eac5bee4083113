/**
 * The one error type users see. `file` names the input or output the problem is about, so the CLI
 * can print "FILE: problem" and exit non-zero without a stack trace.
 */
export class CryosamError extends Error {
  constructor(
    message: string,
    readonly file?: string,
    readonly exitCode = 1,
  ) {
    super(file ? `${file}: ${message}` : message);
    this.name = 'CryosamError';
  }
}

/** "No … found at x, y, z": a click or prompt with nothing (or not the named kind) under it. */
export class NoStructureError extends CryosamError {}
