/**
 * The converted checkpoint's tensor table (name → shape), derived from an `Xcodec2Config` by walking the transformers
 * `Xcodec2Model` module tree. The converter requires its output to equal this table exactly.
 */
import { ENCODER_DILATIONS, type Xcodec2Config } from "./architecture.ts";

export interface ExpectedTensor {
  name: string;
  shape: number[];
}

export function expectedConvertedTensors(cfg: Xcodec2Config): ExpectedTensor[] {
  const out: ExpectedTensor[] = [];
  const add = (name: string, shape: number[]) => out.push({ name, shape });
  const conv = (m: string, cout: number, cin: number, k: number, bias = true) => {
    add(`${m}.weight`, [cout, cin, k]);
    if (bias) add(`${m}.bias`, [cout]);
  };
  const linear = (m: string, cout: number, cin: number, bias = true) => {
    add(`${m}.weight`, [cout, cin]);
    if (bias) add(`${m}.bias`, [cout]);
  };
  const norm = (m: string, ch: number, bias = true) => {
    add(`${m}.weight`, [ch]);
    if (bias) add(`${m}.bias`, [ch]);
  };
  const snake = (m: string, ch: number) => {
    add(`${m}.act.alpha`, [ch]);
    add(`${m}.act.beta`, [ch]);
  };

  // acoustic_encoder
  const A = "acoustic_encoder";
  const E = cfg.encoder_hidden_size;
  conv(`${A}.conv1`, E, 1, 7);
  let d = E;
  cfg.downsampling_ratios.forEach((stride, i) => {
    const b = `${A}.block.${i}`;
    const half = d;
    d *= 2;
    ENCODER_DILATIONS.forEach((_, j) => {
      const r = `${b}.res_unit${j + 1}`;
      snake(`${r}.snake1`, half);
      conv(`${r}.conv1`, half, half, 7);
      snake(`${r}.snake2`, half);
      conv(`${r}.conv2`, half, half, 1);
    });
    snake(`${b}.snake1`, half);
    conv(`${b}.conv1`, d, half, 2 * stride);
  });
  snake(`${A}.snake1`, d);
  const H = cfg.hidden_size;
  conv(`${A}.conv2`, H, d, 3);

  // semantic_encoder (Wav2Vec2BertModel, layers cut to num_hidden_layers)
  const s = cfg.semantic_model_config;
  const S = s.hidden_size;
  const W = "semantic_encoder";
  norm(`${W}.feature_projection.layer_norm`, s.feature_projection_input_dim);
  linear(`${W}.feature_projection.projection`, S, s.feature_projection_input_dim);
  add(`${W}.masked_spec_embed`, [S]);
  for (let i = 0; i < s.num_hidden_layers; i++) {
    const l = `${W}.encoder.layers.${i}`;
    for (const f of ["ffn1", "ffn2"]) {
      norm(`${l}.${f}_layer_norm`, S);
      linear(`${l}.${f}.intermediate_dense`, s.intermediate_size, S);
      linear(`${l}.${f}.output_dense`, S, s.intermediate_size);
    }
    norm(`${l}.self_attn_layer_norm`, S);
    for (const p of ["linear_q", "linear_k", "linear_v", "linear_out"]) linear(`${l}.self_attn.${p}`, S, S);
    if (s.position_embeddings_type === "relative_key") {
      add(`${l}.self_attn.distance_embedding.weight`, [
        s.left_max_position_embeddings + s.right_max_position_embeddings + 1,
        S / s.num_attention_heads,
      ]);
    }
    norm(`${l}.conv_module.layer_norm`, S);
    conv(`${l}.conv_module.pointwise_conv1`, 2 * S, S, 1, false);
    conv(`${l}.conv_module.depthwise_conv`, S, 1, s.conv_depthwise_kernel_size, false);
    norm(`${l}.conv_module.depthwise_layer_norm`, S);
    conv(`${l}.conv_module.pointwise_conv2`, S, S, 1, false);
    norm(`${l}.final_layer_norm`, S);
  }

  // semantic_adapter: conv1 (no bias), conv2, conv3, conv4 (no bias)
  conv("semantic_adapter.conv1", S, S, 3, false);
  conv("semantic_adapter.conv2", S, S, 3);
  conv("semantic_adapter.conv3", S, S, 3);
  conv("semantic_adapter.conv4", S, S, 3, false);

  const Q = cfg.quantization_dim;
  linear("fc_encoder", Q, H + S);
  const L = cfg.quantization_levels.length;
  linear("quantizer.project_in", L, Q);
  linear("quantizer.project_out", Q, L);

  // acoustic_decoder
  const D = "acoustic_decoder";
  linear(`${D}.fc`, H, Q);
  conv(`${D}.embed`, H, H, 7);
  const resnet = (m: string) => {
    norm(`${m}.norm1`, H);
    conv(`${m}.conv1`, H, H, 3);
    norm(`${m}.norm2`, H);
    conv(`${m}.conv2`, H, H, 3);
  };
  resnet(`${D}.prior_net.0`);
  resnet(`${D}.prior_net.1`);
  const qDim = cfg.num_attention_heads * cfg.head_dim;
  const kvDim = cfg.num_key_value_heads * cfg.head_dim;
  for (let i = 0; i < cfg.num_hidden_layers; i++) {
    const l = `${D}.layers.${i}`;
    norm(`${l}.input_layernorm`, H, false);
    linear(`${l}.self_attn.q_proj`, qDim, H, cfg.attention_bias === true);
    linear(`${l}.self_attn.k_proj`, kvDim, H, cfg.attention_bias === true);
    linear(`${l}.self_attn.v_proj`, kvDim, H, cfg.attention_bias === true);
    linear(`${l}.self_attn.o_proj`, H, qDim, cfg.attention_bias === true);
    norm(`${l}.post_attention_layernorm`, H, false);
    linear(`${l}.mlp.fc1`, cfg.intermediate_size, H, false);
    linear(`${l}.mlp.fc2`, H, cfg.intermediate_size, false);
  }
  resnet(`${D}.post_net.0`);
  resnet(`${D}.post_net.1`);
  norm(`${D}.norm`, H);
  const nFft = 4 * cfg.downsampling_ratios.reduce((a, b) => a * b, 1);
  linear(`${D}.head.linear`, nFft + 2, H);
  return out;
}
