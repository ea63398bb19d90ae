/**
 * The converted (transformers `Xcodec2Config`) config.json and the `Xcodec2FeatureExtractor` preprocessor_config.json,
 * with the values upstream's converter writes.
 */
import type { Xcodec2Config } from "./architecture/config.ts";
import {
  FBANK_FRAME_LENGTH,
  FBANK_FRAME_SHIFT,
  FBANK_MEL_BINS,
  FEATURE_PADDING_VALUE,
  FEATURE_STRIDE,
  MLP_RATIO,
} from "./architecture/constants.ts";
import type { OriginalArchitecture } from "./original_config.ts";
import { pythonJson } from "./python_json.ts";

/** transformers version whose serialisation we reproduce (the reference conversion ran under it). */
export const TRANSFORMERS_VERSION = "5.12.1";

/** torch dtype names for the `dtype` field. */
export const TORCH_DTYPE_NAME = { F32: "float32", F16: "float16", BF16: "bfloat16", F64: "float64" } as const;

export function buildXcodec2Config(
  arch: OriginalArchitecture,
  dtype: keyof typeof TORCH_DTYPE_NAME = "F32",
): Xcodec2Config {
  const hidden = arch.decoderHiddenDim;
  return {
    activation_dropout: 0.1,
    architectures: ["Xcodec2Model"],
    attention_bias: false,
    attention_dropout: 0.0,
    downsampling_ratios: [...arch.upRatios],
    dtype: TORCH_DTYPE_NAME[dtype],
    encoder_hidden_size: arch.ngf,
    head_dim: hidden / arch.heads,
    hidden_act: "silu",
    hidden_size: hidden,
    initializer_range: 0.02,
    intermediate_size: MLP_RATIO * hidden,
    max_position_embeddings: 4096,
    model_type: "xcodec2",
    num_attention_heads: arch.heads,
    num_hidden_layers: arch.depth,
    num_key_value_heads: arch.heads,
    pad_token_id: null,
    quantization_dim: arch.vqDim,
    quantization_levels: [...arch.fsqLevels],
    rms_norm_eps: 1e-6,
    rope_parameters: { rope_theta: 10000.0, rope_type: "default" },
    sampling_rate: arch.samplingRate,
    semantic_model_config: semanticConfigFor(arch),
    tie_word_embeddings: false,
    transformers_version: TRANSFORMERS_VERSION,
  };
}

/** The stored w2v-bert config cut to the layers the codec uses (`hidden_states[k]` = output of layer k). */
function semanticConfigFor(arch: OriginalArchitecture): Xcodec2Config["semantic_model_config"] {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(arch.semanticModel)) {
    // Hub/tooling bookkeeping that Wav2Vec2BertConfig does not serialise
    if (
      [
        "_name_or_path",
        "architectures",
        "torch_dtype",
        "dtype",
        "transformers_version",
        "return_dict",
        "chunk_size_feed_forward",
        "is_encoder_decoder",
        "id2label",
        "label2id",
        "problem_type",
        "output_attentions",
        "output_hidden_states",
      ].includes(k)
    ) continue;
    out[k] = v;
  }
  out.num_hidden_layers = arch.semanticHiddenStatesIndex;
  out.model_type = "wav2vec2-bert";
  return out as Xcodec2Config["semantic_model_config"];
}

export function buildPreprocessorConfig(arch: OriginalArchitecture): Record<string, unknown> {
  return {
    feature_extractor_type: "Xcodec2FeatureExtractor",
    feature_size: FBANK_MEL_BINS,
    frame_length: FBANK_FRAME_LENGTH,
    frame_shift: FBANK_FRAME_SHIFT,
    hop_length: arch.hopLength,
    num_mel_bins: FBANK_MEL_BINS,
    padding_side: "right",
    padding_value: FEATURE_PADDING_VALUE,
    return_attention_mask: true,
    sampling_rate: arch.samplingRate,
    stride: FEATURE_STRIDE,
  };
}

/** Keys whose values Python holds as floats (so `0.0`, `1e-05` are written as transformers writes them). */
export const FLOAT_KEYS: ReadonlySet<string> = new Set([
  "activation_dropout",
  "attention_dropout",
  "hidden_dropout",
  "feat_proj_dropout",
  "final_dropout",
  "layerdrop",
  "initializer_range",
  "layer_norm_eps",
  "mask_time_prob",
  "mask_feature_prob",
  "conformer_conv_dropout",
  "rms_norm_eps",
  "rope_theta",
  "padding_value",
]);

export function configJsonText(value: object): string {
  return pythonJson(value, FLOAT_KEYS);
}
