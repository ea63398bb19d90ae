/** Audio I/O: WAV/FLAC/MP3 in (downmixed to mono, optionally resampled to 16 kHz), WAV out. */
export { readAudio, decodeAudioBytes } from "./read_audio.ts";
export type { AudioData, ReadAudioOptions } from "./read_audio.ts";
export { writeWav, encodeWav } from "./wav_writer.ts";
export type { WriteWavOptions, WavSampleFormat } from "./wav_writer.ts";
export { AudioError } from "./errors.ts";
export type { AudioProblem } from "./errors.ts";
