/**
 * Every gate the parity suite applies, in one table, so the properties, the kit README and `--against` quote the
 * same numbers. Sources: the issue (batch = loop), fixtures/reference/README.md "Suggested gates" (ours = upstream).
 */
import { TIE_MARGIN } from "./fsq_ties.ts";

export const TOLERANCES = {
  /** FSQ values this close to x.5 make a frame a tie: codes there may differ, and are counted */
  fsqTieMargin: TIE_MARGIN,
  /** property 2: batched vs per-sample decoded audio, relative L2 per item */
  batchDecodeRelL2: 1e-5,
  /** property 4: features, absolute (speech / TTS) */
  featuresAbs: 1e-4,
  /** property 4: features, absolute, for noise clips (fbank of white noise is more sensitive to float order) */
  featuresAbsNoise: 3e-4,
  /** property 4: encoder latents, relative L2 */
  latentsRelL2: 1e-5,
  /** property 4: audio decoded from upstream's codes, absolute */
  audioAbs: 1e-5,
  /** property 3: folded weight-norm tensors, relative (or within 2 ulp) */
  weightRel: 1e-6,
  weightUlps: 2,
  /** property 5: WebGPU vs CPU decoded audio, relative L2 per item */
  deviceAudioRelL2: 1e-4,
} as const;

/** Feature tolerance for a clip of the given kind ("noise" gets the looser gate). */
export function featureTolerance(kind: string): number {
  return kind === "noise" ? TOLERANCES.featuresAbsNoise : TOLERANCES.featuresAbs;
}
