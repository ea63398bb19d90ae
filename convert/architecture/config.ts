/**
 * The converted (transformers layout) `config.json`: its type, its validator, and the per-model facts derived from it
 * (sample rates, hops, n_fft, code rate), which the architecture walk, the graphs and the FLOP counts read instead of
 * XCodec2's constants.
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
import { Xcodec2Error } from "../../common/errors.ts";

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
  /** rate of the decoded audio (transformers' meaning), and of the encoded audio unless `input_sampling_rate` is set */
  sampling_rate: number;
  /** rate of the encoded audio where it differs from `sampling_rate` (transformers' `NeuCodecConfig`) */
  input_sampling_rate?: number;
  /** encoder frames averaged into one code after `fc_encoder` (AvgPool1d(k, k); absent = 1, no pooling) */
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
}

/**
 * The facts of a config (validated or built by the converter). As transformers' `NeuCodecConfig` has it, the
 * decoder hop is the encoder hop carried to the output rate: encoderHop · pooling · sampleRate / inputSampleRate.
 */
export function modelFacts(cfg: Xcodec2Config): ModelFacts {
  const sampleRate = cfg.sampling_rate ?? SAMPLE_RATE;
  const inputSampleRate = cfg.input_sampling_rate ?? sampleRate;
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
  };
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
  // The other members of the family (other output rates, code pooling) are described by the same fields; the graphs
  // and the runtime serve XCodec2's 16 kHz in and out, one code per encoder frame, so far.
  if (o.sampling_rate !== undefined && o.sampling_rate !== SAMPLE_RATE) {
    throw new ConfigError(file, `sampling_rate is ${JSON.stringify(o.sampling_rate)}, XCodec2 runs at ${SAMPLE_RATE}`);
  }
  if (o.input_sampling_rate !== undefined && o.input_sampling_rate !== SAMPLE_RATE) {
    throw new ConfigError(
      file,
      `input_sampling_rate is ${JSON.stringify(o.input_sampling_rate)}, XCodec2 encodes ${SAMPLE_RATE} Hz audio`,
    );
  }
  if (o.code_pooling !== undefined && o.code_pooling !== 1) {
    throw new ConfigError(file, `code_pooling is ${JSON.stringify(o.code_pooling)}; only 1 (no pooling) is supported`);
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
