/**
 * The XCodec2 decoder graph: codes → audio.
 *
 *   audio_codes [B, 1, K] int64, audio_codes_mask [B, 1, K] int64  →  audio_values [B, 1, hop·K] float32
 *   (names and axes as `contract.ts` gives them)
 *
 *   FSQ decode (`quantizer.project_out`) → acoustic_decoder.fc → embed (conv k=7) → prior_net (2 ResNet blocks)
 *   → transformer layers → post_net (2 ResNet blocks) → norm (LayerNorm, eps 1e-6) → ISTFT head
 *
 * as upstream's `Xcodec2Model.decode` (newest version, `acoustic_decoder`, non-causal attention) and the original
 * `CodecDecoderVocos` (`fc_post_a` + `VocosBackbone` + `ISTFTHead`).
 *
 * masks: true (default export) — item b has K_b = Σ audio_codes_mask[b] valid codes (a prefix; padding after) and
 *   its audio equals what it gives alone: zeroing before every convolution, GroupNorm statistics over valid frames,
 *   padded attention keys masked, ISTFT frames and window envelope from valid frames only.
 * masks: false (`--no-masks`) — upstream's naive batch: every layer sees the padding. `audio_codes_mask` is still an
 *   input and still zeroes samples past hop·K_b at the very end: the same output contract as the masked graph, so a
 *   parity check sees only the leak inside the valid audio, which is what it is meant to detect.
 * In both graphs samples past hop·K_b are exactly 0.
 */
import type { GraphBuilder } from "../graph.ts";
import type { Weights } from "../weights.ts";
import { HOP_LENGTH, N_FFT, type Xcodec2Config } from "../../architecture.ts";
import { conv1d, layerNorm, lengthMask, linear, zeroPast } from "../layers.ts";
import { fsqDecodeSeq } from "../fsq.ts";
import { resnetBlock } from "./resnet_block.ts";
import { attentionBias, transformerLayer } from "./transformer.ts";
import { istftHead } from "./istft_head.ts";
import { AXIS, DECODER_INPUTS as IN, DECODER_OUTPUTS as OUT } from "../contract.ts";

/** Upstream `Xcodec2Decoder.norm` / original `final_layer_norm`. */
const FINAL_LAYER_NORM_EPS = 1e-6;
/** prior_net and post_net have two blocks each in both implementations. */
const RESNET_BLOCKS = 2;

export interface DecoderOptions {
  masks: boolean;
}

export function buildDecoder(g: GraphBuilder, w: Weights, cfg: Xcodec2Config, opts: DecoderOptions): void {
  const codes = g.input(IN.codes, "int64", [AXIS.batch, 1, AXIS.codes]);
  const codesMask = g.input(IN.codesMask, "int64", [AXIS.batch, 1, AXIS.codes]);
  const codeLengths = g.reduceSum(codesMask, [1, 2], false); // [B]
  const lengths = opts.masks ? codeLengths : null;
  const audio = acousticDecoder(g, w, cfg, fsqDecodeSeq(g, w, cfg, codes), lengths);
  // Zero every sample past hop·K_b (the last frames' overlap tails) in both variants.
  const valid = lengthMask(g, g.mul(codeLengths, g.int(HOP_LENGTH)), audio, 1);
  const out = g.unsqueeze(g.where(valid, audio, g.scalarF32(0)), [1]);
  g.output(OUT.audio, out, "float32", [AXIS.batch, 1, AXIS.samples]);
}

/** latents [B, K, Q] (compute dtype) → audio [B, hop·K] float32. */
export function acousticDecoder(
  g: GraphBuilder,
  w: Weights,
  cfg: Xcodec2Config,
  latents: string,
  lengths: string | null,
): string {
  return g.scope("acoustic_decoder", () => {
    const p = "acoustic_decoder";
    const masked = (x: string) => (lengths === null ? x : zeroPast(g, x, lengths, 2));
    let x = linear(g, w, `${p}.fc`, latents); // [B, K, H]
    x = g.transpose(x, [0, 2, 1]); // [B, H, K]
    x = conv1d(g, w, `${p}.embed`, masked(x), { padding: [3, 3] });
    for (let i = 0; i < RESNET_BLOCKS; i++) x = resnetBlock(g, w, `${p}.prior_net.${i}`, x, lengths);
    x = g.transpose(x, [0, 2, 1]); // [B, K, H]
    const bias = attentionBias(g, lengths, x);
    for (let i = 0; i < cfg.num_hidden_layers; i++) x = transformerLayer(g, w, cfg, `${p}.layers.${i}`, x, bias);
    x = g.transpose(x, [0, 2, 1]); // [B, H, K]
    for (let i = 0; i < RESNET_BLOCKS; i++) x = resnetBlock(g, w, `${p}.post_net.${i}`, x, lengths);
    x = g.transpose(x, [0, 2, 1]); // [B, K, H]
    x = layerNorm(g, w, `${p}.norm`, x, FINAL_LAYER_NORM_EPS);
    return istftHead(g, w, `${p}.head`, x, lengths, N_FFT, HOP_LENGTH);
  });
}
