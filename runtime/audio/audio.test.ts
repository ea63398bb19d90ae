import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AudioError, decodeAudioBytes, readAudio, writeWav } from "./mod.ts";
import { encodeSilentMp3, encodeTestFlac, encodeTestWav, pcmValue } from "../../fixtures/audio/encoders.ts";
import { clipPath, clipTensors } from "../../fixtures/support/reference.ts";
import { referenceIndex } from "../../parity/reference.ts";

const cases = referenceIndex();

async function expectAudioError(p: Promise<unknown>, problem: string, file: string, message?: RegExp) {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof AudioError, `expected AudioError, got ${e}`);
    assert.equal(e.problem, problem, e.message);
    assert.equal(e.file, file);
    assert.ok(e.message.startsWith(file), e.message);
    if (message) assert.match(e.message, message);
    return true;
  });
}

const sine = (n: number, k = 1, amp = 0.5) => Float64Array.from({ length: n }, (_, i) => amp * Math.sin(i * 0.05 * k));

describe("reference clips", () => {
  for (const [name, info] of Object.entries(cases.clips)) {
    test(`${name} reads as exactly the samples the reference fed the model`, async () => {
      const a = await readAudio(clipPath(name));
      assert.equal(a.samples.length, info.samples);
      assert.equal(a.sampleRate, 16000);
      assert.equal(a.sourceRate, 16000);
      assert.equal(a.channels, 1);
      const iv = (await clipTensors(name)).get(
        "fe.input_values",
      )!;
      assert.deepEqual(a.samples, (iv.data as Float32Array).subarray(0, info.samples));
    });
  }
});

describe("WAV encodings", () => {
  const layouts: { format: "pcm" | "float"; bits: number; extensible?: boolean }[] = [
    { format: "pcm", bits: 8 },
    { format: "pcm", bits: 16 },
    { format: "pcm", bits: 24 },
    { format: "pcm", bits: 32 },
    { format: "float", bits: 32 },
    { format: "float", bits: 64 },
    { format: "pcm", bits: 16, extensible: true },
    { format: "pcm", bits: 24, extensible: true },
    { format: "float", bits: 32, extensible: true },
  ];
  for (const l of layouts) {
    test(`${l.format} ${l.bits}-bit${l.extensible ? " (WAVE_FORMAT_EXTENSIBLE)" : ""}, stereo downmixed`, async () => {
      const left = sine(700, 1), right = sine(700, 3, 0.25);
      const bytes = encodeTestWav({ ...l, sampleRate: 16000, channels: [left, right] });
      const a = await decodeAudioBytes(bytes, "x.wav");
      assert.equal(a.channels, 2);
      assert.equal(a.samples.length, 700);
      // Each channel is decoded to float32, then averaged.
      const q = (x: number) => Math.fround(l.format === "float" ? x : pcmValue(x, l.bits) / 2 ** (l.bits - 1));
      for (let i = 0; i < 700; i++) {
        const expected = Math.fround((q(left[i]) + q(right[i])) / 2);
        assert.equal(a.samples[i], expected, `sample ${i}`);
      }
    });
  }
});

describe("writeWav round trip", () => {
  const dir = mkdtempSync(join(tmpdir(), "xcodec2-audio-"));
  const samples = Float32Array.from(sine(4321, 2, 0.9));
  samples[5] = 1.5; // out of range: kept by f32, clipped by pcm16
  samples[6] = -1;

  test("f32 is exact", async () => {
    const p = join(dir, "a.wav");
    await writeWav(p, samples);
    const a = await readAudio(p);
    assert.deepEqual(a.samples, samples);
    assert.equal(a.sampleRate, 16000);
  });
  test("pcm16 rounds to the 1/32768 grid and clips", async () => {
    const p = join(dir, "b.wav");
    await writeWav(p, samples, { format: "pcm16" });
    const a = await readAudio(p);
    assert.equal(a.samples.length, samples.length);
    for (let i = 0; i < samples.length; i++) {
      const want = Math.max(-32768, Math.min(32767, Math.round(samples[i] * 32768))) / 32768;
      assert.equal(a.samples[i], want, `sample ${i}`);
    }
    assert.equal(a.samples[6], -1);
    assert.equal(a.samples[5], 32767 / 32768);
  });
  test("no temporary files are left, and existing files are replaced whole", async () => {
    const p = join(dir, "c.wav");
    writeFileSync(p, "old contents");
    await writeWav(p, samples.subarray(0, 10), { sampleRate: 8000 });
    assert.deepEqual(readdirSync(dir).filter((f) => f.includes(".tmp")), []);
    await expectAudioError(readAudio(p), "sample-rate", p, /8000 Hz.*resampl/);
  });
  test("a write into a missing folder is an AudioError and leaves nothing", async () => {
    const p = join(dir, "missing", "d.wav");
    await expectAudioError(writeWav(p, samples), "write-failed", p);
    assert.ok(!readdirSync(dir).includes("missing"));
  });
  test("cleanup", () => rmSync(dir, { recursive: true, force: true }));
});

describe("FLAC and MP3", () => {
  test("FLAC (hand-encoded, VERBATIM subframes) decodes to exactly int16/32768", async () => {
    const ints = Int16Array.from(
      { length: 1000 },
      (_, i) => (i === 3 ? -32768 : i === 4 ? 32767 : Math.round(Math.sin(i * 0.1) * 20000)),
    );
    const a = await decodeAudioBytes(encodeTestFlac([ints], 16000), "x.flac");
    assert.equal(a.samples.length, 1000);
    assert.deepEqual(a.samples, Float32Array.from(ints, (v) => v / 32768));
  });
  test("stereo 44.1 kHz FLAC is refused without resampling, and resampled to 16 kHz when asked", async () => {
    const n = 44100;
    const l = Int16Array.from({ length: n }, (_, i) => Math.round(10000 * Math.sin((2 * Math.PI * 440 * i) / 44100)));
    const bytes = encodeTestFlac([l, l], 44100, 4096);
    await expectAudioError(decodeAudioBytes(bytes, "s.flac"), "sample-rate", "s.flac", /44100 Hz/);
    const a = await decodeAudioBytes(bytes, "s.flac", { resample: true });
    assert.equal(a.sourceRate, 44100);
    assert.equal(a.channels, 2);
    assert.ok(Math.abs(a.samples.length - 16000) <= 1, `${a.samples.length} samples`);
    // A 440 Hz tone survives: compare with the ideal tone in the middle (away from filter edges).
    let err = 0;
    for (let i = 2000; i < 14000; i++) {
      err = Math.max(err, Math.abs(a.samples[i] - (10000 / 32768) * Math.sin((2 * Math.PI * 440 * i) / 16000)));
    }
    assert.ok(err < 1e-3, `resampled tone error ${err}`);
  });
  test("corrupt FLAC is an AudioError", async () => {
    const good = encodeTestFlac([new Int16Array(600).fill(100)], 16000);
    const bad = good.slice();
    for (let i = 60; i < bad.length; i++) bad[i] ^= 0x5a;
    await expectAudioError(decodeAudioBytes(bad, "bad.flac"), "decode-failed", "bad.flac");
    await expectAudioError(decodeAudioBytes(good.subarray(0, 42), "cut.flac"), "decode-failed", "cut.flac");
  });
  test("MP3 (generated MPEG-2 layer III silence at 16 kHz) decodes", async () => {
    const a = await decodeAudioBytes(encodeSilentMp3(20), "x.mp3");
    assert.equal(a.sourceRate, 16000);
    assert.equal(a.samples.length, 20 * 576);
    assert.ok(a.samples.every((v) => v === 0));
  });
  test("garbage that looks like MP3 is an AudioError", async () => {
    const junk = Uint8Array.from({ length: 3000 }, (_, i) => (i * 7919) & 0xff);
    junk[0] = 0xff;
    junk[1] = 0xfb;
    await expectAudioError(decodeAudioBytes(junk, "junk.mp3"), "decode-failed", "junk.mp3");
    await expectAudioError(
      decodeAudioBytes(Uint8Array.from([0x49, 0x44, 0x33, 4, 0, 0, 0, 0, 0, 0]), "id3.mp3"),
      "decode-failed",
      "id3.mp3",
    );
  });
});

describe("bad input", () => {
  const good = encodeTestWav({ format: "pcm", bits: 16, sampleRate: 16000, channels: [Float64Array.from(sine(500))] });
  const patched = (at: number, bytes: number[] | string, base = good) => {
    const b = base.slice();
    if (typeof bytes === "string") { for (let i = 0; i < bytes.length; i++) b[at + i] = bytes.charCodeAt(i); }
    else b.set(bytes, at);
    return b;
  };
  const u32 = (v: number) => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24];

  test("truncated WAV", async () => {
    await expectAudioError(
      decodeAudioBytes(good.subarray(0, good.length - 100), "t.wav"),
      "malformed",
      "t.wav",
      /truncated/,
    );
    await expectAudioError(decodeAudioBytes(good.subarray(0, 30), "t.wav"), "malformed", "t.wav");
    await expectAudioError(decodeAudioBytes(good.subarray(0, 8), "t.wav"), "malformed", "t.wav");
  });
  test("wrong header", async () => {
    await expectAudioError(decodeAudioBytes(patched(8, "AVI "), "h.wav"), "malformed", "h.wav", /WAVE/);
    await expectAudioError(decodeAudioBytes(patched(12, "junk"), "h.wav"), "malformed", "h.wav", /fmt/);
    await expectAudioError(decodeAudioBytes(patched(0, "OggS"), "h.wav"), "unknown-format", "h.wav");
    await expectAudioError(decodeAudioBytes(new Uint8Array(0), "e.wav"), "empty", "e.wav");
  });
  test("huge declared data size", async () => {
    await expectAudioError(
      decodeAudioBytes(patched(40, u32(0x7ffffff0)), "big.wav"),
      "malformed",
      "big.wav",
      /2147483632/,
    );
    await expectAudioError(decodeAudioBytes(patched(16, u32(0xfffffff0)), "big.wav"), "malformed", "big.wav");
  });
  test("zero channels, absurd channel count, zero rate, bad block align", async () => {
    await expectAudioError(decodeAudioBytes(patched(22, [0, 0]), "z.wav"), "malformed", "z.wav", /zero channels/);
    await expectAudioError(
      decodeAudioBytes(patched(22, [0xff, 0xff]), "z.wav"),
      "malformed",
      "z.wav",
      /65535 channels/,
    );
    await expectAudioError(decodeAudioBytes(patched(24, u32(0)), "z.wav"), "malformed", "z.wav", /sample rate/);
    await expectAudioError(decodeAudioBytes(patched(32, [6, 0]), "z.wav"), "malformed", "z.wav", /block align/);
  });
  test("unsupported encodings", async () => {
    await expectAudioError(decodeAudioBytes(patched(34, [12, 0]), "u.wav"), "unsupported", "u.wav", /12 bits/);
    await expectAudioError(decodeAudioBytes(patched(20, [6, 0]), "u.wav"), "unsupported", "u.wav", /A-law/);
    await expectAudioError(decodeAudioBytes(patched(0, "RF64"), "u.wav"), "malformed", "u.wav", /RF64/);
  });
  test("a WAV with no samples", async () => {
    const empty = encodeTestWav({ format: "float", bits: 32, sampleRate: 16000, channels: [new Float64Array(0)] });
    await expectAudioError(decodeAudioBytes(empty, "n.wav"), "empty", "n.wav");
  });
  test("missing file", async () => {
    await expectAudioError(readAudio("/nonexistent/x.wav"), "unreadable", "/nonexistent/x.wav");
  });
  test("every truncation and many corruptions give a result or an AudioError, never anything else", async () => {
    const flac = encodeTestFlac([new Int16Array(300).fill(7)], 16000, 128);
    for (const [base, name] of [[good, "f.wav"], [flac, "f.flac"]] as const) {
      for (let cut = 0; cut <= base.length; cut += base === good ? 7 : 13) {
        try {
          await decodeAudioBytes(base.subarray(0, cut), name);
        } catch (e) {
          assert.ok(e instanceof AudioError, `cut ${cut}: ${e}`);
        }
      }
    }
    let seed = 1;
    for (let k = 0; k < 300; k++) {
      const b = good.slice(0, 44 + 40);
      for (let j = 0; j < 3; j++) {
        seed = (seed * 1103515245 + 12345) >>> 0;
        b[seed % 44] = seed >>> 24;
      }
      try {
        const a = await decodeAudioBytes(b, "fuzz.wav", { resample: false });
        assert.ok(a.samples.length > 0);
      } catch (e) {
        assert.ok(e instanceof AudioError, `corruption ${k}: ${e}`);
      }
    }
  });
});
