import { test } from "node:test";
import assert from "node:assert/strict";
import * as ort from "onnxruntime-node";
import { hannWindow, inverseRealDftBasis, overlapAdd } from "./istft_head.ts";
import { session } from "../../../fixtures/support/graph_session.ts";
import { maxAbsDiff } from "../../../fixtures/support/metrics.ts";

function rng(seed: number) {
  return () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
}

test("the inverse real DFT basis equals window · irfft (Hermitian extension, DC/Nyquist imaginary parts ignored)", () => {
  const n = 64, bins = n / 2 + 1, r = rng(7);
  const re = Array.from({ length: bins }, r), im = Array.from({ length: bins }, r);
  const win = hannWindow(n);
  const basis = inverseRealDftBasis(n, win);
  for (let t = 0; t < n; t++) {
    // direct: x[t] = (1/n) Σ_{k<n} X[k] e^{2πikt/n}, X[n−k] = conj X[k], Im X[0] = Im X[n/2] = 0
    let direct = 0;
    for (let k = 0; k < n; k++) {
      const kk = k <= n / 2 ? k : n - k;
      const xr = re[kk], xi = kk === 0 || kk === n / 2 ? 0 : k <= n / 2 ? im[kk] : -im[kk];
      const a = (2 * Math.PI * k * t) / n;
      direct += xr * Math.cos(a) - xi * Math.sin(a);
    }
    direct *= win[t] / n;
    let viaBasis = 0;
    for (let k = 0; k < bins; k++) viaBasis += re[k] * basis[k * n + t] + im[k] * basis[(bins + k) * n + t];
    assert.ok(Math.abs(viaBasis - direct) < 1e-6, `t=${t}: ${viaBasis} vs ${direct}`);
  }
  assert.equal(hannWindow(8)[0], 0); // periodic Hann: w[0] = 0, w[n/2] = 1
  assert.equal(hannWindow(8)[4], 1);
});

test("overlapAdd sums chunk i of frame t into output chunk t + i", async () => {
  const B = 2, T = 3, hop = 2, ratio = 4, n = hop * ratio, r = rng(3);
  const frames = Float32Array.from({ length: B * T * n }, r);
  const s = await session("float32", (g) => {
    const x = g.input("x", "float32", ["B", "T", n]);
    g.output("y", overlapAdd(g, x, hop, ratio), "float32", ["B", "S"]);
  });
  try {
    const y = (await s.s.run({ x: new ort.Tensor("float32", frames, [B, T, n]) })).y;
    const len = (T - 1) * hop + n;
    assert.deepEqual(y.dims, [B, len]);
    const expect = new Float32Array(B * len);
    for (let b = 0; b < B; b++) {
      for (let t = 0; t < T; t++) {
        for (let j = 0; j < n; j++) expect[b * len + t * hop + j] += frames[(b * T + t) * n + j];
      }
    }
    assert.ok(maxAbsDiff(y.data as Float32Array, expect) < 1e-6);
  } finally {
    await s.close();
  }
});
