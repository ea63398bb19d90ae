/**
 * Weight-norm folding: w = g · v / ‖v‖, the norm taken per output channel (over every dim but 0), as in
 * `torch._weight_norm(v, g, 0)` which both the original model (every forward pass) and upstream's
 * `remove_weight_norm` compute.
 *
 * To land on the same float32 bits as torch on CPU we follow its fused kernel (`weight_norm_first_dim_kernel`):
 * the sum of squares is accumulated in float32 in SIMD lanes (`vec::map_reduce_all`: lane j sums elements
 * j, j+L, j+2L, …, a short tail is added into the first lanes, then the lanes are combined pairwise by halving),
 * the square root is taken in float32, then a = g / norm and w = v · a, each rounded to float32.
 */

export interface WeightNormMode {
  /** SIMD width of torch's Vectorized<float>: 8 (AVX2, the common CPU build) or 16 (AVX-512) */
  lanes: 8 | 16;
}

/** The mode that reproduced upstream's converted reference weights bit for bit (see weight_norm.test.ts). */
export const TORCH_CPU_MODE: WeightNormMode = { lanes: 8 };

const fr = Math.fround;

/** Sum of squares of v[start, start+n) as torch's CPU kernel computes it in float32. */
export function torchSumSquares(v: Float32Array, start: number, n: number, lanes: number): number {
  const acc = new Float64Array(lanes); // values stay float32-representable: every step is rounded with fround
  if (n < lanes) {
    // vec_reduce_all(op, vec, size): lanes 0..n-1 folded left to right
    let s = fr(v[start]! * v[start]!);
    for (let i = 1; i < n; i++) s = fr(s + fr(v[start + i]! * v[start + i]!));
    return s;
  }
  for (let j = 0; j < lanes; j++) acc[j] = fr(v[start + j]! * v[start + j]!);
  const full = n - (n % lanes);
  let d = lanes;
  for (; d < full; d += lanes) {
    for (let j = 0; j < lanes; j++) {
      const x = v[start + d + j]!;
      acc[j] = fr(acc[j]! + fr(x * x));
    }
  }
  // tail: Vec::set(acc, acc + data, n - d) only updates the first n - d lanes
  for (let j = 0; d + j < n; j++) {
    const x = v[start + d + j]!;
    acc[j] = fr(acc[j]! + fr(x * x));
  }
  // pairwise halving: lane j += lane j + width/2, width = L, L/2, …, 2
  for (let w = lanes / 2; w >= 1; w /= 2) {
    for (let j = 0; j < w; j++) acc[j] = fr(acc[j]! + acc[j + w]!);
  }
  return acc[0]!;
}

/**
 * Folds g ([C, 1, …]) and v ([C, …]) into w (shape of v), float32. `mode` picks the torch-CPU emulation; pass
 * `"float64"` for an exactly rounded g·v/‖v‖ computed in double precision. `out` may be `v` itself: each channel's
 * norm is taken before that channel is overwritten, so folding in place saves a tensor-sized allocation.
 */
export function foldWeightNorm(
  g: Float32Array,
  v: Float32Array,
  mode: WeightNormMode | "float64" = TORCH_CPU_MODE,
  out?: Float32Array,
): Float32Array {
  const channels = g.length;
  if (channels === 0 || v.length % channels !== 0) {
    throw new Error(`weight_g has ${channels} values, which does not divide weight_v's ${v.length}`);
  }
  const n = v.length / channels;
  if (out !== undefined && out.length !== v.length) {
    throw new Error(`output has ${out.length} values, weight_v ${v.length}`);
  }
  const w = out ?? new Float32Array(v.length);
  for (let c = 0; c < channels; c++) {
    const start = c * n;
    if (mode === "float64") {
      let ss = 0;
      for (let i = 0; i < n; i++) ss += v[start + i]! * v[start + i]!;
      const scale = g[c]! / Math.sqrt(ss);
      for (let i = 0; i < n; i++) w[start + i] = v[start + i]! * scale;
    } else {
      const norm = fr(Math.sqrt(torchSumSquares(v, start, n, mode.lanes)));
      const a = fr(g[c]! / norm);
      for (let i = 0; i < n; i++) w[start + i] = v[start + i]! * a; // Float32Array store rounds once
    }
  }
  return w;
}
