/**
 * XCodec2's fixed facts: the values both implementations hard-code, and XCodec2's defaults for the per-model facts
 * (`SAMPLE_RATE`, `HOP_LENGTH`, `CODES_PER_SECOND`, `N_FFT`). Code that has a config derives the per-model values
 * from it with `modelFacts(cfg)` (config.ts); the defaults serve the runtime's XCodec2 arithmetic.
 */

/** Audio rate XCodec2 runs at, in and out. */
export const SAMPLE_RATE = 16_000;
/** Samples per code: the acoustic encoder's total stride, 2·2·4·4·5. */
export const HOP_LENGTH = 320;
/** Codes per second of audio (SAMPLE_RATE / HOP_LENGTH). */
export const CODES_PER_SECOND = SAMPLE_RATE / HOP_LENGTH;
/** Kaldi fbank frame shift (10 ms) and length (25 ms) at 16 kHz; two frames are stacked per semantic step. */
export const FBANK_FRAME_SHIFT = 160;
export const FBANK_FRAME_LENGTH = 400;
export const FBANK_MEL_BINS = 80;
export const FEATURE_STRIDE = 2;
/** The w2v-bert input width: FBANK_MEL_BINS stacked FEATURE_STRIDE times. */
export const FEATURE_DIM = FBANK_MEL_BINS * FEATURE_STRIDE;
/** Padding value of the stacked features in a batch (upstream's `padding_value`). */
export const FEATURE_PADDING_VALUE = 1.0;

/**
 * Number of codes (and padded samples / HOP_LENGTH) a clip of `samples` samples gets when run alone: upstream and the
 * original both pad by `HOP - n % HOP` (always at least one sample), i.e. to HOP·ceil((n+1)/HOP).
 */
export function codesForSamples(samples: number): number {
  return Math.ceil((samples + 1) / HOP_LENGTH);
}

/** Padded waveform length for a clip run alone. */
export function paddedSamples(samples: number): number {
  return codesForSamples(samples) * HOP_LENGTH;
}

/** Number of codes in the codebook implied by FSQ levels (product of the levels; 4^8 = 65,536 for XCodec2). */
export function codebookSize(levels: readonly number[]): number {
  return levels.reduce((a, b) => a * b, 1);
}

/** Upstream's acoustic-encoder dilations (hard-coded in both implementations). */
export const ENCODER_DILATIONS = [1, 3, 9] as const;
/** The acoustic encoder's anti-aliased activation (`Activation1d`): resampling ratio and filter taps (hard-coded). */
export const AA_RATIO = 2;
export const AA_KERNEL = 12;
/** The decoder's ISTFT window spans this many hops (n_fft = 4·hop in both implementations and transformers). */
export const N_FFT_PER_HOP = 4;
/** XCodec2's ISTFT size. */
export const N_FFT = N_FFT_PER_HOP * HOP_LENGTH;
/** The decoder MLP's width over its hidden size (original vq/bs_roformer5.py: `MLP(dim)`, fc1 dim → 4·dim). */
export const MLP_RATIO = 4;
/** The decoder's `prior_net` and `post_net` each hold this many ResNet blocks (hard-coded in both implementations). */
export const RESNET_BLOCKS_PER_STAGE = 2;

/**
 * Sanity bounds for config values: far above any real XCodec2 (hidden 1024, 12 + 16 layers) yet small enough that a
 * corrupt or hostile config cannot make the architecture walk or the graphs allocate without bound.
 */
export const MAX_WIDTH = 1 << 16;
export const MAX_COUNT = 1024;
