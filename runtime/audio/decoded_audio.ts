/** Decoded, not yet downmixed audio: one Float32Array per channel, all of the same length. */
export interface DecodedAudio {
  channelData: Float32Array[];
  sampleRate: number;
}
