/**
 * Errors of `encode-dataset` and `worker`. The names end in "Error" and are not built-in ones, so `bin/xcodec2.ts`
 * prints them as one line; a `UsageError` exits 2, any other 1 (the shared error base of issue 10 replaces these).
 */

/** The command line is wrong: exit status 2. */
export class DatasetUsageError extends Error {
  override readonly name = "UsageError";
}

/** The job cannot run as asked (no inputs, an output folder of another job, a model that differs): exit status 1. */
export class DatasetError extends Error {
  override readonly name: string = "DatasetError";
}

/** A manifest, TSV or tar file is malformed at one place: the message names the file and the line (or offset). */
export class ManifestError extends DatasetError {
  override readonly name = "ManifestError";
  constructor(readonly file: string, readonly where: string, detail: string) {
    super(`${file}:${where}: ${detail}`);
  }
}
