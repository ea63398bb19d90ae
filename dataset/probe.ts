/**
 * An audio file's length from its header, without decoding it: planning a corpus of millions of files must not decode
 * them all (the worker does that once). WAV is exact (data size / byte rate), FLAC exact when STREAMINFO carries the
 * sample count, MP3 exact with a Xing/Info frame count and a constant-bitrate estimate otherwise. The length only
 * places items into shards (`--shard-hours`) and length-sorted batches; the `duration_s` column is the decoded length.
 * A file that is missing, empty or not WAV/FLAC/MP3 fails here and is skipped into `errors.jsonl`.
 */
import { open } from "node:fs/promises";
import { DatasetError } from "./errors.ts";
import type { AudioLocation } from "./item.ts";

/** An item's audio cannot be planned (missing, empty, not audio): it is skipped into `errors.jsonl`, not fatal. */
export class ProbeError extends DatasetError {}

type Reader = (offset: number, length: number) => Promise<Uint8Array>;

const ascii = (b: Uint8Array, at: number, n: number) => String.fromCharCode(...b.subarray(at, at + n));

/** Length in seconds of the audio at `loc` (a hint; see above). Throws ProbeError with the reason. */
export async function probeSeconds(loc: AudioLocation): Promise<number> {
  if ("file" in loc) {
    let fh;
    try {
      fh = await open(loc.file, "r");
    } catch (e) {
      throw new ProbeError(`cannot read file: ${(e as Error).message}`);
    }
    try {
      const size = (await fh.stat()).size;
      const read: Reader = async (offset, length) => {
        const buf = new Uint8Array(Math.max(0, Math.min(length, size - offset)));
        const { bytesRead } = await fh.read(buf, 0, buf.length, offset);
        return buf.subarray(0, bytesRead);
      };
      return await probeBytes(read, size);
    } finally {
      await fh.close();
    }
  }
  const fh = await open(loc.tar, "r");
  try {
    const read: Reader = async (offset, length) => {
      const buf = new Uint8Array(Math.max(0, Math.min(length, loc.size - offset)));
      const { bytesRead } = await fh.read(buf, 0, buf.length, loc.offset + offset);
      return buf.subarray(0, bytesRead);
    };
    return await probeBytes(read, loc.size);
  } finally {
    await fh.close();
  }
}

async function probeBytes(read: Reader, size: number): Promise<number> {
  if (size === 0) throw new ProbeError("the file is empty (0 bytes)");
  const head = await read(0, 4096);
  if (ascii(head, 0, 4) === "RIFF" && ascii(head, 8, 4) === "WAVE") return wavSeconds(read, size);
  if (ascii(head, 0, 4) === "fLaC") return flacSeconds(head, size);
  const mp3 = await mp3Seconds(read, head, size);
  if (mp3 !== undefined) return mp3;
  throw new ProbeError("not a WAV, FLAC or MP3 file (unrecognised header)");
}

async function wavSeconds(read: Reader, size: number): Promise<number> {
  let pos = 12;
  let byteRate = 0;
  for (let guard = 0; guard < 1000 && pos + 8 <= size; guard++) {
    const h = await read(pos, 8);
    if (h.length < 8) break;
    const id = ascii(h, 0, 4);
    const len = new DataView(h.buffer, h.byteOffset, 8).getUint32(4, true);
    if (id === "fmt ") {
      const f = await read(pos + 8, 16);
      if (f.length < 16) break;
      byteRate = new DataView(f.buffer, f.byteOffset, 16).getUint32(8, true);
    } else if (id === "data") {
      if (!byteRate) throw new ProbeError("malformed WAV: data chunk before fmt chunk");
      // a streamed WAV declares a placeholder size (0 or 0xFFFFFFFF): its data runs to the end of the file
      const declared = len === 0 || len === 0xffffffff ? size - pos - 8 : Math.min(len, size - pos - 8);
      if (declared <= 0) throw new ProbeError("the file holds no audio samples");
      return declared / byteRate;
    }
    pos += 8 + len + (len & 1);
  }
  throw new ProbeError("malformed WAV: no fmt and data chunks");
}

function flacSeconds(head: Uint8Array, size: number): number {
  // STREAMINFO is the first metadata block (after "fLaC" and its 4-byte block header): block and frame sizes
  // (10 bytes), then the rate (20 bits), channels (3), bits per sample (5) and the sample count (36)
  if (head.length < 8 + 18 || (head[4] & 0x7f) !== 0) throw new ProbeError("malformed FLAC: no STREAMINFO");
  const b = head.subarray(8);
  const rate = (b[10] << 12) | (b[11] << 4) | (b[12] >> 4);
  const channels = ((b[12] >> 1) & 7) + 1;
  const bits = (((b[12] & 1) << 4) | (b[13] >> 4)) + 1;
  const total = (b[13] & 0x0f) * 2 ** 32 + ((b[14] << 24) >>> 0) + (b[15] << 16) + (b[16] << 8) + b[17];
  if (!rate) throw new ProbeError("malformed FLAC: sample rate 0");
  // an encoder that did not know the length writes 0: estimate from the size at a typical 60% compression ratio
  return total > 0 ? total / rate : size / (rate * channels * (bits / 8) * 0.6);
}

const MP3_BITRATES = {
  v1l3: [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320],
  v2l3: [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
};
const MP3_RATES = [[44100, 48000, 32000], [22050, 24000, 16000], [11025, 12000, 8000]];

async function mp3Seconds(read: Reader, head: Uint8Array, size: number): Promise<number | undefined> {
  let start = 0;
  if (ascii(head, 0, 3) === "ID3") {
    start = 10 + ((head[6] & 0x7f) << 21 | (head[7] & 0x7f) << 14 | (head[8] & 0x7f) << 7 | (head[9] & 0x7f));
  }
  const buf = await read(start, 4096);
  for (let i = 0; i + 4 <= buf.length; i++) {
    if (buf[i] !== 0xff || (buf[i + 1] & 0xe0) !== 0xe0) continue;
    const version = (buf[i + 1] >> 3) & 3; // 3: MPEG-1, 2: MPEG-2, 0: MPEG-2.5
    const layer = (buf[i + 1] >> 1) & 3; // 1: layer III
    const brIndex = buf[i + 2] >> 4, srIndex = (buf[i + 2] >> 2) & 3;
    if (version === 1 || layer !== 1 || brIndex === 0 || brIndex === 15 || srIndex === 3) continue;
    const v1 = version === 3;
    const rate = MP3_RATES[v1 ? 0 : version === 2 ? 1 : 2][srIndex];
    const samplesPerFrame = v1 ? 1152 : 576;
    const mono = (buf[i + 3] >> 6) === 3;
    // a Xing/Info tag in the first frame gives the exact frame count (VBR files always carry one)
    const side = v1 ? (mono ? 17 : 32) : (mono ? 9 : 17);
    const tag = i + 4 + side;
    const id = ascii(buf, tag, 4);
    if ((id === "Xing" || id === "Info") && tag + 12 <= buf.length && buf[tag + 7] & 1) {
      const frames = new DataView(buf.buffer, buf.byteOffset + tag + 8, 4).getUint32(0, false);
      return (frames * samplesPerFrame) / rate;
    }
    const kbps = (v1 ? MP3_BITRATES.v1l3 : MP3_BITRATES.v2l3)[brIndex];
    return ((size - start - i) * 8) / (kbps * 1000);
  }
  return undefined;
}
