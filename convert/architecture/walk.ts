/**
 * XCodec2's module tree, declared once and walked from a converted config: every tensor of the original checkpoint
 * with its converted name, shape, role and transform, and the weight-free computation the FLOP count needs. The
 * converter's rename and accounting, the expected-tensor table, the synthetic checkpoint generator, the graph
 * builders' shape checks and the FLOP counts all derive from this walk (views.ts).
 *
 * Original names: the Hub model's code (HKUSTAudio/xcodec2 modeling_xcodec2.py, vq/codec_encoder.py,
 * vq/codec_decoder_vocos.py, vq/module.py, vq/bs_roformer5.py) and facebook/w2v-bert-2.0's Wav2Vec2BertModel.
 * Converted names: transformers' Xcodec2Model, as its convert_xcodec2_checkpoint.py maps them. Each block below reads
 * against the module it mirrors; `m.pp(original, converted)` is where the two namings part.
 *
 * Per-model facts (rates, hops, n_fft, decoder depth, code pooling) come from the config, so the family's members
 * (other output rates, deeper decoders, pooled codes) are other configs, not other trees. A member whose semantic
 * encoder lives in another file walks `w2vBert` from that file's root cursor.
 */
import { modelFacts, type SemanticModelConfig, type Xcodec2Config } from "./config.ts";
import { codebookSize, ENCODER_DILATIONS, RESNET_BLOCKS_PER_STAGE } from "./constants.ts";
import {
  conv,
  type Cursor,
  fusedQkv,
  linear,
  norm,
  type OriginalForm,
  snake,
  Tree,
  type Walk,
  wnConv,
} from "./tree.ts";

export function walkArchitecture(cfg: Xcodec2Config, form: OriginalForm = {}): Walk {
  const f = modelFacts(cfg);
  const s = cfg.semantic_model_config;
  const S = s.hidden_size, H = cfg.hidden_size, Q = cfg.quantization_dim;
  const tree = new Tree(form, s.num_hidden_layers);
  const frames = tree.root(f.framesPerSecond);
  const codes = tree.root(f.codesPerSecond);

  // encoder: semantic branch, acoustic branch, fusion (then AvgPool1d(pooling) when the config pools codes)
  w2vBert(frames.pp("semantic_model", "semantic_encoder"), s, tree.form.semanticLayers);
  semanticAdapter(frames.pp("SemanticEncoder_module", "semantic_adapter"), S);
  acousticEncoder(frames.pp("CodecEnc", "acoustic_encoder").at(f.inputSampleRate), cfg);
  linear(frames.pp("fc_prior", "fc_encoder"), Q, H + S);
  // ResidualFSQ's projections live on the model, not inside the decoder
  quantizer(codes.pp("generator.quantizer", "quantizer"), Q, cfg.quantization_levels);
  // decoder: CodecDecoderVocos = fc_post_a + VocosBackbone + ISTFTHead, flattened into acoustic_decoder
  linear(codes.pp("fc_post_a", "acoustic_decoder.fc"), H, Q);
  vocosBackbone(codes.pp("generator.backbone", "acoustic_decoder"), cfg);
  istftHead(codes.pp("generator.head", "acoustic_decoder.head"), H, f.nFft);

  // training only (lightning_module.py): the semantic reconstruction head and decoder
  linear(frames.pp("fc_post_s").drop("training-only: semantic reconstruction head (fc_post_s)", "training"), S, Q);
  semanticAdapter(
    frames.pp("SemanticDecoder_module").drop(
      "training-only: semantic reconstruction decoder (SemanticDecoder_module)",
      "training",
    ),
    S,
  );
  return tree.walk();
}

/** Wav2Vec2BertModel: feature projection and conformer layers; layers past the used hidden state are dropped. */
function w2vBert(m: Cursor, s: SemanticModelConfig, stored: number): void {
  const S = s.hidden_size, F = s.feature_projection_input_dim;
  const fp = m.pp("feature_projection");
  norm(fp.pp("layer_norm"), F);
  linear(fp.pp("projection"), S, F);
  m.param("masked_spec_embed", [S], "spec_embed");
  const keep = s.num_hidden_layers; // the converted config keeps hidden_states[keep] = output of layer keep − 1
  for (let i = 0; i < stored; i++) {
    const layer = m.pp("encoder.layers").pp(i);
    const why = `semantic layer ${i} ≥ ${keep}: the codec reads hidden_states[${keep}]`;
    conformerLayer(i < keep ? layer : layer.drop(why), s);
  }
}

/** Wav2Vec2BertEncoderLayer: ½FFN, relative_key self-attention, conv module (GLU, causal depthwise), ½FFN, norm. */
function conformerLayer(l: Cursor, s: SemanticModelConfig): void {
  const S = s.hidden_size, I = s.intermediate_size;
  for (const ffn of ["ffn1", "ffn2"]) {
    norm(l.pp(`${ffn}_layer_norm`), S);
    linear(l.pp(ffn).pp("intermediate_dense"), I, S);
    linear(l.pp(ffn).pp("output_dense"), S, I);
  }
  norm(l.pp("self_attn_layer_norm"), S);
  const att = l.pp("self_attn");
  for (const p of ["linear_q", "linear_k", "linear_v", "linear_out"]) linear(att.pp(p), S, S);
  const relative = s.position_embeddings_type === "relative_key";
  const positions = s.left_max_position_embeddings + s.right_max_position_embeddings + 1;
  if (relative) att.pp("distance_embedding").param("weight", [positions, S / s.num_attention_heads], "embedding");
  att.op({ kind: "attention", width: S, relativePositions: relative ? positions : 0 });
  const cm = l.pp("conv_module");
  norm(cm.pp("layer_norm"), S);
  conv(cm.pp("pointwise_conv1"), 2 * S, S, 1, { bias: false });
  conv(cm.pp("depthwise_conv"), S, 1, s.conv_depthwise_kernel_size, { bias: false });
  norm(cm.pp("depthwise_layer_norm"), S);
  conv(cm.pp("pointwise_conv2"), S, S, 1, { bias: false });
  norm(l.pp("final_layer_norm"), S);
}

/**
 * vq/module.py SemanticEncoder(S, S, S) → semantic_adapter: conv k3 (no bias), residual_blocks = [ReLU, conv k3,
 * ReLU, conv k3] (the ReLUs hold no weights), conv k3 (no bias). The training-only SemanticDecoder has the same layout.
 */
function semanticAdapter(m: Cursor, S: number): void {
  conv(m.pp("initial_conv", "conv1"), S, S, 3, { bias: false });
  conv(m.pp("residual_blocks.1", "conv2"), S, S, 3);
  conv(m.pp("residual_blocks.3", "conv3"), S, S, 3);
  conv(m.pp("final_conv", "conv4"), S, S, 3, { bias: false });
}

/**
 * CodecEnc → acoustic_encoder: WNConv(1 → ngf, k7); per stride s an EncoderBlock = [ResidualUnit(d) for each
 * dilation, SnakeBeta, WNConv(c → 2c, k 2s, stride s)], numbered from 0 in the converted layout, each ResidualUnit =
 * [SnakeBeta, WNConv k7 (dilated), SnakeBeta, WNConv k1]; then SnakeBeta and WNConv(→ hidden, k3).
 */
function acousticEncoder(m: Cursor, cfg: Xcodec2Config): void {
  let c = cfg.encoder_hidden_size;
  let rate = m.rate; // samples per second at the current resolution; each block's strided conv divides it
  wnConv(m.pp("conv_blocks.0", "conv1"), c, 1, 7);
  cfg.downsampling_ratios.forEach((stride, i) => {
    const b = m.pp(`conv_blocks.${i + 1}.block`, `block.${i}`).at(rate);
    ENCODER_DILATIONS.forEach((_, j) => {
      const unit = b.pp(`${j}.block`, `res_unit${j + 1}`);
      snake(unit.pp(0, "snake1"), c);
      wnConv(unit.pp(1, "conv1"), c, c, 7);
      snake(unit.pp(2, "snake2"), c);
      wnConv(unit.pp(3, "conv2"), c, c, 1);
    });
    const n = ENCODER_DILATIONS.length;
    snake(b.pp(n, "snake1"), c);
    rate /= stride;
    wnConv(b.pp(n + 1, "conv1").at(rate), 2 * c, c, 2 * stride);
    c *= 2;
  });
  const out = m.at(rate);
  snake(out.pp("conv_final_block.0", "snake1"), c);
  wnConv(out.pp("conv_final_block.1", "conv2"), cfg.hidden_size, c, 3);
}

/**
 * vector-quantize-pytorch's ResidualFSQ with one FSQ: its projections; its level tables and implicit codebook are
 * buffers the library does not save today (some versions did), rebuilt from the levels at load.
 */
function quantizer(m: Cursor, Q: number, levels: readonly number[]): void {
  const L = levels.length;
  linear(m.pp("project_in"), L, Q);
  linear(m.pp("project_out"), Q, L);
  const why = "buffer: FSQ levels/basis/codebook, rebuilt at load";
  m.buffer("scales", [1, L], "fsq_buffer", why, "unsaved_buffer");
  const fsq = m.pp("layers.0");
  fsq.buffer("_levels", [L], "fsq_buffer", why, "unsaved_buffer");
  fsq.buffer("_basis", [L], "fsq_buffer", why, "unsaved_buffer");
  fsq.buffer("implicit_codebook", [codebookSize(levels), L], "fsq_buffer", why, "unsaved_buffer");
}

/** VocosBackbone: embed conv k7, prior_net ResNet blocks, transformer blocks, post_net ResNet blocks, LayerNorm. */
function vocosBackbone(m: Cursor, cfg: Xcodec2Config): void {
  const H = cfg.hidden_size;
  conv(m.pp("embed"), H, H, 7);
  for (let i = 0; i < RESNET_BLOCKS_PER_STAGE; i++) resnetBlock(m.pp("prior_net").pp(i), H);
  for (let i = 0; i < cfg.num_hidden_layers; i++) transformerBlock(m.pp("transformers", "layers").pp(i), cfg);
  for (let i = 0; i < RESNET_BLOCKS_PER_STAGE; i++) resnetBlock(m.pp("post_net").pp(i), H);
  norm(m.pp("final_layer_norm", "norm"), H);
}

/** Vocos ResnetBlock: GroupNorm, conv k3, GroupNorm, conv k3. */
function resnetBlock(m: Cursor, H: number): void {
  norm(m.pp("norm1"), H);
  conv(m.pp("conv1"), H, H, 3);
  norm(m.pp("norm2"), H);
  conv(m.pp("conv2"), H, H, 3);
}

/** bs_roformer5.py TransformerBlock → Llama-style layer: RMSNorm, attention (fused c_attn split), RMSNorm, MLP. */
function transformerBlock(m: Cursor, cfg: Xcodec2Config): void {
  const H = cfg.hidden_size, d = cfg.head_dim;
  const q = cfg.num_attention_heads * d, kv = cfg.num_key_value_heads * d;
  const bias = cfg.attention_bias === true;
  norm(m.pp("att_norm", "input_layernorm"), H, { bias: false });
  const att = m.pp("att", "self_attn");
  fusedQkv(att, "c_attn", ["q_proj", "k_proj", "v_proj"], cfg.num_attention_heads, [q, kv, kv], H, { bias });
  linear(att.pp("c_proj", "o_proj"), H, q, { bias });
  att.op({ kind: "attention", width: q, relativePositions: 0 });
  norm(m.pp("ffn_norm", "post_attention_layernorm"), H, { bias: false });
  linear(m.pp("mlp.fc1"), cfg.intermediate_size, H, { bias: false });
  linear(m.pp("mlp.fc2"), H, cfg.intermediate_size, { bias: false });
}

/** ISTFTHead: linear to [log-magnitude | phase] (n_fft/2 + 1 bins each), inverse DFT with a Hann window buffer. */
function istftHead(m: Cursor, H: number, nFft: number): void {
  linear(m.pp("out", "linear"), nFft + 2, H);
  m.pp("istft").buffer("window", [nFft], "istft_window", "buffer: ISTFT Hann window, rebuilt at load");
  m.op({ kind: "inverse_dft", nFft });
}
