/**
 * The semantic branch's Wav2Vec2-BERT (conformer) encoder, truncated to the layers the converted checkpoint keeps.
 *
 * Upstream's XCodec2 takes the hidden state after its `semantic_hidden_states_index`-th layer; the converter drops
 * every later layer, so the output here is simply the output of the last kept layer (each layer ends with its own
 * `final_layer_norm`; the w2v-bert encoder has no norm after the stack).
 *
 * Per layer (upstream `Wav2Vec2BertEncoderLayer`):
 *   x += ½·FFN1(LN(x));  x += MHSA(LN(x));  x += Conv(x);  x += ½·FFN2(LN(x));  x = LN(x)
 * with relative_key attention positions: score(l, r) = (q_l·k_r + q_l·E[clamp(r−l, −left, right) + left]) / √d.
 *
 * Padding (when per-item `lengths` are given, as upstream with `input_features_mask`): padded frames are zeroed on
 * entry, hidden from attention as keys, and zeroed before the conv module's depthwise convolution. The depthwise conv
 * is causal (left padded), so valid frames never read padded ones there anyway; the zeroing mirrors upstream.
 */
import type { GraphBuilder } from "../graph.ts";
import type { ModuleCursor } from "../module.ts";
import type { SemanticModelConfig, Xcodec2Config } from "../../architecture/mod.ts";
import { keyPaddingBias, layerNorm, linear, transpose2d, weightMatMul, zeroPast } from "../layers.ts";
import { GraphError } from "../errors.ts";

export class SemanticEncoderError extends GraphError {}

/**
 * `m` = semantic_encoder: features [B, F, 160] (compute dtype) → last kept layer's hidden states [B, F, Hs].
 * `lengths`: valid stacked frames per item, int64 [B]; null builds the unmasked (upstream batch) graph.
 */
export function semanticEncoder(
  m: ModuleCursor,
  cfg: Xcodec2Config,
  features: string,
  lengths: string | null,
): string {
  const g = m.g;
  const sc = cfg.semantic_model_config;
  if (sc.position_embeddings_type !== "relative_key") {
    throw new SemanticEncoderError(
      `semantic_model_config.position_embeddings_type is ${
        JSON.stringify(sc.position_embeddings_type)
      }; only "relative_key" (w2v-bert-2.0) is supported`,
    );
  }
  if (sc.hidden_act !== "swish" && sc.hidden_act !== "silu") {
    throw new SemanticEncoderError(
      `semantic_model_config.hidden_act is ${JSON.stringify(sc.hidden_act)}; only swish/silu is supported`,
    );
  }
  return m.scope(() => {
    const fp = m.pp("feature_projection");
    let x = linear(fp.pp("projection"), layerNorm(fp.pp("layer_norm"), features, sc.layer_norm_eps));
    // upstream: hidden_states.masked_fill(~attention_mask, 0) before the first layer
    if (lengths) x = zeroPast(g, x, lengths, 1);
    const bias = lengths ? keyPaddingBias(g, lengths, x, 1) : null;
    const relIndex = relativePositionIndex(g, sc, x);
    const layers = m.pp("encoder").pp("layers");
    for (let i = 0; i < sc.num_hidden_layers; i++) x = conformerLayer(layers.pp(i), sc, x, lengths, bias, relIndex);
    return x;
  });
}

/**
 * Flat gather index [T, T] into the per-query table q·Eᵀ reshaped to [B, H, T·NP]:
 * index(l, r) = l·NP + clamp(r − l, −left, right) + left, NP = left + right + 1.
 * Gathering from q·Eᵀ (NP columns) instead of materialising E[dist] ([T, T, d]) keeps memory at O(T²) int64 once
 * per graph, whatever the head count or batch size.
 */
function relativePositionIndex(g: GraphBuilder, sc: SemanticModelConfig, x: string): string {
  return g.scope("relative_positions", () => {
    const left = sc.left_max_position_embeddings, right = sc.right_max_position_embeddings;
    const np = left + right + 1;
    const t = g.squeeze(g.shape(x, 1, 2), [0]);
    const pos = g.op("Range", [g.int(0), t, g.int(1)]); // [T]
    const l = g.unsqueeze(pos, [1]), r = g.unsqueeze(pos, [0]);
    const dist = g.op("Min", [g.op("Max", [g.sub(r, l), g.int(-left)]), g.int(right)]);
    return g.add(g.add(dist, g.int(left)), g.mul(l, g.int(np))); // [T, T]
  });
}

function conformerLayer(
  l: ModuleCursor,
  sc: SemanticModelConfig,
  x: string,
  lengths: string | null,
  bias: string | null,
  relIndex: string,
): string {
  const g = l.g;
  return l.scope(() => {
    const eps = sc.layer_norm_eps;
    const half = g.scalar(0.5);
    x = g.add(g.mul(feedForward(l.pp("ffn1"), layerNorm(l.pp("ffn1_layer_norm"), x, eps)), half), x);
    x = g.add(
      selfAttention(l.pp("self_attn"), sc, layerNorm(l.pp("self_attn_layer_norm"), x, eps), bias, relIndex),
      x,
    );
    x = g.add(convModule(l.pp("conv_module"), sc, x, lengths), x);
    x = g.add(g.mul(feedForward(l.pp("ffn2"), layerNorm(l.pp("ffn2_layer_norm"), x, eps)), half), x);
    return layerNorm(l.pp("final_layer_norm"), x, eps);
  });
}

function feedForward(m: ModuleCursor, x: string): string {
  return m.scope(() => linear(m.pp("output_dense"), m.g.silu(linear(m.pp("intermediate_dense"), x))));
}

/** x [B, T, C] → [B, H, T, d] */
function heads(g: GraphBuilder, x: string, h: number, d: number): string {
  return g.transpose(g.reshape(x, [0, 0, h, d]), [0, 2, 1, 3]);
}

function selfAttention(
  m: ModuleCursor,
  sc: SemanticModelConfig,
  x: string,
  bias: string | null,
  relIndex: string,
): string {
  const g = m.g;
  return m.scope(() => {
    const c = sc.hidden_size, h = sc.num_attention_heads, d = c / h;
    const np = sc.left_max_position_embeddings + sc.right_max_position_embeddings + 1;
    const q = heads(g, linear(m.pp("linear_q"), x), h, d);
    const k = heads(g, linear(m.pp("linear_k"), x), h, d);
    const v = heads(g, linear(m.pp("linear_v"), x), h, d);
    const content = g.matmul(q, g.transpose(k, [0, 1, 3, 2])); // [B, H, T, T]
    // relative_key: q_l · E[dist(l, r)], via q·Eᵀ [B, H, T, NP] and a flat gather
    const table = m.pp("distance_embedding");
    const emb = transpose2d(table.f32("weight", [np, d]), np, d); // [d, NP]
    const qe = g.matmul(q, g.weight(table.tensor("weight"), emb, [d, np]));
    const rel = g.gather(g.reshape(qe, [0, 0, -1]), relIndex, 2); // [B, H, T, T]
    let scores = g.mul(g.add(content, rel), g.scalar(1 / Math.sqrt(d)));
    if (bias) scores = g.add(scores, bias);
    const ctx = g.matmul(g.softmax(scores, -1), v); // [B, H, T, d]
    const merged = g.reshape(g.transpose(ctx, [0, 2, 1, 3]), [0, 0, c]);
    return linear(m.pp("linear_out"), merged);
  });
}

/** A kernel-size-1 Conv1d without bias applied in [B, T, C] layout as a MatMul. */
function pointwise(m: ModuleCursor, x: string): string {
  const g = m.g;
  return m.scope(() => {
    const [out, inp, k] = m.shape("weight");
    if (k !== 1) throw new SemanticEncoderError(`${m.w.path}: ${m.tensor("weight")} has kernel size ${k}, 1 expected`);
    return weightMatMul(
      g,
      x,
      m.tensor("weight"),
      () => transpose2d(m.f32("weight", [out, inp, 1]), out, inp),
      inp,
      out,
    );
  });
}

function convModule(m: ModuleCursor, sc: SemanticModelConfig, x: string, lengths: string | null): string {
  const g = m.g;
  return m.scope(() => {
    const c = sc.hidden_size, k = sc.conv_depthwise_kernel_size;
    let h = layerNorm(m.pp("layer_norm"), x, sc.layer_norm_eps);
    if (lengths) h = zeroPast(g, h, lengths, 1);
    h = pointwise(m.pp("pointwise_conv1"), h); // [B, T, 2C]
    const [a, gate] = g.opN("Split", [h, g.ints([c, c])], 2, { axis: 2 });
    h = g.mul(a, g.sigmoid(gate)); // GLU over channels
    const depthwise = m.pp("depthwise_conv");
    const dw = g.weight(depthwise.tensor("weight"), depthwise.f32("weight", [c, 1, k]), [c, 1, k]);
    // causal depthwise conv: all k−1 padding on the left
    h = g.transpose(g.op("Conv", [g.transpose(h, [0, 2, 1]), dw], { kernel_shape: [k], pads: [k - 1, 0], group: c }), [
      0,
      2,
      1,
    ]);
    h = g.silu(layerNorm(m.pp("depthwise_layer_norm"), h, sc.layer_norm_eps));
    return pointwise(m.pp("pointwise_conv2"), h);
  });
}
