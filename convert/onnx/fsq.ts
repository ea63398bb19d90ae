/**
 * Finite scalar quantization (XCodec2's single-codebook FSQ, levels [4]×8 → 65,536 codes) as graph pieces.
 *
 * Encode: `quantizer.project_in` → bound → bound again → round → mixed-radix code. The bound is applied TWICE:
 * upstream's `Xcodec2Quantizer.forward` bounds once "for consistency with the original checkpoint" (the original's
 * `ResidualFSQ.forward` did), then `FSQ.quantize` bounds again. The bound of vector-quantize-pytorch's FSQ is
 *   half_l = (L−1)(1+eps)/2,  offset = 0.5 for even L else 0,  shift = atanh(offset/half_l),
 *   bound(z) = tanh(z + shift)·half_l − offset,            eps = 1e-3,
 * and level_index = round(bound(bound(z))) + L//2 (round half to even, as torch and ONNX Round do),
 * code = Σ_d level_index_d · Π_{j<d} L_j.
 *
 * Decode: the implicit codebook value (level_index − L//2)/(L//2) per dimension, then `quantizer.project_out`.
 *
 * Codes are exact-match outputs, so in fp16 graphs project_in, the bounds and the rounding stay fp32 (upstream runs
 * its FSQ with autocast disabled, in fp32, for the same reason).
 */
import type { GraphBuilder } from "./graph.ts";
import type { Weights } from "./weights.ts";
import type { Xcodec2Config } from "../architecture/mod.ts";
import { linear, transpose2d } from "./layers.ts";
import { ModuleCursor } from "./module.ts";
import { type FsqTables, fsqTables } from "./fsq_tables.ts";

/** bound(z) = tanh(z + shift)·half_range − offset, fp32, broadcast over the last axis. */
function bound(g: GraphBuilder, t: FsqTables, z: string): string {
  const d = t.levels.length;
  const shift = g.constant(t.shift, [d], "float32");
  const halfRange = g.constant(t.halfRange, [d], "float32");
  const offset = g.constant(t.offset, [d], "float32");
  return g.sub(g.mul(g.tanh(g.add(z, shift)), halfRange), offset);
}

/** Linear with fp32 weights whatever the compute dtype (x must be fp32). */
function linearF32(m: ModuleCursor, x: string): string {
  const g = m.g;
  return m.scope(() => {
    const [out, inp] = m.shape("weight");
    const wt = transpose2d(m.f32("weight"), out, inp);
    const y = g.matmul(x, g.weightF32(m.tensor("weight"), wt, [inp, out]));
    return g.add(y, g.weightF32(m.tensor("bias"), m.f32("bias", [out]), [out]));
  });
}

/** The model's `quantizer` module. */
const quantizer = (g: GraphBuilder, w: Weights, cfg: Xcodec2Config) => ModuleCursor.root(g, w, cfg).pp("quantizer");

export interface FsqEncodeResult {
  /** [B, 1, K] int64, 0 … Π L − 1 */
  codes: string;
  /** project_out of the quantized values: [B, Q, K] in the compute dtype */
  latents: string;
  /** project_in output before the bounds: [B, K, D] float32 (in every precision) */
  fsqInput: string;
}

/** x: `fc_encoder` output [B, K, H+Hs] in the compute dtype. */
export function fsqEncode(g: GraphBuilder, w: Weights, cfg: Xcodec2Config, x: string): FsqEncodeResult {
  const q = quantizer(g, w, cfg);
  return q.scope(() => {
    const t = fsqTables(cfg.quantization_levels);
    const d = t.levels.length;
    const x32 = g.dtype === "float32" ? x : g.cast(x, "float32");
    const fsqInput = linearF32(q.pp("project_in"), x32); // [B, K, D]
    const rounded = g.op("Round", [bound(g, t, bound(g, t, fsqInput))]); // −L//2 … L//2 − (L even)
    const levelIndex = g.cast(g.add(rounded, g.constant(t.halfWidth, [d], "float32")), "int64");
    const code = g.reduceSum(g.mul(levelIndex, g.constant(t.basis, [d], "int64")), [-1], false); // [B, K]
    const codes = g.unsqueeze(code, [1]); // [B, 1, K]
    const values = g.div(rounded, g.constant(t.halfWidth, [d], "float32")); // implicit codebook value, exact
    const latents = projectOut(q.pp("project_out"), g.toCompute(values));
    return { codes, latents, fsqInput };
  });
}

/** codes [B, 1, K] int64 → latents [B, Q, K] in the compute dtype (upstream `Xcodec2Quantizer.from_codes`). */
export function fsqDecode(g: GraphBuilder, w: Weights, cfg: Xcodec2Config, codes: string): string {
  return g.transpose(fsqDecodeSeq(g, w, cfg, codes), [0, 2, 1]);
}

/**
 * codes [B, 1, K] int64 → latents [B, K, Q] (sequence layout, what `acoustic_decoder.fc` reads).
 * Computes level indices arithmetically ((code // basis) mod L) instead of gathering from a 65,536-row codebook, so
 * out-of-range codes in padded positions cannot make the graph fail.
 */
export function fsqDecodeSeq(g: GraphBuilder, w: Weights, cfg: Xcodec2Config, codes: string): string {
  const q = quantizer(g, w, cfg);
  return q.scope(() => {
    const t = fsqTables(cfg.quantization_levels);
    const d = t.levels.length;
    const c = g.unsqueeze(g.squeeze(codes, [1]), [2]); // [B, K, 1]
    const digits = g.op("Div", [c, g.constant(t.basis, [d], "int64")]);
    // Mod with fmod = 0 takes the divisor's sign: the level index is in [0, L) even for negative padding codes.
    const levelIndex = g.op("Mod", [digits, g.constant(t.levels, [d], "int64")], { fmod: 0 }); // [B, K, D]
    const centred = g.sub(g.cast(levelIndex, "float32"), g.constant(t.halfWidth, [d], "float32"));
    const values = g.div(centred, g.constant(t.halfWidth, [d], "float32"));
    return projectOut(q.pp("project_out"), g.toCompute(values), false);
  });
}

/** project_out: [B, K, D] → [B, Q, K] (or [B, K, Q] with `channelsFirst` false). */
function projectOut(m: ModuleCursor, values: string, channelsFirst = true): string {
  const y = linear(m, values);
  return channelsFirst ? m.g.transpose(y, [0, 2, 1]) : y;
}
