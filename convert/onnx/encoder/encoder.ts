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
 * zeros that are REAL input of that run; it gives K = L/320 codes, and `input_features_mask` sums to K. The graph
 * derives L and K from the masks with int64 arithmetic and hands the lengths to every block that mixes time steps.
 * `audio_codes_mask` has K ones per item: upstream counts ⌊(n+1)/320⌋, one short of the codes a clip run alone emits
 * unless n+1 is a multiple of 320. Codes and latents past K are set to 0.
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

/** Names of the optional intermediate outputs (equal to the reference tensors `enc.<name>`). */
export const ENCODER_INTERMEDIATES = [
  "semantic_last_hidden_state",
  "semantic_adapter_out",
  "acoustic_encoder_out",
  "fc_encoder_out",
  "fsq_input",
] as const;

export function buildEncoder(g: GraphBuilder, w: Weights, cfg: Xcodec2Config, opts: EncoderOptions): void {
  const root = ModuleCursor.root(g, w, cfg);
  const hop = modelFacts(cfg).encoderHop;
  const hs = cfg.semantic_model_config.hidden_size;
  const { batch: B, samples: T, frames: F, codes: K } = AXIS;
  const inputValues = g.input(IN.values, "float32", [B, 1, T]);
  const paddingMask = g.input(IN.paddingMask, "int64", [B, T]);
  const inputFeatures = g.input(IN.features, "float32", [B, F, FEATURE_DIM]);
  const featuresMask = g.input(IN.featuresMask, "int64", [B, F]);

  // K per item = ⌈Σ padding_mask / hop⌉ (the codes the item gets alone); its samples L = hop·K.
  const codeLengths = g.scope(
    "lengths",
    () => g.op("Div", [g.add(g.reduceSum(paddingMask, [1], false), g.int(hop - 1)), g.int(hop)]),
  );
  const sampleLengths = opts.masks ? g.mul(codeLengths, g.int(hop)) : null;
  const frameLengths = opts.masks ? g.reduceSum(featuresMask, [1], false) : null;

  // [B, F, Hs], [B, Hs, F], [B, H, T/hop]
  const semantic = semanticEncoder(root.pp("semantic_encoder"), cfg, g.toCompute(inputFeatures), frameLengths);
  const adapted = semanticAdapter(root.pp("semantic_adapter"), g.transpose(semantic, [0, 2, 1]), frameLengths);
  const acoustic = acousticEncoder(root.pp("acoustic_encoder"), cfg, g.toCompute(inputValues), sampleLengths);

  const fcEncoder = root.pp("fc_encoder");
  const fc = fcEncoder.scope(() => {
    // upstream trims both branches to the shorter one (they agree for inputs made by the feature extractor)
    const k = g.op("Min", [g.shape(adapted, 2, 3), g.shape(acoustic, 2, 3)]);
    const trim = (x: string) => g.sliceDyn(x, g.ints([0]), k, [2]);
    const cat = g.concat([trim(adapted), trim(acoustic)], 1); // [B, Hs+H, K]
    return linear(fcEncoder, g.transpose(cat, [0, 2, 1])); // [B, K, Hs+H]
  });

  const fsq = fsqEncode(g, w, cfg, fc);
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
    g.output("acoustic_encoder_out", f32(acoustic), "float32", [B, h, K]);
    g.output("fc_encoder_out", f32(fc), "float32", [B, K, hs + h]);
  }
}
