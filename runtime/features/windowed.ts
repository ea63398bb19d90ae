/**
 * Encoder inputs for one window of a long clip, as slices of the whole clip's inputs.
 *
 * The semantic features of a clip are Kaldi fbank frames of the clip (HOP/2 zeros added on each side), two frames per
 * code, each mel bin normalised with the clip's own mean and standard deviation (extractor.ts). An fbank frame sees
 * only its own 400 samples, so the rows of a window are computed here from the real samples around it (not from a
 * zero-padded cut-out), and normalised with the statistics of the *whole* clip: a window's features are then exactly
 * the whole clip's features over its frames, and a window covering the whole clip gives exactly `extractFeatures`.
 * The alternative, each window normalised by its own statistics (as if it were a clip of its own), is kept for the
 * measurement in `xcodec2 parity --long`, which compares both (README "Audio of any length").
 *
 * Cost: the fbank runs once over the clip (about 75 ms per 10 s of audio on the development machine, 2% of a
 * full-size encode) and its rows are kept as float32 (they are float32 values already): 2 × 80 × 4 = 640 bytes per
 * code, half the size of the float32 audio itself. The statistics take two passes over those rows, as upstream's
 * normalisation does over the clip.
 */
import {
  codesForSamples,
  FBANK_FRAME_LENGTH,
  FBANK_FRAME_SHIFT,
  FBANK_MEL_BINS,
  FEATURE_STRIDE,
  HOP_LENGTH,
} from "../../convert/mod.ts";
import {
  applyBinNormalisation,
  binStatistics,
  type ClipFeatures,
  KALDI_WAVEFORM_SCALE,
  validateClip,
  XCODEC2_FBANK_OPTIONS,
} from "./extractor.ts";
import { KaldiFbank } from "./kaldi_fbank.ts";

/** How a window's features are normalised: with the whole clip's statistics (default) or with its own. */
export type WindowNormalisation = "clip" | "window";

/** fbank frames computed per call while the clip is scanned: bounds the float64 scratch to ~2.6 MB. */
const SCAN_FRAMES = 4096;

let sharedFbank: KaldiFbank | undefined;
function fbank(): KaldiFbank {
  sharedFbank ??= new KaldiFbank(XCODEC2_FBANK_OPTIONS);
  return sharedFbank;
}

export class ClipFeatureSource {
  /** T = codesForSamples(n): codes of the whole clip */
  readonly frames: number;
  /** raw (not normalised) log mel rows of the whole clip, [2T, 80] */
  private readonly raw: Float32Array;
  private readonly mean: Float64Array;
  private readonly std: Float64Array;

  /** `itemIndex` only labels errors. */
  constructor(private readonly audio: Float32Array, itemIndex = 0) {
    validateClip(audio, itemIndex);
    this.frames = codesForSamples(audio.length);
    const rows = this.frames * FEATURE_STRIDE;
    this.raw = new Float32Array(rows * FBANK_MEL_BINS);
    for (let r = 0; r < rows; r += SCAN_FRAMES) {
      const n = Math.min(SCAN_FRAMES, rows - r);
      this.raw.set(this.fbankRows(r, r + n), r * FBANK_MEL_BINS);
    }
    ({ mean: this.mean, std: this.std } = binStatistics(this.raw, rows, FBANK_MEL_BINS));
  }

  /** Encoder inputs for frames [from, to): the clip's samples there and the matching feature rows. */
  window(from: number, to: number, normalisation: WindowNormalisation = "clip"): ClipFeatures {
    if (!(Number.isInteger(from) && Number.isInteger(to) && 0 <= from && from < to && to <= this.frames)) {
      throw new RangeError(`window [${from}, ${to}) outside the clip's ${this.frames} frames`);
    }
    const n = this.audio.length;
    const first = from * HOP_LENGTH;
    const inputValues = new Float32Array((to - from) * HOP_LENGTH);
    inputValues.set(this.audio.subarray(first, Math.min(n, to * HOP_LENGTH)));
    const rows = (to - from) * FEATURE_STRIDE;
    const data = Float64Array.from(
      this.raw.subarray(from * FEATURE_STRIDE * FBANK_MEL_BINS, (to * FEATURE_STRIDE) * FBANK_MEL_BINS),
    );
    const stats = normalisation === "clip"
      ? { mean: this.mean, std: this.std }
      : binStatistics(data, rows, FBANK_MEL_BINS);
    applyBinNormalisation(data, rows, FBANK_MEL_BINS, stats.mean, stats.std);
    return {
      inputValues,
      // the whole clip's mask covers its n samples and one appended zero; a window inside it is all real samples
      paddingMaskLength: Math.min(n + 1, to * HOP_LENGTH) - first,
      features: Float32Array.from(data),
      frames: to - from,
    };
  }

  /**
   * fbank rows [r0, r1) of the whole clip. Row j is the frame at shift j of the clip with HOP/2 zeros before it
   * (and zeros after its end), i.e. clip samples [160·j − 160, 160·j + 240): computed from exactly those samples.
   */
  private fbankRows(r0: number, r1: number): Float32Array {
    const edge = HOP_LENGTH / 2;
    const begin = r0 * FBANK_FRAME_SHIFT - edge;
    const len = (r1 - r0 - 1) * FBANK_FRAME_SHIFT + FBANK_FRAME_LENGTH;
    const segment = new Float64Array(len);
    const lo = Math.max(0, begin), hi = Math.min(this.audio.length, begin + len);
    for (let i = lo; i < hi; i++) segment[i - begin] = this.audio[i] * KALDI_WAVEFORM_SCALE;
    const { frames, data } = fbank().compute(segment);
    if (frames !== r1 - r0) throw new Error(`fbank gave ${frames} frames for rows [${r0}, ${r1})`);
    return Float32Array.from(data);
  }
}
