/**
 * Building blocks shared by the encoder and decoder graphs, and the length/mask arithmetic that makes a padded batch
 * compute, for every item, exactly what that item computes alone.
 *
 * Layout conventions: convolution stacks are [B, C, T]; sequence stacks (attention, linears) are [B, T, C].
 * Per-item valid lengths travel as int64 [B] tensors ("lengths") at the current time resolution.
 * Layers with weights take the module they are (`ModuleCursor`): it names their weights and scopes their nodes.
 */
import type { GraphBuilder } from "./graph.ts";
import { float } from "./graph.ts";
import type { ModuleCursor } from "./module.ts";
import { quantizeColumns } from "./quantize.ts";

/** Valid-position mask from lengths: bool [B, T] (T = x.shape[timeAxis]). */
export function lengthMask(g: GraphBuilder, lengths: string, x: string, timeAxis: number): string {
  const t = g.squeeze(g.shape(x, timeAxis, timeAxis + 1), [0]);
  const range = g.op("Range", [g.int(0), t, g.int(1)]); // [T]
  return g.op("Less", [g.unsqueeze(range, [0]), g.unsqueeze(lengths, [1])]); // [B, T]
}

/** Zero every time step at or past the item's length: x [B, C, T] (timeAxis 2) or [B, T, C] (timeAxis 1). */
export function zeroPast(g: GraphBuilder, x: string, lengths: string, timeAxis: 1 | 2): string {
  const m = lengthMask(g, lengths, x, timeAxis);
  const m3 = g.unsqueeze(m, [timeAxis === 2 ? 1 : 2]);
  return g.where(m3, x, g.scalar(0));
}

/** Output length of a 1-D convolution, per item: floor((len + padL + padR − dil·(k−1) − 1) / stride) + 1. */
export function convLengths(
  g: GraphBuilder,
  lengths: string,
  k: number,
  stride: number,
  padL: number,
  padR: number,
  dilation = 1,
): string {
  const num = g.add(lengths, g.int(padL + padR - dilation * (k - 1) - 1));
  return g.add(g.op("Div", [num, g.int(stride)]), g.int(1)); // int64 Div truncates; num ≥ 0 for valid items
}

/** y = x·Wᵀ (+ b when the module has a bias) for x [..., in] with a torch Linear weight [out, in]. */
export function linear(m: ModuleCursor, x: string): string {
  return m.scope(() => {
    const [out, inp] = m.shape("weight");
    const bias = m.has("bias") ? { name: m.tensor("bias"), data: m.f32("bias", [out]) } : undefined;
    return weightMatMul(
      m.g,
      x,
      m.tensor("weight"),
      () => transpose2d(m.f32("weight", [out, inp]), out, inp),
      inp,
      out,
      bias,
    );
  });
}

/**
 * y = x·W (+ bias) for a weight W [in, out] read when the graph is saved (`data`). In a builder with `int8MinDim`
 * set, a GEMM at least that large both ways becomes onnxruntime's DynamicQuantizeMatMul over int8 weights
 * (`quantize.ts`), with the bias fused; otherwise a MatMul in the compute dtype (+ Add).
 */
export function weightMatMul(
  g: GraphBuilder,
  x: string,
  name: string,
  data: () => Float32Array,
  inDim: number,
  outDim: number,
  bias?: { name: string; data: Float32Array },
): string {
  if (g.int8MinDim !== undefined && inDim >= g.int8MinDim && outDim >= g.int8MinDim) {
    // both initializers come from one quantization, done when the first of them is written
    let done: ReturnType<typeof quantizeColumns> | undefined;
    const quantized = () => (done ??= quantizeColumns(data(), inDim, outDim));
    const q = g.initializer(`${name}_int8`, "int8", [inDim, outDim], () => {
      const { q } = quantized();
      return Promise.resolve(new Uint8Array(q.buffer, q.byteOffset, q.byteLength));
    });
    const scale = g.initializer(`${name}_scale`, "float32", [outDim], () => {
      const { scale } = quantized();
      done = undefined; // written: let the quantized copy go
      return Promise.resolve(new Uint8Array(scale.buffer, scale.byteOffset, scale.byteLength));
    });
    const zero = g.constant(new Array(outDim).fill(0), [outDim], "int8");
    const inputs = [x, q, scale, zero];
    if (bias) inputs.push(g.weightF32(bias.name, bias.data, [outDim]));
    return g.opDomain("com.microsoft", "DynamicQuantizeMatMul", inputs);
  }
  const y = g.matmul(x, g.weight(name, data, [inDim, outDim]));
  return bias ? g.add(y, g.weight(bias.name, bias.data, [outDim])) : y;
}

export function transpose2d(a: Float32Array, rows: number, cols: number): Float32Array {
  const t = new Float32Array(a.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = a[r * cols + c];
  return t;
}

export interface ConvOpts {
  stride?: number;
  padding?: [number, number];
  dilation?: number;
  groups?: number;
  bias?: boolean;
}

/** Conv1d over [B, C, T] with a torch weight [out, in/groups, k]; explicit (left, right) zero padding. */
export function conv1d(m: ModuleCursor, x: string, o: ConvOpts = {}): string {
  const g = m.g;
  return m.scope(() => {
    const shape = m.shape("weight");
    const inputs = [x, g.weight(m.tensor("weight"), () => m.f32("weight", shape), shape)];
    if (o.bias ?? m.has("bias")) inputs.push(g.weight(m.tensor("bias"), m.f32("bias", [shape[0]]), [shape[0]]));
    const [pl, pr] = o.padding ?? [0, 0];
    return g.op("Conv", inputs, {
      kernel_shape: [shape[2]],
      strides: [o.stride ?? 1],
      pads: [pl, pr],
      dilations: [o.dilation ?? 1],
      group: o.groups ?? 1,
    });
  });
}

/** "Same" zero padding of a stride-1 conv with an odd kernel: (k − 1)·dilation / 2 on each side. */
export function samePadding(m: ModuleCursor, dilation = 1): [number, number] {
  const [, , k] = m.shape("weight");
  const p = ((k - 1) * dilation) >> 1;
  return [p, p];
}

/** LayerNorm over the last axis with weight and bias. */
export function layerNorm(m: ModuleCursor, x: string, eps: number): string {
  const g = m.g;
  return m.scope(() => {
    const [c] = m.shape("weight");
    return g.op("LayerNormalization", [
      x,
      g.weight(m.tensor("weight"), m.f32("weight"), [c]),
      g.weight(m.tensor("bias"), m.f32("bias"), [c]),
    ], { axis: -1, epsilon: float(eps) });
  });
}

/** RMSNorm over the last axis: x · rsqrt(mean(x²) + eps) · weight (statistics in fp32, as upstream). */
export function rmsNorm(m: ModuleCursor, x: string, eps: number): string {
  const g = m.g;
  return m.scope(() => {
    const [c] = m.shape("weight");
    const x32 = g.dtype === "float32" ? x : g.cast(x, "float32");
    const ms = g.reduceMean(g.mul(x32, x32), [-1]);
    const y = g.toCompute(g.div(x32, g.sqrt(g.add(ms, g.scalarF32(eps)))));
    return g.mul(y, g.weight(m.tensor("weight"), m.f32("weight"), [c]));
  });
}

/**
 * Additive attention bias that hides padded keys: [B, 1, 1, T] with 0 for valid keys and a large negative number
 * for padded ones (finite, so a fully padded query row stays NaN-free; such rows are discarded anyway).
 */
export function keyPaddingBias(g: GraphBuilder, lengths: string, x: string, timeAxis: number): string {
  const m = lengthMask(g, lengths, x, timeAxis); // [B, T]
  const neg = g.dtype === "float16" ? -6.0e4 : -1.0e9;
  return g.unsqueeze(g.where(m, g.scalar(0), g.scalar(neg)), [1, 2]);
}
