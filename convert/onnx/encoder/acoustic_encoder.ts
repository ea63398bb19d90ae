/**
 * The acoustic branch (original `CodecEnc`, upstream `Xcodec2Encoder`): a BigVGAN-style strided conv encoder.
 *
 *   conv1 (k7) → per stride s: [ResUnit(d=1), ResUnit(d=3), ResUnit(d=9), Act, Conv(k=2s, stride s, pad ⌈s/2⌉)]
 *   → Act → conv2 (k3)
 *   ResUnit(x) = x + conv2_k1(Act(conv1_k7_dil(Act(x))))
 *
 * `Act` is the anti-aliased SnakeBeta (`Activation1d`): upsample ×2 (replicate pad 5, transposed conv with the
 * Kaiser-sinc filter ×2, crop 15 each side; built here in an equivalent polyphase form, see `upsampleFilter`),
 * SnakeBeta x + sin²(x·e^α)/(e^β + 1e-9) (α, β stored as logs), then lowpass + decimate ×2 (replicate pad 5 left /
 * 6 right, conv stride 2).
 *
 * Per-item exactness with `lengths` (valid samples per item at the current resolution, int64 [B]):
 * - every conv that mixes time steps reads zeros at and past the item's length (its own zero padding when alone);
 *   strided convs carry the lengths to the next resolution (`convLengths`);
 * - each replicate padding must replicate the ITEM's last sample. Before the upsampler, positions ≥ len are replaced
 *   by x[len−1]; after SnakeBeta (before the downsampler's own replicate padding), positions ≥ 2·len are replaced by
 *   the value at 2·len−1. The second fix is needed because the upsampled tail of a constant extension is not the
 *   replicate of the item's last upsampled sample, and the downsampler reads up to 6 positions past 2·len.
 */
import type { GraphBuilder } from "../graph.ts";
import type { Weights } from "../weights.ts";
import type { Xcodec2Config } from "../../architecture.ts";
import { ENCODER_DILATIONS } from "../../architecture.ts";
import { conv1d, convLengths, lengthMask, zeroPast } from "../layers.ts";
import { kaiserSincFilter } from "./kaiser_filter.ts";

const P = "acoustic_encoder";

/** Activation1d constants (hard-coded upstream: ratio 2, 12-tap filters, cutoff 0.5/ratio, half width 0.6/ratio). */
const AA_RATIO = 2;
const AA_KERNEL = 12;
/** Polyphase upsampler (see `upsampleFilter`): taps per phase and the replicate padding each side. */
const UP_TAPS = AA_KERNEL / AA_RATIO + 1;
const UP_EDGE = AA_KERNEL / AA_RATIO / 2;
const DOWN_PAD_LEFT = AA_KERNEL / 2 - (AA_KERNEL % 2 === 0 ? 1 : 0);
const DOWN_PAD_RIGHT = Math.floor(AA_KERNEL / 2);
/** SnakeBeta's guard against division by zero. */
const SNAKE_EPS = 1e-9;

/**
 * audio [B, 1, T] (compute dtype) → [B, hidden_size, T/320].
 * `lengths`: valid samples per item (int64 [B], multiples of 320 for exact per-item results) or null (unmasked).
 */
export function acousticEncoder(g: GraphBuilder, w: Weights, cfg: Xcodec2Config, audio: string, lengths: string | null): string {
  return g.scope("acoustic_encoder", () => {
    const zero = (x: string, len: string | null) => (len ? zeroPast(g, x, len, 2) : x);
    let len = lengths;
    let x = conv1d(g, w, `${P}.conv1`, zero(audio, len), { padding: same(w, `${P}.conv1`, 1) });
    cfg.downsampling_ratios.forEach((s, i) => {
      g.scope(`block${i}`, () => {
        const p = `${P}.block.${i}`;
        ENCODER_DILATIONS.forEach((d, j) => { x = residualUnit(g, w, `${p}.res_unit${j + 1}`, x, len, d); });
        x = activation1d(g, w, `${p}.snake1`, x, len);
        const [, , k] = w.shape(`${p}.conv1.weight`);
        const pad = Math.ceil(s / 2);
        x = conv1d(g, w, `${p}.conv1`, zero(x, len), { stride: s, padding: [pad, pad] });
        if (len) len = convLengths(g, len, k, s, pad, pad);
      });
    });
    x = activation1d(g, w, `${P}.snake1`, x, len);
    return conv1d(g, w, `${P}.conv2`, zero(x, len), { padding: same(w, `${P}.conv2`, 1) });
  });
}

/** "same" padding of an odd-kernel stride-1 conv. */
function same(w: Weights, prefix: string, dilation: number): [number, number] {
  const [, , k] = w.shape(`${prefix}.weight`);
  const p = ((k - 1) * dilation) >> 1;
  return [p, p];
}

function residualUnit(g: GraphBuilder, w: Weights, p: string, x: string, len: string | null, dilation: number): string {
  return g.scope(p.slice(p.lastIndexOf(".") + 1), () => {
    let y = activation1d(g, w, `${p}.snake1`, x, len);
    y = conv1d(g, w, `${p}.conv1`, len ? zeroPast(g, y, len, 2) : y, { dilation, padding: same(w, `${p}.conv1`, dilation) });
    y = activation1d(g, w, `${p}.snake2`, y, len);
    y = conv1d(g, w, `${p}.conv2`, y); // k = 1: no time mixing, no zeroing needed
    return g.add(x, y);
  });
}

/** Replace every position ≥ len (per item) of x [B, C, T] by x[:, :, len − 1]. */
export function replicateTail(g: GraphBuilder, x: string, len: string): string {
  const last = g.op("Max", [g.sub(len, g.int(1)), g.int(0)]);
  const idxShape = g.concat([g.shape(x, 0, 2), g.ints([1])], 0); // [B, C, 1]
  const idx = g.op("Expand", [g.reshape(last, [-1, 1, 1]), idxShape]);
  const tail = g.op("GatherElements", [x, idx], { axis: 2 }); // [B, C, 1]
  return g.where(g.unsqueeze(lengthMask(g, len, x, 2), [1]), x, tail);
}

/** The lowpass filter as a depthwise weight [C, 1, K], one initializer per C. */
function downsampleFilter(g: GraphBuilder, channels: number): string {
  const name = `aa_filter_down_${channels}`;
  if (g.inits.has(name)) return name;
  const f = kaiserSincFilter(0.5 / AA_RATIO, 0.6 / AA_RATIO, AA_KERNEL);
  const data = new Float32Array(channels * AA_KERNEL);
  for (let c = 0; c < channels; c++) data.set(f, c * AA_KERNEL);
  return g.weight(name, data, [channels, 1, AA_KERNEL]);
}

/**
 * The ×2 upsampler in polyphase form, as one grouped Conv with two outputs per channel: weight [2C, 1, K/2 + 1].
 *
 * Upstream: u = crop₁₅(ConvTranspose_stride2(edgepad₅(x), f)) · 2. Working the indices through, with
 * x₃ = edgepad₃(x): u[2m] = 2·Σ_{j<6} f[2j+1]·x₃[m+5−j] and u[2m+1] = 2·Σ_{j<6} f[2j]·x₃[m+6−j], i.e. two 7-tap
 * correlations over x₃ (the even phase with a trailing zero tap, the odd phase with a leading one), then interleaved.
 * Same products as the transposed conv, summed in another order; onnxruntime runs this ~4× faster than its grouped
 * ConvTranspose. (×2 folded into the taps is exact in binary floating point.)
 */
function upsampleFilter(g: GraphBuilder, channels: number): string {
  const name = `aa_filter_up_${channels}`;
  if (g.inits.has(name)) return name;
  const f = kaiserSincFilter(0.5 / AA_RATIO, 0.6 / AA_RATIO, AA_KERNEL);
  const taps = UP_TAPS, half = AA_KERNEL / AA_RATIO;
  const data = new Float32Array(2 * channels * taps);
  for (let c = 0; c < channels; c++) {
    const even = data.subarray(2 * c * taps, (2 * c + 1) * taps), odd = data.subarray((2 * c + 1) * taps, (2 * c + 2) * taps);
    for (let t = 0; t < half; t++) {
      even[t] = AA_RATIO * f[2 * (half - 1 - t) + 1];
      odd[t + 1] = AA_RATIO * f[2 * (half - 1 - t)];
    }
  }
  return g.weight(name, data, [2 * channels, 1, taps]);
}

/** SnakeBeta parameters as [C, 1] weights: e^α and 1/(e^β + 1e-9), rounded as torch computes them in fp32. */
function snakeParams(g: GraphBuilder, w: Weights, p: string): { alpha: string; invBeta: string; channels: number } {
  const la = w.f32(`${p}.act.alpha`), lb = w.f32(`${p}.act.beta`, [la.length]);
  const f = Math.fround;
  const alpha = Float32Array.from(la, (v) => f(Math.exp(v)));
  const invBeta = Float32Array.from(lb, (v) => f(1 / f(f(Math.exp(v)) + SNAKE_EPS)));
  const c = la.length;
  return { alpha: g.weight(`${p}.act.alpha`, alpha, [c, 1]), invBeta: g.weight(`${p}.act.beta`, invBeta, [c, 1]), channels: c };
}

function activation1d(g: GraphBuilder, w: Weights, p: string, x: string, len: string | null): string {
  return g.scope(p.slice(p.indexOf(".") + 1).replaceAll(".", "_"), () => {
    const { alpha, invBeta, channels } = snakeParams(g, w, p);
    if (len) x = replicateTail(g, x, len);
    const padded = g.op("Pad", [x, g.ints([0, 0, UP_EDGE, 0, 0, UP_EDGE])], { mode: "edge" });
    const phases = g.op("Conv", [padded, upsampleFilter(g, channels)], { kernel_shape: [UP_TAPS], group: channels }); // [B, 2C, T]
    // interleave: channel 2c holds u[c, 2m], channel 2c+1 holds u[c, 2m+1]
    let up = g.reshape(g.transpose(g.reshape(phases, [0, channels, AA_RATIO, -1]), [0, 1, 3, 2]), [0, channels, -1]);
    const s = g.sin(g.mul(up, alpha));
    up = g.add(up, g.mul(invBeta, g.mul(s, s)));
    if (len) up = replicateTail(g, up, g.mul(len, g.int(AA_RATIO)));
    const padded2 = g.op("Pad", [up, g.ints([0, 0, DOWN_PAD_LEFT, 0, 0, DOWN_PAD_RIGHT])], { mode: "edge" });
    return g.op("Conv", [padded2, downsampleFilter(g, channels)], {
      kernel_shape: [AA_KERNEL], strides: [AA_RATIO], pads: [0, 0], group: channels,
    });
  });
}
