/**
 * The library end to end on the CPU provider, against upstream's reference tensors: load (converted folder without
 * graphs, original checkpoint, both cached), encode (reference codes), batching (= per-item runs, caller's order),
 * decode (reference audio, 320 samples per code), encodeDetailed (reference latents), and bad inputs / devices.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { cp, readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { exportOnnx, HOP_LENGTH } from "../convert/mod.ts";
import { Xcodec2 } from "./codec.ts";
import { cudaProviderLibraries, DeviceError } from "./devices.ts";
import { InputError } from "./validate.ts";
import { maxAbsDiff } from "../fixtures/support/metrics.ts";
import {
  CLIP_NAMES,
  clipTensors,
  fragileFrames,
  readClip,
  TINY_CONVERTED,
  TINY_ORIGINAL,
} from "../fixtures/support/reference.ts";
import { tempDir } from "../fixtures/support/temp_dir.ts";

const exists = (p: string) => stat(p).then(() => true, () => false);

function collect(): { lines: string[]; log: (m: string) => void } {
  const lines: string[] = [];
  return { lines, log: (m) => lines.push(m) };
}

/** Positions where `got` differs from `want`, or throws when the lengths differ. */
function codeMismatches(got: Int32Array, want: Int32Array, what: string): number[] {
  assert.equal(got.length, want.length, `${what}: ${got.length} codes, reference has ${want.length}`);
  const out: number[] = [];
  for (let t = 0; t < want.length; t++) if (got[t] !== want[t]) out.push(t);
  return out;
}

let codec: Xcodec2;
let cacheDir: string;
let userDir: string;
const clips = new Map<string, Float32Array>();

before(async () => {
  const root = await tempDir();
  userDir = join(root, "tiny-a");
  cacheDir = join(root, "cache");
  await cp(TINY_CONVERTED, userDir, { recursive: true });
  codec = await Xcodec2.load(userDir, { device: "cpu", cacheDir, log: () => {} });
  for (const c of CLIP_NAMES) clips.set(c, await readClip(c));
});

after(async () => {
  await codec?.dispose();
});

const SLOW = { timeout: 120_000 };

describe("Xcodec2.load", () => {
  test(
    "a converted folder without onnx/ is exported into the cache, not into the folder; a second load reuses it",
    SLOW,
    async () => {
      assert.equal(await exists(join(userDir, "onnx")), false, "load must not write into the user's folder");
      assert.ok(
        codec.model.onnxDir.startsWith(cacheDir),
        `graphs in ${codec.model.onnxDir}, expected under ${cacheDir}`,
      );
      for (
        const f of ["encoder_model.onnx", "decoder_model.onnx", "encoder_model_fp16.onnx", "decoder_model_fp16.onnx"]
      ) {
        assert.ok(await exists(join(codec.model.onnxDir, f)), `${f} missing in the cache entry`);
      }
      assert.equal(codec.device, "cpu");
      assert.equal(codec.precision, "fp32", "cpu defaults to the fp32 graphs");
      assert.equal(codec.codebookSize, 65536);
      // no half-built entries left beside the real one
      assert.deepEqual((await readdir(join(cacheDir, "onnx"))).filter((n) => n.includes(".tmp-")), []);

      const { lines, log } = collect();
      const again = await Xcodec2.load(userDir, { device: "cpu", cacheDir, log });
      try {
        assert.equal(again.model.onnxDir, codec.model.onnxDir);
        assert.deepEqual(
          lines.filter((l) => /export/i.test(l)),
          [],
          `second load exported again: ${lines.join(" | ")}`,
        );
      } finally {
        await again.dispose();
      }
      await again.dispose(); // a second dispose is harmless
      await assert.rejects(again.encode([new Float32Array(320)]), /encode: this Xcodec2 was disposed/);
      await assert.rejects(again.decode([Int32Array.of(1)]), /decode: this Xcodec2 was disposed/);
    },
  );

  test(
    "an original checkpoint is converted and exported into the cache once, and encodes like the reference",
    SLOW,
    async () => {
      const first = collect();
      const orig = await Xcodec2.load(TINY_ORIGINAL, { device: "cpu", cacheDir, log: first.log });
      try {
        assert.ok(
          first.lines.some((l) => l.startsWith("converting ")),
          `no conversion logged: ${first.lines.join(" | ")}`,
        );
        assert.ok(orig.model.dir.startsWith(join(cacheDir, "converted")), orig.model.dir);
        assert.ok(await exists(join(orig.model.dir, "model.safetensors")));
        const [codes] = await orig.encode([clips.get("espeak_en")!]);
        const want = (await clipTensors("espeak_en")).get("enc.audio_codes")!.data as Int32Array;
        assert.deepEqual(codeMismatches(codes, want, "espeak_en"), []);
      } finally {
        await orig.dispose();
      }
      const second = collect();
      const again = await Xcodec2.load(TINY_ORIGINAL, { device: "cpu", cacheDir, log: second.log });
      try {
        assert.equal(again.model.dir, orig.model.dir);
        assert.deepEqual(second.lines.filter((l) => /convert|export/i.test(l)), [], second.lines.join(" | "));
      } finally {
        await again.dispose();
      }
    },
  );

  test("a missing source and an explicit fp16 request without fp16 graphs fail clearly", SLOW, async () => {
    await assert.rejects(Xcodec2.load(join(cacheDir, "nope"), { device: "cpu", cacheDir }), (e: Error) => {
      assert.ok(e instanceof InputError, `${e.name}: ${e.message}`);
      assert.match(e.message, /nope: no such file or folder/);
      return true;
    });
    const fp32Only = join(await tempDir(), "fp32-only");
    await cp(TINY_CONVERTED, fp32Only, { recursive: true });
    await exportOnnx(fp32Only, { fp16: false });
    await assert.rejects(Xcodec2.load(fp32Only, { device: "cpu", precision: "fp16", cacheDir }), (e: Error) => {
      assert.ok(e instanceof InputError, `${e.name}: ${e.message}`);
      assert.match(e.message, /fp32-only\/onnx: no fp16 graphs/);
      return true;
    });
  });

  test(
    "precision int8: the int8 decoder beside the fp32 encoder; a folder exported without it says how",
    SLOW,
    async () => {
      const dir = join(await tempDir(), "int8");
      await cp(TINY_CONVERTED, dir, { recursive: true });
      await exportOnnx(dir, { fp16: false });
      await assert.rejects(Xcodec2.load(dir, { device: "cpu", precision: "int8", cacheDir }), (e: Error) => {
        assert.ok(e instanceof InputError, `${e.name}: ${e.message}`);
        assert.match(e.message, /decoder_model_int8\.onnx: graph missing \(export it: xcodec2 export .* --int8\)/);
        return true;
      });
      await exportOnnx(dir, { fp16: false, int8: true });
      const codec = await Xcodec2.load(dir, { device: "cpu", precision: "int8", cacheDir });
      try {
        assert.equal(codec.encoderPrecision, "fp32");
        assert.equal(codec.decoderPrecision, "int8");
        const [audio] = await codec.decode([Int32Array.from({ length: 30 }, (_, i) => (i * 7919) % 65536)]);
        assert.equal(audio!.length, 30 * 320);
        assert.ok(audio!.every(Number.isFinite));
      } finally {
        await codec.dispose();
      }
    },
  );

  test("explicit cuda without the CUDA provider libraries → DeviceError saying how to install them", {
    skip: cudaProviderLibraries().missing.length === 0
      ? "onnxruntime-node's CUDA libraries are installed here"
      : undefined,
  }, async () => {
    await assert.rejects(Xcodec2.load(userDir, { device: "cuda", cacheDir }), (e: Error) => {
      assert.ok(e instanceof DeviceError, `${e.name}: ${e.message}`);
      assert.match(e.message, /device "cuda" is not available/);
      assert.match(e.message, /ONNXRUNTIME_NODE_INSTALL=cuda12/);
      return true;
    });
  });

  test("an unknown device name → DeviceError listing the choices", async () => {
    await assert.rejects(
      Xcodec2.load(userDir, { device: "tpu" as never, cacheDir }),
      (e: Error) => e instanceof DeviceError && /cpu, webgpu, cuda, auto/.test(e.message),
    );
  });
});

describe("encode / decode against upstream's reference tensors", () => {
  test(
    "encode of the 8 reference clips gives enc.audio_codes (exact except FSQ-fragile frames), in the caller's order",
    SLOW,
    async () => {
      const names = [...CLIP_NAMES];
      const codes = await codec.encode(names.map((n) => clips.get(n)!));
      assert.equal(codes.length, names.length);
      for (const [i, n] of names.entries()) {
        const want = (await clipTensors(n)).get("enc.audio_codes")!.data as Int32Array;
        const bad = codeMismatches(codes[i], want, n).filter((t) => !fragileFrames(n).includes(t));
        assert.deepEqual(bad, [], `${n}: codes differ at frames ${bad.join(", ")}`);
      }
    },
  );

  test(
    "batchSize 3 (several buckets): every item equals its own single-item encodeBatch run, in the caller's order",
    SLOW,
    async () => {
      // a deliberately unsorted order, with a duplicate, so restoring the caller's order is really tested
      const names = [
        "espeak_en",
        "speech_1000",
        "noise_16123",
        "speech_36817",
        "speech_1600",
        "speech_16001",
        "speech_1000",
      ];
      const batched = await codec.encodeDetailed(names.map((n) => clips.get(n)!), { batchSize: 3 });
      for (let i = 0; i < names.length; i++) {
        const alone = await codec.encodeBatch([clips.get(names[i])!]);
        assert.deepEqual(batched.codes[i], alone.codes[0], `${names[i]} (item ${i}): codes differ from its own run`);
        const scale = Math.max(...alone.latents[0].map(Math.abs));
        const d = maxAbsDiff(batched.latents[i], alone.latents[0]);
        assert.ok(d <= 1e-5 * scale, `${names[i]}: latents differ by ${d} (scale ${scale})`);
      }
    },
  );

  test(
    "a batch of one-code clips (padded by one masked frame) gives each clip what it gives beside a longer clip",
    SLOW,
    async () => {
      const speech = clips.get("speech_1600")!;
      const short = [speech.slice(0, 100), speech.slice(400, 718)]; // 1 code each: the batch gets the masked frame
      const padded = await codec.encodeBatch(short);
      const unpadded = await codec.encodeBatch([...short, speech]); // the longest clip has 6 codes: no padding
      for (let i = 0; i < short.length; i++) {
        assert.equal(padded.codes[i].length, 1);
        assert.deepEqual(padded.codes[i], unpadded.codes[i], `clip ${i}: codes differ`);
        const scale = Math.max(...unpadded.latents[i].map(Math.abs));
        const d = maxAbsDiff(padded.latents[i], unpadded.latents[i]);
        assert.ok(d <= 1e-5 * scale, `clip ${i}: latents differ by ${d} (scale ${scale})`);
      }
    },
  );

  test(
    "decode of the reference codes gives dec.audio_values within 1e-5, exactly 320 samples per code",
    SLOW,
    async () => {
      const names = [...CLIP_NAMES];
      const refs = await Promise.all(names.map((n) => clipTensors(n)));
      const codes = refs.map((r) => r.get("enc.audio_codes")!.data as Int32Array);
      const audio = await codec.decode(codes, { batchSize: 4 });
      names.forEach((n, i) => {
        assert.equal(
          audio[i].length,
          codes[i].length * HOP_LENGTH,
          `${n}: ${audio[i].length} samples for ${codes[i].length} codes`,
        );
        const d = maxAbsDiff(audio[i], refs[i].get("dec.audio_values")!.data as Float32Array);
        assert.ok(d <= 1e-5, `${n}: audio differs from the reference by ${d}`);
      });
    },
  );

  test(
    "encodeDetailed latents equal enc.latents within 1e-5 relative, FSQ inputs enc.fsq_input within 1e-4",
    SLOW,
    async () => {
      const names = ["speech_1600", "noise_16123", "espeak_en"];
      const r = await codec.encodeDetailed(names.map((n) => clips.get(n)!));
      for (const [i, n] of names.entries()) {
        const ref = await clipTensors(n);
        const lat = ref.get("enc.latents")!;
        assert.deepEqual(lat.shape, [1, codec.config.quantization_dim, r.codes[i].length]);
        const want = lat.data as Float32Array;
        const scale = Math.max(...want.map(Math.abs));
        const d = maxAbsDiff(r.latents[i], want);
        assert.ok(d <= 1e-5 * scale, `${n}: latents differ by ${d} (scale ${scale})`);
        const fsq = ref.get("enc.fsq_input")!.data as Float32Array;
        const df = maxAbsDiff(r.fsqInput[i], fsq);
        assert.ok(df <= 1e-4, `${n}: FSQ inputs differ by ${df}`);
      }
    },
  );
});

describe("bad inputs: a clear InputError naming the item", () => {
  const ok = new Float32Array(800).fill(0.1);
  const cases: [string, () => Promise<unknown>, RegExp][] = [
    ["empty clip list", () => codec.encode([]), /encode: no clips given/],
    ["empty code list", () => codec.decode([]), /decode: no code sequences given/],
    ["not an array", () => codec.encode(ok as never), /expected an array/],
    ["empty clip", () => codec.encode([ok, new Float32Array(0)]), /clip 1: empty/],
    ["NaN sample", () => codec.encode([ok, ok, Float32Array.of(0, NaN, 0)]), /clip 2: sample 1 is NaN/],
    ["Infinity sample", () => codec.encode([Float32Array.of(0, 0, -Infinity)]), /clip 0: sample 2 is -Infinity/],
    [
      "Float64Array clip",
      () => codec.encode([new Float64Array(10) as never]),
      /clip 0: expected a Float32Array.*got Float64Array/,
    ],
    ["plain-array clip", () => codec.encode([ok, [0.1, 0.2] as never]), /clip 1: expected a Float32Array.*got Array/],
    [
      "code above 65535",
      () => codec.decode([Int32Array.of(1, 2), Int32Array.of(0, 65536)]),
      /codes 1: code 65536 at position 1 is outside \[0, 65535\]/,
    ],
    ["negative code", () => codec.decode([Int32Array.of(-1)]), /codes 0: code -1 at position 0 is outside/],
    [
      "Float32Array codes",
      () => codec.decode([new Float32Array(3) as never]),
      /codes 0: expected an Int32Array, got Float32Array/,
    ],
    [
      "BigInt64Array codes",
      () => codec.decode([new BigInt64Array(3) as never]),
      /codes 0: expected an Int32Array, got BigInt64Array/,
    ],
    ["empty code sequence", () => codec.decode([Int32Array.of(5), new Int32Array(0)]), /codes 1: empty/],
    ["encodeBatch with an empty clip", () => codec.encodeBatch([new Float32Array(0)]), /clip 0: empty/],
    ["decodeBatch with a bad code", () => codec.decodeBatch([Int32Array.of(70000)]), /codes 0: code 70000/],
  ];
  for (const [what, call, message] of cases) {
    test(what, async () => {
      await assert.rejects(call(), (e: Error) => {
        assert.ok(e instanceof InputError, `expected InputError, got ${e.name}: ${e.message}`);
        assert.match(e.message, message);
        return true;
      });
    });
  }

  test("batchSize must be a positive integer", async () => {
    await assert.rejects(codec.encode([ok], { batchSize: 0 }), /batchSize must be a positive integer/);
  });
});
