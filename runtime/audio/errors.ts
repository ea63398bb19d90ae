/** What went wrong with an audio file, for callers that branch on it. */
import { Xcodec2Error } from "../../common/errors.ts";
export type AudioProblem =
  | "unreadable" // the file could not be read from disk
  | "unknown-format" // not WAV, FLAC or MP3
  | "malformed" // the container is broken: truncated, bad sizes, missing chunks
  | "unsupported" // a valid file in an encoding we do not read (e.g. 12-bit PCM, A-law)
  | "decode-failed" // the decoder rejected the data
  | "empty" // decodes to zero samples
  | "sample-rate" // not 16 kHz and resampling was not asked for
  | "write-failed"; // writing a WAV failed

/** Any problem reading, decoding, resampling or writing audio. The message always names the file. */
export class AudioError extends Xcodec2Error {
  constructor(
    readonly file: string,
    readonly problem: AudioProblem,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`${file}: ${detail}`, options);
  }
}
