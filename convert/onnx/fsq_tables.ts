/**
 * FSQ's per-dimension constants (see `fsq.ts` for the bound they serve), computed without the graph builder: the
 * graphs embed them, and the parity suite recomputes the bound with the very same float32 values to find codes that
 * sit within rounding distance of a boundary.
 */

/** vector-quantize-pytorch FSQ's `bound` margin. */
const FSQ_BOUND_EPS = 1e-3;

/** Per-dimension FSQ constants, rounded to fp32 step by step as torch computes them (float32 tensors). */
export interface FsqTables {
  levels: number[];
  halfRange: Float32Array;
  offset: Float32Array;
  shift: Float32Array;
  /** L // 2 (integer) */
  halfWidth: number[];
  /** Π_{j<d} L_j */
  basis: number[];
}

export function fsqTables(levels: readonly number[]): FsqTables {
  const f = Math.fround;
  const d = levels.length;
  const halfRange = new Float32Array(d), offset = new Float32Array(d), shift = new Float32Array(d);
  const basis: number[] = [];
  let acc = 1;
  for (let i = 0; i < d; i++) {
    const L = levels[i];
    if (!Number.isInteger(L) || L < 2) throw new RangeError(`FSQ level ${i} is ${L}; levels must be integers ≥ 2`);
    // torch: (levels − 1) * (1 + eps) / 2 with an int32 tensor and python floats → float32 ops
    halfRange[i] = f(f((L - 1) * f(1 + FSQ_BOUND_EPS)) / 2);
    offset[i] = L % 2 === 0 ? 0.5 : 0;
    shift[i] = f(Math.atanh(f(offset[i] / halfRange[i])));
    basis.push(acc);
    acc *= L;
  }
  return { levels: [...levels], halfRange, offset, shift, halfWidth: levels.map((L) => Math.floor(L / 2)), basis };
}
