/** FLAC through @wasm-audio-decoders/flac (libFLAC compiled to WASM). */
import { FLACDecoder } from "@wasm-audio-decoders/flac";
import { AudioError } from "./errors.ts";
import { type DecodedAudio, withWasmDecoder } from "./decoded_audio.ts";

export function isFlac(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x66 && bytes[1] === 0x4c && bytes[2] === 0x61 && bytes[3] === 0x43; // "fLaC"
}

/**
 * The WASM decoder scales integer samples by 1/(2^(b−1) − 1), so −32768 becomes −1.00003. Everything else here (our
 * WAV reader, soundfile, torchaudio, the reference clips: "int16 / 32768") uses 1/2^(b−1). Recover the integer and
 * rescale; for b ≤ 16 this is exact, for 24/32-bit files the float32 output may already be off by one LSB.
 */
function toIntegerScale(decoded: Float32Array, bitDepth: number): Float32Array {
  const out = new Float32Array(decoded.length);
  if (!(bitDepth >= 4 && bitDepth <= 32)) {
    out.set(decoded);
    return out;
  }
  const decoderScale = 2 ** (bitDepth - 1) - 1;
  const scale = 2 ** (bitDepth - 1);
  for (let i = 0; i < decoded.length; i++) out[i] = Math.round(decoded[i] * decoderScale) / scale;
  return out;
}

export function decodeFlac(bytes: Uint8Array, file: string): Promise<DecodedAudio> {
  return withWasmDecoder(file, "FLAC", new FLACDecoder(), async (decoder) => {
    const result = await decoder.decodeFile(bytes);
    if (result.errors.length > 0) {
      const first = result.errors[0];
      throw new AudioError(
        file,
        "decode-failed",
        `FLAC decode error: ${first.message} (${result.errors.length} error(s))`,
      );
    }
    if (result.samplesDecoded === 0 || result.channelData.length === 0) {
      throw new AudioError(file, "decode-failed", "FLAC decoder produced no audio (corrupt or truncated file?)");
    }
    return {
      channelData: result.channelData.map((c) => toIntegerScale(c.subarray(0, result.samplesDecoded), result.bitDepth)),
      sampleRate: result.sampleRate,
    };
  });
}
