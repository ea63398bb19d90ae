/** Audio I/O: WAV/FLAC/MP3 in (downmixed to mono, optionally resampled to 16 kHz), WAV out. */
export { decodeAudioBytes, readAudio } from "./read_audio.ts";
export type { AudioData, ReadAudioOptions } from "./read_audio.ts";
export { encodeWav, writeWav } from "./wav_writer.ts";
export type { WavSampleFormat, WriteWavOptions } from "./wav_writer.ts";
export { AudioError } from "./errors.ts";
export type { AudioProblem } from "./errors.ts";
