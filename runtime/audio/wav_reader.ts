/**
 * A strict RIFF/WAVE parser. Reads PCM (8-bit unsigned, 16/24/32-bit signed), IEEE float (32/64-bit) and the same
 * encodings inside WAVE_FORMAT_EXTENSIBLE. Every size is checked against the bytes actually present before anything
 * is allocated, so a hostile header cannot make us allocate gigabytes or loop forever.
 *
 * Tolerated, because real writers produce them: a RIFF size that disagrees with the file size (streaming writers
 * leave 0 or 0xFFFFFFFF), a placeholder data chunk size (read to the end of the file or stream; see
 * `isPlaceholderSize`), odd-sized chunks followed by a pad byte, unknown chunks (skipped), a trailing partial sample
 * frame (dropped). Anything else that does not add up is an AudioError naming the file; in particular a data chunk
 * that declares a size a WAV can hold but is cut short is refused as truncated.
 */
import { AudioError } from "./errors.ts";
import type { DecodedAudio } from "./decoded_audio.ts";

const FORMAT_PCM = 0x0001;
const FORMAT_IEEE_FLOAT = 0x0003;
const FORMAT_EXTENSIBLE = 0xfffe;
/** Generous but finite: nobody records 1024-channel speech, and it bounds per-frame work. */
const MAX_CHANNELS = 1024;
const MAX_SAMPLE_RATE = 10_000_000;
/** Size written by streaming writers that cannot seek back to fill in the data chunk's length (ffmpeg to a pipe). */
const STREAMING_PLACEHOLDER = 0xffffffff;
const RIFF_SIZE_LIMIT = 0xffffffff;

/**
 * A data chunk size that cannot be a real length, so the writer could not know it when it wrote the header:
 *  - 0xFFFFFFFF (ffmpeg and others writing to a pipe), or any size the 32-bit RIFF container could not hold at this
 *    offset (a RIFF size counts every byte after the first 8, so a data body at `body` holds at most
 *    0xFFFFFFFF − (body − 8) bytes; some writers leave 0xFFFFFFFF minus a header-dependent amount);
 *  - 0 followed by samples when the RIFF size does not describe the file either (a header written before the data,
 *    never patched). A data chunk that is really empty, in a file whose RIFF size is right, stays empty.
 */
function isPlaceholderSize(declared: number, body: number, available: number, riffSize: number, fileBytes: number) {
  if (declared === STREAMING_PLACEHOLDER || declared > RIFF_SIZE_LIMIT - (body - 8)) return true;
  return declared === 0 && available > 0 && riffSize !== fileBytes - 8;
}
const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

const FORMAT_NAMES: Record<number, string> = {
  0x0002: "Microsoft ADPCM",
  0x0006: "A-law",
  0x0007: "mu-law",
  0x0011: "IMA ADPCM",
  0x0055: "MPEG layer 3",
};

function ascii(b: Uint8Array, at: number): string {
  return String.fromCharCode(b[at], b[at + 1], b[at + 2], b[at + 3]);
}

/** A RIFF (or RF64) container: the WAV parser then says precisely what, if anything, is wrong with it. */
export function looksLikeWav(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && (ascii(bytes, 0) === "RIFF" || ascii(bytes, 0) === "RF64");
}

interface Format {
  code: number;
  channels: number;
  sampleRate: number;
  blockAlign: number;
  bitsPerSample: number;
}

export function decodeWav(bytes: Uint8Array, file: string): DecodedAudio {
  const bad = (detail: string) => new AudioError(file, "malformed", `invalid WAV: ${detail}`);
  if (bytes.length < 12) throw bad(`only ${bytes.length} bytes, too short for a RIFF header`);
  if (ascii(bytes, 0) !== "RIFF") {
    const hint = ascii(bytes, 0) === "RF64" ? " (RF64/64-bit WAV is not supported)" : "";
    throw bad(`does not start with "RIFF"${hint}`);
  }
  if (ascii(bytes, 8) !== "WAVE") throw bad(`RIFF type is "${ascii(bytes, 8)}", not "WAVE"`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);

  let fmt: Format | undefined;
  let data: { offset: number; size: number } | undefined;
  let pos = 12;
  while (pos + 8 <= bytes.length) {
    const id = ascii(bytes, pos);
    const declared = view.getUint32(pos + 4, true);
    const body = pos + 8;
    const available = bytes.length - body;
    if (id === "data") {
      let size = declared;
      if (isPlaceholderSize(declared, body, available, view.getUint32(4, true), bytes.length)) size = available;
      else if (declared > available) {
        throw bad(`data chunk declares ${declared} bytes but only ${available} follow (truncated file?)`);
      }
      data = { offset: body, size };
      if (fmt !== undefined) break; // everything needed; trailing chunks (LIST etc.) do not matter
      pos = body + size + (size & 1);
      continue;
    }
    if (declared > available) throw bad(`"${id}" chunk declares ${declared} bytes but only ${available} follow`);
    if (id === "fmt ") {
      if (fmt !== undefined) throw bad("more than one fmt chunk");
      fmt = parseFmt(view, body, declared, bad);
    }
    pos = body + declared + (declared & 1);
  }
  if (fmt === undefined) throw bad("no fmt chunk");
  if (data === undefined) throw bad("no data chunk");
  return decodeSamples(bytes, view, fmt, data, file);
}

function parseFmt(view: DataView, at: number, size: number, bad: (d: string) => AudioError): Format {
  if (size < 16) throw bad(`fmt chunk is ${size} bytes, needs at least 16`);
  let code = view.getUint16(at, true);
  const channels = view.getUint16(at + 2, true);
  const sampleRate = view.getUint32(at + 4, true);
  const blockAlign = view.getUint16(at + 12, true);
  const bitsPerSample = view.getUint16(at + 14, true);
  if (code === FORMAT_EXTENSIBLE) {
    // cbSize(2) validBits(2) channelMask(4) subFormat GUID(16): the GUID's first two bytes are the real format code.
    if (size < 40) throw bad(`WAVE_FORMAT_EXTENSIBLE fmt chunk is ${size} bytes, needs 40`);
    code = view.getUint16(at + 24, true);
  }
  if (channels === 0) throw bad("zero channels");
  if (channels > MAX_CHANNELS) throw bad(`${channels} channels (more than ${MAX_CHANNELS})`);
  if (sampleRate === 0 || sampleRate > MAX_SAMPLE_RATE) throw bad(`sample rate ${sampleRate} Hz`);
  return { code, channels, sampleRate, blockAlign, bitsPerSample };
}

type SampleReader = (view: DataView, at: number) => number;

/** (format code, bits) → how to read one sample as a float in [-1, 1). */
const SAMPLE_READERS: Record<string, SampleReader> = {
  [`${FORMAT_PCM}/8`]: (v, a) => (v.getUint8(a) - 128) / 128,
  [`${FORMAT_PCM}/16`]: (v, a) => v.getInt16(a, true) / 32768,
  [`${FORMAT_PCM}/24`]: (v, a) => ((v.getUint8(a) | (v.getUint8(a + 1) << 8) | (v.getInt8(a + 2) << 16)) / 8388608),
  [`${FORMAT_PCM}/32`]: (v, a) => v.getInt32(a, true) / 2147483648,
  [`${FORMAT_IEEE_FLOAT}/32`]: (v, a) => v.getFloat32(a, true),
  [`${FORMAT_IEEE_FLOAT}/64`]: (v, a) => v.getFloat64(a, true),
};

function decodeSamples(
  bytes: Uint8Array,
  view: DataView,
  fmt: Format,
  data: { offset: number; size: number },
  file: string,
): DecodedAudio {
  const read = SAMPLE_READERS[`${fmt.code}/${fmt.bitsPerSample}`];
  if (read === undefined) {
    const name = fmt.code === FORMAT_PCM
      ? "PCM"
      : fmt.code === FORMAT_IEEE_FLOAT
      ? "IEEE float"
      : FORMAT_NAMES[fmt.code] ?? `format code 0x${fmt.code.toString(16).padStart(4, "0")}`;
    throw new AudioError(
      file,
      "unsupported",
      `unsupported WAV encoding: ${name}, ${fmt.bitsPerSample} bits per sample ` +
        "(supported: PCM 8/16/24/32-bit, IEEE float 32/64-bit)",
    );
  }
  const bytesPerSample = fmt.bitsPerSample / 8;
  const frameBytes = bytesPerSample * fmt.channels;
  if (fmt.blockAlign !== frameBytes) {
    throw new AudioError(
      file,
      "malformed",
      `invalid WAV: block align ${fmt.blockAlign}, expected ${frameBytes} for ` +
        `${fmt.channels} channel(s) of ${fmt.bitsPerSample} bits`,
    );
  }
  // A trailing partial frame (some writers cut mid-frame) is dropped rather than rejected.
  const frames = Math.floor(data.size / frameBytes);
  const channelData: Float32Array[] = [];
  for (let c = 0; c < fmt.channels; c++) channelData.push(new Float32Array(frames));
  // Fast path for the common mono float32 case: a straight byte copy into the (aligned) output. Not bytes.slice():
  // on a Node Buffer that is a view, not a copy.
  if (LITTLE_ENDIAN_HOST && fmt.code === FORMAT_IEEE_FLOAT && fmt.bitsPerSample === 32 && fmt.channels === 1) {
    new Uint8Array(channelData[0].buffer).set(bytes.subarray(data.offset, data.offset + frames * 4));
    return { channelData, sampleRate: fmt.sampleRate };
  }
  let at = data.offset;
  for (let i = 0; i < frames; i++) {
    for (let c = 0; c < fmt.channels; c++) {
      channelData[c][i] = read(view, at);
      at += bytesPerSample;
    }
  }
  return { channelData, sampleRate: fmt.sampleRate };
}
