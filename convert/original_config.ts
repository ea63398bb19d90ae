/**
 * The original checkpoint's architecture. The Hub's `config.json` (HKUSTAudio/xcodec2) carries only `model_type` and
 * three sizes; everything else is hard-coded in the original code. Reference/synthetic checkpoints carry those facts
 * for their own sizes in a `reference_architecture` block, which wins when present.
 */
import { readFile } from "node:fs/promises";
import {
  ENCODER_DILATIONS,
  HOP_LENGTH,
  MAX_COUNT,
  MAX_WIDTH,
  N_FFT,
  N_FFT_PER_HOP,
  SAMPLE_RATE,
} from "./architecture/constants.ts";
import type { SemanticModelConfig } from "./architecture/config.ts";
import { ConversionError } from "./errors.ts";

export interface OriginalArchitecture {
  samplingRate: number;
  hopLength: number;
  /** CodecEnc: base width, strides, residual dilations, output width */
  ngf: number;
  upRatios: number[];
  dilations: number[];
  encoderHiddenDim: number;
  /** generator (CodecDecoderVocos): width, transformer depth, heads, rotary dim per head, FSQ input width */
  decoderHiddenDim: number;
  depth: number;
  heads: number;
  posMebDim: number;
  vqDim: number;
  fsqLevels: number[];
  nFft: number;
  /** the w2v-bert config as stored (all of its layers) and the hidden state the codec uses */
  semanticModel: SemanticModelConfig;
  semanticHiddenStatesIndex: number;
}

/**
 * facebook/w2v-bert-2.0 as the original loads it (`Wav2Vec2BertModel.from_pretrained("facebook/w2v-bert-2.0")`),
 * listed field by field in `Wav2Vec2BertConfig`'s serialisation. The architectural values (sizes, 24 layers, relative_key
 * positions 64/8, depthwise kernel 31, swish, eps 1e-5, 160-dim input) are the checkpoint's; the training-only fields
 * (dropouts, spec-augment, CTC, x-vector head) are `Wav2Vec2BertConfig`'s defaults, which nothing at inference reads.
 */
export const W2V_BERT_2_0_CONFIG: Readonly<SemanticModelConfig> = Object.freeze({
  activation_dropout: 0.0,
  adapter_act: "relu",
  adapter_kernel_size: 3,
  adapter_stride: 2,
  add_adapter: false,
  apply_spec_augment: true,
  attention_dropout: 0.0,
  bos_token_id: 1,
  classifier_proj_size: 768,
  conformer_conv_dropout: 0.1,
  conv_depthwise_kernel_size: 31,
  ctc_loss_reduction: "sum",
  ctc_zero_infinity: false,
  eos_token_id: 2,
  feat_proj_dropout: 0.0,
  feature_projection_input_dim: 160,
  final_dropout: 0.1,
  hidden_act: "swish",
  hidden_dropout: 0.0,
  hidden_size: 1024,
  initializer_range: 0.02,
  intermediate_size: 4096,
  layer_norm_eps: 1e-5,
  layerdrop: 0.1,
  left_max_position_embeddings: 64,
  mask_feature_length: 10,
  mask_feature_min_masks: 0,
  mask_feature_prob: 0.0,
  mask_time_length: 10,
  mask_time_min_masks: 2,
  mask_time_prob: 0.05,
  max_source_positions: 5000,
  model_type: "wav2vec2-bert",
  num_adapter_layers: 1,
  num_attention_heads: 16,
  num_hidden_layers: 24,
  output_hidden_size: 1024,
  pad_token_id: 0,
  position_embeddings_type: "relative_key",
  right_max_position_embeddings: 8,
  rotary_embedding_base: 10000,
  tdnn_dilation: [1, 2, 3, 1, 1],
  tdnn_dim: [512, 512, 512, 512, 1500],
  tdnn_kernel: [5, 3, 3, 1, 1],
  use_intermediate_ffn_before_adapter: false,
  use_weighted_layer_sum: false,
  vocab_size: null,
  xvector_output_dim: 512,
});

/** HKUSTAudio/xcodec2's hard-coded facts (vq/codec_encoder.py, vq/codec_decoder_vocos.py, modeling_xcodec2.py). */
export function realModelArchitecture(
  sizes: { semantic?: number; encoder?: number; decoder?: number } = {},
): OriginalArchitecture {
  const semantic = sizes.semantic ?? 1024;
  const decoder = sizes.decoder ?? 1024;
  return {
    samplingRate: SAMPLE_RATE,
    hopLength: HOP_LENGTH,
    ngf: 48,
    upRatios: [2, 2, 4, 4, 5],
    dilations: [...ENCODER_DILATIONS],
    encoderHiddenDim: sizes.encoder ?? 1024,
    decoderHiddenDim: decoder,
    depth: 12,
    heads: 16,
    posMebDim: 64,
    vqDim: 2048,
    fsqLevels: [4, 4, 4, 4, 4, 4, 4, 4],
    nFft: N_FFT,
    semanticModel: { ...W2V_BERT_2_0_CONFIG, hidden_size: semantic, output_hidden_size: semantic },
    semanticHiddenStatesIndex: 16,
  };
}

type Json = Record<string, unknown>;

/** Reads an original config (path or parsed object) into the architecture facts. */
export async function loadOriginalArchitecture(
  config: string | object | undefined,
): Promise<{ arch: OriginalArchitecture; raw: Json; from: string }> {
  if (config === undefined) {
    return { arch: realModelArchitecture(), raw: {}, from: "built-in HKUSTAudio/xcodec2 facts" };
  }
  let raw: Json;
  let file = "config";
  if (typeof config === "string") {
    file = config;
    let text: string;
    try {
      text = await readFile(config, "utf8");
    } catch (e) {
      throw new ConversionError(`cannot read config (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, {
        file,
      });
    }
    try {
      raw = JSON.parse(text) as Json;
    } catch (e) {
      throw new ConversionError(`config is not valid JSON (${(e as Error).message})`, { file });
    }
  } else {
    raw = config as Json;
  }
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) {
    throw new ConversionError("config is not a JSON object", { file });
  }
  return { arch: architectureFromConfig(raw, file), raw, from: file };
}

export function architectureFromConfig(raw: Json, file = "config"): OriginalArchitecture {
  if (raw.model_type !== undefined && raw.model_type !== "xcodec2") {
    throw new ConversionError(
      `model_type is ${JSON.stringify(raw.model_type)}, expected "xcodec2" (an original XCodec2 config)`,
      { file },
    );
  }
  if ("semantic_model_config" in raw || "quantization_levels" in raw) {
    throw new ConversionError("this is an already-converted (transformers layout) config, not an original one", {
      file,
    });
  }
  const num = (v: unknown, what: string): number => {
    if (typeof v !== "number" || !Number.isInteger(v) || v <= 0) {
      throw new ConversionError(`${what} must be a positive integer, got ${JSON.stringify(v)}`, { file });
    }
    return v;
  };
  const list = (v: unknown, what: string): number[] => {
    if (!Array.isArray(v) || v.length === 0) {
      throw new ConversionError(`${what} must be a non-empty list of positive integers`, { file });
    }
    return v.map((x, i) => num(x, `${what}[${i}]`));
  };
  const sizes = {
    semantic: raw.semantic_hidden_size === undefined
      ? undefined
      : num(raw.semantic_hidden_size, "semantic_hidden_size"),
    encoder: raw.codec_encoder_hidden_size === undefined
      ? undefined
      : num(raw.codec_encoder_hidden_size, "codec_encoder_hidden_size"),
    decoder: raw.codec_decoder_hidden_size === undefined
      ? undefined
      : num(raw.codec_decoder_hidden_size, "codec_decoder_hidden_size"),
  };
  const ref = raw.reference_architecture as Json | undefined;
  if (ref === undefined) return realModelArchitecture(sizes);
  if (!ref || typeof ref !== "object") throw new ConversionError("reference_architecture is not an object", { file });
  const enc = (ref.codec_encoder ?? {}) as Json;
  const dec = (ref.codec_decoder ?? {}) as Json;
  const sem = ref.semantic_model as Json | undefined;
  if (!sem || typeof sem !== "object") {
    throw new ConversionError("reference_architecture.semantic_model is missing", { file });
  }
  const arch: OriginalArchitecture = {
    samplingRate: num(ref.sampling_rate ?? SAMPLE_RATE, "reference_architecture.sampling_rate"),
    hopLength: num(ref.hop_length ?? HOP_LENGTH, "reference_architecture.hop_length"),
    ngf: num(enc.ngf, "codec_encoder.ngf"),
    upRatios: list(enc.up_ratios, "codec_encoder.up_ratios"),
    dilations: list(enc.dilations, "codec_encoder.dilations"),
    encoderHiddenDim: num(enc.hidden_dim, "codec_encoder.hidden_dim"),
    decoderHiddenDim: num(dec.hidden_dim, "codec_decoder.hidden_dim"),
    depth: num(dec.depth, "codec_decoder.depth"),
    heads: num(dec.heads, "codec_decoder.heads"),
    posMebDim: num(dec.pos_meb_dim, "codec_decoder.pos_meb_dim"),
    vqDim: num(dec.vq_dim, "codec_decoder.vq_dim"),
    fsqLevels: list(dec.fsq_levels, "codec_decoder.fsq_levels"),
    nFft: num(dec.n_fft, "codec_decoder.n_fft"),
    semanticModel: sem as SemanticModelConfig,
    semanticHiddenStatesIndex: num(ref.semantic_hidden_states_index, "semantic_hidden_states_index"),
  };
  // the four Hub sizes, when given, must agree with the block
  const agree = (a: number | undefined, b: number, what: string) => {
    if (a !== undefined && a !== b) {
      throw new ConversionError(`${what} is ${a} but reference_architecture says ${b}`, { file });
    }
  };
  agree(sizes.semantic, arch.semanticModel.hidden_size, "semantic_hidden_size");
  agree(sizes.encoder, arch.encoderHiddenDim, "codec_encoder_hidden_size");
  agree(sizes.decoder, arch.decoderHiddenDim, "codec_decoder_hidden_size");
  return arch;
}

/** Internal consistency of the facts, before any tensor is looked at. */
export function checkArchitecture(arch: OriginalArchitecture, file: string): void {
  const fail = (msg: string) => {
    throw new ConversionError(msg, { file });
  };
  const s = arch.semanticModel;
  for (
    const k of [
      "hidden_size",
      "num_hidden_layers",
      "num_attention_heads",
      "intermediate_size",
      "feature_projection_input_dim",
    ] as const
  ) {
    if (!Number.isInteger(s[k]) || (s[k] as number) <= 0) fail(`semantic_model.${k} must be a positive integer`);
  }
  // Bounds before anything allocates per layer or per channel (a hostile config must not exhaust memory).
  const bounded: [string, unknown, number][] = [
    ["semantic_model.num_hidden_layers", s.num_hidden_layers, MAX_COUNT],
    ["semantic_model.num_attention_heads", s.num_attention_heads, MAX_COUNT],
    ["semantic_model.hidden_size", s.hidden_size, MAX_WIDTH],
    ["semantic_model.intermediate_size", s.intermediate_size, MAX_WIDTH],
    ["codec_decoder.depth", arch.depth, MAX_COUNT],
    ["codec_decoder.heads", arch.heads, MAX_COUNT],
    ["codec_decoder.hidden_dim", arch.decoderHiddenDim, MAX_WIDTH],
    ["codec_encoder.hidden_dim", arch.encoderHiddenDim, MAX_WIDTH],
    ["codec_decoder.vq_dim", arch.vqDim, MAX_WIDTH],
    ["up_ratios (count)", arch.upRatios.length, 64],
  ];
  for (const [name, v, max] of bounded) {
    if (typeof v !== "number" || !Number.isInteger(v) || v < 1 || v > max) {
      fail(`${name} must be an integer in [1, ${max}], got ${JSON.stringify(v)}`);
    }
  }
  if (arch.semanticHiddenStatesIndex > s.num_hidden_layers) {
    fail(
      `semantic_hidden_states_index ${arch.semanticHiddenStatesIndex} exceeds the semantic model's ${s.num_hidden_layers} layers`,
    );
  }
  if (arch.encoderHiddenDim !== arch.decoderHiddenDim) {
    fail(
      `codec encoder width ${arch.encoderHiddenDim} differs from decoder width ${arch.decoderHiddenDim}; the transformers layout has one hidden_size`,
    );
  }
  if (arch.vqDim !== arch.encoderHiddenDim + s.hidden_size) {
    fail(
      `vq_dim ${arch.vqDim} must equal codec hidden ${arch.encoderHiddenDim} + semantic hidden ${s.hidden_size} (fc_prior's input is their concatenation)`,
    );
  }
  if (arch.decoderHiddenDim % arch.heads !== 0) {
    fail(`hidden ${arch.decoderHiddenDim} is not divisible by ${arch.heads} heads`);
  }
  if (arch.posMebDim !== arch.decoderHiddenDim / arch.heads) {
    fail(`pos_meb_dim ${arch.posMebDim} must equal hidden / heads = ${arch.decoderHiddenDim / arch.heads}`);
  }
  if ((arch.decoderHiddenDim / arch.heads) % 2 !== 0) {
    fail(`head dim ${arch.decoderHiddenDim / arch.heads} must be even for RoPE`);
  }
  if (s.hidden_size % s.num_attention_heads !== 0) {
    fail(`semantic hidden ${s.hidden_size} is not divisible by ${s.num_attention_heads} heads`);
  }
  if (arch.dilations.join() !== ENCODER_DILATIONS.join()) {
    fail(`dilations [${arch.dilations}] differ from [${ENCODER_DILATIONS}], which the transformers layout hard-codes`);
  }
  const hop = arch.upRatios.reduce((a, b) => a * b, 1);
  if (hop !== arch.hopLength) fail(`up_ratios multiply to ${hop}, not hop_length ${arch.hopLength}`);
  if (arch.nFft !== N_FFT_PER_HOP * arch.hopLength) {
    fail(`n_fft ${arch.nFft} must be ${N_FFT_PER_HOP} × hop_length (${N_FFT_PER_HOP * arch.hopLength})`);
  }
}
