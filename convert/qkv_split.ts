/**
 * The original decoder attention fuses q, k, v in one `att.c_attn` Linear ([3·H, H], rows q | k | v) and applies
 * torchtune's RoPE, which rotates interleaved pairs (2i, 2i+1) of each head. transformers' rotary code rotates the
 * halves (i, i + d/2) instead, so upstream permutes the rows of q and k per head: within head h, output row
 * j·(d/2)+i comes from input row 2i+j (j ∈ {0,1}). v is not rotated and is copied as is.
 */

/** Row permutation of a [heads·d, cols] matrix from interleaved-pair to half-split order, for any element size. */
export function permuteRowsForRope(src: Uint8Array, heads: number, rowBytes: number): Uint8Array {
  const rows = src.byteLength / rowBytes;
  const d = rows / heads;
  if (!Number.isInteger(d) || d % 2 !== 0) {
    throw new Error(`${rows} rows do not split into ${heads} heads of even size`);
  }
  const half = d / 2;
  const out = new Uint8Array(src.byteLength);
  for (let h = 0; h < heads; h++) {
    for (let j = 0; j < 2; j++) {
      for (let i = 0; i < half; i++) {
        const from = h * d + 2 * i + j;
        const to = h * d + j * half + i;
        out.set(src.subarray(from * rowBytes, (from + 1) * rowBytes), to * rowBytes);
      }
    }
  }
  return out;
}

/** Splits fused c_attn bytes ([3·H, H] row-major) into q (permuted), k (permuted), v. */
export function splitFusedQkv(
  fused: Uint8Array,
  heads: number,
  rowBytes: number,
): { q: Uint8Array; k: Uint8Array; v: Uint8Array } {
  const third = fused.byteLength / 3;
  return {
    q: permuteRowsForRope(fused.subarray(0, third), heads, rowBytes),
    k: permuteRowsForRope(fused.subarray(third, 2 * third), heads, rowBytes),
    v: fused.slice(2 * third),
  };
}
