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
/** The size a streaming writer leaves where it cannot know the length (see wavHeader). */
export const PLACEHOLDER = 0xffffffff;

export function encodeWav(samples: Float32Array, opts: WriteWavOptions = {}, file = "<wav>"): Uint8Array {
  const layout = wavLayout(opts, file);
  const dataBytes = samples.length * layout.bytesPerSample;
  if (layout.headerBytes + dataBytes - 8 > MAX_RIFF_BYTES) {
    throw new AudioError(
      file,
      "write-failed",
      `cannot write WAV: ${samples.length} samples exceed the 4 GiB RIFF limit`,
    );
  }
  const out = new Uint8Array(layout.headerBytes + dataBytes);
  out.set(wavHeader(layout, samples.length));
  encodeSamples(samples, layout, out, layout.headerBytes);
  return out;
}

/** The parts of a WAV's layout that the header and the samples depend on. */
export interface WavLayout {
  sampleRate: number;
  isFloat: boolean;
  bytesPerSample: number;
  /** RIFF + fmt (+ fact for float) + data chunk header */
  headerBytes: number;
  /** where the RIFF, fact and data size fields are (for a writer that patches them at the end) */
  riffSizeAt: number;
  factAt: number | undefined;
  dataSizeAt: number;
}

/** Checked options → layout. */
export function wavLayout(opts: WriteWavOptions, file: string): WavLayout {
  const sampleRate = opts.sampleRate ?? SAMPLE_RATE;
  const format = opts.format ?? "f32";
  if (!Number.isInteger(sampleRate) || sampleRate <= 0 || sampleRate > 0xffffffff) {
    throw new AudioError(file, "write-failed", `cannot write WAV: sample rate ${sampleRate} is not a positive integer`);
  }
  if (format !== "f32" && format !== "pcm16") {
    throw new AudioError(file, "write-failed", `cannot write WAV: unknown format "${format}" (use "f32" or "pcm16")`);
  }
  const isFloat = format === "f32";
  // Float WAVs carry a `fact` chunk (sample count), as the WAVE spec asks for non-PCM formats.
  const factBytes = isFloat ? 12 : 0;
  const headerBytes = 12 + 24 + factBytes + 8;
  return {
    sampleRate,
    isFloat,
    bytesPerSample: isFloat ? 4 : 2,
    headerBytes,
    riffSizeAt: 4,
    factAt: isFloat ? 44 : undefined,
    dataSizeAt: headerBytes - 4,
  };
}

/**
 * The header for `samples` samples, or, when the count is not known yet (a stream), ffmpeg's placeholders for a
 * pipe: RIFF and data sizes 0xFFFFFFFF (readers then read to the end) and a fact sample count of 0.
 */
export function wavHeader(layout: WavLayout, samples: number | undefined): Uint8Array {
  const out = new Uint8Array(layout.headerBytes);
  const v = new DataView(out.buffer);
  const tag = (at: number, s: string) => {
    for (let i = 0; i < 4; i++) out[at + i] = s.charCodeAt(i);
  };
  const bps = layout.bytesPerSample;
  const dataBytes = samples === undefined ? undefined : samples * bps;
  tag(0, "RIFF");
  v.setUint32(layout.riffSizeAt, dataBytes === undefined ? PLACEHOLDER : layout.headerBytes - 8 + dataBytes, true);
  tag(8, "WAVE");
  tag(12, "fmt ");
  v.setUint32(16, 16, true);
  v.setUint16(20, layout.isFloat ? 3 : 1, true);
  v.setUint16(22, 1, true);
  v.setUint32(24, layout.sampleRate, true);
  v.setUint32(28, layout.sampleRate * bps, true);
  v.setUint16(32, bps, true);
  v.setUint16(34, bps * 8, true);
  if (layout.factAt !== undefined) {
    tag(layout.factAt - 8, "fact");
    v.setUint32(layout.factAt - 4, 4, true);
    v.setUint32(layout.factAt, samples ?? 0, true);
  }
  tag(layout.dataSizeAt - 4, "data");
  v.setUint32(layout.dataSizeAt, dataBytes ?? PLACEHOLDER, true);
  return out;
}

/** Samples → bytes at `at` of `out` (float32, or PCM16: clipped to [-1, 1], rounded, NaN → 0). */
export function encodeSamples(samples: Float32Array, layout: WavLayout, out: Uint8Array, at = 0): void {
  const v = new DataView(out.buffer, out.byteOffset, out.byteLength);
  if (layout.isFloat) {
    for (let i = 0; i < samples.length; i++, at += 4) v.setFloat32(at, samples[i], true);
  } else {
    for (let i = 0; i < samples.length; i++, at += 2) {
      const x = samples[i];
      // NaN → 0; scale by 32768 and clamp, the inverse of the reader's int16/32768.
      const q = Number.isNaN(x) ? 0 : Math.max(-32768, Math.min(32767, Math.round(x * 32768)));
      v.setInt16(at, q, true);
    }
  }
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
