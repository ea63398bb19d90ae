import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as ort from "onnxruntime-node";
import { float, GraphBuilder, GraphError } from "./graph.ts";
import { ModelProto } from "./proto.ts";

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
    return {
      y: Array.from(out.y.data as Float32Array),
      sizes,
      dataExists: await stat(path + "_data").then(() => true, () => false),
    };
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

// The export's layout rests on this (see the note at the top of export.ts): graphs in onnx/ cannot take their
// weights from ../model.safetensors. If onnxruntime ever accepts it, sharing the fp32 weights becomes an option.
test("onnxruntime refuses external data outside the model's folder, accepts unaligned offsets inside it", async () => {
  const dir = await mkdtemp(join(tmpdir(), "xc2-extdata-"));
  try {
    const g = new GraphBuilder("t", "float32");
    const x = g.input("x", "float32", [1, 2]);
    g.output("y", g.matmul(x, g.weight("w", Float32Array.from([1, 2, 3, 4]), [2, 2])), "float32", [1, 2]);
    await mkdir(join(dir, "onnx"));
    await g.save(join(dir, "onnx", "m.onnx"), { externalThreshold: 0 });
    // the weights 11 bytes into a file beside the onnx/ folder, as they would sit inside model.safetensors
    await writeFile(
      join(dir, "weights.bin"),
      Buffer.concat([Buffer.alloc(11), await readFile(join(dir, "onnx", "m.onnx_data"))]),
    );
    const relocate = async (graph: string, location: string) => {
      const m = ModelProto.decode(await readFile(join(dir, "onnx", "m.onnx"))) as unknown as {
        graph: { initializer: { externalData: { key: string; value: string }[] }[] };
      };
      for (const init of m.graph.initializer) {
        for (const e of init.externalData) {
          if (e.key === "location") e.value = location;
          if (e.key === "offset") e.value = String(Number(e.value) + 11);
        }
      }
      await writeFile(graph, ModelProto.encode(m as never).finish());
      return graph;
    };
    const feeds = { x: new ort.Tensor("float32", Float32Array.from([1, 1]), [1, 2]) };
    await assert.rejects(
      ort.InferenceSession.create(await relocate(join(dir, "onnx", "up.onnx"), "../weights.bin")),
      /escapes model directory/,
    );
    await rename(join(dir, "weights.bin"), join(dir, "onnx", "weights.bin"));
    const s = await ort.InferenceSession.create(await relocate(join(dir, "onnx", "same.onnx"), "weights.bin"));
    assert.deepEqual(Array.from((await s.run(feeds)).y.data as Float32Array), [4, 6]);
    await s.release();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("a weight given as a function is read only when the graph is saved, once, in the compute dtype", async () => {
  for (const dtype of ["float32", "float16"] as const) {
    let calls = 0;
    const g = new GraphBuilder("t", dtype);
    const x = g.input("x", "float32", [1, 2]);
    const w = g.weight("w", () => {
      calls++;
      return Float32Array.from([1, 2, 3, 4]);
    }, [2, 2]);
    g.output("y", g.cast(g.matmul(g.toCompute(x), w), "float32"), "float32", [1, 2]);
    assert.equal(calls, 0, "not read while building");
    const dir = await mkdtemp(join(tmpdir(), "xc2-lazy-"));
    try {
      const sizes = await g.save(join(dir, "m.onnx"), { externalThreshold: 0 });
      assert.equal(calls, 1);
      assert.equal(sizes.dataBytes, 4 * (dtype === "float16" ? 2 : 4));
      const s = await ort.InferenceSession.create(join(dir, "m.onnx"));
      const y = await s.run({ x: new ort.Tensor("float32", Float32Array.from([1, 1]), [1, 2]) });
      assert.deepEqual(Array.from(y.y.data as Float32Array), [4, 6]);
      await s.release();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
});

test("If branches built with body() read outer values and weights and run in onnxruntime", async () => {
  const g = new GraphBuilder("t", "float32");
  const x = g.input("x", "float32", [2]);
  const flag = g.input("flag", "bool", []);
  const w = g.weight("w", Float32Array.from([10, 20]), [2]);
  const out = { dtype: "float32" as const, dims: [2] };
  const thenBranch = g.body("then", [], (b) => [{ value: b.mul(x, w), ...out }]);
  const elseBranch = g.body("else", [], (b) => [{ value: b.add(x, w), ...out }]);
  g.output("y", g.op("If", [flag], { then_branch: thenBranch, else_branch: elseBranch }), "float32", [2]);
  const dir = await mkdtemp(join(tmpdir(), "xc2-if-"));
  try {
    await g.save(join(dir, "m.onnx"));
    const s = await ort.InferenceSession.create(join(dir, "m.onnx"));
    const run = async (f: boolean) =>
      Array.from(
        (await s.run({
          x: new ort.Tensor("float32", Float32Array.from([1, 2]), [2]),
          flag: new ort.Tensor("bool", Uint8Array.from([f ? 1 : 0]), []),
        })).y.data as Float32Array,
      );
    assert.deepEqual(await run(true), [10, 40]);
    assert.deepEqual(await run(false), [11, 22]);
    await s.release();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("a body that reads a value defined after its node is caught at export", async () => {
  const g = new GraphBuilder("bad");
  const flag = g.input("flag", "bool", []);
  const out = { dtype: "float32" as const, dims: [1] };
  const body = g.body("b", [], (b) => [{ value: b.relu("later"), ...out }]);
  const y = g.op("If", [flag], { then_branch: body, else_branch: body });
  g.output("later", g.relu(y), "float32", [1]);
  await assert.rejects(g.save(join(tmpdir(), "never.onnx")), /reads undefined value "later"/);
});

test("contrib ops get their domain and an opset import", async () => {
  const g = new GraphBuilder("t", "float32");
  const x = g.input("x", "float32", [1, 4]);
  g.output("y", g.opDomain("com.microsoft", "QuickGelu", [x], { alpha: float(1) }), "float32", [1, 4]);
  const dir = await mkdtemp(join(tmpdir(), "xc2-contrib-"));
  try {
    await g.save(join(dir, "m.onnx"));
    const m = ModelProto.decode(await readFile(join(dir, "m.onnx"))) as unknown as {
      opsetImport: { domain: string }[];
      graph: { node: { domain: string }[] };
    };
    assert.deepEqual(m.opsetImport.map((o) => o.domain), ["", "com.microsoft"]);
    assert.equal(m.graph.node[0].domain, "com.microsoft");
    const s = await ort.InferenceSession.create(join(dir, "m.onnx"));
    const y = (await s.run({ x: new ort.Tensor("float32", Float32Array.from([0, 1, -1, 2]), [1, 4]) })).y;
    const silu = [0, 1, -1, 2].map((v) => v / (1 + Math.exp(-v)));
    (y.data as Float32Array).forEach((v, i) => assert.ok(Math.abs(v - silu[i]) < 1e-6));
    await s.release();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
