/**
 * WAV encoding (mono IEEE float32 or PCM16) and an atomic file write: the bytes go to a temporary name in the same
 * folder, then a rename puts them in place, so a crash never leaves a half-written WAV under the final name.
 */
import { rename, unlink, writeFile } from "node:fs/promises";
import { SAMPLE_RATE } from "../../convert/mod.ts";
import { claimTempPath } from "../../common/temp_files.ts";
import { AudioError } from "./errors.ts";

export type WavSampleFormat = "f32" | "pcm16";

export interface WriteWavOptions {
  /** default SAMPLE_RATE (16 kHz) */
  sampleRate?: number;
  /** default "f32" (lossless for model output); "pcm16" clips to [-1, 1] and rounds */
  format?: WavSampleFormat;
}

const MAX_RIFF_BYTES = 0xffffffff;

export function encodeWav(samples: Float32Array, opts: WriteWavOptions = {}, file = "<wav>"): Uint8Array {
  const sampleRate = opts.sampleRate ?? SAMPLE_RATE;
  const format = opts.format ?? "f32";
  if (!Number.isInteger(sampleRate) || sampleRate <= 0 || sampleRate > 0xffffffff) {
    throw new AudioError(file, "write-failed", `cannot write WAV: sample rate ${sampleRate} is not a positive integer`);
  }
  if (format !== "f32" && format !== "pcm16") {
    throw new AudioError(file, "write-failed", `cannot write WAV: unknown format "${format}" (use "f32" or "pcm16")`);
  }
  const isFloat = format === "f32";
  const bytesPerSample = isFloat ? 4 : 2;
  // Float WAVs carry a `fact` chunk (sample count), as the WAVE spec asks for non-PCM formats.
  const factBytes = isFloat ? 12 : 0;
  const dataBytes = samples.length * bytesPerSample;
  const total = 12 + 24 + factBytes + 8 + dataBytes;
  if (total - 8 > MAX_RIFF_BYTES) {
    throw new AudioError(
      file,
      "write-failed",
      `cannot write WAV: ${samples.length} samples exceed the 4 GiB RIFF limit`,
    );
  }
  const out = new Uint8Array(total);
  const v = new DataView(out.buffer);
  const tag = (at: number, s: string) => {
    for (let i = 0; i < 4; i++) out[at + i] = s.charCodeAt(i);
  };
  tag(0, "RIFF");
  v.setUint32(4, total - 8, true);
  tag(8, "WAVE");
  tag(12, "fmt ");
  v.setUint32(16, 16, true);
  v.setUint16(20, isFloat ? 3 : 1, true);
  v.setUint16(22, 1, true);
  v.setUint32(24, sampleRate, true);
  v.setUint32(28, sampleRate * bytesPerSample, true);
  v.setUint16(32, bytesPerSample, true);
  v.setUint16(34, bytesPerSample * 8, true);
  let at = 36;
  if (isFloat) {
    tag(at, "fact");
    v.setUint32(at + 4, 4, true);
    v.setUint32(at + 8, samples.length, true);
    at += 12;
  }
  tag(at, "data");
  v.setUint32(at + 4, dataBytes, true);
  at += 8;
  if (isFloat) {
    for (let i = 0; i < samples.length; i++, at += 4) v.setFloat32(at, samples[i], true);
  } else {
    for (let i = 0; i < samples.length; i++, at += 2) {
      const x = samples[i];
      // NaN → 0; scale by 32768 and clamp, the inverse of the reader's int16/32768.
      const q = Number.isNaN(x) ? 0 : Math.max(-32768, Math.min(32767, Math.round(x * 32768)));
      v.setInt16(at, q, true);
    }
  }
  return out;
}

export async function writeWav(path: string, samples: Float32Array, opts: WriteWavOptions = {}): Promise<void> {
  const bytes = encodeWav(samples, opts, path);
  let tmp: string | undefined;
  try {
    tmp = await claimTempPath(path);
    await writeFile(tmp, bytes, { flag: "wx" });
    await rename(tmp, path);
  } catch (e) {
    if (tmp) await unlink(tmp).catch(() => {});
    throw new AudioError(path, "write-failed", `cannot write WAV: ${(e as Error)?.message ?? e}`, { cause: e });
  }
}
