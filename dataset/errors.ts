/**
 * Errors of `encode-dataset` and `worker`, on the toolkit's one error base (common/errors.ts): each carries its exit
 * status (1), and `bin/xcodec2.ts` prints it as one line. A wrong command line is the shared `UsageError` (exit 2).
 */
import { Xcodec2Error } from "../common/errors.ts";

/** The job cannot run as asked (no inputs, an output folder of another job, a model that differs): exit status 1. */
export class DatasetError extends Xcodec2Error {}

/** A manifest, TSV or tar file is malformed at one place: the message names the file and the line (or offset). */
export class ManifestError extends DatasetError {
  constructor(readonly file: string, readonly where: string, detail: string) {
    super(`${file}:${where}: ${detail}`);
  }
}
