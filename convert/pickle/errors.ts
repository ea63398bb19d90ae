/**
 * Typed errors of the PyTorch checkpoint reader. Every message names the file (and the entry, opcode, global or
 * tensor) so that a user can tell which input is wrong and why.
 */

/** A checkpoint that cannot be read: broken zip container, malformed pickle, unsupported construct. */
export class PickleError extends Error {
  override name = "PickleError";
  constructor(message: string) {
    super(message);
  }
}

/** The pickle asks for something a state dict never needs (a global, a call, a BUILD): refused, never executed. */
export class PickleSecurityError extends PickleError {
  override name = "PickleSecurityError";
}

/** The zip container around the pickle is malformed (sizes, offsets, signatures, CRC). */
export class ZipFormatError extends PickleError {
  override name = "ZipFormatError";
}
