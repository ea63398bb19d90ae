/**
 * The one source of truth for XCodec2's shapes and constants.
 *
 * Everything else (the converter's expected-tensor table, the ONNX graphs, the feature extractor, the runtime's
 * length arithmetic) derives from these values or from an `Xcodec2Config` read from a converted `config.json`.
 */
import { Xcodec2Error } from "../common/errors.ts";

/** Audio rate the codec runs at. */
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
  model_type: "xcodec2";
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
  sampling_rate: number;
  rope_parameters: { rope_theta: number; rope_type: string };
  semantic_model_config: SemanticModelConfig;
  [k: string]: unknown;
}

/** Upstream's acoustic-encoder dilations (hard-coded in both implementations). */
export const ENCODER_DILATIONS = [1, 3, 9] as const;
/** The acoustic encoder's anti-aliased activation (`Activation1d`): resampling ratio and filter taps (hard-coded upstream). */
export const AA_RATIO = 2;
export const AA_KERNEL = 12;
/** Decoder ISTFT size: 4·hop (hard-coded in both implementations). */
export const N_FFT = 4 * HOP_LENGTH;

/**
 * Sanity bounds for config values: far above any real XCodec2 (hidden 1024, 12 + 16 layers) yet small enough that a
 * corrupt or hostile config cannot make the expected-tensor table or the graphs allocate without bound.
 */
export const MAX_WIDTH = 1 << 16;
export const MAX_COUNT = 1024;

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
  if (o.model_type !== "xcodec2") {
    throw new ConfigError(file, `model_type is ${JSON.stringify(o.model_type)}, expected "xcodec2"`);
  }
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
  if (o.sampling_rate !== undefined && o.sampling_rate !== SAMPLE_RATE) {
    throw new ConfigError(file, `sampling_rate is ${JSON.stringify(o.sampling_rate)}, XCodec2 runs at ${SAMPLE_RATE}`);
  }
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
