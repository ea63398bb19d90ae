/**
 * FSQ ties: frames where a value, after the double tanh bound and before rounding, lies within a margin of a
 * rounding boundary x.5. Two correct implementations that differ by ~1e-5 (batch shape, BLAS, device) may round such a
 * value differently, so the properties count these frames and tolerate code differences there, and only there.
 * The bound is computed with the graph's own float32 constants (`fsqTables`) and float32 steps.
 */
import { type FsqTables, fsqTables } from "../convert/mod.ts";

/** Default margin: the reference data's `fsq_fragile_frames_1e-4`. */
export const TIE_MARGIN = 1e-4;

const tablesCache = new Map<string, FsqTables>();
function tables(levels: readonly number[]): FsqTables {
  const key = levels.join(",");
  let t = tablesCache.get(key);
  if (!t) tablesCache.set(key, t = fsqTables(levels));
  return t;
}

/** bound(bound(z)) for dimension d, in float32 steps like the graph. */
export function doubleBound(z: number, d: number, t: FsqTables): number {
  const f = Math.fround;
  const once = (x: number) => f(f(f(Math.tanh(f(x + t.shift[d]))) * t.halfRange[d]) - t.offset[d]);
  return once(once(z));
}

/** Distance of `v` to the nearest rounding boundary x.5. */
export function boundaryDistance(v: number): number {
  return Math.abs(v - Math.floor(v) - 0.5);
}

/**
 * Frame indices (0-based) of a [K, D] row-major FSQ input whose bounded value in some dimension is within `margin`
 * of x.5. An empty `fsqInput` (a graph without that output) yields no ties.
 */
export function tieFrames(fsqInput: Float32Array, levels: readonly number[], margin = TIE_MARGIN): number[] {
  const t = tables(levels);
  const D = levels.length;
  const out: number[] = [];
  for (let k = 0; k * D < fsqInput.length; k++) {
    for (let d = 0; d < D; d++) {
      if (boundaryDistance(doubleBound(fsqInput[k * D + d], d, t)) < margin) {
        out.push(k);
        break;
      }
    }
  }
  return out;
}

/** Smallest distance to a boundary over all values (the reference data's `fsq_min_margin`). */
export function minMargin(fsqInput: Float32Array, levels: readonly number[]): number {
  const t = tables(levels);
  const D = levels.length;
  let m = Infinity;
  for (let i = 0; i < fsqInput.length; i++) m = Math.min(m, boundaryDistance(doubleBound(fsqInput[i], i % D, t)));
  return m;
}
