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
import { modelFacts, RESNET_BLOCKS_PER_STAGE, type Xcodec2Config } from "../../architecture/mod.ts";
import { conv1d, layerNorm, lengthMask, linear, samePadding, zeroPast } from "../layers.ts";
import { fsqDecodeSeq } from "../fsq.ts";
import { ModuleCursor } from "../module.ts";
import { resnetBlock } from "./resnet_block.ts";
import { attentionBias, transformerLayer } from "./transformer.ts";
import { istftHead } from "./istft_head.ts";
import { AXIS, DECODER_INPUTS as IN, DECODER_OUTPUTS as OUT } from "../contract.ts";

/** Upstream `Xcodec2Decoder.norm` / original `final_layer_norm`. */
const FINAL_LAYER_NORM_EPS = 1e-6;

export interface DecoderOptions {
  masks: boolean;
}

export function buildDecoder(g: GraphBuilder, w: Weights, cfg: Xcodec2Config, opts: DecoderOptions): void {
  const root = ModuleCursor.root(g, w, cfg);
  const hop = modelFacts(cfg).decoderHop;
  const codes = g.input(IN.codes, "int64", [AXIS.batch, 1, AXIS.codes]);
  const codesMask = g.input(IN.codesMask, "int64", [AXIS.batch, 1, AXIS.codes]);
  const codeLengths = g.reduceSum(codesMask, [1, 2], false); // [B]
  const lengths = opts.masks ? codeLengths : null;
  const audio = acousticDecoder(root.pp("acoustic_decoder"), cfg, fsqDecodeSeq(g, w, cfg, codes), lengths);
  // Zero every sample past hop·K_b (the last frames' overlap tails) in both variants.
  const valid = lengthMask(g, g.mul(codeLengths, g.int(hop)), audio, 1);
  const out = g.unsqueeze(g.where(valid, audio, g.scalarF32(0)), [1]);
  g.output(OUT.audio, out, "float32", [AXIS.batch, 1, AXIS.samples]);
}

/** `m` = acoustic_decoder: latents [B, K, Q] (compute dtype) → audio [B, hop·K] float32. */
export function acousticDecoder(m: ModuleCursor, cfg: Xcodec2Config, latents: string, lengths: string | null): string {
  const g = m.g;
  const f = modelFacts(cfg);
  return m.scope(() => {
    const masked = (x: string) => (lengths === null ? x : zeroPast(g, x, lengths, 2));
    let x = linear(m.pp("fc"), latents); // [B, K, H]
    x = g.transpose(x, [0, 2, 1]); // [B, H, K]
    x = conv1d(m.pp("embed"), masked(x), { padding: samePadding(m.pp("embed")) });
    for (let i = 0; i < RESNET_BLOCKS_PER_STAGE; i++) x = resnetBlock(m.pp("prior_net").pp(i), x, lengths);
    x = g.transpose(x, [0, 2, 1]); // [B, K, H]
    const bias = attentionBias(g, lengths, x);
    for (let i = 0; i < cfg.num_hidden_layers; i++) x = transformerLayer(m.pp("layers").pp(i), cfg, x, bias);
    x = g.transpose(x, [0, 2, 1]); // [B, H, K]
    for (let i = 0; i < RESNET_BLOCKS_PER_STAGE; i++) x = resnetBlock(m.pp("post_net").pp(i), x, lengths);
    x = g.transpose(x, [0, 2, 1]); // [B, K, H]
    x = layerNorm(m.pp("norm"), x, FINAL_LAYER_NORM_EPS);
    return istftHead(m.pp("head"), x, lengths, f.nFft, f.decoderHop);
  });
}
