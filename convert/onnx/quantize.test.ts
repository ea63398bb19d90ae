import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { GraphBuilder } from "./graph.ts";
import { INT8_WEIGHT_MAX, quantizeColumns } from "./quantize.ts";
import { buildDecoder } from "./decoder/decoder.ts";
import { HOP_LENGTH } from "../architecture/mod.ts";
import { mulberry32 } from "../../parity/prng.ts";
import { int64, session, tinyA } from "../../fixtures/support/graph_session.ts";
import { relL2 } from "../../fixtures/support/metrics.ts";

describe("int8 weights (quantize.ts)", () => {
  test("per-column scales: |q| ≤ 63, the largest weight of each column reaches it, error ≤ half a step", () => {
    const inDim = 300, outDim = 40, r = mulberry32(7);
    const w = Float32Array.from(
      { length: inDim * outDim },
      (_, i) => (i % outDim === 5 ? 0 : (r() - 0.5) * (1 + (i % outDim))),
    );
    const { q, scale } = quantizeColumns(w, inDim, outDim);
    for (let o = 0; o < outDim; o++) {
      let peak = 0;
      for (let i = 0; i < inDim; i++) {
        const k = i * outDim + o;
        assert.ok(Math.abs(q[k]!) <= INT8_WEIGHT_MAX, `q[${i}][${o}] = ${q[k]}`);
        assert.ok(Math.abs(w[k]! - q[k]! * scale[o]!) <= scale[o]! / 2 * (1 + 1e-6), `w[${i}][${o}]`);
        peak = Math.max(peak, Math.abs(q[k]!));
      }
      assert.equal(peak, o === 5 ? 0 : INT8_WEIGHT_MAX, `column ${o}`);
    }
    assert.equal(scale[5], 1, "an all-zero column gets scale 1 (no division by zero)");
    assert.throws(() => quantizeColumns(w, inDim, outDim + 1), RangeError);
  });

  test("an int8 decoder replaces each large MatMul by DynamicQuantizeMatMul and stays near fp32", async () => {
    // tiny-a's linear layers are 32–66 wide: a threshold of 16 quantizes them as INT8_MIN_DIM does at full size
    const built: GraphBuilder[] = [];
    const open = async (int8: boolean) => {
      const { w, cfg } = await tinyA();
      return session("float32", (g) => {
        if (int8) g.int8MinDim = 16;
        buildDecoder(g, w, cfg, { masks: true });
        built.push(g);
      });
    };
    const fp32 = await open(false), int8 = await open(true);
    try {
      const count = (g: GraphBuilder, op: string) => g.allNodes().filter((n) => n.opType === op).length;
      const dq = count(built[1]!, "DynamicQuantizeMatMul");
      assert.ok(dq > 0, "no layer was quantized");
      assert.equal(
        count(built[0]!, "MatMul") - count(built[1]!, "MatMul"),
        dq,
        "each quantized layer replaces a MatMul",
      );
      const K = 40, r = mulberry32(3);
      const codes = Array.from({ length: K }, () => Math.floor(r() * 65536));
      const feeds = { audio_codes: int64(codes, [1, 1, K]), audio_codes_mask: int64(codes.map(() => 1), [1, 1, K]) };
      const a = (await fp32.s.run(feeds)).audio_values.data as Float32Array;
      const b = (await int8.s.run(feeds)).audio_values.data as Float32Array;
      assert.equal(b.length, HOP_LENGTH * K);
      const err = relL2(b, a);
      // measured 0.047 on tiny-a (0.067 on the full-size synthetic checkpoint: README, Performance)
      assert.ok(err > 0 && err < 0.1, `relative L2 error ${err}`);
    } finally {
      await fp32.close();
      await int8.close();
    }
  });
});
