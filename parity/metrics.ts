/** Error figures shared by the properties, the kit comparison and the report. */

/** max |a−b| over the common prefix; Infinity when the lengths differ or a value is not finite. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= m)) m = Number.isNaN(d) ? Infinity : d;
  }
  return m;
}

/**
 * ‖a−b‖₂ / ‖b‖₂ (b is the reference). When b is all zeros the absolute ‖a−b‖₂ is returned, so silence decoded to
 * silence scores 0 and anything else scores its own size instead of dividing by zero.
 */
export function relL2(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let num = 0, den = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i] - b[i];
    num += d * d;
    den += b[i] * b[i];
  }
  if (!Number.isFinite(num)) return Infinity;
  return den > 0 ? Math.sqrt(num / den) : Math.sqrt(num);
}

/** Positions where two code sequences differ (a length mismatch makes every position past the shorter one differ). */
export function codeMismatches(a: ArrayLike<number>, b: ArrayLike<number>): number[] {
  const out: number[] = [];
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) if (i >= a.length || i >= b.length || a[i] !== b[i]) out.push(i);
  return out;
}

/** Formats an error figure for tables: 3 significant digits, "0" for exact, "inf" for mismatched shapes. */
export function formatError(e: number): string {
  if (e === 0) return "0";
  if (!Number.isFinite(e)) return "inf";
  return e.toExponential(2);
}
