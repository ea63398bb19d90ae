import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as ort from "onnxruntime-node";
import { resolveDevice } from "./devices.ts";
import { createSession, defaultThreads, run, SessionError, sessionOptions } from "./session.ts";
import { maxAbsDiff } from "../fixtures/support/metrics.ts";
import { encodeModel, pseudoRandom, tinyMatMulAddGraph, tinyMatMulAddModel } from "../fixtures/support/tiny_onnx.ts";

/** Reference y = x·W + b in float64, straight from the fixture's weights. */
function reference(x: Float32Array, batch: number, inDim: number, outDim: number): Float64Array {
  const g = tinyMatMulAddGraph(inDim, outDim);
  const W = g.initializers[0].values;
  const b = g.initializers[1].values;
  const y = new Float64Array(batch * outDim);
  for (let r = 0; r < batch; r++) {
    for (let c = 0; c < outDim; c++) {
      let s = b[c];
      for (let k = 0; k < inDim; k++) s += x[r * inDim + k] * W[k * outDim + c];
      y[r * outDim + c] = s;
    }
  }
  return y;
}

function withTmp<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), "xcodec2-session-"));
  return fn(dir).finally(() => rmSync(dir, { recursive: true, force: true }));
}

describe("sessionOptions", () => {
  test("graph optimisation all, threads = cores, no memory pattern, CPU arena on", async () => {
    const o = sessionOptions(await resolveDevice("cpu"));
    assert.equal(o.graphOptimizationLevel, "all");
    assert.equal(o.intraOpNumThreads, defaultThreads());
    assert.ok(defaultThreads() >= 1);
    assert.equal(o.enableMemPattern, false);
    assert.equal(o.enableCpuMemArena, true);
    assert.equal(sessionOptions(await resolveDevice("cpu"), { cpuArena: false }).enableCpuMemArena, false);
    assert.deepEqual(o.executionProviders, ["cpu"]);
    assert.equal(sessionOptions(await resolveDevice("cpu"), { threads: 3 }).intraOpNumThreads, 3);
    assert.throws(
      () => sessionOptions({ device: "cpu", executionProviders: ["cpu"], software: false }, { threads: 0 }),
      RangeError,
    );
  });
});

describe("createSession + run", () => {
  test("runs a dynamic-batch model on cpu and matches a float64 reference", () =>
    withTmp(async (dir) => {
      const path = join(dir, "tiny.onnx");
      writeFileSync(path, tinyMatMulAddModel(64, 32));
      const logs: string[] = [];
      const s = await createSession(path, await resolveDevice("cpu"), { threads: 1, log: (m) => logs.push(m) });
      assert.equal(logs.length, 1);
      assert.match(logs[0], /^session tiny\.onnx: cpu, 1 threads, created in \d+ ms$/);
      for (const batch of [1, 7, 3]) {
        const xData = pseudoRandom(batch * 64, batch);
        const out = await run(s, { x: new ort.Tensor("float32", xData, [batch, 64]) });
        assert.deepEqual(Object.keys(out), ["y"]);
        assert.equal(out.y.type, "float32");
        assert.deepEqual(out.y.dims, [batch, 32]);
        assert.ok(maxAbsDiff(out.y.data as Float32Array, reference(xData, batch, 64, 32)) < 1e-4);
      }
      await s.release();
    }));

  test("external data next to the model is loaded because the path is passed", () =>
    withTmp(async (dir) => {
      const { model, externalData } = encodeModel({ ...tinyMatMulAddGraph(16, 8), externalDataFile: "tiny.onnx.data" });
      assert.ok(externalData && externalData.byteLength === (16 * 8 + 8) * 4);
      writeFileSync(join(dir, "tiny.onnx"), model);
      writeFileSync(join(dir, "tiny.onnx.data"), externalData);
      const s = await createSession(join(dir, "tiny.onnx"), await resolveDevice("cpu"));
      const xData = pseudoRandom(2 * 16, 9);
      const out = await run(s, { x: new ort.Tensor("float32", xData, [2, 16]) });
      assert.ok(maxAbsDiff(out.y.data as Float32Array, reference(xData, 2, 16, 8)) < 1e-5);
      await s.release();
      // And without the data file the same model must fail, naming the model path.
      rmSync(join(dir, "tiny.onnx.data"));
      await assert.rejects(
        createSession(join(dir, "tiny.onnx"), await resolveDevice("cpu")),
        (e: unknown) => e instanceof SessionError && e.message.includes(join(dir, "tiny.onnx")),
      );
    }));

  test("missing or corrupt model files give a SessionError naming the file", () =>
    withTmp(async (dir) => {
      const cpu = await resolveDevice("cpu");
      const missing = join(dir, "nope.onnx");
      await assert.rejects(createSession(missing, cpu), (e: unknown) =>
        e instanceof SessionError && e.modelPath === missing && /not found/.test(e.message));
      const corrupt = join(dir, "corrupt.onnx");
      writeFileSync(corrupt, new Uint8Array([1, 2, 3, 4, 5, 6, 7]));
      await assert.rejects(createSession(corrupt, cpu), (e: unknown) =>
        e instanceof SessionError && e.message.includes(corrupt));
      await assert.rejects(createSession(dir, cpu), SessionError); // a folder is not a model
    }));

  test("run disposes every output tensor and checks feed names", () =>
    withTmp(async (dir) => {
      const path = join(dir, "tiny.onnx");
      writeFileSync(path, tinyMatMulAddModel(4, 2));
      const s = await createSession(path, await resolveDevice("cpu"));
      const seen: ort.Tensor[] = [];
      // Same session, but remember the tensors onnxruntime hands back so we can check they were disposed.
      const spy = Object.create(s, {
        run: {
          value: async (...a: Parameters<typeof s.run>) => {
            const r = await s.run(...a);
            seen.push(...Object.values(r));
            return r;
          },
        },
      }) as ort.InferenceSession;
      const out = await run(spy, { x: new ort.Tensor("float32", pseudoRandom(4, 1), [1, 4]) });
      assert.equal(seen.length, 1);
      assert.equal(seen[0].location, "none", "output tensor was not disposed");
      assert.equal((out.y.data as Float32Array).length, 2, "returned data survives the dispose");
      await assert.rejects(run(s, {}), (e: unknown) => e instanceof TypeError && /missing: x/.test(e.message));
      await assert.rejects(
        run(s, {
          x: new ort.Tensor("float32", new Float32Array(4), [1, 4]),
          z: new ort.Tensor("float32", new Float32Array(1), [1]),
        }),
        (e: unknown) => e instanceof TypeError && /unknown: z/.test(e.message),
      );
      await assert.rejects(
        run(s, { x: new ort.Tensor("float32", new Float32Array(4), [1, 4]) }, ["nope"]),
        /unknown output\(s\) nope/,
      );
      await s.release();
    }));

  test("requireAllNodesOnDevice really rejects CPU placement (so the WebGPU test's check means something)", () =>
    withTmp(async (dir) => {
      const path = join(dir, "tiny.onnx");
      writeFileSync(path, tinyMatMulAddModel(4, 2));
      // On the CPU provider every node is "CPU fallback", so this must fail.
      await assert.rejects(
        createSession(path, await resolveDevice("cpu"), { requireAllNodesOnDevice: true }),
        /fallback to CPU EP has been explicitly disabled/,
      );
    }));
});
