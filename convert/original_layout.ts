/**
 * The original checkpoint's tensors, derived from its architecture by walking the module tree of the original code
 * (CodecEncoder, CodecDecoderVocos, SemanticEncoder, Wav2Vec2BertModel under the Hub model's attribute names). Used by
 * the fixture generator to write synthetic checkpoints and by the converter to name the source of a missing tensor.
 */
import type { OriginalArchitecture } from "./original_config.ts";

/** What a tensor is, so a generator can give it plausible values. */
export type TensorRole =
  | "conv"
  | "linear"
  | "bias"
  | "wn_g"
  | "wn_v"
  | "snake"
  | "norm_weight"
  | "norm_bias"
  | "embedding"
  | "lowpass_filter"
  | "istft_window"
  | "spec_embed";

export interface OriginalTensor {
  name: string;
  shape: number[];
  role: TensorRole;
  /** for wn_g / wn_v / stale plain weights: the weight-normed module */
  module?: string;
  /** buffers (not parameters) */
  buffer?: boolean;
  trainingOnly?: boolean;
}

export interface OriginalLayoutOptions {
  /** how weight norm is stored: `weight_g`/`weight_v` (torch.nn.utils.weight_norm) or parametrizations */
  style?: "legacy" | "parametrizations";
  /** include fc_post_s and SemanticDecoder_module (present in training checkpoints) */
  trainingKeys?: boolean;
  /** semantic-model layers stored (default: the config's num_hidden_layers) */
  semanticLayers?: number;
  /** add a stale plain `.weight` beside each weight-normed conv's g/v */
  staleWeights?: boolean;
  /** include the resampling filters and ISTFT window (they are persistent buffers in the original; default true) */
  buffers?: boolean;
}

/** Kernel of the anti-aliasing filters in Activation1d (up/down ratio 2 → kernel int(6·2/2)·2 = 12). */
const ALIAS_FILTER_KERNEL = 12;

export function originalTensors(arch: OriginalArchitecture, opts: OriginalLayoutOptions = {}): OriginalTensor[] {
  const style = opts.style ?? "legacy";
  const withBuffers = opts.buffers ?? true;
  const out: OriginalTensor[] = [];
  const add = (name: string, shape: number[], role: TensorRole, extra: Partial<OriginalTensor> = {}) =>
    out.push({ name, shape, role, ...extra });

  const wnConv = (m: string, cout: number, cin: number, k: number) => {
    add(`${m}.bias`, [cout], "bias");
    if (opts.staleWeights) add(`${m}.weight`, [cout, cin, k], "conv", { module: m });
    if (style === "legacy") {
      add(`${m}.weight_g`, [cout, 1, 1], "wn_g", { module: m });
      add(`${m}.weight_v`, [cout, cin, k], "wn_v", { module: m });
    } else {
      add(`${m}.parametrizations.weight.original0`, [cout, 1, 1], "wn_g", { module: m });
      add(`${m}.parametrizations.weight.original1`, [cout, cin, k], "wn_v", { module: m });
    }
  };
  const snake = (m: string, ch: number) => {
    add(`${m}.act.alpha`, [ch], "snake");
    add(`${m}.act.beta`, [ch], "snake");
    if (withBuffers) {
      add(`${m}.upsample.filter`, [1, 1, ALIAS_FILTER_KERNEL], "lowpass_filter", { buffer: true });
      add(`${m}.downsample.lowpass.filter`, [1, 1, ALIAS_FILTER_KERNEL], "lowpass_filter", { buffer: true });
    }
  };
  const conv = (m: string, cout: number, cin: number, k: number, bias = true) => {
    add(`${m}.weight`, [cout, cin, k], "conv");
    if (bias) add(`${m}.bias`, [cout], "bias");
  };
  const linear = (m: string, cout: number, cin: number, bias = true) => {
    add(`${m}.weight`, [cout, cin], "linear");
    if (bias) add(`${m}.bias`, [cout], "bias");
  };
  const norm = (m: string, ch: number, bias = true) => {
    add(`${m}.weight`, [ch], "norm_weight");
    if (bias) add(`${m}.bias`, [ch], "norm_bias");
  };

  // CodecEnc (vq/codec_encoder.py): WNConv(1→ngf, 7); EncoderBlock per stride; SnakeBeta + WNConv(→hidden, 3)
  const E = "CodecEnc";
  wnConv(`${E}.conv_blocks.0`, arch.ngf, 1, 7);
  let d = arch.ngf;
  arch.upRatios.forEach((stride, i) => {
    const b = `${E}.conv_blocks.${i + 1}.block`;
    const half = d;
    d *= 2;
    arch.dilations.forEach((_, j) => {
      snake(`${b}.${j}.block.0`, half);
      wnConv(`${b}.${j}.block.1`, half, half, 7);
      snake(`${b}.${j}.block.2`, half);
      wnConv(`${b}.${j}.block.3`, half, half, 1);
    });
    snake(`${b}.${arch.dilations.length}`, half);
    wnConv(`${b}.${arch.dilations.length + 1}`, d, half, 2 * stride);
  });
  snake(`${E}.conv_final_block.0`, d);
  wnConv(`${E}.conv_final_block.1`, arch.encoderHiddenDim, d, 3);

  // generator (vq/codec_decoder_vocos.py): VocosBackbone + ISTFTHead, ResidualFSQ quantizer
  const H = arch.decoderHiddenDim;
  const G = "generator";
  conv(`${G}.backbone.embed`, H, H, 7);
  const resnet = (m: string) => {
    norm(`${m}.norm1`, H);
    conv(`${m}.conv1`, H, H, 3);
    norm(`${m}.norm2`, H);
    conv(`${m}.conv2`, H, H, 3);
  };
  resnet(`${G}.backbone.prior_net.0`);
  resnet(`${G}.backbone.prior_net.1`);
  for (let i = 0; i < arch.depth; i++) {
    const t = `${G}.backbone.transformers.${i}`;
    norm(`${t}.att_norm`, H, false);
    linear(`${t}.att.c_attn`, 3 * H, H, false);
    linear(`${t}.att.c_proj`, H, H, false);
    norm(`${t}.ffn_norm`, H, false);
    linear(`${t}.mlp.fc1`, 4 * H, H, false);
    linear(`${t}.mlp.fc2`, H, 4 * H, false);
  }
  resnet(`${G}.backbone.post_net.0`);
  resnet(`${G}.backbone.post_net.1`);
  norm(`${G}.backbone.final_layer_norm`, H);
  linear(`${G}.head.out`, arch.nFft + 2, H);
  if (withBuffers) add(`${G}.head.istft.window`, [arch.nFft], "istft_window", { buffer: true });
  const L = arch.fsqLevels.length;
  linear(`${G}.quantizer.project_in`, L, arch.vqDim);
  linear(`${G}.quantizer.project_out`, arch.vqDim, L);

  // semantic_model: Wav2Vec2BertModel (all stored layers)
  const s = arch.semanticModel;
  const S = s.hidden_size;
  const F = s.feature_projection_input_dim;
  const I = s.intermediate_size;
  const headDim = S / s.num_attention_heads;
  const W = "semantic_model";
  norm(`${W}.feature_projection.layer_norm`, F);
  linear(`${W}.feature_projection.projection`, S, F);
  add(`${W}.masked_spec_embed`, [S], "spec_embed");
  const layers = opts.semanticLayers ?? s.num_hidden_layers;
  for (let i = 0; i < layers; i++) {
    const l = `${W}.encoder.layers.${i}`;
    norm(`${l}.ffn1_layer_norm`, S);
    linear(`${l}.ffn1.intermediate_dense`, I, S);
    linear(`${l}.ffn1.output_dense`, S, I);
    norm(`${l}.self_attn_layer_norm`, S);
    for (const p of ["linear_q", "linear_k", "linear_v", "linear_out"]) linear(`${l}.self_attn.${p}`, S, S);
    add(`${l}.self_attn.distance_embedding.weight`, [
      s.left_max_position_embeddings + s.right_max_position_embeddings + 1,
      headDim,
    ], "embedding");
    norm(`${l}.conv_module.layer_norm`, S);
    conv(`${l}.conv_module.pointwise_conv1`, 2 * S, S, 1, false);
    add(`${l}.conv_module.depthwise_conv.weight`, [S, 1, s.conv_depthwise_kernel_size], "conv");
    norm(`${l}.conv_module.depthwise_layer_norm`, S);
    conv(`${l}.conv_module.pointwise_conv2`, S, S, 1, false);
    norm(`${l}.ffn2_layer_norm`, S);
    linear(`${l}.ffn2.intermediate_dense`, I, S);
    linear(`${l}.ffn2.output_dense`, S, I);
    norm(`${l}.final_layer_norm`, S);
  }

  // SemanticEncoder_module (vq/module.py SemanticEncoder(S, S, S)): conv, [ReLU, conv, ReLU, conv], conv
  conv(`SemanticEncoder_module.initial_conv`, S, S, 3, false);
  conv(`SemanticEncoder_module.residual_blocks.1`, S, S, 3);
  conv(`SemanticEncoder_module.residual_blocks.3`, S, S, 3);
  conv(`SemanticEncoder_module.final_conv`, S, S, 3, false);

  linear("fc_prior", arch.vqDim, arch.vqDim);
  linear("fc_post_a", H, arch.vqDim);

  if (opts.trainingKeys) {
    // lightning_module.py: fc_post_s = Linear(vq_dim, 1024) and SemanticDecoder(1024, 1024, 1024), 1024 = semantic width
    const first = out.length;
    linear("fc_post_s", S, arch.vqDim);
    conv(`SemanticDecoder_module.initial_conv`, S, S, 3, false);
    conv(`SemanticDecoder_module.residual_blocks.1`, S, S, 3);
    conv(`SemanticDecoder_module.residual_blocks.3`, S, S, 3);
    conv(`SemanticDecoder_module.final_conv`, S, S, 3, false);
    for (let i = first; i < out.length; i++) out[i]!.trainingOnly = true;
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
