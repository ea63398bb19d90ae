import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as ort from "onnxruntime-node";
import { GraphBuilder, GraphError } from "./graph.ts";

async function runModel(dtype: "float32" | "float16", externalThreshold: number) {
  const g = new GraphBuilder("t", dtype);
  const x = g.input("x", "float32", ["B", 3]);
  const w = g.weight("w", Float32Array.from([1, 2, 3, 4, 5, 6]), [3, 2]);
  const b = g.weight("b", Float32Array.from([0.5, -0.5]), [2]);
  const y = g.add(g.matmul(g.toCompute(x), w), b);
  g.output("y", g.cast(g.relu(y), "float32"), "float32", ["B", 2]);
  const dir = await mkdtemp(join(tmpdir(), "xc2-graph-"));
  try {
    const path = join(dir, "m.onnx");
    const sizes = await g.save(path, { externalThreshold });
    const s = await ort.InferenceSession.create(path);
    const out = await s.run({ x: new ort.Tensor("float32", Float32Array.from([1, 1, 1, -1, -1, -1]), [2, 3]) });
    await s.release();
    return { y: Array.from(out.y.data as Float32Array), sizes, dataExists: await stat(path + "_data").then(() => true, () => false) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test("fp32 graph with inline weights runs in onnxruntime", async () => {
  const r = await runModel("float32", 1 << 20);
  assert.deepEqual(r.y, [9.5, 11.5, 0, 0]);
  assert.equal(r.dataExists, false);
});

test("external data is written and loaded", async () => {
  const r = await runModel("float32", 0);
  assert.deepEqual(r.y, [9.5, 11.5, 0, 0]);
  assert.equal(r.dataExists, true);
  assert.ok(r.sizes.dataBytes >= 24);
});

test("fp16 graph stores fp16 weights and computes close to fp32", async () => {
  const r = await runModel("float16", 1 << 20);
  assert.deepEqual(r.y, [9.5, 11.5, 0, 0]);
});

test("reading an undefined value is caught at export", async () => {
  const g = new GraphBuilder("bad");
  g.input("x", "float32", [1]);
  g.output("y", g.relu("nope"), "float32", [1]);
  await assert.rejects(g.save(join(tmpdir(), "never.onnx")), GraphError);
});
