import { test } from "node:test";
import assert from "node:assert/strict";
import * as ort from "onnxruntime-node";
import { groupNorm, RESNET_GROUP_NORM_EPS, RESNET_GROUPS } from "./resnet_block.ts";
import { int64, session, tinyA } from "../../../fixtures/support/graph_session.ts";
import { maxAbsDiff } from "../../../fixtures/support/metrics.ts";

/** float64 GroupNorm of one item x [C, T] (all T frames), affine. */
function groupNormRef(x: Float32Array, C: number, T: number, gamma: Float32Array, beta: Float32Array): Float64Array {
  const cg = C / RESNET_GROUPS, y = new Float64Array(C * T);
  for (let gi = 0; gi < RESNET_GROUPS; gi++) {
    let s = 0, s2 = 0;
    for (let c = gi * cg; c < (gi + 1) * cg; c++) for (let t = 0; t < T; t++) s += x[c * T + t];
    const mean = s / (cg * T);
    for (let c = gi * cg; c < (gi + 1) * cg; c++) for (let t = 0; t < T; t++) s2 += (x[c * T + t] - mean) ** 2;
    const inv = 1 / Math.sqrt(s2 / (cg * T) + RESNET_GROUP_NORM_EPS);
    for (let c = gi * cg; c < (gi + 1) * cg; c++) {
      for (let t = 0; t < T; t++) y[c * T + t] = (x[c * T + t] - mean) * inv * gamma[c] + beta[c];
    }
  }
  return y;
}

test("masked GroupNorm takes each item's statistics over its valid frames only; unmasked uses all frames", async () => {
  const { w } = await tinyA();
  const prefix = "acoustic_decoder.prior_net.0.norm1";
  const gamma = w.f32(`${prefix}.weight`), beta = w.f32(`${prefix}.bias`);
  const [C] = w.shape(`${prefix}.weight`);
  const B = 2, T = 6, lengths = [6, 2];
  let seed = 5;
  const x = Float32Array.from(
    { length: B * C * T },
    () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648) * 4 - 1,
  );
  // item 1's padding holds large values: they must not move its statistics
  for (let c = 0; c < C; c++) for (let t = lengths[1]; t < T; t++) x[(C + c) * T + t] = 1000;
  const build = (masked: boolean) =>
    session("float32", (g) => {
      const xi = g.input("x", "float32", ["B", C, "T"]);
      const len = g.input("lengths", "int64", ["B"]);
      g.output("y", groupNorm(g, w, prefix, xi, masked ? len : null), "float32", ["B", C, "T"]);
    });
  for (const masked of [true, false]) {
    const s = await build(masked);
    try {
      const y = (await s.s.run({ x: new ort.Tensor("float32", x, [B, C, T]), lengths: int64(lengths, [B]) })).y
        .data as Float32Array;
      for (let b = 0; b < B; b++) {
        const n = masked ? lengths[b] : T;
        const item = new Float32Array(C * n);
        for (let c = 0; c < C; c++) for (let t = 0; t < n; t++) item[c * n + t] = x[(b * C + c) * T + t];
        const ref = groupNormRef(item, C, n, gamma, beta);
        const got = new Float32Array(C * n);
        for (let c = 0; c < C; c++) for (let t = 0; t < n; t++) got[c * n + t] = y[(b * C + c) * T + t];
        assert.ok(maxAbsDiff(got, ref) < 1e-4, `masked=${masked} item ${b}: ${maxAbsDiff(got, ref)}`);
      }
    } finally {
      await s.close();
    }
  }
});
