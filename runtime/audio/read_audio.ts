/**
 * Audio files in, 16 kHz mono float32 out. The format is recognised from the bytes (RIFF/WAVE, fLaC, ID3 or an MPEG
 * frame sync), not from the file name, so a mislabelled file still decodes or fails with a clear message.
 */
import { readFile } from "node:fs/promises";
import process from "node:process";
import { SAMPLE_RATE } from "../../convert/mod.ts";
import { AudioError } from "./errors.ts";
import type { DecodedAudio } from "./decoded_audio.ts";
import { downmixToMono } from "./downmix.ts";
import { decodeFlac, isFlac } from "./flac_decoder.ts";
import { decodeMp3, looksLikeMp3 } from "./mp3_decoder.ts";
import { resampleMono } from "./resample.ts";
import { decodeWav, looksLikeWav } from "./wav_reader.ts";

export interface ReadAudioOptions {
  /** convert other sample rates to `sampleRate` (libsamplerate, best-quality sinc); otherwise they are an error */
  resample?: boolean;
  /** the rate the model reads (`codec.inputSampleRate`; default SAMPLE_RATE, 16 kHz, that of every family member) */
  sampleRate?: number;
}

export interface AudioData {
  /** mono samples at `sampleRate` */
  samples: Float32Array;
  /** the requested rate (default SAMPLE_RATE, 16 kHz) */
  sampleRate: number;
  /** the file's own rate */
  sourceRate: number;
  /** the file's channel count before downmixing */
  channels: number;
}

/** The path that means standard input, as on most command lines; errors name it as STDIN_NAME. */
export const STDIN_PATH = "-";
export const STDIN_NAME = "<stdin>";

/** Read and decode `path`, or all of standard input when `path` is "-" (a streamed WAV is read to its end). */
export async function readAudio(path: string, opts: ReadAudioOptions = {}): Promise<AudioData> {
  const name = path === STDIN_PATH ? STDIN_NAME : path;
  let bytes: Uint8Array;
  try {
    bytes = path === STDIN_PATH ? await readAll(process.stdin) : await readFile(path);
  } catch (e) {
    throw new AudioError(name, "unreadable", `cannot read file: ${(e as Error)?.message ?? e}`, { cause: e });
  }
  return decodeAudioBytes(bytes, name, opts);
}

/** Every byte of a stream, until its end. */
export async function readAll(stream: AsyncIterable<Uint8Array | string>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let n = 0;
  for await (const chunk of stream) {
    const b = typeof chunk === "string" ? new TextEncoder().encode(chunk) : chunk;
    parts.push(b);
    n += b.length;
  }
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) out.set(p, (at += p.length) - p.length);
  return out;
}

export async function decodeAudioBytes(
  bytes: Uint8Array,
  nameForErrors: string,
  opts: ReadAudioOptions = {},
): Promise<AudioData> {
  const decoded = await decodeContainer(bytes, nameForErrors);
  const channels = decoded.channelData.length;
  const sourceRate = decoded.sampleRate;
  if (channels === 0) throw new AudioError(nameForErrors, "malformed", "the file has no audio channels");
  if (decoded.channelData[0].length === 0) {
    throw new AudioError(nameForErrors, "empty", "the file holds no audio samples");
  }
  const rate = opts.sampleRate ?? SAMPLE_RATE;
  if (sourceRate !== rate && !opts.resample) {
    throw new AudioError(
      nameForErrors,
      "sample-rate",
      `sample rate is ${sourceRate} Hz but the model needs ${rate} Hz; ask for resampling ` +
        "(`{ resample: true }` in the library, `--resample` on the command line) or convert the file first",
    );
  }
  const mono = downmixToMono(decoded.channelData);
  const samples = await resampleMono(mono, sourceRate, rate, nameForErrors);
  return { samples, sampleRate: rate, sourceRate, channels };
}

function decodeContainer(bytes: Uint8Array, file: string): Promise<DecodedAudio> | DecodedAudio {
  if (looksLikeWav(bytes)) return decodeWav(bytes, file);
  if (isFlac(bytes)) return decodeFlac(bytes, file);
  if (looksLikeMp3(bytes)) return decodeMp3(bytes, file);
  if (bytes.length === 0) throw new AudioError(file, "empty", "the file is empty (0 bytes)");
  throw new AudioError(file, "unknown-format", "not a WAV, FLAC or MP3 file (unrecognised header)");
}
