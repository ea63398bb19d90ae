/**
 * Analytic FLOP count of the XCodec2 encoder and decoder, from the converted config alone (no graph, no weights), so
 * a benchmark can state achieved GFLOP/s. One multiply-add counts as 2 FLOPs. Counted: every convolution
 * (2·Cin·Cout·k/groups per output sample at its own rate), every linear, attention with its T² terms for the given
 * sequence length, the ISTFT basis MatMul and the anti-aliasing filters. Not counted: element-wise ops, norms,
 * softmax, masks (memory-bound; a few percent of the total).
 */
import {
  AA_KERNEL,
  AA_RATIO,
  CODES_PER_SECOND,
  ENCODER_DILATIONS,
  FEATURE_DIM,
  N_FFT,
  SAMPLE_RATE,
  type Xcodec2Config,
} from "../architecture.ts";

/** Kernel sizes and fixed widths both implementations hard-code (mirrors the graph builders). */
const RES_UNIT_KERNEL = 7;
const ENCODER_IN_KERNEL = 7;
const ENCODER_OUT_KERNEL = 3;
const ADAPTER_CONVS = 4;
const ADAPTER_KERNEL = 3;
const DECODER_EMBED_KERNEL = 7;
const RESNET_BLOCKS = 4; // prior_net 2 + post_net 2
const RESNET_KERNEL = 3;
/** The anti-aliasing filters as the graphs run them: polyphase upsampler taps per phase; the decimator's full filter. */
const AA_UP_TAPS = AA_KERNEL / AA_RATIO + 1;
const AA_DOWN_TAPS = AA_KERNEL;

/** FLOPs of one 1-D conv producing `outRate` samples per second. */
const conv = (cin: number, cout: number, k: number, outRate: number, groups = 1) =>
  (2 * cin * cout * k / groups) * outRate;
/** FLOPs of one linear applied `rate` times per second. */
const lin = (inp: number, out: number, rate: number) => 2 * inp * out * rate;

export interface FlopBreakdown {
  [part: string]: number;
}

/**
 * Encoder FLOPs for `seconds` of audio run alone (sequence length = its own frames). Parts: semantic_encoder,
 * semantic_adapter, acoustic_encoder, fc_encoder_fsq.
 */
export function encoderFlops(cfg: Xcodec2Config, seconds: number): FlopBreakdown {
  const frames = CODES_PER_SECOND * seconds; // stacked fbank frames = codes
  const sc = cfg.semantic_model_config;
  const hs = sc.hidden_size, inter = sc.intermediate_size;
  const np = sc.left_max_position_embeddings + sc.right_max_position_embeddings + 1;
  const perFrameLayer = 2 * (lin(hs, inter, 1) + lin(inter, hs, 1)) + // ffn1, ffn2
    4 * lin(hs, hs, 1) + // q, k, v, out
    2 * 2 * hs * frames + // q·kᵀ and p·v over T keys (all heads together: T·Hs each)
    2 * hs * np + // q·Eᵀ for relative_key
    lin(hs, 2 * hs, 1) + conv(hs, hs, sc.conv_depthwise_kernel_size, 1, hs) + lin(hs, hs, 1); // conv module
  const semantic = frames * (lin(FEATURE_DIM, hs, 1) + sc.num_hidden_layers * perFrameLayer);
  const adapter = ADAPTER_CONVS * conv(hs, hs, ADAPTER_KERNEL, frames);

  const aa = (c: number, rate: number) =>
    conv(c, AA_RATIO * c, AA_UP_TAPS, rate, c) + conv(c, c, AA_DOWN_TAPS, rate, c);
  let rate = SAMPLE_RATE * seconds, c = cfg.encoder_hidden_size;
  let acoustic = conv(1, c, ENCODER_IN_KERNEL, rate);
  for (const s of cfg.downsampling_ratios) {
    for (const _ of ENCODER_DILATIONS) {
      acoustic += 2 * aa(c, rate) + conv(c, c, RES_UNIT_KERNEL, rate) + conv(c, c, 1, rate);
    }
    acoustic += aa(c, rate);
    rate /= s;
    acoustic += conv(c, 2 * c, 2 * s, rate);
    c *= 2;
  }
  acoustic += aa(c, rate) + conv(c, cfg.hidden_size, ENCODER_OUT_KERNEL, rate);
  const fc = hs + cfg.hidden_size;
  const d = cfg.quantization_levels.length;
  const head = lin(fc, fc, frames) + lin(fc, d, frames) + lin(d, cfg.quantization_dim, frames);
  return { semantic_encoder: semantic, semantic_adapter: adapter, acoustic_encoder: acoustic, fc_encoder_fsq: head };
}

/** Decoder FLOPs for `seconds` of audio (K = 50·seconds codes, attention over K keys). */
export function decoderFlops(cfg: Xcodec2Config, seconds: number): FlopBreakdown {
  const k = CODES_PER_SECOND * seconds;
  const h = cfg.hidden_size, d = cfg.quantization_levels.length;
  const fsq = lin(d, cfg.quantization_dim, k) + lin(cfg.quantization_dim, h, k);
  const convs = conv(h, h, DECODER_EMBED_KERNEL, k) + RESNET_BLOCKS * 2 * conv(h, h, RESNET_KERNEL, k);
  const qkvo = 4 * lin(h, cfg.num_attention_heads * cfg.head_dim, k);
  const attn = 2 * 2 * cfg.num_attention_heads * cfg.head_dim * k * k;
  const mlp = lin(h, cfg.intermediate_size, k) + lin(cfg.intermediate_size, h, k);
  const bins = N_FFT / 2 + 1;
  const head = lin(h, 2 * bins, k) + lin(2 * bins, N_FFT, k);
  return { fsq_fc: fsq, convs, transformer: cfg.num_hidden_layers * (qkvo + attn + mlp), istft_head: head };
}

export const totalFlops = (b: FlopBreakdown) => Object.values(b).reduce((a, v) => a + v, 0);
