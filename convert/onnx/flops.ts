/**
 * Analytic FLOP count of the XCodec2 encoder and decoder, derived from the architecture walk (no graph, no weights),
 * so a benchmark can state achieved GFLOP/s. One multiply-add counts as 2 FLOPs. Counted: every convolution and
 * linear the walk declares (2 FLOPs per weight per step of its module, at the rate the walk gives it), and the walk's
 * weight-free computation: attention's T² terms and relative-position scores for the given sequence length, the
 * anti-aliasing filters as the graphs run them, the ISTFT's inverse DFT. Not counted: element-wise ops, norms,
 * softmax, masks (memory-bound; a few percent of the total).
 */
import { type ComputeOp, expectedConvertedTensors, walkArchitecture, type Xcodec2Config } from "../architecture/mod.ts";

export interface FlopBreakdown {
  [part: string]: number;
}

/** Which part of each graph a converted module counts towards (the quantizer's project_out runs in both graphs). */
const ENCODER_PARTS: readonly [string, string][] = [
  ["semantic_encoder", "semantic_encoder"],
  ["semantic_adapter", "semantic_adapter"],
  ["acoustic_encoder", "acoustic_encoder"],
  ["fc_encoder", "fc_encoder_fsq"],
  ["quantizer", "fc_encoder_fsq"],
];
const DECODER_PARTS: readonly [string, string][] = [
  ["quantizer.project_out", "fsq_fc"],
  ["acoustic_decoder.fc", "fsq_fc"],
  ["acoustic_decoder.embed", "convs"],
  ["acoustic_decoder.prior_net", "convs"],
  ["acoustic_decoder.post_net", "convs"],
  ["acoustic_decoder.layers", "transformer"],
  ["acoustic_decoder.head", "istft_head"],
];

/** FLOPs of one weight-free op over `seconds` of audio. */
function opFlops(op: ComputeOp, seconds: number): number {
  const steps = op.rate * seconds;
  switch (op.kind) {
    case "attention": // q·kᵀ and p·v over as many keys as steps, all heads together; q·Eᵀ for relative positions
      return steps * (2 * 2 * op.width * steps + 2 * op.width * op.relativePositions);
    case "anti_alias": // polyphase upsampler (ratio phases of kernel/ratio + 1 taps per channel), full-filter decimator
      return steps * (2 * op.ratio * op.channels * (op.kernel / op.ratio + 1) + 2 * op.channels * op.kernel);
    case "inverse_dft": // [log-magnitude | phase] (n_fft + 2 values) → n_fft samples, as one MatMul
      return steps * 2 * (op.nFft + 2) * op.nFft;
  }
}

function count(cfg: Xcodec2Config, seconds: number, parts: readonly [string, string][]): FlopBreakdown {
  const out: FlopBreakdown = Object.fromEntries(parts.map(([, part]) => [part, 0]));
  const partOf = (module: string) =>
    parts.find(([prefix]) => module === prefix || module.startsWith(`${prefix}.`))?.[1];
  for (const t of expectedConvertedTensors(cfg)) {
    const part = partOf(t.name);
    if (part === undefined || (t.role !== "conv" && t.role !== "linear")) continue;
    out[part] += 2 * t.shape.reduce((a, b) => a * b, 1) * t.rate * seconds;
  }
  for (const op of walkArchitecture(cfg, { buffers: false }).ops) {
    const part = partOf(op.module);
    if (part !== undefined) out[part] += opFlops(op, seconds);
  }
  return out;
}

/**
 * Encoder FLOPs for `seconds` of audio run alone (sequence length = its own frames). Parts: semantic_encoder,
 * semantic_adapter, acoustic_encoder, fc_encoder_fsq.
 */
export function encoderFlops(cfg: Xcodec2Config, seconds: number): FlopBreakdown {
  return count(cfg, seconds, ENCODER_PARTS);
}

/** Decoder FLOPs for `seconds` of audio (one code per 1/codes-per-second s, attention over all of them). */
export function decoderFlops(cfg: Xcodec2Config, seconds: number): FlopBreakdown {
  return count(cfg, seconds, DECODER_PARTS);
}

export const totalFlops = (b: FlopBreakdown) => Object.values(b).reduce((a, v) => a + v, 0);
