/**
 * Streamed WAVs: the reader takes a placeholder-sized data chunk (as ffmpeg writes to a pipe, or a header never
 * patched) to the end of the bytes, and still refuses a truncated file whose header declares a real size; the
 * progressive writer writes placeholders to a pipe and real sizes into a file at close, never leaving a half-written
 * file under the final name; `readAudio("-")` reads standard input to its end.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { fileURLToPath } from "node:url";
import { AudioError, decodeAudioBytes, encodeWav } from "./mod.ts";
import { WavStreamWriter } from "./wav_stream_writer.ts";

const tone = (n: number, k = 1) => Float32Array.from({ length: n }, (_, i) => 0.4 * Math.sin(i * 0.03 * k));
const u32 = (b: Uint8Array, at: number) => new DataView(b.buffer, b.byteOffset).getUint32(at, true);
function withU32(b: Uint8Array, at: number, v: number): Uint8Array {
  const c = b.slice();
  new DataView(c.buffer).setUint32(at, v, true);
  return c;
}

describe("reading a placeholder-sized data chunk", () => {
  const samples = tone(2000);
  const pcm = encodeWav(samples, { format: "pcm16" }); // data size at 40, body at 44
  const f32 = encodeWav(samples); // fact chunk: data size at 52, body at 56

  test("0xFFFFFFFF (ffmpeg to a pipe), with the RIFF size 0xFFFFFFFF too: read to the end", async () => {
    for (const [bytes, at] of [[pcm, 40], [f32, 52]] as const) {
      const streamed = withU32(withU32(bytes, at, 0xffffffff), 4, 0xffffffff);
      const a = await decodeAudioBytes(streamed, "s.wav");
      assert.deepEqual(a.samples, (await decodeAudioBytes(bytes, "s.wav")).samples);
    }
  });

  test("a size the RIFF container cannot hold at that offset (0xFFFFFFF0): read to the end", async () => {
    const a = await decodeAudioBytes(withU32(f32, 52, 0xfffffff0), "p.wav");
    assert.deepEqual(a.samples, samples);
  });

  test("0 with samples after it and an unpatched RIFF size: read to the end", async () => {
    for (const riff of [0, 36, 0xffffffff]) {
      const a = await decodeAudioBytes(withU32(withU32(pcm, 40, 0), 4, riff), "z.wav");
      assert.equal(a.samples.length, 2000, `RIFF size ${riff}`);
    }
  });

  test("a real size, cut short, is still refused as truncated", async () => {
    const cut = f32.subarray(0, f32.length - 4000);
    await assert.rejects(decodeAudioBytes(cut, "cut.wav"), (e: Error) => {
      assert.ok(e instanceof AudioError);
      assert.match(e.message, /cut\.wav: invalid WAV: data chunk declares 8000 bytes but only 4000 follow/);
      return true;
    });
    // the largest size a WAV with this header can hold is a real size too
    const max = 0xffffffff - (56 - 8);
    await assert.rejects(decodeAudioBytes(withU32(f32, 52, max), "m.wav"), /declares 4294967247 bytes/);
  });

  test("a data chunk that really is empty, in a file whose RIFF size is right, stays empty", async () => {
    const empty = encodeWav(new Float32Array(0));
    const withTrailer = new Uint8Array(empty.length + 12);
    withTrailer.set(empty);
    withTrailer.set(new TextEncoder().encode("LIST\x04\x00\x00\x00abcd"), empty.length);
    new DataView(withTrailer.buffer).setUint32(4, withTrailer.length - 8, true);
    await assert.rejects(decodeAudioBytes(withTrailer, "e.wav"), /holds no audio samples/);
  });
});

describe("WavStreamWriter", () => {
  test("to a file: the same bytes as encodeWav, no temporary left, nothing under the name before close", async () => {
    const dir = await mkdtemp(join(tmpdir(), "xc2-wavs-"));
    try {
      for (const format of ["f32", "pcm16"] as const) {
        const path = join(dir, `out-${format}.wav`);
        const all = tone(5000, 2);
        const w = await WavStreamWriter.open(path, { format });
        await w.write(all.subarray(0, 1234));
        await w.write(all.subarray(1234, 1234));
        // while it grows: only the temporary exists, with placeholders, and it already reads
        const names = await readdir(dir);
        assert.ok(!names.includes(`out-${format}.wav`), "the final name appeared before close");
        const tmp = names.find((n) => n.startsWith(`.out-${format}.wav.`) && n.endsWith(".tmp"))!;
        const partial = await readFile(join(dir, tmp));
        assert.equal(u32(partial, partial.length - 1234 * (format === "f32" ? 4 : 2) - 4), 0xffffffff);
        assert.equal((await decodeAudioBytes(partial, "partial")).samples.length, 1234);
        await w.write(all.subarray(1234));
        await w.close();
        assert.deepEqual(new Uint8Array(await readFile(path)), encodeWav(all, { format }));
        assert.equal(w.written, 5000);
      }
      assert.deepEqual((await readdir(dir)).filter((n) => n.endsWith(".tmp")), []);
      const aborted = await WavStreamWriter.open(join(dir, "gone.wav"));
      await aborted.write(tone(100));
      await aborted.abort();
      assert.deepEqual((await readdir(dir)).filter((n) => n.includes("gone")), []);
      await assert.rejects(
        WavStreamWriter.open(join(dir, "missing", "x.wav")),
        (e: Error) => e instanceof AudioError && /missing\/x\.wav: cannot write WAV/.test(e.message),
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test("to a pipe: placeholder sizes, samples in order, readable to the end", async () => {
    const chunks: Uint8Array[] = [];
    const sink = new Writable({
      write(c, _e, cb) {
        chunks.push(new Uint8Array(c));
        cb();
      },
    });
    const all = tone(3000, 3);
    const w = await WavStreamWriter.open("-", {}, sink);
    for (let i = 0; i < all.length; i += 700) await w.write(all.subarray(i, i + 700));
    await w.close();
    const bytes = new Uint8Array(chunks.reduce((a, c) => a + c.length, 0));
    let at = 0;
    for (const c of chunks) bytes.set(c, (at += c.length) - c.length);
    assert.equal(u32(bytes, 4), 0xffffffff, "RIFF size");
    assert.equal(u32(bytes, 44), 0, "fact sample count");
    assert.equal(u32(bytes, 52), 0xffffffff, "data size");
    assert.deepEqual((await decodeAudioBytes(bytes, "pipe")).samples, all);
  });

  test("a pipe that fails: an AudioError naming stdout", async () => {
    const broken = new Writable({
      write(_c, _e, cb) {
        cb(Object.assign(new Error("write EPIPE"), { code: "EPIPE" }));
      },
    });
    broken.on("error", () => {});
    await assert.rejects(
      WavStreamWriter.open("-", {}, broken),
      (e: Error) => e instanceof AudioError && /<stdout>: cannot write WAV: the reader closed the pipe/.test(e.message),
    );
  });
});

describe('readAudio("-")', () => {
  test("reads a streamed WAV from standard input to its end", { timeout: 60_000 }, async () => {
    const all = tone(4321, 5);
    const streamed = withU32(withU32(encodeWav(all), 52, 0xffffffff), 4, 0xffffffff);
    const dir = await mkdtemp(join(tmpdir(), "xc2-stdin-"));
    try {
      const script = join(dir, "read.ts");
      const mod = fileURLToPath(new URL("./read_audio.ts", import.meta.url));
      await writeFile(
        script,
        `import { readAudio } from ${JSON.stringify(mod)};\n` +
          `const a = await readAudio("-");\nprocess.stdout.write(JSON.stringify([a.samples.length, a.samples[4000]]));\n`,
      );
      const bun = createRequire(import.meta.url).resolve("bun/bin/bun.exe");
      const child = spawn(bun, [script], { stdio: ["pipe", "pipe", "pipe"] });
      let out = "", err = "";
      child.stdout.on("data", (d) => (out += d));
      child.stderr.on("data", (d) => (err += d));
      // in two writes with a pause, as a pipe delivers it
      child.stdin.write(streamed.subarray(0, 1000));
      await new Promise((r) => setTimeout(r, 50));
      child.stdin.end(streamed.subarray(1000));
      const code = await new Promise((r) => child.on("close", r));
      assert.equal(code, 0, err);
      assert.deepEqual(JSON.parse(out), [4321, all[4000]]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
