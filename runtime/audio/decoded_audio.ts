/** Decoded, not yet downmixed audio: one Float32Array per channel, all of the same length. */
import { AudioError } from "./errors.ts";

export interface DecodedAudio {
  channelData: Float32Array[];
  sampleRate: number;
}

/**
 * Run a WASM decoder (FLAC, MP3) on one file: wait until it is ready, turn whatever it throws into an AudioError
 * naming the file, and always free its memory.
 */
export async function withWasmDecoder<D extends { ready: Promise<void>; free(): void }>(
  file: string,
  format: string,
  decoder: D,
  decode: (decoder: D) => DecodedAudio | Promise<DecodedAudio>,
): Promise<DecodedAudio> {
  try {
    await decoder.ready;
    return await decode(decoder);
  } catch (e) {
    if (e instanceof AudioError) throw e;
    throw new AudioError(file, "decode-failed", `${format} decoder failed: ${(e as Error)?.message ?? e}`, {
      cause: e,
    });
  } finally {
    decoder.free();
  }
}
