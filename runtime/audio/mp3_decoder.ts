/** MP3 (MPEG-1/2 layer III, also I/II) through mpg123-decoder (libmpg123 compiled to WASM). */
import { MPEGDecoder } from "mpg123-decoder";
import { AudioError } from "./errors.ts";
import { type DecodedAudio, withWasmDecoder } from "./decoded_audio.ts";

/** An ID3v2 tag or an MPEG audio frame sync (11 set bits) at the start. */
export function looksLikeMp3(bytes: Uint8Array): boolean {
  if (bytes.length >= 3 && bytes[0] === 0x49 && bytes[1] === 0x44 && bytes[2] === 0x33) return true; // "ID3"
  return bytes.length >= 2 && bytes[0] === 0xff && (bytes[1] & 0xe0) === 0xe0;
}

export function decodeMp3(bytes: Uint8Array, file: string): Promise<DecodedAudio> {
  // Gapless mode trims the encoder delay and padding (LAME/Xing headers), so lengths match the source audio.
  return withWasmDecoder(file, "MP3", new MPEGDecoder({ enableGapless: true }), (decoder) => {
    const result = decoder.decode(bytes);
    if (result.samplesDecoded === 0 || result.channelData.length === 0) {
      const why = result.errors.length > 0 ? `: ${result.errors[0].message}` : "";
      throw new AudioError(file, "decode-failed", `MP3 decoder produced no audio (corrupt or not an MP3 file?)${why}`);
    }
    return {
      channelData: result.channelData.map((c) => c.slice(0, result.samplesDecoded)),
      sampleRate: result.sampleRate,
    };
  });
}
