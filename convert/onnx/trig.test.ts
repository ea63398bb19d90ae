import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as ort from "onnxruntime-node";
import { GraphBuilder } from "./graph.ts";
import { sinCos } from "./trig.ts";

async function evalSinCos(values: Float32Array): Promise<{ sin: Float32Array; cos: Float32Array }> {
  const g = new GraphBuilder("sincos");
  const x = g.input("x", "float32", ["n"]);
  const r = sinCos(g, x);
  g.output("sin", r.sin, "float32", ["n"]);
  g.output("cos", r.cos, "float32", ["n"]);
  const dir = await mkdtemp(join(tmpdir(), "xc2-trig-"));
  try {
    await g.save(join(dir, "t.onnx"));
    const s = await ort.InferenceSession.create(join(dir, "t.onnx"));
    const o = await s.run({ x: new ort.Tensor("float32", values, [values.length]) });
    await s.release();
    return { sin: o.sin.data as Float32Array, cos: o.cos.data as Float32Array };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test("polynomial sin/cos agree with Math.sin/cos to float32 accuracy over ±2000", async () => {
  const n = 20001;
  const x = Float32Array.from({ length: n }, (_, i) => -2000 + (4000 * i) / (n - 1) + 0.1234 * Math.sin(i));
  const { sin, cos } = await evalSinCos(x);
  let worst = 0;
  for (let i = 0; i < n; i++) {
    worst = Math.max(worst, Math.abs(sin[i] - Math.sin(x[i])), Math.abs(cos[i] - Math.cos(x[i])));
  }
  assert.ok(worst < 4e-7, `max error ${worst}`);
});

test("each element's result is independent of where it sits in the tensor", async () => {
  const base = Float32Array.from({ length: 641 }, (_, i) => 37.1 * Math.sin(i * 0.77) + i * 0.01);
  const alone = await evalSinCos(base);
  const shifted = new Float32Array(641 * 2 + 5);
  shifted.set(base, 5 + 641);
  const batched = await evalSinCos(shifted);
  for (let i = 0; i < base.length; i++) {
    assert.equal(batched.sin[5 + 641 + i], alone.sin[i]);
    assert.equal(batched.cos[5 + 641 + i], alone.cos[i]);
  }
});
