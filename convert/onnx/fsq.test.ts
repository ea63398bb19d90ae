import { test } from "node:test";
import assert from "node:assert/strict";
import * as ort from "onnxruntime-node";
import { fsqDecode, fsqEncode } from "./fsq.ts";
import { fsqTables } from "./fsq_tables.ts";
import { f16ToF32, f32ToF16Bits } from "../dtype_cast.ts";
import { int64, session, tinyA } from "../../fixtures/support/graph_session.ts";
import { maxAbs, maxAbsDiff } from "../../fixtures/support/metrics.ts";
import { caseTensors, clipTensors, referenceCases } from "../../fixtures/support/reference.ts";

test("FSQ tables follow vector-quantize-pytorch's bound for L = 4", () => {
  const t = fsqTables([4, 4, 4, 4, 4, 4, 4, 4]);
  // torch: int tensor (L − 1) times the python float (1 + eps) runs in float32, then / 2
  assert.equal(t.halfRange[0], Math.fround(3 * Math.fround(1.001)) / 2);
  assert.equal(t.offset[0], 0.5);
  assert.ok(Math.abs(t.shift[0] - Math.atanh(0.5 / 1.5015)) < 1e-7);
  assert.deepEqual(t.basis, [1, 4, 16, 64, 256, 1024, 4096, 16384]);
  assert.deepEqual(t.halfWidth, Array(8).fill(2));
  assert.throws(() => fsqTables([4, 1]), RangeError);
});

test("fsqEncode on fc_encoder_out gives upstream's fsq_input, codes and latents; fsqDecode gives the latents", async () => {
  const { w, cfg } = await tinyA();
  const enc = await session("float32", (g) => {
    const x = g.input("x", "float32", ["B", "K", cfg.quantization_dim]);
    const r = fsqEncode(g, w, cfg, x);
    g.output("codes", r.codes, "int64", ["B", 1, "K"]);
    g.output("latents", r.latents, "float32", ["B", cfg.quantization_dim, "K"]);
    g.output("fsq_input", r.fsqInput, "float32", ["B", "K", cfg.quantization_levels.length]);
  });
  const { w: w2 } = await tinyA();
  const dec = await session("float32", (g) => {
    const c = g.input("codes", "int64", ["B", 1, "K"]);
    g.output("latents", fsqDecode(g, w2, cfg, c), "float32", ["B", cfg.quantization_dim, "K"]);
  });
  try {
    const cases = Object.values(referenceCases()).filter((c) => c.kind === "single");
    assert.ok(cases.length >= 8);
    for (const c of cases) {
      const ref = await caseTensors(c.key);
      const x = ref.tensor("enc.fc_encoder_out");
      const out = await enc.s.run({ x: new ort.Tensor("float32", x.data as Float32Array, x.shape) });
      const fsqIn = ref.tensor("enc.fsq_input").data;
      const inRel = maxAbsDiff(out.fsq_input.data as Float32Array, fsqIn) / maxAbs(fsqIn);
      const codes = Array.from(out.codes.data as BigInt64Array, Number);
      const refCodes = Array.from(ref.tensor("enc.audio_codes").data);
      assert.deepEqual(out.codes.dims, [1, 1, refCodes.length]);
      const fragile = new Set(c["fsq_fragile_frames_1e-4"] ?? []);
      const flips = codes.map((v, i) => (v !== refCodes[i] ? i : -1)).filter((i) => i >= 0);
      const latents = ref.tensor("enc.latents").data;
      const latErr = maxAbsDiff(out.latents.data as Float32Array, latents) / maxAbs(latents);
      const d = await dec.s.run({ codes: int64(refCodes, [1, 1, refCodes.length]) });
      const decErr = maxAbsDiff(d.latents.data as Float32Array, latents) / maxAbs(latents);
      console.log(
        `${c.clips[0]}: fsq_input rel ${inRel.toExponential(2)}, code flips [${flips}], latents rel ${
          latErr.toExponential(2)
        }, decoded latents rel ${decErr.toExponential(2)}`,
      );
      assert.ok(inRel <= 1e-5, `${c.file}: fsq_input rel error ${inRel}`);
      assert.ok(flips.every((i) => fragile.has(i)), `${c.file}: codes differ at non-fragile frames ${flips}`);
      if (flips.length === 0) assert.ok(latErr <= 1e-5, `${c.file}: latents rel error ${latErr}`);
      assert.ok(decErr <= 1e-5, `${c.file}: decoded latents rel error ${decErr}`);
    }
  } finally {
    await enc.close();
    await dec.close();
  }
});

test("fsqDecode is the inverse of the code arithmetic for every digit, and tolerates out-of-range codes", async () => {
  const { w, cfg } = await tinyA();
  const dec = await session("float32", (g) => {
    const c = g.input("codes", "int64", ["B", 1, "K"]);
    g.output("latents", fsqDecode(g, w, cfg, c), "float32", ["B", cfg.quantization_dim, "K"]);
  });
  try {
    // 65535 + 65536 has the digits of 65535 (all 3): the top digit is taken mod L. Negative and huge codes (padding
    // garbage) decode to finite values instead of failing a gather.
    const out = await dec.s.run({ codes: int64([65535, 65535 + 65536, 0, -7, 2 ** 40], [1, 1, 5]) });
    const y = out.latents.data as Float32Array;
    const q = cfg.quantization_dim;
    for (let i = 0; i < q; i++) assert.equal(y[i * 5], y[i * 5 + 1]);
    assert.ok(Array.from({ length: q }, (_, i) => y[i * 5] !== y[i * 5 + 2]).some(Boolean));
    assert.ok(y.every(Number.isFinite));
  } finally {
    await dec.close();
  }
});

test("fp16 graph keeps the FSQ in fp32: codes agree with fp32 for fp32-representable inputs", async () => {
  const { cfg } = await tinyA();
  const ref = await clipTensors("espeak_en");
  const x = ref.tensor("enc.fc_encoder_out");
  // Round the input to fp16 first so both graphs see the same numbers: any code difference would then come from
  // fp16 arithmetic inside the quantizer.
  const xh = Float32Array.from(x.data as Float32Array, (v) => f16ToF32(f32ToF16Bits(v)));
  const run = async (dtype: "float32" | "float16") => {
    const { w: wi } = await tinyA();
    const s = await session(dtype, (g) => {
      const xi = g.input("x", "float32", ["B", "K", cfg.quantization_dim]);
      const r = fsqEncode(g, wi, cfg, g.toCompute(xi));
      g.output("codes", r.codes, "int64", ["B", 1, "K"]);
    });
    try {
      return Array.from(
        (await s.s.run({ x: new ort.Tensor("float32", xh, x.shape) })).codes.data as BigInt64Array,
        Number,
      );
    } finally {
      await s.close();
    }
  };
  const a = await run("float32"), b = await run("float16");
  assert.deepEqual(b, a);
});
