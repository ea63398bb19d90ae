import { test } from "node:test";
import assert from "node:assert/strict";
import { foldHeadRope, headAxisRope } from "./transformer.ts";

test("folding head-axis RoPE (and a scale) into the projection equals rotating q per head by its head index", () => {
  const nH = 4, d = 8, inDim = 5, theta = 10000, scale = 0.25;
  let seed = 11;
  const r = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
  const W = Float32Array.from({ length: nH * d * inDim }, r);
  const x = Array.from({ length: inDim }, r);
  const folded = foldHeadRope(W, nH, d, inDim, theta, scale);
  const { cos, sin } = headAxisRope(nH, d, theta);
  const proj = (M: Float32Array, row: number) => x.reduce((acc, v, i) => acc + M[row * inDim + i] * v, 0);
  for (let h = 0; h < nH; h++) {
    const q = Array.from({ length: d }, (_, j) => proj(W, h * d + j));
    // upstream: q·cos + rotate_half(q)·sin, rotate_half(q) = cat(−q[d/2:], q[:d/2])
    const rot = q.map((_, j) => (j < d / 2 ? -q[j + d / 2] : q[j - d / 2]));
    for (let j = 0; j < d; j++) {
      const expect = scale * (q[j] * cos[h][j] + rot[j] * sin[h][j]);
      assert.ok(Math.abs(proj(folded, h * d + j) - expect) < 1e-5, `head ${h} dim ${j}`);
    }
  }
  // head 0 sits at position 0: no rotation at all
  assert.ok(cos[0].every((c) => c === 1) && sin[0].every((s) => s === 0));
  // angles grow with the head index (positions 0 … n_heads − 1), frequency 1 for the first pair
  assert.ok(Math.abs(Math.acos(cos[1][0]) - 1) < 1e-6);
});
