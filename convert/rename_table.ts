/**
 * Original → transformers names: ONE ordered table, applied top to bottom, every matching rule rewriting the key in
 * turn (as upstream's `convert_xcodec2_checkpoint.py` does with its STATE_DICT_MAPPING). Facts from upstream's newest
 * converter and modeling code (acoustic_decoder layout); verified key by key against the reference conversion.
 *
 * Before renaming, DROP_RULES decide what is not carried over at all, and why.
 */

export interface RenameRule {
  pattern: RegExp;
  replace: string | ((match: string, ...groups: string[]) => string);
  why: string;
}

export const RENAME_RULES: readonly RenameRule[] = [
  { pattern: /^semantic_model\./, replace: "semantic_encoder.", why: "w2v-bert semantic model" },

  // CodecEnc → acoustic_encoder: first conv, final SnakeBeta + conv, EncoderBlocks renumbered from 0
  { pattern: /^CodecEnc\.conv_blocks\.0\./, replace: "acoustic_encoder.conv1.", why: "input conv" },
  { pattern: /^CodecEnc\.conv_final_block\.0\./, replace: "acoustic_encoder.snake1.", why: "final SnakeBeta" },
  { pattern: /^CodecEnc\.conv_final_block\.1\./, replace: "acoustic_encoder.conv2.", why: "output conv" },
  {
    pattern: /^CodecEnc\.conv_blocks\.(\d+)\./,
    replace: (_m, i) => `acoustic_encoder.block.${Number(i) - 1}.`,
    why: "EncoderBlock i → block i-1",
  },
  // EncoderBlock.block = [ResidualUnit ×3, SnakeBeta, WNConv], then ResidualUnit.block = [SnakeBeta, WNConv k7,
  // SnakeBeta, WNConv k1]. Anchored on the block prefix: an unanchored `.block.N.block.M.` would also match the
  // inner (residual-unit) level of `block.I.block.J.block.K` and rename the wrong level.
  {
    pattern: /^(acoustic_encoder\.block\.\d+)\.block\.([0-2])\./,
    replace: (_m, b, j) => `${b}.res_unit${Number(j) + 1}.`,
    why: "EncoderBlock residual units 1-3",
  },
  { pattern: /^(acoustic_encoder\.block\.\d+)\.block\.3\./, replace: "$1.snake1.", why: "EncoderBlock SnakeBeta" },
  { pattern: /^(acoustic_encoder\.block\.\d+)\.block\.4\./, replace: "$1.conv1.", why: "EncoderBlock strided conv" },
  {
    pattern: /^(acoustic_encoder\.block\.\d+\.res_unit\d)\.block\.0\./,
    replace: "$1.snake1.",
    why: "ResidualUnit SnakeBeta 1",
  },
  {
    pattern: /^(acoustic_encoder\.block\.\d+\.res_unit\d)\.block\.1\./,
    replace: "$1.conv1.",
    why: "ResidualUnit conv 1",
  },
  {
    pattern: /^(acoustic_encoder\.block\.\d+\.res_unit\d)\.block\.2\./,
    replace: "$1.snake2.",
    why: "ResidualUnit SnakeBeta 2",
  },
  {
    pattern: /^(acoustic_encoder\.block\.\d+\.res_unit\d)\.block\.3\./,
    replace: "$1.conv2.",
    why: "ResidualUnit conv 2",
  },

  // ResidualFSQ projections live on the model, not inside the decoder
  { pattern: /^generator\.quantizer\./, replace: "quantizer.", why: "FSQ projections" },

  // generator (VocosBackbone + ISTFTHead) → acoustic_decoder, flattened
  { pattern: /^generator\.backbone\.final_layer_norm\./, replace: "acoustic_decoder.norm.", why: "final LayerNorm" },
  { pattern: /^generator\.backbone\./, replace: "acoustic_decoder.", why: "decoder backbone" },
  { pattern: /^generator\.head\.out\./, replace: "acoustic_decoder.head.linear.", why: "ISTFT head projection" },
  { pattern: /^generator\./, replace: "acoustic_decoder.", why: "decoder" },
  { pattern: /\.transformers\./, replace: ".layers.", why: "transformer blocks" },
  { pattern: /\.att\.c_proj\./, replace: ".self_attn.o_proj.", why: "attention output projection" },
  { pattern: /\.att_norm\./, replace: ".input_layernorm.", why: "pre-attention RMSNorm" },
  { pattern: /\.ffn_norm\./, replace: ".post_attention_layernorm.", why: "pre-MLP RMSNorm" },

  // SemanticEncoder_module → semantic_adapter (ReLUs at residual_blocks.0/.2 have no weights)
  { pattern: /^SemanticEncoder_module\.initial_conv\./, replace: "semantic_adapter.conv1.", why: "adapter conv 1" },
  {
    pattern: /^SemanticEncoder_module\.residual_blocks\.1\./,
    replace: "semantic_adapter.conv2.",
    why: "adapter conv 2",
  },
  {
    pattern: /^SemanticEncoder_module\.residual_blocks\.3\./,
    replace: "semantic_adapter.conv3.",
    why: "adapter conv 3",
  },
  { pattern: /^SemanticEncoder_module\.final_conv\./, replace: "semantic_adapter.conv4.", why: "adapter conv 4" },

  { pattern: /^fc_prior\./, replace: "fc_encoder.", why: "encoder fusion linear" },
  { pattern: /^fc_post_a\./, replace: "acoustic_decoder.fc.", why: "decoder input linear" },
];

export function renameKey(original: string): string {
  let key = original;
  for (const r of RENAME_RULES) {
    if (r.pattern.test(key)) key = key.replace(r.pattern, r.replace as string);
  }
  return key;
}

export interface DropRule {
  pattern: RegExp;
  reason: string;
}

/** Tensors not carried over. Semantic layers past the used hidden state are dropped separately (config-dependent). */
export const DROP_RULES: readonly DropRule[] = [
  { pattern: /^fc_post_s\./, reason: "training-only: semantic reconstruction head (fc_post_s)" },
  {
    pattern: /^SemanticDecoder_module\./,
    reason: "training-only: semantic reconstruction decoder (SemanticDecoder_module)",
  },
  { pattern: /\.upsample\.filter$/, reason: "buffer: anti-aliasing upsampling filter, rebuilt at load" },
  { pattern: /\.downsample\.(lowpass\.)?filter$/, reason: "buffer: anti-aliasing low-pass filter, rebuilt at load" },
  { pattern: /\.istft\.window$/, reason: "buffer: ISTFT Hann window, rebuilt at load" },
  {
    pattern:
      /^generator\.quantizer\.(.*\.)?(_?levels|_?basis|implicit_codebook|codebook|scales|soft_clamp_input_value)$/,
    reason: "buffer: FSQ levels/basis/codebook, rebuilt at load",
  },
];

export function dropReason(original: string): string | undefined {
  return DROP_RULES.find((r) => r.pattern.test(original))?.reason;
}

/** `semantic_model.encoder.layers.<i>.…` → i, else undefined. */
export function semanticLayerIndex(original: string): number | undefined {
  const m = /^semantic_model\.encoder\.layers\.(\d+)\./.exec(original);
  return m ? Number(m[1]) : undefined;
}
