/**
 * The TypeScript twin of upstream `Xcodec2FeatureExtractor` (transformers, src/transformers/models/xcodec2/), and of
 * NeuCodec's extractor in the `"neucodec"` flavour (members.ts `FeatureFlavour`): the same fbank on the padded clip
 * WITHOUT the HOP/2 zeros on each side (the original NeuCodec and transformers' `NeuCodecFeatureExtractor`), so Lp
 * samples give 2·Lp/HOP − 2 frames, T − 1 rows; such a clip needs at least HOP samples (T ≥ 2) for one row.
 *
 * Per clip of n samples (16 kHz mono), XCodec2's flavour:
 *  - acoustic input: the clip with one zero sample appended, right-zero-padded to Lp = HOP·⌈(n+1)/HOP⌉;
 *    the padding mask covers the n+1 real-plus-appended samples.
 *  - semantic input: Kaldi fbank of that Lp-sample waveform with HOP/2 zeros added on each side, scaled by 2^15
 *    (Kaldi expects 16-bit integer magnitudes). Lp + HOP samples give exactly 2·Lp/HOP frames with snip_edges, so
 *    after stacking FEATURE_STRIDE = 2 frames there are T = codesForSamples(n) rows, one per code.
 *  - each mel bin is normalised over the clip's own frames, (x − mean)/sqrt(unbiased var + 1e-7), before any batch
 *    padding, so a clip's features do not depend on the batch it is in.
 * In a batch, the stacked features are padded with FEATURE_PADDING_VALUE (1.0) and the mask marks the first T rows.
 */
import {
  FBANK_FRAME_LENGTH,
  FBANK_FRAME_SHIFT,
  FBANK_MEL_BINS,
  type FbankArithmetic,
  FEATURE_DIM,
  FEATURE_PADDING_VALUE,
  FEATURE_STRIDE,
  type FeatureFlavour,
  HOP_LENGTH,
  paddedSamples,
  SAMPLE_RATE,
} from "../../convert/mod.ts";
import { FeatureInputError } from "./errors.ts";
import { KaldiFbank, type KaldiFbankOptions } from "./kaldi_fbank.ts";
import { SeamlessFbank } from "./seamless_fbank.ts";

/** Which features a model takes: the padding flavour and the fbank arithmetic (the loaded model's facts). */
export interface FeatureKind {
  features: FeatureFlavour;
  fbank: FbankArithmetic;
}
/** XCodec2's: side padding, torchaudio arithmetic (upstream transformers' `Xcodec2FeatureExtractor`). */
export const XCODEC2_FEATURES: Readonly<FeatureKind> = { features: "xcodec2", fbank: "torchaudio" };

/** The fbank options upstream passes to torchaudio (the others are Kaldi defaults that KaldiFbank hard-codes). */
export const XCODEC2_FBANK_OPTIONS: Readonly<KaldiFbankOptions> = {
  sampleRate: SAMPLE_RATE,
  frameLength: FBANK_FRAME_LENGTH,
  frameShift: FBANK_FRAME_SHIFT,
  numMelBins: FBANK_MEL_BINS,
  preemphasis: 0.97,
  lowFreq: 20,
  highFreq: SAMPLE_RATE / 2,
};
/** Kaldi's fbank is defined on 16-bit integer sample values; upstream scales float audio by 2^15 first. */
export const KALDI_WAVEFORM_SCALE = 2 ** 15;
/** Added to the unbiased variance under the square root in upstream's per-clip normalisation. */
export const NORMALISATION_VARIANCE_EPSILON = 1e-7;

export interface ClipFeatures {
  /** [Lp] the clip, one appended zero, zero padding to a multiple of HOP_LENGTH */
  inputValues: Float32Array;
  /** number of leading ones in the padding mask: n + 1 */
  paddingMaskLength: number;
  /** [T, FEATURE_DIM] normalised, stacked log mel features */
  features: Float32Array;
  /** stacked rows: T = ⌈(n+1)/HOP⌉ (XCodec2's flavour), T − 1 (NeuCodec's) */
  frames: number;
}

export interface BatchFeatures {
  /** [B, 1, Lmax] */
  inputValues: Float32Array;
  /** [B, Lmax], 1 for the n_i + 1 leading samples */
  paddingMask: BigInt64Array;
  /** [B, Fmax, FEATURE_DIM], rows past T_i hold FEATURE_PADDING_VALUE */
  inputFeatures: Float32Array;
  /** [B, Fmax], 1 for the first T_i rows */
  inputFeaturesMask: BigInt64Array;
  /** n_i, the callers' sample counts */
  lengths: number[];
  /** T_i */
  frames: number[];
  Lmax: number;
  Fmax: number;
}

let sharedFbank: KaldiFbank | undefined;
let sharedSeamless: SeamlessFbank | undefined;
/** The fbank of a model's reference arithmetic (one shared instance each: their tables are built once). */
export function fbank(
  arithmetic: FbankArithmetic,
): { compute(w: ArrayLike<number>): { frames: number; data: Float64Array } } {
  if (arithmetic === "seamless_m4t") {
    sharedSeamless ??= new SeamlessFbank({
      sampleRate: SAMPLE_RATE,
      frameLength: FBANK_FRAME_LENGTH,
      frameShift: FBANK_FRAME_SHIFT,
      fftLength: 512,
      numMelBins: FBANK_MEL_BINS,
      lowFreq: 20,
      preemphasis: 0.97,
    });
    return sharedSeamless;
  }
  sharedFbank ??= new KaldiFbank(XCODEC2_FBANK_OPTIONS);
  return sharedFbank;
}

/** Throws FeatureInputError unless `audio` is a non-empty Float32Array of finite samples. */
export function validateClip(audio: unknown, itemIndex: number): asserts audio is Float32Array {
  if (!(audio instanceof Float32Array)) {
    const what = audio === null
      ? "null"
      : typeof audio === "object"
      ? (audio as object).constructor?.name ?? "object"
      : typeof audio;
    throw new FeatureInputError(
      itemIndex,
      "not-float32",
      `expected a Float32Array of 16 kHz mono samples, got ${what}`,
    );
  }
  if (audio.length === 0) throw new FeatureInputError(itemIndex, "empty", "the clip is empty (0 samples)");
  for (let i = 0; i < audio.length; i++) {
    if (!Number.isFinite(audio[i])) {
      throw new FeatureInputError(
        itemIndex,
        "non-finite",
        `sample ${i} is ${audio[i]} (NaN or infinite samples cannot be encoded)`,
      );
    }
  }
}

/** Zeros the fbank sees before the clip (and after its padding): HOP/2 in XCodec2's flavour, none in NeuCodec's. */
export function featureEdge(flavour: FeatureFlavour): number {
  return flavour === "neucodec" ? 0 : HOP_LENGTH / 2;
}

/** Features of one clip; `itemIndex` only labels errors. */
export function extractFeatures(
  audio: Float32Array,
  itemIndex = 0,
  kind: FeatureKind = XCODEC2_FEATURES,
): ClipFeatures {
  const flavour = kind.features;
  validateClip(audio, itemIndex);
  const n = audio.length;
  const lp = paddedSamples(n);
  const inputValues = new Float32Array(lp);
  inputValues.set(audio);

  const edge = featureEdge(flavour);
  if (flavour === "neucodec" && lp < 2 * HOP_LENGTH) {
    throw new FeatureInputError(
      itemIndex,
      "too-short",
      `${n} samples: this model needs at least ${HOP_LENGTH} (its feature extractor gives no frame for less; the original refuses too)`,
    );
  }
  const semanticInput = new Float64Array(lp + 2 * edge);
  for (let i = 0; i < n; i++) semanticInput[edge + i] = audio[i] * KALDI_WAVEFORM_SCALE;
  const { frames: rawFrames, data } = fbank(kind.fbank).compute(semanticInput);

  const frames = lp / HOP_LENGTH - (flavour === "neucodec" ? 1 : 0); // config.ts semanticFrames
  if (rawFrames !== frames * FEATURE_STRIDE) {
    // Unreachable with the architecture constants; guards against someone changing one of them alone.
    throw new Error(
      `feature extractor: ${rawFrames} fbank frames for ${n} samples, expected ${frames * FEATURE_STRIDE}`,
    );
  }
  normalisePerBin(data, rawFrames, FBANK_MEL_BINS, kind.fbank);
  // Row-major [2T, 80] and [T, 160] are the same memory: stacking two frames is a reshape.
  return { inputValues, paddingMaskLength: n + 1, features: Float32Array.from(data), frames };
}

/**
 * In place: each column to zero mean and unit (unbiased) standard deviation, with upstream's epsilon. Upstream does
 * this on float32 tensors; the statistics are summed in float64 and rounded once, the elementwise steps are rounded
 * to float32 like torch's.
 */
function normalisePerBin(data: Float64Array, rows: number, cols: number, arithmetic: FbankArithmetic): void {
  const { mean, std } = binStatistics(data, rows, cols, arithmetic);
  applyBinNormalisation(data, data, rows, cols, mean, std);
}

/**
 * Per-column mean and standard deviation as the model's reference computes them (float32 values). `torchaudio`
 * (upstream transformers' Xcodec2FeatureExtractor, torch on float32 tensors): the sums in float64, rounded once.
 * `seamless_m4t` (SeamlessM4TFeatureExtractor in numpy float32, which the family's originals call): `x.mean(0)` and
 * `x.var(0, ddof=1)` sum the rows one after the other in float32 (a reduction over the outer axis).
 */
export function binStatistics(
  data: ArrayLike<number>,
  rows: number,
  cols: number,
  arithmetic: FbankArithmetic = "torchaudio",
): { mean: Float64Array; std: Float64Array } {
  const f = Math.fround;
  const eps = f(NORMALISATION_VARIANCE_EPSILON);
  const mean = new Float64Array(cols), std = new Float64Array(cols);
  // rows >= 2 always (T >= 1, two frames per row); the guard keeps a future change from dividing by zero.
  const dof = rows > 1 ? rows - 1 : Infinity;
  for (let c = 0; c < cols; c++) {
    let sum = 0, ss = 0;
    if (arithmetic === "seamless_m4t") {
      for (let r = 0; r < rows; r++) sum = f(sum + data[r * cols + c]);
      mean[c] = f(sum / rows);
      for (let r = 0; r < rows; r++) {
        const d = f(data[r * cols + c] - mean[c]);
        ss = f(ss + f(d * d));
      }
    } else {
      for (let r = 0; r < rows; r++) sum += data[r * cols + c];
      mean[c] = f(sum / rows);
      for (let r = 0; r < rows; r++) {
        const d = data[r * cols + c] - sum / rows;
        ss += d * d;
      }
    }
    const variance = f(ss / dof);
    std[c] = f(Math.sqrt(f(variance + eps)));
  }
  return { mean, std };
}

/**
 * (x − mean) / std per column of `src` into `dst` (the same array: in place), each step rounded to float32 (both
 * arithmetics). The values are float32 either way, so a float32 `dst` holds exactly what a float64 one would.
 */
export function applyBinNormalisation(
  src: ArrayLike<number>,
  dst: Float64Array | Float32Array,
  rows: number,
  cols: number,
  mean: ArrayLike<number>,
  std: ArrayLike<number>,
): void {
  const f = Math.fround;
  for (let c = 0; c < cols; c++) {
    for (let r = 0; r < rows; r++) dst[r * cols + c] = f(f(src[r * cols + c] - mean[c]) / std[c]);
  }
}

/** Model inputs for several clips padded into one batch, in the given order. */
export function batchFeatures(clips: Float32Array[], kind: FeatureKind = XCODEC2_FEATURES): BatchFeatures {
  if (!Array.isArray(clips) || clips.length === 0) {
    throw new FeatureInputError(0, "no-clips", "batchFeatures needs at least one clip");
  }
  clips.forEach((c, i) => validateClip(c, i));
  return padFeatures(clips.map((c, i) => extractFeatures(c, i, kind)), clips.map((c) => c.length));
}

/**
 * Pad per-item features into one batch. `lengths` are the items' sample counts (for a window of a long clip, the
 * samples its input holds); the windowed encoder builds its items with `ClipFeatureSource.window`.
 */
export function padFeatures(per: ClipFeatures[], lengths: number[]): BatchFeatures {
  const B = per.length;
  const Lmax = Math.max(...per.map((p) => p.inputValues.length));
  const Fmax = Math.max(...per.map((p) => p.frames));

  const inputValues = new Float32Array(B * Lmax);
  const paddingMask = new BigInt64Array(B * Lmax);
  const inputFeatures = new Float32Array(B * Fmax * FEATURE_DIM).fill(FEATURE_PADDING_VALUE);
  const inputFeaturesMask = new BigInt64Array(B * Fmax);
  per.forEach((p, b) => {
    inputValues.set(p.inputValues, b * Lmax);
    paddingMask.fill(1n, b * Lmax, b * Lmax + p.paddingMaskLength);
    inputFeatures.set(p.features, b * Fmax * FEATURE_DIM);
    inputFeaturesMask.fill(1n, b * Fmax, b * Fmax + p.frames);
  });
  return {
    inputValues,
    paddingMask,
    inputFeatures,
    inputFeaturesMask,
    lengths,
    frames: per.map((p) => p.frames),
    Lmax,
    Fmax,
  };
}
