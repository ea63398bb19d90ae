/**
 * The decoder's Vocos/VQGAN-style ResNet block (`prior_net.N`, `post_net.N`), [B, C, T]:
 *   h = conv1(silu(norm1(x)));  h = conv2(silu(norm2(h)));  return x + h
 * with GroupNorm(32 groups, eps 1e-6, affine) and k=3 "same" convolutions (both implementations hard-code these).
 *
 * Per-item lengths (`lengths` int64 [B], or null for the naive batch): GroupNorm takes its mean and variance over
 * the item's valid frames only, and every position at or past the item's length is zeroed before each convolution,
 * so each item computes exactly what it computes alone.
 */
import { float as floatAttr, type GraphBuilder } from "../graph.ts";
import type { Weights } from "../weights.ts";
import { conv1d, lengthMask, samePadding, zeroPast } from "../layers.ts";
import { ModuleCursor } from "../module.ts";

/** Upstream `Xcodec2ResNetBlock` / original `Normalize`: nn.GroupNorm(num_groups=32, eps=1e-6). */
export const RESNET_GROUPS = 32;
export const RESNET_GROUP_NORM_EPS = 1e-6;

/**
 * GroupNorm over x [B, C, T] (statistics per item and group over channels-in-group × time), affine per channel.
 * With `lengths`, the statistics use only time steps < length: sums over the valid frames divided by
 * (C/groups)·length. Statistics are computed in fp32 in every precision (fp16 sums over long clips would overflow).
 * `prefix` names the norm module (`acoustic_decoder.prior_net.0.norm1`).
 */
export function groupNorm(
  g: GraphBuilder,
  w: Weights,
  prefix: string,
  x: string,
  lengths: string | null,
  groups = RESNET_GROUPS,
  eps = RESNET_GROUP_NORM_EPS,
): string {
  const m = ModuleCursor.at(g, w, prefix);
  return m.scope(() => {
    const [c] = m.shape("weight");
    if (c % groups !== 0) throw new RangeError(`${prefix}: ${c} channels do not split into ${groups} groups`);
    const cg = c / groups;
    const x32 = g.dtype === "float32" ? x : g.cast(x, "float32");
    const xg = g.reshape(x32, [0, groups, cg, -1]); // [B, G, cg, T]
    let normed: string;
    if (lengths === null) {
      // Plain GroupNorm: InstanceNormalization over [B, G, cg·T] is the same statistic.
      const flat = g.reshape(x32, [0, groups, -1]);
      const ones = g.constant(new Float32Array(groups).fill(1), [groups], "float32");
      const zeros = g.constant(new Float32Array(groups), [groups], "float32");
      normed = g.op("InstanceNormalization", [flat, ones, zeros], { epsilon: floatAttr(eps) });
    } else {
      const valid = g.unsqueeze(lengthMask(g, lengths, x, 2), [1, 2]); // [B, 1, 1, T]
      const count = g.unsqueeze(g.mul(g.cast(lengths, "float32"), g.scalarF32(cg)), [1, 2, 3]); // [B, 1, 1, 1]
      const zero = g.scalarF32(0);
      const mean = g.div(g.reduceSum(g.where(valid, xg, zero), [2, 3]), count); // [B, G, 1, 1]
      const centred = g.sub(xg, mean);
      const dv = g.where(valid, centred, zero);
      const variance = g.div(g.reduceSum(g.mul(dv, dv), [2, 3]), count);
      normed = g.div(centred, g.sqrt(g.add(variance, g.scalarF32(eps))));
    }
    const y = g.toCompute(g.op("Reshape", [normed, g.shape(x)]));
    const gamma = g.weight(m.tensor("weight"), m.f32("weight"), [c, 1]);
    const beta = g.weight(m.tensor("bias"), m.f32("bias"), [c, 1]);
    return g.add(g.mul(y, gamma), beta);
  });
}

/** The ResNet block `m` over x [B, C, T]. */
export function resnetBlock(m: ModuleCursor, x: string, lengths: string | null): string {
  const g = m.g;
  return m.scope(() => {
    const norm = (name: string, h: string) => groupNorm(g, m.w, m.pp(name).name, h, lengths);
    const conv = (name: string, h: string) =>
      conv1d(m.pp(name), lengths === null ? h : zeroPast(g, h, lengths, 2), { padding: samePadding(m.pp(name)) });
    let h = g.silu(norm("norm1", x));
    h = conv("conv1", h);
    h = g.silu(norm("norm2", h));
    h = conv("conv2", h);
    return g.add(x, h);
  });
}
