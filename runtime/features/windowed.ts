/**
 * Encoder inputs for one window of a long clip, as slices of the whole clip's inputs.
 *
 * The semantic features of a clip are fbank frames of the clip (HOP/2 zeros added on each side in XCodec2's flavour,
 * none in NeuCodec's), two frames per encoder frame, each mel bin normalised with the clip's own mean and standard
 * deviation (extractor.ts), in the arithmetic of the model's reference. Windows are given in codes; a code is
 * `codePooling` encoder frames (2 for the 25TPS model, whose AvgPool starts at frame 0, so a window starting at an
 * even frame pools exactly the clip's pairs). An fbank frame sees
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
  codesForClip,
  FBANK_FRAME_LENGTH,
  FBANK_FRAME_SHIFT,
  FBANK_MEL_BINS,
  FEATURE_STRIDE,
  HOP_LENGTH,
  type ModelFacts,
  semanticFrames,
} from "../../convert/mod.ts";
import {
  applyBinNormalisation,
  binStatistics,
  type ClipFeatures,
  fbank,
  featureEdge,
  KALDI_WAVEFORM_SCALE,
  validateClip,
} from "./extractor.ts";

/** How a window's features are normalised: with the whole clip's statistics (default) or with its own. */
export type WindowNormalisation = "clip" | "window";

/** fbank frames computed per call while the clip is scanned: bounds the float64 scratch to ~2.6 MB. */
const SCAN_FRAMES = 4096;

export class ClipFeatureSource {
  /** codes of the whole clip (`codesForClip`) */
  readonly frames: number;
  /** raw (not normalised) log mel rows of the whole clip, [FEATURE_STRIDE · rows, 80] */
  private readonly raw: Float32Array;
  private readonly mean: Float64Array;
  private readonly std: Float64Array;

  /** `itemIndex` only labels errors. */
  constructor(private readonly audio: Float32Array, itemIndex: number, private readonly kind: ModelFacts) {
    validateClip(audio, itemIndex);
    if (kind.encoderHop !== HOP_LENGTH) {
      throw new RangeError(
        `windowed features: encoder hop ${kind.encoderHop}, the feature extractor's is ${HOP_LENGTH}`,
      );
    }
    this.frames = codesForClip(kind, audio.length);
    // the clip's stacked feature rows (encoder frames, before pooling), two fbank frames each
    const fbankFrames = semanticFrames(kind, audio.length) * FEATURE_STRIDE;
    this.raw = new Float32Array(fbankFrames * FBANK_MEL_BINS);
    for (let r = 0; r < fbankFrames; r += SCAN_FRAMES) {
      const n = Math.min(SCAN_FRAMES, fbankFrames - r);
      this.raw.set(this.fbankRows(r, r + n), r * FBANK_MEL_BINS);
    }
    ({ mean: this.mean, std: this.std } = binStatistics(this.raw, fbankFrames, FBANK_MEL_BINS, kind.fbank));
  }

  /** Encoder inputs for codes [from, to): the clip's samples there and the matching feature rows. */
  window(from: number, to: number, normalisation: WindowNormalisation = "clip"): ClipFeatures {
    if (!(Number.isInteger(from) && Number.isInteger(to) && 0 <= from && from < to && to <= this.frames)) {
      throw new RangeError(`window [${from}, ${to}) outside the clip's ${this.frames} codes`);
    }
    const n = this.audio.length;
    const P = this.kind.codePooling;
    const f0 = from * P, f1 = to * P; // encoder frames
    const first = f0 * HOP_LENGTH;
    const inputValues = new Float32Array((f1 - f0) * HOP_LENGTH);
    inputValues.set(this.audio.subarray(first, Math.min(n, f1 * HOP_LENGTH)));
    const rows = (f1 - f0) * FEATURE_STRIDE;
    const raw = this.raw.subarray(f0 * FEATURE_STRIDE * FBANK_MEL_BINS, (f1 * FEATURE_STRIDE) * FBANK_MEL_BINS);
    const stats = normalisation === "clip"
      ? { mean: this.mean, std: this.std }
      : binStatistics(raw, rows, FBANK_MEL_BINS, this.kind.fbank);
    // straight into float32, without a float64 copy: a long clip runs hundreds of windows, and under Bun each
    // window's garbage stays until a collection (common/collect.ts)
    const features = new Float32Array(rows * FBANK_MEL_BINS);
    applyBinNormalisation(raw, features, rows, FBANK_MEL_BINS, stats.mean, stats.std);
    return {
      inputValues,
      // the whole clip's mask covers its n samples and one appended zero; a window inside it is all real samples
      paddingMaskLength: Math.min(n + 1, f1 * HOP_LENGTH) - first,
      features,
      frames: f1 - f0,
    };
  }

  /** Input samples the window of codes [from, to) holds (its last one may end with the clip). */
  heldSamples(from: number, to: number): number {
    const P = this.kind.codePooling;
    return Math.min(this.audio.length, to * P * HOP_LENGTH) - from * P * HOP_LENGTH;
  }

  /**
   * fbank frames [r0, r1) of the whole clip. Frame j is the one at shift j of the clip with `edge` zeros before it
   * (and zeros after its end), i.e. clip samples [160·j − edge, 160·j − edge + 400): computed from exactly those.
   */
  private fbankRows(r0: number, r1: number): Float32Array {
    const edge = featureEdge(this.kind.features);
    const begin = r0 * FBANK_FRAME_SHIFT - edge;
    const len = (r1 - r0 - 1) * FBANK_FRAME_SHIFT + FBANK_FRAME_LENGTH;
    const segment = new Float64Array(len);
    const lo = Math.max(0, begin), hi = Math.min(this.audio.length, begin + len);
    for (let i = lo; i < hi; i++) segment[i - begin] = this.audio[i] * KALDI_WAVEFORM_SCALE;
    const { frames, data } = fbank(this.kind.fbank).compute(segment);
    if (frames !== r1 - r0) throw new Error(`fbank gave ${frames} frames for rows [${r0}, ${r1})`);
    return Float32Array.from(data);
  }
}
