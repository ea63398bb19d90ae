/** WAV / FLAC / MP3 input: byte mutations of small valid files (headers, chunk sizes, channel counts, rates, frames). */
import fc from "fast-check";
import { AudioError, readAudio } from "../../../runtime/audio/mod.ts";
import { encodeSilentMp3, encodeTestFlac, encodeTestWav } from "../../../fixtures/audio/encoders.ts";
import type { FuzzInput, FuzzTarget } from "../harness.ts";
import { mutatedBytes } from "../mutate.ts";

function tone(n: number, f: number): Float64Array {
  return Float64Array.from({ length: n }, (_, i) => 0.5 * Math.sin((2 * Math.PI * f * i) / 16000));
}

function corpus(): Array<{ name: string; bytes: Uint8Array }> {
  const a = tone(400, 440);
  const b = tone(400, 220);
  const i16 = (x: Float64Array) => Int16Array.from(x, (v) => Math.round(v * 32767));
  return [
    { name: "pcm16.wav", bytes: encodeTestWav({ format: "pcm", bits: 16, sampleRate: 16000, channels: [a] }) },
    {
      name: "float_stereo.wav",
      bytes: encodeTestWav({ format: "float", bits: 32, sampleRate: 16000, channels: [a, b] }),
    },
    { name: "pcm24_8k.wav", bytes: encodeTestWav({ format: "pcm", bits: 24, sampleRate: 8000, channels: [a] }) },
    {
      name: "ext_pcm8.wav",
      bytes: encodeTestWav({ format: "pcm", bits: 8, sampleRate: 22050, channels: [a, b], extensible: true }),
    },
    { name: "mono.flac", bytes: encodeTestFlac([i16(a)], 16000, 128) },
    { name: "stereo_44k.flac", bytes: encodeTestFlac([i16(a), i16(b)], 44100, 256) },
    { name: "silence.mp3", bytes: encodeSilentMp3(3) },
  ];
}

export const audioTarget: FuzzTarget = {
  name: "audio",
  description:
    "runtime/audio readAudio (WAV/FLAC/MP3, with and without resampling): truncation, wrong headers, huge sizes, zero channels",
  typedErrors: [AudioError],
  prepare(): fc.Arbitrary<FuzzInput> {
    return fc
      .tuple(mutatedBytes(corpus(), { headBytes: 64 }), fc.boolean())
      .map(([input, resample]) => ({ ...input, flag: resample }));
  },
  async run(path: string, input: FuzzInput): Promise<void> {
    const audio = await readAudio(path, { resample: input.flag ?? false });
    if (!(audio.samples instanceof Float32Array)) throw new Error(`${path}: samples are not a Float32Array`);
  },
};
