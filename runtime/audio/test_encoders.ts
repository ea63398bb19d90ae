/**
 * Test support: tiny encoders that produce valid audio files without external tools (no flac/lame/sox here).
 *  - WAV in any PCM/float layout, including WAVE_FORMAT_EXTENSIBLE, and deliberately broken variants.
 *  - FLAC with VERBATIM subframes: STREAMINFO + frames with CRC-8 header and CRC-16 frame checksums.
 *  - MPEG-2 layer III frames of digital silence (all-zero side info and main data), which any MP3 decoder plays.
 */

export interface WavSpec {
  format: "pcm" | "float";
  bits: number;
  sampleRate: number;
  /** interleaved-by-channel float samples in [-1, 1) */
  channels: Float64Array[] | Float32Array[];
  extensible?: boolean;
}

/** Quantise x to a PCM integer the way the reader will map it back (x·2^(bits−1), or offset binary for 8-bit). */
export function pcmValue(x: number, bits: number): number {
  const scale = 2 ** (bits - 1);
  return Math.max(-scale, Math.min(scale - 1, Math.round(x * scale)));
}

export function encodeTestWav(spec: WavSpec): Uint8Array {
  const nch = spec.channels.length;
  const frames = nch > 0 ? spec.channels[0].length : 0;
  const bps = spec.bits / 8;
  const fmtSize = spec.extensible ? 40 : 16;
  const dataBytes = frames * nch * bps;
  const out = new Uint8Array(12 + 8 + fmtSize + 8 + dataBytes);
  const v = new DataView(out.buffer);
  const tag = (at: number, s: string) => {
    for (let i = 0; i < 4; i++) out[at + i] = s.charCodeAt(i);
  };
  tag(0, "RIFF");
  v.setUint32(4, out.length - 8, true);
  tag(8, "WAVE");
  tag(12, "fmt ");
  v.setUint32(16, fmtSize, true);
  const code = spec.format === "pcm" ? 1 : 3;
  v.setUint16(20, spec.extensible ? 0xfffe : code, true);
  v.setUint16(22, nch, true);
  v.setUint32(24, spec.sampleRate, true);
  v.setUint32(28, spec.sampleRate * nch * bps, true);
  v.setUint16(32, nch * bps, true);
  v.setUint16(34, spec.bits, true);
  if (spec.extensible) {
    v.setUint16(36, 22, true); // cbSize
    v.setUint16(38, spec.bits, true); // valid bits
    v.setUint32(40, 0, true); // channel mask
    // KSDATAFORMAT_SUBTYPE_{PCM,IEEE_FLOAT}: code, then the fixed GUID tail 0000-0010-8000-00AA00389B71
    v.setUint16(44, code, true);
    out.set([0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71], 46);
  }
  const d = 12 + 8 + fmtSize;
  tag(d, "data");
  v.setUint32(d + 4, dataBytes, true);
  let at = d + 8;
  for (let i = 0; i < frames; i++) {
    for (let c = 0; c < nch; c++, at += bps) {
      const x = spec.channels[c][i];
      if (spec.format === "float") {
        if (spec.bits === 32) v.setFloat32(at, x, true);
        else v.setFloat64(at, x, true);
      } else if (spec.bits === 8) v.setUint8(at, pcmValue(x, 8) + 128);
      else if (spec.bits === 16) v.setInt16(at, pcmValue(x, 16), true);
      else if (spec.bits === 24) {
        const q = pcmValue(x, 24);
        v.setUint8(at, q & 0xff);
        v.setUint8(at + 1, (q >> 8) & 0xff);
        v.setInt8(at + 2, q >> 16);
      } else if (spec.bits === 32) v.setInt32(at, pcmValue(x, 32), true);
      else throw new Error(`test encoder: ${spec.bits} bits`);
    }
  }
  return out;
}

class BitWriter {
  private bytes: number[] = [];
  private acc = 0;
  private n = 0;
  write(value: number, bits: number): void {
    for (let b = bits - 1; b >= 0; b--) {
      // Bit extraction without 32-bit overflow for the 36-bit total-samples field.
      const bit = Math.floor(value / 2 ** b) % 2;
      this.acc = (this.acc << 1) | bit;
      if (++this.n === 8) {
        this.bytes.push(this.acc);
        this.acc = 0;
        this.n = 0;
      }
    }
  }
  alignZero(): void {
    while (this.n !== 0) this.write(0, 1);
  }
  get length(): number {
    return this.bytes.length;
  }
  toBytes(): number[] {
    if (this.n !== 0) throw new Error("not byte aligned");
    return this.bytes;
  }
}

export function crc8(bytes: ArrayLike<number>): number {
  let crc = 0;
  for (let i = 0; i < bytes.length; i++) {
    crc ^= bytes[i];
    for (let k = 0; k < 8; k++) crc = crc & 0x80 ? ((crc << 1) ^ 0x07) & 0xff : (crc << 1) & 0xff;
  }
  return crc;
}

export function crc16(bytes: ArrayLike<number>): number {
  let crc = 0;
  for (let i = 0; i < bytes.length; i++) {
    crc ^= bytes[i] << 8;
    for (let k = 0; k < 8; k++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x8005) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

/** A valid FLAC file: 16-bit samples (integers), VERBATIM subframes, `blockSize`-sample frames (last one shorter). */
export function encodeTestFlac(channels: Int16Array[], sampleRate: number, blockSize = 256): Uint8Array {
  const nch = channels.length;
  const total = channels[0].length;
  if (sampleRate >= 65536) throw new Error("test FLAC encoder: sample rate must fit 16 bits");
  const head = new BitWriter();
  for (const ch of "fLaC") head.write(ch.charCodeAt(0), 8);
  head.write(1, 1);
  head.write(0, 7);
  head.write(34, 24); // last metadata block: STREAMINFO, 34 bytes
  head.write(blockSize, 16);
  head.write(blockSize, 16);
  head.write(0, 24);
  head.write(0, 24); // frame sizes unknown
  head.write(sampleRate, 20);
  head.write(nch - 1, 3);
  head.write(16 - 1, 5);
  head.write(total, 36);
  for (let i = 0; i < 16; i++) head.write(0, 8); // MD5 unknown (all zero = not checked)
  const out = [...head.toBytes()];
  for (let frame = 0, start = 0; start < total; frame++, start += blockSize) {
    if (frame >= 128) throw new Error("test FLAC encoder: one-byte frame numbers only");
    const n = Math.min(blockSize, total - start);
    const w = new BitWriter();
    w.write(0x3ffe, 14);
    w.write(0, 1);
    w.write(0, 1); // sync, reserved, fixed block size
    w.write(0b0111, 4); // block size: 16-bit (n−1) at the end of the header
    // Sample rate in the frame header (16-bit Hz after the block size): @wasm-audio-decoders/flac hands libFLAC the
    // frames without STREAMINFO, so "from STREAMINFO" (0000) cannot be decoded there. Real encoders write it too.
    w.write(0b1101, 4);
    w.write(nch - 1, 4); // independent channels
    w.write(0b100, 3);
    w.write(0, 1); // 16 bits per sample, reserved
    w.write(frame, 8); // UTF-8 coded frame number (< 128: one byte)
    w.write(n - 1, 16);
    w.write(sampleRate, 16);
    w.write(crc8(w.toBytes()), 8);
    for (let c = 0; c < nch; c++) {
      w.write(0, 1);
      w.write(0b000001, 6);
      w.write(0, 1); // VERBATIM, no wasted bits
      for (let i = 0; i < n; i++) w.write(channels[c][start + i] & 0xffff, 16);
    }
    w.alignZero();
    const body = w.toBytes();
    const crc = crc16(body);
    out.push(...body, crc >> 8, crc & 0xff);
  }
  return Uint8Array.from(out);
}

/**
 * `frames` MPEG-2 layer III frames, 16 kHz mono, 64 kbit/s, no CRC: 288 bytes each, 576 samples of silence each.
 * Header FF F3 88 C0; side info and main data all zero (part2_3_length 0 → every spectral value is zero).
 */
export function encodeSilentMp3(frames: number): Uint8Array {
  const frameBytes = (72 * 64000) / 16000;
  const out = new Uint8Array(frames * frameBytes);
  for (let i = 0; i < frames; i++) out.set([0xff, 0xf3, 0x88, 0xc0], i * frameBytes);
  return out;
}
