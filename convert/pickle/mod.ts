/**
 * PyTorch zip checkpoints (`.ckpt`, `.bin`, `.pt`) read without executing anything: a restricted unpickler with an
 * allow-list of the globals a state dict needs, and a strict zip reader. Lightning checkpoints yield their
 * `state_dict`; optimizer state is never read.
 */

import type { TensorSource } from "../tensor_source.ts";
import { PickleCheckpoint } from "./checkpoint.ts";

export { PickleError, PickleSecurityError, ZipFormatError } from "./errors.ts";
export { PickleCheckpoint } from "./checkpoint.ts";
export { ZipReader } from "./zip_reader.ts";

export function openPickleCheckpoint(path: string): Promise<TensorSource> {
  return PickleCheckpoint.open(path);
}
