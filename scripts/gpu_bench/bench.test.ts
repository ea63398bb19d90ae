import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { type DeviceResult, type Figures, gpuTargets, timeBoth, type UpstreamResult } from "./bench.ts";

const figures = (b1: number, bn: number): Figures => ({
  batch1: { perClip: b1, rounds: [b1 * 8] },
  batchN: { perClip: bn, rounds: [bn * 8] },
  batchedSpeedup: b1 / bn,
});
const device = (name: "webgpu" | "cuda", f: number, software = false): DeviceResult => ({
  device: name,
  ok: true,
  software,
  runs: {
    "encode fp32": figures(f, f / 2),
    "decode fp32": figures(f / 10, f / 20),
    "decode fp16": figures(f / 20, f / 40),
  },
});
const upstream: UpstreamResult = {
  ok: true,
  runs: { "encode fp32": figures(0.6, 0.5), "decode fp32": figures(0.06, 0.05) },
};

describe("GPU benchmark targets", () => {
  test("ours against upstream uses the best hardware device, fp32 against fp32; batched speedups per device", () => {
    const t = gpuTargets([device("webgpu", 0.4), device("cuda", 0.3)], upstream);
    const by = Object.fromEntries(t.map((x) => [x.id, x]));
    assert.equal(by.encode_batch1_vs_upstream!.value, 0.6 / 0.3);
    assert.equal(by.encode_batchN_vs_upstream!.value, 0.5 / 0.15);
    assert.equal(by.decode_batch1_vs_upstream!.value, 0.06 / 0.03);
    assert.equal(by.webgpu_encode_fp32_batched!.value, 2);
    assert.equal(by.webgpu_encode_fp32_batched!.pass, true);
    assert.equal(t.filter((x) => x.id.endsWith("_batched")).length, 6);
  });

  test("a software adapter counts for nothing; a failed upstream leaves the ratios unmeasured", () => {
    const t = gpuTargets([device("webgpu", 0.01, true)], upstream);
    assert.ok(t.every((x) => x.value === null && x.pass === null), JSON.stringify(t));
    const u = gpuTargets([device("cuda", 1)], { ok: false, error: "no xcodec2", runs: {} });
    assert.equal(u.find((x) => x.id === "encode_batch1_vs_upstream")!.pass, null);
    assert.equal(u.find((x) => x.id === "encode_batch1_vs_upstream")!.value, null);
    assert.equal(u.find((x) => x.id === "cuda_encode_fp32_batched")!.pass, true);
    assert.equal(
      gpuTargets([device("cuda", 10)], upstream).find((x) => x.id === "encode_batch1_vs_upstream")!.pass,
      false,
    );
  });

  test("timeBoth warms up both shapes, then times the loop and the batch per round", async () => {
    const calls: string[] = [];
    const f = await timeBoth(3, 2, async (i) => void calls.push(`one${i}`), async () => void calls.push("all"));
    assert.deepEqual(calls, ["one0", "all", "one0", "one1", "one2", "all", "one0", "one1", "one2", "all"]);
    assert.equal(f.batch1.rounds.length, 2);
    assert.equal(f.batchN.rounds.length, 2);
    for (const x of [f.batch1.perClip, f.batchN.perClip]) assert.ok(Number.isFinite(x) && x >= 0, String(x));
  });
});
