/**
 * sin and cos built from elementwise Mul/Add/Round, so each element's result depends on its value alone.
 *
 * Why: onnxruntime's CPU Sin/Cos kernels are vectorised, and an element computed in a SIMD lane rounds differently
 * from one computed in the scalar tail. The same item then gets last-bit different phases alone and inside a batch
 * (its elements sit at other offsets), and the ISTFT head multiplies them by magnitudes up to 100: a one-code clip
 * differed from itself batched by up to 3e-4 relative L2. IEEE Mul and Add are exactly rounded in every lane, so this
 * polynomial gives bit-identical results wherever an element sits, on every execution provider.
 *
 * Method: k = round(x·2/π), r = x − k·π/2 in two parts (Cody–Waite; exact for |k| < 2^16), |r| ≤ π/4, Taylor
 * polynomials to r^10 / r^11 (truncation < 3e-8 there), then the quadrant k mod 4 picks ±sin r / ±cos r.
 */
import type { GraphBuilder } from "./graph.ts";

const PIO2_HI = 1.5703125; // 201/128: few mantissa bits, so k·PIO2_HI is exact
const PIO2_LO = Math.PI / 2 - PIO2_HI;
// 1/n! with alternating signs, lowest order first
const COS = [-1 / 2, 1 / 24, -1 / 720, 1 / 40320, -1 / 3628800];
const SIN = [-1 / 6, 1 / 120, -1 / 5040, 1 / 362880, -1 / 39916800];

/** Horner in r²: 1 + r²·(c0 + r²·(c1 + …)). */
function series(g: GraphBuilder, r2: string, coeffs: number[]): string {
  let acc = g.scalarF32(coeffs[coeffs.length - 1]);
  for (let i = coeffs.length - 2; i >= 0; i--) acc = g.add(g.mul(acc, r2), g.scalarF32(coeffs[i]));
  return g.add(g.mul(acc, r2), g.scalarF32(1));
}

/** { sin, cos } of a float32 tensor, elementwise and placement-independent. */
export function sinCos(g: GraphBuilder, x: string): { sin: string; cos: string } {
  return g.scope("sincos", () => {
    const k = g.op("Round", [g.mul(x, g.scalarF32(2 / Math.PI))]);
    const r = g.sub(g.sub(x, g.mul(k, g.scalarF32(PIO2_HI))), g.mul(k, g.scalarF32(PIO2_LO)));
    const r2 = g.mul(r, r);
    const c = series(g, r2, COS);
    const s = g.mul(r, series(g, r2, SIN));
    // quadrant q = k mod 4 ∈ {0,1,2,3} (exact in float for |k| < 2^22)
    const q = g.sub(k, g.mul(g.op("Floor", [g.mul(k, g.scalarF32(0.25))]), g.scalarF32(4)));
    const odd = g.op("Equal", [
      g.sub(q, g.mul(g.op("Floor", [g.mul(q, g.scalarF32(0.5))]), g.scalarF32(2))),
      g.scalarF32(1),
    ]);
    const sinBase = g.where(odd, c, s); // q=0: sin r, q=1: cos r, q=2: −sin r, q=3: −cos r
    const cosBase = g.where(odd, s, c); // q=0: cos r, q=1: −sin r, q=2: −cos r, q=3: sin r
    const sinNeg = g.op("GreaterOrEqual", [q, g.scalarF32(2)]);
    const cosNeg = g.op("Or", [g.op("Equal", [q, g.scalarF32(1)]), g.op("Equal", [q, g.scalarF32(2)])]);
    return { sin: g.where(sinNeg, g.neg(sinBase), sinBase), cos: g.where(cosNeg, g.neg(cosBase), cosBase) };
  });
}
