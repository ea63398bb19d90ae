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
import type { ModuleCursor } from "../module.ts";
import { AA_KERNEL, AA_RATIO, ENCODER_DILATIONS, type Xcodec2Config } from "../../architecture/mod.ts";
import { conv1d, convLengths, samePadding, zeroPast } from "../layers.ts";
import { kaiserSincFilter } from "./kaiser_filter.ts";

/** Polyphase upsampler (see `upsampleFilter`): taps per phase and the replicate padding each side. */
const UP_TAPS = AA_KERNEL / AA_RATIO + 1;
const UP_EDGE = AA_KERNEL / AA_RATIO / 2;
const DOWN_PAD_LEFT = AA_KERNEL / 2 - (AA_KERNEL % 2 === 0 ? 1 : 0);
/** The decimator in the phase domain: phase positions read past each side, and taps per phase. */
const DOWN_REACH = Math.ceil(DOWN_PAD_LEFT / AA_RATIO);
const DOWN_TAPS = 2 * DOWN_REACH + 1;
/** SnakeBeta's guard against division by zero. */
const SNAKE_EPS = 1e-9;

/**
 * `m` = acoustic_encoder: audio [B, 1, T] (compute dtype) → [B, hidden_size, T/hop].
 * `lengths`: valid samples per item (int64 [B], multiples of the hop for exact per-item results) or null (unmasked).
 */
export function acousticEncoder(m: ModuleCursor, cfg: Xcodec2Config, audio: string, lengths: string | null): string {
  const g = m.g;
  return m.scope(() => {
    let len = lengths;
    let x = conv1d(m.pp("conv1"), len ? zeroPast(g, audio, len, 2) : audio, { padding: samePadding(m.pp("conv1")) });
    cfg.downsampling_ratios.forEach((s, i) => {
      const block = m.pp("block").pp(i);
      block.scope(() => {
        const masks = len ? { len, full: fullBatch(g, x, len) } : null; // one test per resolution
        ENCODER_DILATIONS.forEach((d, j) => {
          x = residualUnit(block.pp(`res_unit${j + 1}`), x, masks, d);
        });
        x = activation1d(block.pp("snake1"), x, masks, true);
        const conv = block.pp("conv1");
        const [, , k] = conv.shape("weight");
        const pad = Math.ceil(s / 2);
        x = conv1d(conv, x, { stride: s, padding: [pad, pad] });
        if (len) len = convLengths(g, len, k, s, pad, pad);
      });
    });
    x = activation1d(m.pp("snake1"), x, len ? { len, full: fullBatch(g, x, len) } : null, true);
    return conv1d(m.pp("conv2"), x, { padding: samePadding(m.pp("conv2")) });
  });
}

/** Per-item lengths at one resolution, and whether the batch is full there (no item shorter than the tensor). */
interface Masks {
  len: string;
  full: string;
}

/**
 * bool scalar: every item fills the time axis of x [B, C, T] (so no mask changes anything: a single clip, or clips
 * of one length) and T is long enough for the split activation (`activationSplit`).
 */
function fullBatch(g: GraphBuilder, x: string, len: string): string {
  return g.scope("full_batch", () => {
    const t = g.squeeze(g.shape(x, 2, 3), [0]);
    const noPadding = g.op("Equal", [g.op("ReduceMin", [len], { keepdims: 0 }), t]);
    return g.op("And", [noPadding, g.op("GreaterOrEqual", [t, g.int(SPLIT_MIN_STEPS)])]);
  });
}

function residualUnit(m: ModuleCursor, x: string, masks: Masks | null, dilation: number): string {
  const g = m.g;
  return m.scope(() => {
    let y = activation1d(m.pp("snake1"), x, masks, true);
    y = conv1d(m.pp("conv1"), y, { dilation, padding: samePadding(m.pp("conv1"), dilation) });
    y = activation1d(m.pp("snake2"), y, masks, false);
    y = conv1d(m.pp("conv2"), y); // k = 1: no time mixing, no zeroing needed
    return g.add(x, y);
  });
}

/**
 * Per item, overwrite positions offset+len … offset+len+width−1 of x [B, C, T] with `tail` [B, C, 1] (clamped to
 * T − 1; callers make sure a clamped write puts back the value already there, so an item with len = T is unchanged). The anti-aliasing filters read at most
 * UP_EDGE (resp. DOWN_REACH) positions past an item's last valid one, so only those need the replicate value; what
 * lies further out is finite garbage that the next conv's zeroing or the next activation's tail overwrites. A
 * ScatterElements of [B, C, width] is a copy of x, several times cheaper in onnxruntime than a Where broadcast over
 * [B, C, T] (measured: the Where-based tails were 30% of the full-size encoder).
 */
function writeTail(g: GraphBuilder, x: string, len: string, tail: string, width: number, offset = 0): string {
  const t = g.shape(x, 2, 3); // [1]
  const pos = g.op("Min", [
    g.add(g.unsqueeze(len, [1]), g.ints(Array.from({ length: width }, (_, i) => offset + i))),
    g.sub(t, g.ints([1])),
  ]); // [B, width]
  const idx = g.op("Expand", [g.unsqueeze(pos, [1]), g.concat([g.shape(x, 0, 2), g.ints([width])], 0)]); // [B, C, width]
  const updates = g.op("Expand", [tail, g.shape(idx)]);
  return g.op("ScatterElements", [x, idx, updates], { axis: 2 });
}

/** x[:, :, len − 1] per item: [B, C, 1]. */
function lastValid(g: GraphBuilder, x: string, len: string): string {
  const last = g.op("Max", [g.sub(len, g.int(1)), g.int(0)]);
  const idxShape = g.concat([g.shape(x, 0, 2), g.ints([1])], 0); // [B, C, 1]
  return g.op("GatherElements", [x, g.op("Expand", [g.reshape(last, [-1, 1, 1]), idxShape])], { axis: 2 });
}

/** Activation1d's lowpass, shared by its upsampler and decimator: cutoff 0.5/ratio, half width 0.6/ratio. */
const activationFilter = () => kaiserSincFilter(0.5 / AA_RATIO, 0.6 / AA_RATIO, AA_KERNEL);

/** The two-phase lowpass + ×2 decimation weight [C, 2, DOWN_TAPS] (see `activation1d`). */
function downsampleFilter(g: GraphBuilder, channels: number): string {
  const name = `aa_filter_down_phases_${channels}`;
  if (g.inits.has(name)) return name;
  const f = activationFilter();
  const data = new Float32Array(channels * 2 * DOWN_TAPS);
  for (let c = 0; c < channels; c++) {
    const even = data.subarray(2 * c * DOWN_TAPS, (2 * c + 1) * DOWN_TAPS),
      odd = data.subarray((2 * c + 1) * DOWN_TAPS, (2 * c + 2) * DOWN_TAPS);
    for (let t = 0; t < DOWN_TAPS; t++) {
      const je = 2 * t - 1 - 2 * DOWN_REACH + DOWN_PAD_LEFT + 1, jo = 2 * t - 2 * DOWN_REACH + DOWN_PAD_LEFT + 1;
      if (je >= 0 && je < AA_KERNEL) even[t] = f[je];
      if (jo >= 0 && jo < AA_KERNEL) odd[t] = f[jo];
    }
  }
  return g.weight(name, data, [channels, 2, DOWN_TAPS]);
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
  const f = activationFilter();
  const taps = UP_TAPS, half = AA_KERNEL / AA_RATIO;
  const data = new Float32Array(2 * channels * taps);
  for (let c = 0; c < channels; c++) {
    const even = data.subarray(2 * c * taps, (2 * c + 1) * taps),
      odd = data.subarray((2 * c + 1) * taps, (2 * c + 2) * taps);
    for (let t = 0; t < half; t++) {
      even[t] = AA_RATIO * f[2 * (half - 1 - t) + 1];
      odd[t + 1] = AA_RATIO * f[2 * (half - 1 - t)];
    }
  }
  return g.weight(name, data, [2 * channels, 1, taps]);
}

/** SnakeBeta parameters as [C, 1] weights: e^α and 1/(e^β + 1e-9), rounded as torch computes them in fp32. */
function snakeParams(m: ModuleCursor): SnakeParams {
  const g = m.g;
  const act = m.pp("act");
  const la = act.f32("alpha"), lb = act.f32("beta", [la.length]);
  const f = Math.fround;
  const c = la.length;
  // one value per phase channel (2c, 2c+1): the activation runs on the two polyphase outputs, not interleaved
  const alpha = Float32Array.from({ length: AA_RATIO * c }, (_, i) => f(Math.exp(la[Math.floor(i / AA_RATIO)])));
  const invBeta = Float32Array.from(
    { length: AA_RATIO * c },
    (_, i) => f(1 / f(f(Math.exp(lb[Math.floor(i / AA_RATIO)])) + SNAKE_EPS)),
  );
  return {
    alpha: g.weight(act.tensor("alpha"), alpha, [AA_RATIO * c, 1]),
    invBeta: g.weight(act.tensor("beta"), invBeta, [AA_RATIO * c, 1]),
    channels: c,
  };
}

/**
 * Anti-aliased SnakeBeta on x [B, C, T], entirely in the polyphase domain: the upsampler gives the even and odd
 * samples as channels 2c and 2c+1 ([B, 2C, T]); SnakeBeta is element-wise, so it runs on them as they are; and the
 * lowpass + ×2 decimation over the interleaved signal u, out[m] = Σ_j f[j]·u[clamp(2m + j − 5)], splits into even
 * taps on the odd phase and odd taps on the even phase: one grouped Conv with 2 inputs per group and 7 taps over the
 * phases padded by 3 each side. The replicate padding of u becomes: left columns = u[0] = even[0] for both phases,
 * right columns = u[2T−1] = odd[T−1] for both. No interleave (Transpose) and no pass over a [B, C, 2T] tensor.
 *
 * With masks, one If picks the form: a full batch (`fullBatch`) runs `activationSplit`, which copies nothing at the
 * 16 kHz-rate stages; a padded batch runs `activationPadded` with the per-item replicate tails, then (`zero`) zeroes
 * every position past the item's length for the convolution that follows. The forms compute the same sums.
 */
function activation1d(m: ModuleCursor, x: string, masks: Masks | null, zero: boolean): string {
  const g = m.g;
  return m.scope(() => {
    const p = snakeParams(m);
    if (!masks) return activationPadded(g, x, null, p);
    const out = { dtype: g.dtype, dims: null };
    const thenBranch = g.body("full", [], (b) => [{ value: activationSplit(b, x, p), ...out }]);
    const elseBranch = g.body("padded", [], (b) => {
      const y = activationPadded(b, x, masks.len, p);
      return [{ value: zero ? zeroPast(b, y, masks.len, 2) : y, ...out }];
    });
    return g.op("If", [masks.full], { then_branch: thenBranch, else_branch: elseBranch });
  });
}

/** Time steps each side of an output that the activation reads: the upsampler's edge and the decimator's reach. */
const ACT_REACH = UP_EDGE + DOWN_REACH;
/** The shortest time axis `activationSplit` handles (a middle part of at least one step). */
const SPLIT_MIN_STEPS = 2 * ACT_REACH + 1;

interface SnakeParams {
  alpha: string;
  invBeta: string;
  channels: number;
}

/** SnakeBeta on the polyphase upsampled u [B, 2C, n]: u + sin²(u·e^α)/(e^β + 1e-9). */
function snake(g: GraphBuilder, u: string, p: SnakeParams): string {
  const s = g.sin(g.mul(u, p.alpha));
  return g.add(u, g.mul(p.invBeta, g.mul(s, s)));
}

const upsample = (g: GraphBuilder, v: string, c: number) =>
  g.op("Conv", [v, upsampleFilter(g, c)], { kernel_shape: [UP_TAPS], group: c });
const decimate = (g: GraphBuilder, v: string, c: number) =>
  g.op("Conv", [v, downsampleFilter(g, c)], { kernel_shape: [DOWN_TAPS], group: c });

/** One phase of every channel, repeated for both phase slots: [B, C·2, n] from t [B, 2C, 1]. */
function phaseOf(g: GraphBuilder, t: string, channels: number, phase: number, n: number): string {
  const one = g.slice(g.reshape(t, [0, channels, AA_RATIO, -1]), [phase], [phase + 1], [2]); // [B, C, 1, 1]
  const shape = g.concat([g.shape(one, 0, 2), g.ints([AA_RATIO, n])], 0);
  return g.reshape(g.op("Expand", [one, shape]), [0, AA_RATIO * channels, n]);
}

/** The decimator's edge columns of u [B, 2C, n]: u[0] = even[0] on the left, u[2n − 1] = odd[n − 1] on the right. */
const leftEdge = (g: GraphBuilder, u: string, c: number) => phaseOf(g, g.slice(u, [0], [1], [2]), c, 0, DOWN_REACH);
const rightEdge = (g: GraphBuilder, u: string, c: number) =>
  phaseOf(g, g.slice(u, [-1], [2 ** 62], [2]), c, 1, DOWN_REACH);

/**
 * The activation over the whole tensor: replicate-pad x, upsample, SnakeBeta, add the decimator's edge columns,
 * decimate. Any length; with `len`, each item's replicate tails are written where its own signal ends.
 */
function activationPadded(g: GraphBuilder, x: string, len: string | null, p: SnakeParams): string {
  const c = p.channels;
  if (len) x = writeTail(g, x, len, lastValid(g, x, len), UP_EDGE);
  const padded = g.op("Pad", [x, g.ints([0, 0, UP_EDGE, 0, 0, UP_EDGE])], { mode: "edge" });
  const up = snake(g, upsample(g, padded, c), p); // [B, 2C, T]
  let edged = g.concat([leftEdge(g, up, c), up, rightEdge(g, up, c)], 2); // [B, 2C, T + 2·DOWN_REACH]
  // The item's replicate tail u[2·len − 1] = odd[len − 1] in both phases of the DOWN_REACH columns after its end.
  // Written into the edged tensor (offset by the left edge), so an item with len = T rewrites its own right edge
  // (already odd[T − 1]) and never touches the valid even[T − 1].
  if (len) edged = writeTail(g, edged, len, phaseOf(g, lastValid(g, up, len), c, 1, 1), DOWN_REACH, DOWN_REACH);
  return decimate(g, edged, c);
}

/**
 * The activation of an unpadded batch, x [B, C, T] with T ≥ SPLIT_MIN_STEPS, without a Pad or a Concat over the
 * [B, 2C, T] tensors: output m reads x[m − ACT_REACH … m + ACT_REACH], so the middle outputs come from x as it is
 * (upsample and decimate without padding), and the ACT_REACH outputs at each end from the 2·ACT_REACH samples there,
 * padded as `activationPadded` pads them; one Concat of the [B, C, T] result joins them. This drops the Pad, the
 * [B, 2C, T] Concat (single-threaded copies in onnxruntime) and the replicate-tail scatters. Measured on the
 * full-size acoustic encoder, 10 s clip, 2 threads (loaded 2-core EPYC, so relative figures only): the first
 * activation of block 0 took 754 ms of kernel time padded and 546 ms split; the whole branch 15.0 → 13.1 s of CPU
 * time (median of 3, alternated); the outputs are bit-identical.
 */
function activationSplit(g: GraphBuilder, x: string, p: SnakeParams): string {
  const c = p.channels, w = 2 * ACT_REACH;
  const middle = decimate(g, snake(g, upsample(g, x, c), p), c); // [B, C, T − 2·ACT_REACH]
  const head = g.op("Pad", [g.slice(x, [0], [w], [2]), g.ints([0, 0, UP_EDGE, 0, 0, 0])], { mode: "edge" });
  const uh = snake(g, upsample(g, head, c), p); // u[0 … w − UP_EDGE)
  const left = decimate(g, g.concat([leftEdge(g, uh, c), uh], 2), c); // out[0 … ACT_REACH)
  const tail = g.op("Pad", [g.slice(x, [-w], [2 ** 62], [2]), g.ints([0, 0, 0, 0, 0, UP_EDGE])], { mode: "edge" });
  const ut = snake(g, upsample(g, tail, c), p);
  const right = decimate(g, g.concat([ut, rightEdge(g, ut, c)], 2), c); // out[T − ACT_REACH … T)
  return g.concat([left, middle, right], 2);
}
