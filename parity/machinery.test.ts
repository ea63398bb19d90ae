/**
 * The parity suite's own machinery, on the pure-TS test codec (no ONNX): the batch properties pass on a per-sample
 * exact codec and find a shrunk counterexample on a leaking one; tie detection agrees with the reference data;
 * report JSON / table / HTML; kit + --against round trip.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inflateSync } from "node:zlib";
import { HOP_LENGTH, openSafetensors, writeSafetensors } from "../convert/mod.ts";
import { makeTestCodec } from "../fixtures/support/test_codec.ts";
import { TINY_CONVERTED } from "../fixtures/support/reference.ts";
import { compareAgainstKit } from "./against.ts";
import { batchItems, CI_SIZES, renderClip, renderCodes, type Sources } from "./arbitraries.ts";
import { runParityCommand } from "./cli.ts";
import { minMargin, tieFrames } from "./fsq_ties.ts";
import { renderHtml } from "./html.ts";
import { kitTensor, readKitManifest, writeParityKit } from "./kit.ts";
import { relL2 } from "./metrics.ts";
import { encodePng } from "./png.ts";
import { batchDecodeProperty, batchEncodeProperty, suiteCanFailProperty } from "./properties/mod.ts";
import { readCaseTensors, referenceIndex } from "./reference.ts";
import { formatTable, makeReport, reportJson } from "./report.ts";
import { loadSources } from "./sources.ts";
import { bytesToFloat32, bytesToInt32, float32Bytes, int32Bytes } from "./tensor_data.ts";

const small = { ...CI_SIZES, maxClipSamples: 8000, maxCodes: 60 };
let sourcesP: Promise<Sources> | undefined;
const sources = () => (sourcesP ??= loadSources());

describe("batch properties on the test codec", () => {
  test("a per-sample exact codec passes properties 1 and 2", async () => {
    const codec = makeTestCodec({ masks: true });
    const r1 = await batchEncodeProperty(codec, { runs: 25, seed: 11, sources: await sources(), sizes: small });
    const r2 = await batchDecodeProperty(codec, { runs: 25, seed: 11, sources: await sources(), sizes: small });
    assert.equal(r1.status, "pass", r1.reason ?? "");
    assert.equal(r2.status, "pass", r2.reason ?? "");
    assert.equal(r1.cases, 25);
    assert.equal(r1.codeAgreement, 1);
    assert.equal(r2.maxError, 0);
  });

  test("a leaking codec fails both, with a shrunk counterexample and a replayable seed + path", async () => {
    const leaky = makeTestCodec({ masks: false });
    const r1 = await batchEncodeProperty(leaky, { runs: 50, seed: 5, sources: await sources(), sizes: small });
    assert.equal(r1.status, "fail");
    assert.equal(r1.failures, 1);
    assert.ok(r1.counterexample && /batch of [2-8]/.test(r1.counterexample), r1.counterexample ?? "");
    assert.ok(r1.path && r1.reason?.includes(`--seed 5 --path ${r1.path}`), r1.reason ?? "");
    assert.ok(r1.codeAgreement < 1, "agreement");
    // replaying the path reproduces the failure at once
    const replay = await batchEncodeProperty(leaky, {
      runs: 1,
      seed: 5,
      path: r1.path,
      sources: await sources(),
      sizes: small,
    });
    assert.equal(replay.status, "fail");
    assert.equal(replay.counterexample, r1.counterexample);
    const r2 = await batchDecodeProperty(leaky, { runs: 50, seed: 5, sources: await sources(), sizes: small });
    assert.equal(r2.status, "fail");
    assert.ok(r2.maxError > 1e-5);
    assert.ok(r2.worst && r2.worst.a.length === r2.worst.b.length && r2.worst.a.length % HOP_LENGTH === 0);
  });

  test("property 6 passes on a leaking codec and fails on an exact one", async () => {
    const caught = await suiteCanFailProperty(makeTestCodec({ masks: false }), {
      runs: 30,
      seed: 3,
      sources: await sources(),
      sizes: small,
    });
    assert.equal(caught.status, "pass", caught.reason ?? "");
    assert.match(caught.counterexample ?? "", /1 on mask-free export: .*\| 2 on mask-free export: /);
    const missed = await suiteCanFailProperty(makeTestCodec({ masks: true }), {
      runs: 10,
      seed: 3,
      sources: await sources(),
      sizes: small,
    });
    assert.equal(missed.status, "fail");
    assert.equal(missed.failures, 2);
  });

  test("a codec that throws is a failure with the error in the reason, not a crash", async () => {
    const codec = makeTestCodec({ masks: true });
    const broken = {
      ...codec,
      encodeBatch: async () => {
        throw new Error("boom");
      },
    };
    const r = await batchEncodeProperty(broken, { runs: 5, seed: 1, sources: await sources(), sizes: small });
    assert.equal(r.status, "fail");
    assert.match(r.reason ?? "", /threw Error: boom/);
  });
});

describe("generators", () => {
  test("clips and code sequences render deterministically with the requested lengths and ranges", async () => {
    const s = await sources();
    for (const kind of ["speech", "noise", "silence", "clipped", "tone"] as const) {
      const spec = { kind, length: 321, source: 3, offset: 77, gain: 0.5 };
      const a = renderClip(spec, s), b = renderClip(spec, s);
      assert.equal(a.length, 321);
      assert.deepEqual(a, b);
      assert.ok(a.every((v) => v >= -1 && v <= 1 && Number.isFinite(v)), kind);
    }
    assert.ok(renderClip({ kind: "clipped", length: 4000, source: 0, offset: 0, gain: 1 }, s).some((v) => v === 1));
    const codes = renderCodes({ kind: "random", length: 300, seed: 9 }, s);
    assert.ok(codes.every((c) => c >= 0 && c < 65536));
    assert.equal(renderCodes({ kind: "real", length: 5, source: 0, offset: 0 }, s)[0], s.codes[0].codes[0]);
    assert.deepEqual(batchItems({ duplicates: [0, 5, 1] }, 2, 8), [0, 1, 0, 1, 1]);
    assert.deepEqual(batchItems({ duplicates: [0, 1, 2] }, 7, 8), [0, 1, 2, 3, 4, 5, 6, 0]);
  });
});

describe("FSQ ties", () => {
  test("tie frames and minimum margins match the reference data's fragile frames", async () => {
    const index = referenceIndex();
    let checked = 0;
    for (const [key, c] of Object.entries(index.cases)) {
      if (c.kind !== "single") continue;
      const fsq = (await readCaseTensors(index, key)).get("enc.fsq_input")!.data as Float32Array;
      assert.deepEqual(tieFrames(fsq, [4, 4, 4, 4, 4, 4, 4, 4], 1e-4), c["fsq_fragile_frames_1e-4"], key);
      assert.deepEqual(tieFrames(fsq, [4, 4, 4, 4, 4, 4, 4, 4], 1e-3), c["fsq_fragile_frames_1e-3"], key);
      assert.ok(Math.abs(minMargin(fsq, [4, 4, 4, 4, 4, 4, 4, 4]) - (c.fsq_min_margin as number)) < 1e-6, key);
      checked++;
    }
    assert.equal(checked, 8);
  });
});

describe("report", () => {
  const props = [
    {
      name: "1 batch=loop encode",
      status: "pass" as const,
      cases: 3,
      failures: 0,
      maxError: 0,
      errorMetric: "x",
      codeAgreement: 1,
      ties: 2,
      seed: 9,
    },
    {
      name: "2 batch=loop decode",
      status: "fail" as const,
      cases: 2,
      failures: 1,
      maxError: Infinity,
      errorMetric: "y",
      codeAgreement: 1,
      ties: 0,
      seed: 9,
      reason: "lengths differ",
      worst: {
        title: "w",
        a: new Float32Array(3200).map((_, i) => Math.sin(i / 9)),
        b: new Float32Array(3200).map((_, i) => Math.sin(i / 9) * 0.9),
        aLabel: "batched",
        bLabel: "alone",
        error: 0.1,
      },
    },
    {
      name: "5 device=device",
      status: "not-run" as const,
      cases: 0,
      failures: 0,
      maxError: 0,
      errorMetric: "z",
      codeAgreement: 1,
      ties: 0,
      seed: 9,
      reason: "no webgpu",
    },
  ];

  test("JSON has exactly the issue's top-level shape and the six fields per property", () => {
    const json = JSON.parse(JSON.stringify(reportJson(makeReport("cpu", 9, props))));
    assert.deepEqual(Object.keys(json).slice(0, 4), ["ok", "device", "seed", "properties"]);
    assert.equal(json.ok, false);
    assert.equal(json.device, "cpu");
    assert.equal(json.seed, 9);
    for (const p of json.properties) {
      assert.deepEqual(Object.keys(p).slice(0, 6), ["name", "cases", "failures", "maxError", "codeAgreement", "ties"]);
      assert.equal(p.worst, undefined);
    }
    assert.equal(json.properties[1].maxError, null);
    assert.equal(makeReport("cpu", 9, [props[0], props[2]]).ok, true, "not-run is not a failure");
  });

  test("table names every property and explains failures", () => {
    const t = formatTable(makeReport("cpu", 9, props));
    for (const p of props) assert.ok(t.includes(p.name));
    assert.match(t, /2 batch=loop decode: FAIL — lengths differ/);
    assert.match(t, /5 device=device: not run — no webgpu/);
  });

  test("HTML is one self-contained file with waveform SVGs and decodable PNG spectrograms", () => {
    const html = renderHtml(makeReport("cpu", 9, props));
    assert.ok(!/<script|src="http|href="http/.test(html));
    assert.equal((html.match(/<svg /g) ?? []).length, 2);
    const pngs = [...html.matchAll(/data:image\/png;base64,([A-Za-z0-9+/=]+)/g)].map((m) =>
      Buffer.from(m[1], "base64")
    );
    assert.equal(pngs.length, 3);
    for (const p of pngs) {
      assert.deepEqual([...p.subarray(0, 8)], [137, 80, 78, 71, 13, 10, 26, 10]);
      const w = p.readUInt32BE(16), h = p.readUInt32BE(20);
      const idat = p.indexOf("IDAT");
      const len = p.readUInt32BE(idat - 4);
      assert.equal(inflateSync(p.subarray(idat + 4, idat + 4 + len)).length, h * (1 + 3 * w));
    }
  });

  test("PNG encoder rejects a wrong buffer size", () => {
    assert.throws(() => encodePng(2, 2, new Uint8Array(11)), /12|11/);
  });
});

describe("parity kit and --against", () => {
  test("our outputs against our kit pass; perturbed codes and audio fail; missing tensors fail", async () => {
    const dir = await mkdtemp(join(tmpdir(), "xcodec2-kit-test-"));
    try {
      const kitDir = join(dir, "kit");
      const codec = makeTestCodec({ masks: true });
      const manifest = await writeParityKit(kitDir, codec, TINY_CONVERTED);
      assert.equal((await readKitManifest(kitDir)).clips.length, manifest.clips.length);
      assert.ok(manifest.clips.length >= 12);
      assert.match(await readFile(join(kitDir, "README.md"), "utf8"), /audio_codes.*\n?.*audio_values/s);
      // "their" outputs: recompute from the kit's WAVs with the same codec (int64 codes to exercise that dtype)
      const { readAudio } = await import("../runtime/audio/mod.ts");
      const { extractFeatures } = await import("../runtime/features/mod.ts");
      const expected = await openSafetensors(join(kitDir, "expected.safetensors"));
      const build = async (perturb: "none" | "audio" | "codes" | "drop") => {
        const tensors: { name: string; dtype: "F32" | "I64"; shape: number[]; data: Uint8Array }[] = [];
        for (const [i, c] of manifest.clips.entries()) {
          const samples = (await readAudio(join(kitDir, c.file))).samples;
          const enc = await codec.encodeBatch([samples]);
          const expCodes = bytesToInt32(await expected.read(kitTensor.codes(c.name)), "I32", "codes");
          const [audio] = await codec.decodeBatch([expCodes]);
          if (perturb === "audio" && i === 2) audio[100] += 1e-3;
          if (perturb === "codes" && i === 3) enc.codes[0][0] = (enc.codes[0][0] + 1) % 65536;
          const i64 = new Uint8Array(enc.codes[0].length * 8);
          enc.codes[0].forEach((v, t) => new DataView(i64.buffer).setBigInt64(t * 8, BigInt(v), true));
          tensors.push({
            name: kitTensor.features(c.name),
            dtype: "F32",
            shape: [extractFeatures(samples).features.length],
            data: float32Bytes(extractFeatures(samples).features),
          });
          if (!(perturb === "drop" && i === 0)) {
            tensors.push({
              name: kitTensor.codes(c.name),
              dtype: "I64",
              shape: [1, 1, enc.codes[0].length],
              data: i64,
            });
          }
          tensors.push({
            name: kitTensor.audio(c.name),
            dtype: "F32",
            shape: [1, audio.length],
            data: float32Bytes(audio),
          });
        }
        const file = join(dir, `outputs_${perturb}.safetensors`);
        await writeSafetensors(file, tensors);
        return file;
      };
      const ok = await compareAgainstKit(await build("none"), kitDir);
      assert.equal(ok.ok, true, formatTable(ok));
      assert.deepEqual(ok.properties.map((p) => p.status), ["pass", "pass", "pass"]);
      assert.equal(ok.properties[1].codeAgreement, 1);
      const badAudio = await compareAgainstKit(await build("audio"), kitDir);
      assert.deepEqual(badAudio.properties.map((p) => p.status), ["pass", "pass", "fail"]);
      assert.ok(Math.abs(badAudio.properties[2].maxError - 1e-3) < 1e-6);
      const badCodes = await compareAgainstKit(await build("codes"), kitDir);
      assert.equal(badCodes.properties[1].status, "fail");
      assert.match(badCodes.properties[1].reason ?? "", /first 0/);
      const dropped = await compareAgainstKit(await build("drop"), kitDir);
      assert.match(dropped.properties[1].reason ?? "", /missing/);
      // the CLI: same table, exit codes, JSON file
      const json = join(dir, "r.json");
      assert.equal(
        await runParityCommand(["--against", await build("none"), "--kit", kitDir, "--json", json, "--quiet"]),
        0,
      );
      assert.equal(JSON.parse(await readFile(json, "utf8")).ok, true);
      assert.equal(await runParityCommand(["--against", await build("audio"), "--kit", kitDir, "--quiet"]), 1);
      await expected.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test("usage errors exit 2 with a message", async () => {
    assert.equal(await runParityCommand(["--runs"]), 2);
    assert.equal(await runParityCommand(["a", "b"]), 2);
    assert.equal(await runParityCommand(["dir", "--only", "7"]), 2);
    assert.equal(await runParityCommand(["dir", "--frobnicate"]), 2);
  });

  test("bad kit input is a typed error naming the file", async () => {
    const dir = await mkdtemp(join(tmpdir(), "xcodec2-kit-bad-"));
    try {
      await writeFile(join(dir, "kit.json"), "{ nope");
      await assert.rejects(readKitManifest(dir), /kit\.json: not a readable parity kit/);
      await assert.rejects(runParityCommand(["--against", join(dir, "x.safetensors")]), /kit\.json/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

test("relL2 treats silence vs silence as 0 and length mismatch as inf", () => {
  assert.equal(relL2(new Float32Array(4), new Float32Array(4)), 0);
  assert.equal(relL2(new Float32Array(4), new Float32Array(5)), Infinity);
  assert.equal(int32Bytes(new Int32Array([1])).length, 4);
  assert.equal(bytesToFloat32(float32Bytes(new Float32Array([1.5])), "F32", "x")[0], 1.5);
});
