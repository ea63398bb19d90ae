/**
 * Weight quantization for the `int8` graphs: symmetric, per output column, int8 weights consumed by onnxruntime's
 * `com.microsoft.DynamicQuantizeMatMul` (activations quantized to uint8 per tensor at run time, u8·s8 integer GEMM,
 * result scaled back to float32).
 *
 * WHY 7 bits (±63) and not ±127: on x86 without VNNI (AVX2 only, e.g. Zen 3), onnxruntime's u8·s8 kernel adds pairs
 * of products in 16-bit lanes (vpmaddubsw), which saturate once 2·255·|w| > 32767. Measured on a 500×1024×4096
 * product with random weights: ±127 weights gave 18.5% relative L2 error against fp32, ±63 gave 0.88% (the 16-bit
 * sums then cannot overflow). onnxruntime's own quantizer calls this `reduce_range`. Graphs are files that run on
 * any CPU, so they use the range that is exact everywhere.
 *
 * The activations' scale is one per tensor, taken over the whole batch: in an int8 graph an item's output depends on
 * the other items of its batch (the fp32 and fp16 graphs' promise does not hold there), within the int8 error.
 */

/** Largest weight magnitude in quantized units. */
export const INT8_WEIGHT_MAX = 63;

/** Only GEMMs at least this large in both dimensions are quantized (small ones gain nothing and lose accuracy). */
export const INT8_MIN_DIM = 256;

/** W [in, out] (row-major) → int8 q [in, out] and per-column scales [out] with W ≈ q·scale. */
export function quantizeColumns(w: Float32Array, inDim: number, outDim: number): { q: Int8Array; scale: Float32Array } {
  if (w.length !== inDim * outDim) throw new RangeError(`weight has ${w.length} values, not ${inDim}×${outDim}`);
  const maxAbs = new Float32Array(outDim);
  for (let i = 0; i < inDim; i++) {
    const row = i * outDim;
    for (let o = 0; o < outDim; o++) {
      const a = Math.abs(w[row + o]!);
      if (a > maxAbs[o]!) maxAbs[o] = a;
    }
  }
  const scale = new Float32Array(outDim);
  for (let o = 0; o < outDim; o++) scale[o] = maxAbs[o]! > 0 ? maxAbs[o]! / INT8_WEIGHT_MAX : 1;
  const q = new Int8Array(w.length);
  for (let i = 0; i < inDim; i++) {
    const row = i * outDim;
    for (let o = 0; o < outDim; o++) q[row + o] = Math.round(w[row + o]! / scale[o]!);
  }
  return { q, scale };
}
