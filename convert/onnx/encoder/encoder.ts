/**
 * The XCodec2 encoder graph: waveform + w2v-bert features → FSQ codes (and latents).
 *
 *   input_features ─ semantic_encoder (w2v-bert) ─ semantic_adapter ─┐
 *                                                                      concat → fc_encoder → FSQ → codes, latents
 *   input_values ──── acoustic_encoder (CodecEnc) ────────────────────┘
 *
 * Inputs and outputs as `contract.ts` names them: input_values [B,1,T] f32, padding_mask [B,T] i64,
 * input_features [B,F,160] f32, input_features_mask [B,F] i64 → audio_codes [B,1,K] i64, audio_codes_mask [B,1,K] i64,
 * latents [B,Q,K] f32, fsq_input [B,K,D] f32.
 *
 * Per-item lengths (the batch == per-sample contract). An item with n real samples has `padding_mask` summing to
 * n + 1 (the feature extractor appends one zero sample) and, when run alone, is padded to L = 320·⌈(n+1)/320⌉ with
 * zeros that are REAL input of that run: T = L/320 acoustic frames. `input_features_mask` sums to its semantic rows:
 * T with XCodec2's side padding, T − 1 without (NeuCodec, WideCodec). As the originals trim both branches to the
 * shorter one, the item has F = min(rows, T) frames, and K = ⌊F / pooling⌋ codes (AvgPool1d(p, p) after fc_encoder
 * in the pooled 25TPS model; 1 elsewhere). The graph derives these from the masks with int64 arithmetic and hands the
 * lengths to every block that mixes time steps. `audio_codes_mask` has K ones per item (upstream's XCodec2 counts
 * ⌊(n+1)/320⌋, one short unless n+1 is a multiple of 320; its NeuCodec mask counts the encoder frames carried to the
 * output rate, up to 1.5× too many). Codes and latents past K are set to 0.
 *
 * `masks: false` builds the naive batch (upstream without masks): no zeroing, no replicate fix, attention over every
 * frame. It takes the same inputs, and uses the masks only for `audio_codes_mask`.
 */
import type { GraphBuilder } from "../graph.ts";
import type { Weights } from "../weights.ts";
import { FEATURE_DIM, modelFacts, type Xcodec2Config } from "../../architecture/mod.ts";
import { AXIS, ENCODER_INPUTS as IN, ENCODER_OUTPUTS as OUT } from "../contract.ts";
import { lengthMask, linear } from "../layers.ts";
import { ModuleCursor } from "../module.ts";
import { fsqEncode } from "../fsq.ts";
import { semanticEncoder } from "./semantic_encoder.ts";
import { semanticAdapter } from "./semantic_adapter.ts";
import { acousticEncoder } from "./acoustic_encoder.ts";

export interface EncoderOptions {
  /** per-item masking (the per-sample contract); false = upstream's naive batch */
  masks: boolean;
  /**
   * Also output the intermediate tensors the reference files hold as `enc.*` (for tests), all float32:
   * semantic_last_hidden_state [B,K,Hs], semantic_adapter_out [B,Hs,K], acoustic_encoder_out [B,H,K],
   * fc_encoder_out [B,K,H+Hs], fsq_input [B,K,D].
   */
  intermediates?: boolean;
}

/**
 * Names of the optional intermediate outputs (equal to the reference tensors `enc.<name>`); `pooled_out` [B,K,H+Hs]
 * (the AvgPool1d output) only where the config pools codes.
 */
export const ENCODER_INTERMEDIATES = [
  "semantic_last_hidden_state",
  "semantic_adapter_out",
  "acoustic_encoder_out",
  "fc_encoder_out",
  "fsq_input",
] as const;
export const POOLED_INTERMEDIATE = "pooled_out";

export function buildEncoder(g: GraphBuilder, w: Weights, cfg: Xcodec2Config, opts: EncoderOptions): void {
  const root = ModuleCursor.root(g, w, cfg);
  const facts = modelFacts(cfg);
  const hop = facts.encoderHop;
  const pooling = facts.codePooling;
  const hs = cfg.semantic_model_config.hidden_size;
  const { batch: B, samples: T, frames: F, codes: K } = AXIS;
  const inputValues = g.input(IN.values, "float32", [B, 1, T]);
  const paddingMask = g.input(IN.paddingMask, "int64", [B, T]);
  const inputFeatures = g.input(IN.features, "float32", [B, F, FEATURE_DIM]);
  const featuresMask = g.input(IN.featuresMask, "int64", [B, F]);

  // T per item = ⌈Σ padding_mask / hop⌉ acoustic frames (samples L = hop·T); rows = Σ input_features_mask; the
  // branches trimmed to the shorter: F = min(rows, T) frames; K = ⌊F / pooling⌋ codes.
  const { acousticFrames, rows, codeLengths } = g.scope("lengths", () => {
    const acousticFrames = g.op("Div", [g.add(g.reduceSum(paddingMask, [1], false), g.int(hop - 1)), g.int(hop)]);
    const rows = g.reduceSum(featuresMask, [1], false);
    const frames = g.op("Min", [rows, acousticFrames]);
    return { acousticFrames, rows, codeLengths: pooling === 1 ? frames : g.op("Div", [frames, g.int(pooling)]) };
  });
  const sampleLengths = opts.masks ? g.mul(acousticFrames, g.int(hop)) : null;
  const frameLengths = opts.masks ? rows : null;

  // [B, F, Hs], [B, Hs, F], [B, H, T/hop]
  const semantic = semanticEncoder(root.pp("semantic_encoder"), cfg, g.toCompute(inputFeatures), frameLengths);
  const adapted = semanticAdapter(root.pp("semantic_adapter"), g.transpose(semantic, [0, 2, 1]), frameLengths);
  const acoustic = acousticEncoder(root.pp("acoustic_encoder"), cfg, g.toCompute(inputValues), sampleLengths);

  const fcEncoder = root.pp("fc_encoder");
  const fc = fcEncoder.scope(() => {
    // upstream trims both branches to the shorter one (they agree for inputs made by the feature extractor)
    const k = g.op("Min", [g.shape(adapted, 2, 3), g.shape(acoustic, 2, 3)]);
    const trim = (x: string) => g.sliceDyn(x, g.ints([0]), k, [2]);
    const cat = g.concat([trim(adapted), trim(acoustic)], 1); // [B, Hs+H, F]
    return linear(fcEncoder, g.transpose(cat, [0, 2, 1])); // [B, F, Hs+H]
  });
  // the 25TPS model's AvgPool1d(p, p) over frames (floor: a last odd frame is dropped); an item's pooled frames
  // past its K mix its last frame with padding and are masked below like any padding
  const pooled = pooling === 1 ? fc : g.scope("code_pooling", () => {
    const channelsFirst = g.transpose(fc, [0, 2, 1]); // [B, Hs+H, F]
    const avg = g.op("AveragePool", [channelsFirst], { kernel_shape: [pooling], strides: [pooling] });
    return g.transpose(avg, [0, 2, 1]); // [B, K, Hs+H]
  });

  const fsq = fsqEncode(g, w, cfg, pooled);
  const valid = g.scope("code_mask", () => g.unsqueeze(lengthMask(g, codeLengths, fsq.codes, 2), [1])); // [B,1,K]
  g.output(OUT.codes, g.where(valid, fsq.codes, g.int(0)), "int64", [B, 1, K]);
  g.output(OUT.codesMask, g.cast(valid, "int64"), "int64", [B, 1, K]);
  const f32 = (x: string) => (g.dtype === "float32" ? x : g.cast(x, "float32"));
  const latents = g.where(valid, f32(fsq.latents), g.scalarF32(0));
  g.output(OUT.latents, latents, "float32", [B, cfg.quantization_dim, K]);
  // Always exported (8 floats a frame): the FSQ values before rounding let callers find codes that sit within
  // rounding distance of a boundary, the only place two correct implementations may disagree.
  g.output(OUT.fsqInput, fsq.fsqInput, "float32", [B, K, cfg.quantization_levels.length]);

  if (opts.intermediates) {
    const h = cfg.hidden_size;
    g.output("semantic_last_hidden_state", f32(semantic), "float32", [B, F, hs]);
    g.output("semantic_adapter_out", f32(adapted), "float32", [B, hs, F]);
    // acoustic frames and encoder frames (after the trim, before pooling) are their own axes: they differ from the
    // codes' by one (NeuCodec's trim) or a factor (pooling)
    g.output("acoustic_encoder_out", f32(acoustic), "float32", [B, h, "num_acoustic_frames"]);
    g.output("fc_encoder_out", f32(fc), "float32", [B, "num_encoder_frames", hs + h]);
    if (pooling > 1) g.output(POOLED_INTERMEDIATE, f32(pooled), "float32", [B, K, hs + h]);
  }
}
