/**
 * The `xcodec2` command as a user runs it: a child process (Bun, as `npx bun bin/xcodec2.ts` runs it, and through the
 * npm bin bin/xcodec2.js), exit codes, stderr, and the files it writes or, on refusal, does not write.
 */
import { before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { copyFile, mkdir, readdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { codesForSamples, HOP_LENGTH } from "../convert/mod.ts";
import { readAudio } from "../runtime/audio/mod.ts";
import { encodeTestFlac, encodeTestWav } from "../fixtures/audio/encoders.ts";
import { encodeNpyInt32, readCodesFile } from "../runtime/codes_io.ts";
import { Xcodec2 } from "../runtime/codec.ts";
import { preparedTinyModel } from "../fixtures/support/prepared_model.ts";
import { clipPath, readClip } from "../fixtures/support/reference.ts";
import { tempDir } from "../fixtures/support/temp_dir.ts";
import { type Ran, runCli } from "../fixtures/support/cli_process.ts";

const SLOW = { timeout: 120_000 };

/** `xcodec2 …` under Bun, as `npx bun bin/xcodec2.ts` runs it. */
const xcodec2 = (...args: string[]) => runCli(args, { bun: true });

const exists = (p: string) => stat(p).then(() => true, () => false);

/** Assert a failed run: the exit code, exactly one stderr line, and that line matches every pattern. */
function assertOneLineError(r: Ran, code: number, ...patterns: RegExp[]): void {
  assert.equal(r.code, code, `exit code ${r.code}, stderr: ${r.stderr}`);
  const lines = r.stderr.trim().split("\n");
  assert.equal(lines.length, 1, `expected one stderr line, got:\n${r.stderr}`);
  for (const p of patterns) assert.match(lines[0], p);
}

async function wavLength(path: string): Promise<number> {
  return (await readAudio(path)).samples.length;
}

let model: string;
let root: string;
/** speech_1600 as WAV and speech_16000 as 16-bit FLAC, with their samples as the CLI reads them */
let inputs: string;
const samples: Record<string, Float32Array> = {};

before(async () => {
  model = await preparedTinyModel();
  root = await tempDir("xcodec2-cli-");
  inputs = join(root, "in");
  await mkdir(inputs);
  await copyFile(clipPath("speech_1600"), join(inputs, "a.wav"));
  const speech = await readClip("speech_16000");
  const pcm = Int16Array.from(speech, (x) => Math.max(-32768, Math.min(32767, Math.round(x * 32768))));
  await writeFile(join(inputs, "b.flac"), encodeTestFlac([pcm], 16_000, 4096));
  samples.a = (await readAudio(join(inputs, "a.wav"))).samples;
  samples.b = (await readAudio(join(inputs, "b.flac"))).samples;
  assert.equal(samples.b.length, 16_000);
});

describe("xcodec2 encode / decode round trips", () => {
  test(
    "a folder with a WAV and a FLAC → one .npy per file (= library codes) → WAVs of 320 samples per code",
    SLOW,
    async () => {
      const codesDir = join(root, "rt-codes");
      const enc = await xcodec2("encode", model, inputs, "--out", codesDir, "--device", "cpu");
      assert.equal(enc.code, 0, enc.stderr);
      assert.match(enc.stderr, /encoded 2 file\(s\) on cpu \(fp32\)/);
      assert.deepEqual((await readdir(codesDir)).sort(), ["a.npy", "b.npy"]);

      const codec = await Xcodec2.load(model, { device: "cpu", log: () => {} });
      const want = await codec.encode([samples.a, samples.b]);
      await codec.dispose();
      const [a] = await readCodesFile(join(codesDir, "a.npy"));
      const [b] = await readCodesFile(join(codesDir, "b.npy"));
      assert.deepEqual(a.codes, want[0]);
      assert.deepEqual(b.codes, want[1]);
      assert.equal(b.codes.length, codesForSamples(16_000));

      const wavDir = join(root, "rt-wav");
      const dec = await xcodec2("decode", model, codesDir, "--out", wavDir, "--device", "cpu", "--batch-size", "1");
      assert.equal(dec.code, 0, dec.stderr);
      assert.deepEqual((await readdir(wavDir)).sort(), ["a.wav", "b.wav"]);
      // .npy keeps no source length: whole hops come back
      assert.equal(await wavLength(join(wavDir, "a.wav")), a.codes.length * HOP_LENGTH);
      assert.equal(await wavLength(join(wavDir, "b.wav")), b.codes.length * HOP_LENGTH);
    },
  );

  for (const ext of ["jsonl", "safetensors"]) {
    test(
      `encode to one .${ext} (names and lengths stored) → decode trims each WAV to its source length`,
      SLOW,
      async () => {
        const file = join(root, `codes.${ext}`);
        const enc = await xcodec2(
          "encode",
          model,
          join(inputs, "a.wav"),
          join(inputs, "b.flac"),
          "--out",
          file,
          "--device",
          "cpu",
        );
        assert.equal(enc.code, 0, enc.stderr);
        const items = await readCodesFile(file);
        assert.deepEqual(items.map((it) => [it.name, it.samples, it.codes.length]), [
          ["a.wav", samples.a.length, codesForSamples(samples.a.length)],
          ["b.flac", samples.b.length, codesForSamples(samples.b.length)],
        ]);
        const out = join(root, `wav-${ext}`);
        const dec = await xcodec2("decode", model, file, "--out", out, "--device", "cpu");
        assert.equal(dec.code, 0, dec.stderr);
        assert.match(dec.stderr, /decoded 2 item\(s\)/);
        assert.equal(await wavLength(join(out, "a.wav")), samples.a.length);
        assert.equal(await wavLength(join(out, "b.wav")), samples.b.length);
      },
    );
  }

  test("--resample encodes a 44.1 kHz WAV (and its absence is a one-line error naming the file)", SLOW, async () => {
    const n = 22_050; // 0.5 s
    const tone = Float64Array.from({ length: n }, (_, i) => 0.3 * Math.sin((2 * Math.PI * 220 * i) / 44_100));
    const path = join(root, "tone44k.wav");
    await writeFile(path, encodeTestWav({ format: "pcm", bits: 16, sampleRate: 44_100, channels: [tone, tone] }));

    const refused = await xcodec2("encode", model, path, "--out", join(root, "tone-refused.npy"), "--device", "cpu");
    assertOneLineError(refused, 1, /tone44k\.wav/, /44100 Hz/, /--resample/);
    assert.equal(await exists(join(root, "tone-refused.npy")), false);

    const out = join(root, "tone.npy");
    const r = await xcodec2("encode", model, path, "--out", out, "--device", "cpu", "--resample");
    assert.equal(r.code, 0, r.stderr);
    const resampled = (await readAudio(path, { resample: true })).samples.length;
    assert.ok(Math.abs(resampled - 8000) <= 1, `resampled to ${resampled} samples`);
    const [item] = await readCodesFile(out);
    assert.equal(item.codes.length, codesForSamples(resampled));
  });
});

describe("xcodec2 refuses to overwrite", () => {
  test("encode and decode leave existing outputs alone without --force, and write nothing at all", SLOW, async () => {
    const codesDir = join(root, "ow-codes");
    await mkdir(codesDir);
    // one of the two targets exists: the command must refuse before writing the other
    await writeFile(join(codesDir, "b.npy"), "keep me");
    const r = await xcodec2("encode", model, inputs, "--out", codesDir, "--device", "cpu");
    assertOneLineError(r, 1, /b\.npy exists; pass --force to overwrite/);
    assert.equal(await readFile(join(codesDir, "b.npy"), "utf8"), "keep me");
    assert.equal(await exists(join(codesDir, "a.npy")), false, "a.npy was written although the command refused");

    const forced = await xcodec2("encode", model, inputs, "--out", codesDir, "--device", "cpu", "--force");
    assert.equal(forced.code, 0, forced.stderr);
    assert.equal((await readCodesFile(join(codesDir, "b.npy")))[0].codes.length, codesForSamples(16_000));

    const wav = join(root, "ow.wav");
    await writeFile(wav, "old");
    const d = await xcodec2("decode", model, join(codesDir, "a.npy"), "--out", wav, "--device", "cpu");
    assertOneLineError(d, 1, /ow\.wav exists; pass --force/);
    assert.equal(await readFile(wav, "utf8"), "old");
    const df = await xcodec2("decode", model, join(codesDir, "a.npy"), "--out", wav, "--device", "cpu", "--force");
    assert.equal(df.code, 0, df.stderr);
    assert.equal(await wavLength(wav), codesForSamples(samples.a.length) * HOP_LENGTH);
  });
});

describe("xcodec2 bad inputs: one line naming the file, non-zero exit, nothing written", () => {
  test("missing audio file", SLOW, async () => {
    const out = join(root, "bad1");
    const r = await xcodec2("encode", model, join(root, "nope.wav"), "--out", out, "--device", "cpu");
    assertOneLineError(r, 1, /nope\.wav: no such file or folder/);
    assert.equal(await exists(out), false);
  });

  test("corrupt WAV", SLOW, async () => {
    const path = join(root, "corrupt.wav");
    await writeFile(path, new Uint8Array([...new TextEncoder().encode("RIFF\x10\x00\x00\x00WAVEjunk"), 1, 2, 3, 4]));
    const out = join(root, "bad2");
    const r = await xcodec2("encode", model, path, "--out", out, "--device", "cpu");
    assertOneLineError(r, 1, /corrupt\.wav/, /WAV/);
    assert.equal(await exists(out), false);
  });

  test("a WAV holding NaN samples is named by file", SLOW, async () => {
    const path = join(root, "nan.wav");
    const x = new Float64Array(800).fill(0.1);
    x[17] = NaN;
    await writeFile(path, encodeTestWav({ format: "float", bits: 32, sampleRate: 16_000, channels: [x] }));
    const r = await xcodec2("encode", model, path, "--out", join(root, "bad-nan.npy"), "--device", "cpu");
    assertOneLineError(r, 1, /nan\.wav: sample 17 is NaN/);
    assert.equal(await exists(join(root, "bad-nan.npy")), false);
  });

  test("a .npy and a .jsonl with a code outside [0, 65535]", SLOW, async () => {
    const npy = join(root, "oob.npy");
    await writeFile(npy, encodeNpyInt32(Int32Array.of(1, 2, 65536)));
    const r = await xcodec2("decode", model, npy, "--out", join(root, "oob.wav"), "--device", "cpu");
    assertOneLineError(r, 1, /oob\.npy: code 65536 at position 2 is outside \[0, 65535\]/);
    assert.equal(await exists(join(root, "oob.wav")), false);

    const jsonl = join(root, "oob.jsonl");
    await writeFile(jsonl, '{"name":"ok","samples":640,"codes":[1,2]}\n{"name":"neg","samples":320,"codes":[-3]}\n');
    const out = join(root, "oob-dir");
    const j = await xcodec2("decode", model, jsonl, "--out", out, "--device", "cpu");
    assertOneLineError(j, 1, /oob\.jsonl item "neg": code -3 at position 0 is outside/);
    assert.equal(await exists(out), false, "nothing may be decoded before every item is checked");
  });

  test("an item name in a codes file cannot write outside --out", SLOW, async () => {
    const jsonl = join(root, "escape.jsonl");
    await writeFile(jsonl, '{"name":"../escaped.wav","samples":320,"codes":[1]}\n');
    const out = join(root, "escape-dir");
    const r = await xcodec2("decode", model, jsonl, "--out", out, "--device", "cpu");
    assertOneLineError(r, 2, /escape\.jsonl item "\.\.\/escaped\.wav": the name would be written outside/);
    assert.equal(await exists(join(root, "escaped.wav")), false);
  });

  test("unknown option and missing arguments are usage errors (exit 2), not crashes", SLOW, async () => {
    const r = await xcodec2("encode", model, inputs, "--out", join(root, "x"), "--bogus");
    assertOneLineError(r, 2, /^xcodec2 encode: Unknown option '--bogus'/);
    const m = await xcodec2("decode", model);
    assertOneLineError(m, 2, /usage: xcodec2 decode/);
    const d = await xcodec2("encode", model, inputs, "--out", join(root, "x"), "--device", "tpu");
    assertOneLineError(d, 2, /--device must be cpu, webgpu, cuda or auto, got tpu/);
    const h = await xcodec2("encode", "--help");
    assert.equal(h.code, 0, h.stderr);
    assert.match(h.stdout, /^usage: xcodec2 encode/);
  });
});

describe("xcodec2 demo and the Node entry point", () => {
  test("xcodec2 demo --out <tmp> exits 0 and prints the parity summary", SLOW, async () => {
    const out = join(root, "demo");
    const r = await xcodec2("demo", "--out", out);
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /parity: every item of the batch equals its per-sample run/);
    assert.match(r.stdout, /espeak_en\s+51278\s+161\s+yes/);
    assert.ok(await exists(join(out, "codes.jsonl")));
    assert.ok(await exists(join(out, "espeak_en.decoded.wav")));
  });

  // Under Node, the npm bin runs the compiled dist/: scripts/package.test.ts runs it from an installed package.
  test("bin/xcodec2.js under Bun runs the checkout's sources (no build needed)", SLOW, async () => {
    const r = await runCli(["--help"], { bun: true, entry: "bin/xcodec2.js" });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^usage: xcodec2 <command>/);
    for (const cmd of ["convert", "export", "encode", "decode", "parity", "demo"]) {
      assert.match(r.stdout, new RegExp(`\\n  ${cmd} `));
    }
  });
});
