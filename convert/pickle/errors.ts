/**
 * Typed errors of the PyTorch checkpoint reader. Every message names the file (and the entry, opcode, global or
 * tensor) so that a user can tell which input is wrong and why.
 */
import { Xcodec2Error } from "../../common/errors.ts";

/** A checkpoint that cannot be read: broken zip container, malformed pickle, unsupported construct. */
export class PickleError extends Xcodec2Error {}

/** The pickle asks for something a state dict never needs (a global, a call, a BUILD): refused, never executed. */
export class PickleSecurityError extends PickleError {}

/** The zip container around the pickle is malformed (sizes, offsets, signatures, CRC). */
export class ZipFormatError extends PickleError {}
