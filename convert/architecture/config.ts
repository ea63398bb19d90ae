/**
 * The converted (transformers layout) `config.json`: its type, its validator, and the per-model facts derived from it
 * (sample rates, hops, n_fft, code rate, the feature extractor's flavour, codes per clip), which the architecture
 * walk, the graphs, the FLOP counts and the runtime read instead of XCodec2's constants.
 *
 * Three layouts (members.ts `ConvertedLayout`), one set of tensor names:
 *  - `model_type: "xcodec2"`: transformers' `Xcodec2Config`; `sampling_rate` is the rate in and out;
 *  - `model_type: "neucodec"`: transformers' `NeuCodecConfig` (NeuCodec, WideCodec); `input_sampling_rate` and
 *    `output_sampling_rate`, the decoder hop is the encoder hop carried to the output rate, and the feature extractor
 *    is `NeuCodecFeatureExtractor` (no side padding, branches trimmed: one code less per clip);
 *  - `model_type: "xcodec2_pooled"`: our extension for X-Codec-2.0-25TPS-24k, which transformers has no class for:
 *    `Xcodec2Config`'s fields with `input_sampling_rate`, `output_sampling_rate` and `code_pooling` (encoder frames
 *    averaged into one code, AvgPool1d(k, k) after `fc_encoder`), XCodec2's feature extractor. A distinct
 *    `model_type` so that nothing built for `xcodec2` takes it silently.
 */
import {
  codebookSize,
  FEATURE_DIM,
  HOP_LENGTH,
  MAX_COUNT,
  MAX_WIDTH,
  N_FFT_PER_HOP,
  SAMPLE_RATE,
} from "./constants.ts";
import type { FbankArithmetic, FeatureFlavour } from "./members.ts";
import { Xcodec2Error } from "../../common/errors.ts";

/** The converted layouts' `model_type`s. */
export const MODEL_TYPES = ["xcodec2", "neucodec", "xcodec2_pooled"] as const;
export type ModelType = typeof MODEL_TYPES[number];
/** Largest code pooling the validator accepts (25TPS pools 2; the bound only keeps configs sane). */
export const MAX_CODE_POOLING = 16;
/** Highest output rate the validator accepts (WideCodec writes 44.1 kHz). */
export const MAX_OUTPUT_RATE = 192_000;

/** The subset of the w2v-bert config the model needs. */
export interface SemanticModelConfig {
  hidden_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  intermediate_size: number;
  feature_projection_input_dim: number;
  hidden_act: string;
  layer_norm_eps: number;
  position_embeddings_type: string;
  left_max_position_embeddings: number;
  right_max_position_embeddings: number;
  conv_depthwise_kernel_size: number;
  [k: string]: unknown;
}

/** The fields of a converted (Hugging Face layout) `config.json` that the toolkit uses. */
export interface Xcodec2Config {
  model_type: ModelType;
  /** acoustic encoder base width (original `ngf`) */
  encoder_hidden_size: number;
  downsampling_ratios: number[];
  /** decoder width (and acoustic encoder output width) */
  hidden_size: number;
  intermediate_size: number;
  num_attention_heads: number;
  num_key_value_heads: number;
  head_dim: number;
  num_hidden_layers: number;
  quantization_dim: number;
  quantization_levels: number[];
  rms_norm_eps: number;
  /** `xcodec2`: the rate in and out (the rate of the decoded audio, unless `output_sampling_rate` is set) */
  sampling_rate?: number;
  /** `neucodec`, `xcodec2_pooled`: rate of the encoded audio */
  input_sampling_rate?: number;
  /** `neucodec`, `xcodec2_pooled`: rate of the decoded audio */
  output_sampling_rate?: number;
  /** `xcodec2_pooled`: encoder frames averaged into one code after `fc_encoder` (AvgPool1d(k, k); absent = 1) */
  code_pooling?: number;
  rope_parameters: { rope_theta: number; rope_type: string };
  semantic_model_config: SemanticModelConfig;
  [k: string]: unknown;
}

/** What a config implies about rates and sizes; every per-model number the toolkit uses comes from here. */
export interface ModelFacts {
  /** rate of the audio the encoder reads */
  inputSampleRate: number;
  /** rate of the audio the decoder writes */
  sampleRate: number;
  /** input samples per encoder frame: the product of `downsampling_ratios` */
  encoderHop: number;
  /** encoder frames per code */
  codePooling: number;
  /** encoder frames (semantic and acoustic) per second of audio */
  framesPerSecond: number;
  codesPerSecond: number;
  /** output samples per code: the ISTFT hop */
  decoderHop: number;
  nFft: number;
  /** how the semantic features are cut (members.ts `FeatureFlavour`): side padding, trimming, codes per clip */
  features: FeatureFlavour;
  /**
   * the fbank arithmetic of the model's reference (members.ts `FbankArithmetic`): transformers' torchaudio path for
   * `xcodec2` (XCodec2's reference set is upstream transformers'), the originals' SeamlessM4T (numpy) path for the
   * other members, whose references are their original code
   */
  fbank: FbankArithmetic;
}

/**
 * The facts of a config (validated or built by the converter). As transformers' `NeuCodecConfig` has it, the
 * decoder hop is the encoder hop carried to the output rate: encoderHop · pooling · sampleRate / inputSampleRate.
 */
export function modelFacts(cfg: Xcodec2Config): ModelFacts {
  const sampleRate = cfg.output_sampling_rate ?? cfg.sampling_rate ?? SAMPLE_RATE;
  const inputSampleRate = cfg.input_sampling_rate ?? cfg.sampling_rate ?? sampleRate;
  const encoderHop = cfg.downsampling_ratios.reduce((a, b) => a * b, 1);
  const codePooling = cfg.code_pooling ?? 1;
  const framesPerSecond = inputSampleRate / encoderHop;
  const codesPerSecond = framesPerSecond / codePooling;
  const decoderHop = sampleRate / codesPerSecond;
  return {
    inputSampleRate,
    sampleRate,
    encoderHop,
    codePooling,
    framesPerSecond,
    codesPerSecond,
    decoderHop,
    nFft: N_FFT_PER_HOP * decoderHop,
    features: cfg.model_type === "neucodec" ? "neucodec" : "xcodec2",
    fbank: cfg.model_type === "xcodec2" ? "torchaudio" : "seamless_m4t",
  };
}

/** XCodec2's facts (16 kHz in and out, 50 codes a second, hop 320): what code that has no loaded model assumes. */
export const XCODEC2_FACTS: Readonly<ModelFacts> = Object.freeze({
  inputSampleRate: SAMPLE_RATE,
  sampleRate: SAMPLE_RATE,
  encoderHop: HOP_LENGTH,
  codePooling: 1,
  framesPerSecond: SAMPLE_RATE / HOP_LENGTH,
  codesPerSecond: SAMPLE_RATE / HOP_LENGTH,
  decoderHop: HOP_LENGTH,
  nFft: N_FFT_PER_HOP * HOP_LENGTH,
  features: "xcodec2",
  fbank: "torchaudio",
});

/**
 * Encoder frames of a clip of `samples` input samples run alone: both flavours right-pad by hop − n mod hop (always
 * at least one sample), to T = ⌊n/hop⌋ + 1 frames.
 */
export function encoderFrames(f: ModelFacts, samples: number): number {
  return Math.floor(samples / f.encoderHop) + 1;
}

/** The clip right-padded as the encoder reads it: T · hop samples. */
export function paddedClipSamples(f: ModelFacts, samples: number): number {
  return encoderFrames(f, samples) * f.encoderHop;
}

/**
 * Stacked semantic feature rows of a clip: T with XCodec2's 160-sample side padding, T − 1 without it (NeuCodec's
 * fbank of 320·T samples has 2T − 2 frames).
 */
export function semanticFrames(f: ModelFacts, samples: number): number {
  const t = encoderFrames(f, samples);
  return f.features === "neucodec" ? t - 1 : t;
}

/**
 * Codes a clip of `samples` samples gets when run alone, as its original emits them: the branches trimmed to the
 * shorter one, then pooled (floor: an odd frame count drops its last frame). 0 when the clip is too short for one
 * code, which the originals refuse (NeuCodec below 320 samples, the 25TPS model below 320).
 */
export function codesForClip(f: ModelFacts, samples: number): number {
  return Math.floor(semanticFrames(f, samples) / f.codePooling);
}

/** The shortest clip that gets a code. */
export function minClipSamples(f: ModelFacts): number {
  // codes ≥ 1 ⇔ semantic frames ≥ pooling ⇔ T ≥ pooling (+1 for NeuCodec) ⇔ n ≥ hop·(T − 1)
  const t = f.codePooling + (f.features === "neucodec" ? 1 : 0);
  return Math.max(1, f.encoderHop * (t - 1)); // XCodec2: one sample (an empty clip has nothing to encode)
}

export class ConfigError extends Xcodec2Error {
  constructor(readonly file: string, message: string) {
    super(`${file}: ${message}`);
  }
}

/**
 * Validate a converted `config.json` object: every field the toolkit reads must be present with the right type and a
 * sane size, so a corrupt config fails here with its field named rather than deep inside graph building.
 */
export function parseXcodec2Config(json: unknown, file: string): Xcodec2Config {
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new ConfigError(file, "not a JSON object");
  }
  const o = json as Record<string, unknown>;
  if (!(MODEL_TYPES as readonly unknown[]).includes(o.model_type)) {
    throw new ConfigError(
      file,
      `model_type is ${JSON.stringify(o.model_type)}, expected one of ${MODEL_TYPES.map((t) => `"${t}"`).join(", ")}`,
    );
  }
  const type = o.model_type as ModelType;
  const int = (obj: Record<string, unknown>, k: string, where: string, max = MAX_WIDTH) => {
    const v = obj[k];
    if (typeof v !== "number" || !Number.isInteger(v) || v < 1 || v > max) {
      throw new ConfigError(file, `${where}${k} must be an integer in [1, ${max}], got ${JSON.stringify(v)}`);
    }
    return v;
  };
  const num = (obj: Record<string, unknown>, k: string, where: string) => {
    const v = obj[k];
    if (typeof v !== "number" || !Number.isFinite(v) || v <= 0) {
      throw new ConfigError(file, `${where}${k} must be a positive number, got ${JSON.stringify(v)}`);
    }
    return v;
  };
  const intList = (k: string, len?: number) => {
    const v = o[k];
    if (
      !Array.isArray(v) || v.length === 0 || v.length > 64 ||
      v.some((x) => typeof x !== "number" || !Number.isInteger(x) || x < 1 || x > 1 << 16)
    ) {
      throw new ConfigError(file, `${k} must be a list of positive integers, got ${JSON.stringify(v)}`);
    }
    if (len !== undefined && v.length !== len) {
      throw new ConfigError(file, `${k} must have ${len} entries, got ${v.length}`);
    }
    return v as number[];
  };
  for (const k of ["encoder_hidden_size", "hidden_size", "intermediate_size", "head_dim", "quantization_dim"]) {
    int(o, k, "");
  }
  for (const k of ["num_attention_heads", "num_key_value_heads", "num_hidden_layers"]) int(o, k, "", MAX_COUNT);
  if (o.rms_norm_eps === undefined) o.rms_norm_eps = 1e-6; // upstream's config default
  num(o, "rms_norm_eps", "");
  const ratios = intList("downsampling_ratios");
  if (ratios.reduce((a, b) => a * b, 1) !== HOP_LENGTH) {
    throw new ConfigError(
      file,
      `downsampling_ratios ${JSON.stringify(ratios)} multiply to ${
        ratios.reduce((a, b) => a * b, 1)
      }, the hop length is ${HOP_LENGTH}`,
    );
  }
  const levels = intList("quantization_levels");
  if (levels.some((L) => L < 2)) {
    throw new ConfigError(file, `quantization_levels must all be at least 2 (FSQ), got ${JSON.stringify(levels)}`);
  }
  if (codebookSize(levels) > 2 ** 31) {
    throw new ConfigError(file, `quantization_levels give ${codebookSize(levels)} codes, more than int32 holds`);
  }
  checkRates(o, type, file, ratios.reduce((a, b) => a * b, 1));
  const rope = o.rope_parameters as Record<string, unknown> | undefined;
  // upstream's default when the config predates rope_parameters
  const theta = rope && typeof rope === "object" ? rope.rope_theta : o.rope_theta ?? 10000.0;
  if (typeof theta !== "number" || !(theta > 0)) {
    throw new ConfigError(file, `rope_parameters.rope_theta must be a positive number`);
  }
  const sem = o.semantic_model_config;
  if (typeof sem !== "object" || sem === null || Array.isArray(sem)) {
    throw new ConfigError(file, "semantic_model_config must be an object");
  }
  const s = sem as Record<string, unknown>;
  for (
    const k of [
      "hidden_size",
      "intermediate_size",
      "feature_projection_input_dim",
      "left_max_position_embeddings",
      "right_max_position_embeddings",
      "conv_depthwise_kernel_size",
    ]
  ) int(s, k, "semantic_model_config.");
  for (const k of ["num_hidden_layers", "num_attention_heads"]) int(s, k, "semantic_model_config.", MAX_COUNT);
  num(s, "layer_norm_eps", "semantic_model_config.");
  if (s.feature_projection_input_dim !== FEATURE_DIM) {
    throw new ConfigError(
      file,
      `semantic_model_config.feature_projection_input_dim is ${s.feature_projection_input_dim}, the features have ${FEATURE_DIM}`,
    );
  }
  if ((o.hidden_size as number) % (o.num_attention_heads as number) !== 0) {
    throw new ConfigError(file, `hidden_size is not a multiple of num_attention_heads`);
  }
  return {
    ...(o as Xcodec2Config),
    rope_parameters: { rope_theta: theta, rope_type: String(rope?.rope_type ?? "default") },
  };
}

/**
 * The rate fields each layout has, their values, and what they imply: the encoder reads 16 kHz (the semantic branch's
 * fbank and Wav2Vec2-BERT are 16 kHz models), and the decoder hop, encoderHop · pooling · out / in, is a whole number
 * of samples.
 */
function checkRates(o: Record<string, unknown>, type: ModelType, file: string, encoderHop: number): void {
  const rate = (k: string, max = MAX_OUTPUT_RATE) => {
    const v = o[k];
    if (typeof v !== "number" || !Number.isInteger(v) || v < 1 || v > max) {
      throw new ConfigError(file, `${k} must be an integer in [1, ${max}] Hz, got ${JSON.stringify(v)}`);
    }
    return v;
  };
  const absent = (k: string, why: string) => {
    if (o[k] !== undefined) throw new ConfigError(file, `${k} is set, but ${why}`);
  };
  let input: number, output: number, pooling = 1;
  if (type === "xcodec2") {
    for (const k of ["input_sampling_rate", "output_sampling_rate", "code_pooling"]) {
      absent(
        k,
        `a model_type "xcodec2" config runs at sampling_rate in and out, one code per frame (other members: model_type "neucodec" or "xcodec2_pooled")`,
      );
    }
    input = output = o.sampling_rate === undefined ? SAMPLE_RATE : rate("sampling_rate");
  } else {
    absent("sampling_rate", `model_type "${type}" names its rates input_sampling_rate and output_sampling_rate`);
    input = rate("input_sampling_rate");
    output = rate("output_sampling_rate");
    if (type === "xcodec2_pooled") pooling = int(o, "code_pooling", MAX_CODE_POOLING, file);
    else absent("code_pooling", `model_type "neucodec" does not pool codes`);
  }
  if (input !== SAMPLE_RATE) {
    throw new ConfigError(
      file,
      `the encoder reads ${input} Hz audio; the family's semantic encoder (Wav2Vec2-BERT fbank features) takes ${SAMPLE_RATE} Hz`,
    );
  }
  const hop = (encoderHop * pooling * output) / input;
  if (!Number.isInteger(hop)) {
    throw new ConfigError(
      file,
      `an output rate of ${output} Hz at ${
        input / encoderHop / pooling
      } codes per second is not a whole number of samples per code (${hop})`,
    );
  }
}

function int(o: Record<string, unknown>, k: string, max: number, file: string): number {
  const v = o[k];
  if (typeof v !== "number" || !Number.isInteger(v) || v < 1 || v > max) {
    throw new ConfigError(file, `${k} must be an integer in [1, ${max}], got ${JSON.stringify(v)}`);
  }
  return v;
}

/** Read and validate a converted `config.json`. */
export async function readXcodec2Config(file: string): Promise<Xcodec2Config> {
  const { readFile } = await import("node:fs/promises");
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (e) {
    throw new ConfigError(file, `cannot read: ${(e as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(file, `invalid JSON: ${(e as Error).message}`);
  }
  return parseXcodec2Config(json, file);
}
