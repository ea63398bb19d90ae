/**
 * The decoder's transformer layer (`acoustic_decoder.layers.N`, Llama-style pre-norm), x [B, T, H]:
 *   x = x + o_proj(attention(input_layernorm(x)));  x = x + fc2(silu(fc1(post_attention_layernorm(x))))
 * RMSNorm eps = config.rms_norm_eps; the attention is NON-causal (upstream #46963; the original used sdpa with
 * is_causal=False) and has no biases.
 *
 * RoPE runs over the HEAD axis: both implementations rotate head h by position h (0 … n_heads−1), the same for every
 * time step (the original applied torchtune's [b, s, h, d] module to [b, h, t, d] tensors; upstream reproduces it
 * with position_ids = arange(num_heads)). A rotation that does not depend on time is a fixed linear map per head, so
 * it is folded into q_proj and k_proj here, together with the 1/√head_dim score scale (on q only). The converted q/k
 * weights are already permuted to the half-split (rotate_half) convention.
 *
 * Per-item lengths: padded keys are hidden by an additive bias; padded query rows compute garbage that later layers
 * never read (convs zero them, GroupNorm ignores them, the ISTFT head drops them).
 */
import type { GraphBuilder } from "../graph.ts";
import type { ModuleCursor } from "../module.ts";
import type { Xcodec2Config } from "../../architecture/mod.ts";
import { keyPaddingBias, linear, rmsNorm, transpose2d, weightMatMul } from "../layers.ts";
import { GraphError } from "../errors.ts";

/**
 * cos/sin of the head-axis RoPE, [n_heads][head_dim] each, in fp32 as upstream's `Xcodec2RotaryEmbedding` computes
 * them: inv_freq = 1 / theta^(2i/d) (float32), angle = position · inv_freq, emb = cat(angles, angles).
 */
export function headAxisRope(
  nHeads: number,
  headDim: number,
  theta: number,
): { cos: Float32Array[]; sin: Float32Array[] } {
  const f = Math.fround;
  const half = headDim / 2;
  const invFreq = Array.from({ length: half }, (_, i) => f(1 / f(Math.pow(theta, f((2 * i) / headDim)))));
  const cos: Float32Array[] = [], sin: Float32Array[] = [];
  for (let h = 0; h < nHeads; h++) {
    const c = new Float32Array(headDim), s = new Float32Array(headDim);
    for (let j = 0; j < headDim; j++) {
      const a = f(h * invFreq[j % half]);
      c[j] = Math.cos(a);
      s[j] = Math.sin(a);
    }
    cos.push(c);
    sin.push(s);
  }
  return { cos, sin };
}

/**
 * Fold q' = q·cos + rotate_half(q)·sin (per head h at position h) and a scalar `scale` into a torch Linear weight
 * [n_heads·head_dim, in]: row (h, j) becomes cos_j·W(h, j) − sin_j·W(h, j + d/2) for j < d/2 and
 * cos_j·W(h, j) + sin_j·W(h, j − d/2) otherwise. Computed in float64, rounded once.
 */
export function foldHeadRope(
  weight: Float32Array,
  nHeads: number,
  headDim: number,
  inDim: number,
  theta: number,
  scale = 1,
): Float32Array {
  const { cos, sin } = headAxisRope(nHeads, headDim, theta);
  const half = headDim / 2;
  const out = new Float32Array(weight.length);
  for (let h = 0; h < nHeads; h++) {
    for (let j = 0; j < headDim; j++) {
      const row = (h * headDim + j) * inDim;
      const partner = (h * headDim + (j < half ? j + half : j - half)) * inDim;
      const sgn = j < half ? -1 : 1;
      const c = cos[h][j], s = sin[h][j];
      for (let i = 0; i < inDim; i++) out[row + i] = scale * (c * weight[row + i] + sgn * s * weight[partner + i]);
    }
  }
  return out;
}

/**
 * A q or k projection `m` with the head-axis RoPE and `scale` folded into its torch weight [n_heads·head_dim, in]
 * (and bias, when the config has attention biases) when the graph is saved.
 */
function ropeProjection(m: ModuleCursor, x: string, nHeads: number, d: number, theta: number, scale = 1): string {
  const g = m.g;
  return m.scope(() => {
    const [out, inp] = m.shape("weight");
    const weight = () => transpose2d(foldHeadRope(m.f32("weight", [out, inp]), nHeads, d, inp, theta, scale), out, inp);
    const bias = m.has("bias")
      ? { name: m.tensor("bias"), data: foldHeadRope(m.f32("bias", [out]), nHeads, d, 1, theta, scale) }
      : undefined;
    return weightMatMul(g, x, m.tensor("weight"), weight, inp, out, bias);
  });
}

/** Multi-head self-attention `m` over x [B, T, H]; `bias` [B, 1, 1, T] hides padded keys (or null). */
function selfAttention(m: ModuleCursor, cfg: Xcodec2Config, x: string, bias: string | null): string {
  const g = m.g;
  const nHeads = cfg.num_attention_heads, d = cfg.head_dim;
  if (cfg.num_key_value_heads !== nHeads) {
    throw new GraphError(
      `${m.name}: grouped-query attention (${nHeads} heads, ${cfg.num_key_value_heads} kv heads) is not supported`,
    );
  }
  const [qOut] = m.pp("q_proj").shape("weight");
  if (qOut !== nHeads * d) {
    throw new GraphError(`${m.pp("q_proj").tensor("weight")}: ${qOut} rows, expected heads·head_dim = ${nHeads * d}`);
  }
  return m.scope(() => {
    const theta = cfg.rope_parameters.rope_theta;
    const q = ropeProjection(m.pp("q_proj"), x, nHeads, d, theta, 1 / Math.sqrt(d));
    const k = ropeProjection(m.pp("k_proj"), x, nHeads, d, theta);
    const v = linear(m.pp("v_proj"), x);
    const heads = (t: string) => g.transpose(g.reshape(t, [0, 0, nHeads, d]), [0, 2, 1, 3]); // [B, nH, T, d]
    let scores = g.matmul(heads(q), g.transpose(g.reshape(k, [0, 0, nHeads, d]), [0, 2, 3, 1])); // [B, nH, T, T]
    if (bias !== null) scores = g.add(scores, bias);
    const ctx = g.matmul(g.softmax(scores, -1), heads(v)); // [B, nH, T, d]
    const merged = g.reshape(g.transpose(ctx, [0, 2, 1, 3]), [0, 0, nHeads * d]);
    return linear(m.pp("o_proj"), merged);
  });
}

/** fc2(silu(fc1(x))), no biases. */
function mlp(m: ModuleCursor, x: string): string {
  return m.scope(() => linear(m.pp("fc2"), m.g.silu(linear(m.pp("fc1"), x))));
}

/** The decoder transformer layer `m` over x [B, T, H]. */
export function transformerLayer(m: ModuleCursor, cfg: Xcodec2Config, x: string, bias: string | null): string {
  const g = m.g;
  return m.scope(() => {
    const eps = cfg.rms_norm_eps;
    const a = selfAttention(m.pp("self_attn"), cfg, rmsNorm(m.pp("input_layernorm"), x, eps), bias);
    const h = g.add(x, a);
    return g.add(h, mlp(m.pp("mlp"), rmsNorm(m.pp("post_attention_layernorm"), h, eps)));
  });
}

/** The additive key-padding bias for x [B, T, H] (null without lengths). */
export function attentionBias(g: GraphBuilder, lengths: string | null, x: string): string | null {
  return lengths === null ? null : keyPaddingBias(g, lengths, x, 1);
}
