import { test } from "node:test";
import assert from "node:assert/strict";
import { kaiserSincFilter, kaiserSincFilterF64 } from "./kaiser_filter.ts";
import { GraphError } from "../errors.ts";

test("the Activation1d filter (cutoff 0.25, half width 0.3, 12 taps) is a symmetric unit-sum lowpass", () => {
  const h = kaiserSincFilter(0.25, 0.3, 12);
  const exact = kaiserSincFilterF64(0.25, 0.3, 12);
  assert.equal(h.length, 12);
  for (let i = 0; i < 12; i++) {
    assert.equal(h[i], h[11 - i], `tap ${i} vs ${11 - i}`);
    // the float32 emulation of torch stays within a few float32 ulps of the exact filter
    assert.ok(Math.abs(h[i] - exact[i]) <= 2e-6 * Math.abs(exact[i]) + 1e-9, `tap ${i}: ${h[i]} vs ${exact[i]}`);
  }
  assert.ok(Math.abs(exact.reduce((a, b) => a + b, 0) - 1) < 1e-12);
  // centre taps carry most of the weight; a 2x lowpass passes DC and kills Nyquist
  assert.ok(h[5] > 0.44 && h[5] < 0.45);
  const nyquist = exact.reduce((a, v, i) => a + (i % 2 ? -v : v), 0);
  assert.ok(Math.abs(nyquist) < 0.01, `Nyquist gain ${nyquist}`);
});

test("odd kernels centre a tap on zero and a zero cutoff gives zeros; bad arguments are refused", () => {
  const h = kaiserSincFilterF64(0.25, 0.3, 13);
  assert.ok(h[6] > h[5] && h[6] > h[7]);
  assert.deepEqual(Array.from(kaiserSincFilter(0, 0.3, 12)), new Array(12).fill(0));
  assert.throws(() => kaiserSincFilter(0.6, 0.3, 12), GraphError);
  assert.throws(() => kaiserSincFilter(0.25, 0.3, 1), GraphError);
});
