/**
 * The one error base of the toolkit. Every error a user can cause (a bad file, a bad argument, a missing device, a
 * refused overwrite) is an `Xcodec2Error` that names what is at fault and carries the exit status the `xcodec2`
 * command ends with. Anything else that reaches the command is a bug: it is printed with its stack and exits 70.
 */

/** Exit statuses of the `xcodec2` command (70 is sysexits' EX_SOFTWARE). */
export const EXIT = { ok: 0, failed: 1, usage: 2, bug: 70 } as const;

export class Xcodec2Error extends Error {
  /** exit status of the `xcodec2` command when this error ends it */
  readonly exitCode: number = EXIT.failed;

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The command line itself is wrong: an unknown option, a missing argument, a value out of range. */
export class UsageError extends Xcodec2Error {
  override readonly exitCode: number = EXIT.usage;
}

/** Errors print as one line: a multi-line message would break `2>log` greps and CI annotations. */
export function oneLine(message: string): string {
  return message.replace(/\s*\n\s*/g, "; ");
}
