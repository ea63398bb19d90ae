/**
 * `xcodec2 decode --stream` as a user runs it: to a file (the stream's samples, the file appearing only when
 * complete), to stdout through a pipe into `xcodec2 encode -` (placeholder sizes read to the end), from codes as text
 * on stdin, and its refusals (one line, nothing written).
 */
import { before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { HOP_LENGTH } from "../convert/mod.ts";
import { decodeAudioBytes, readAudio } from "../runtime/audio/mod.ts";
import { encodeNpyInt32, readCodesFile } from "../runtime/codes_io.ts";
import { Xcodec2 } from "../runtime/codec.ts";
import { preparedTinyModel } from "../fixtures/support/prepared_model.ts";
import { tempDir } from "../fixtures/support/temp_dir.ts";
import { cliCommand, runCli } from "../fixtures/support/cli_process.ts";
import { REPO_ROOT } from "../fixtures/support/module_graph.ts";
import { mulberry32 } from "../parity/prng.ts";

const SLOW = { timeout: 180_000 };

/** Run `xcodec2 …` under Bun, feeding `stdin` (bytes or text) when given. */
const xcodec2 = (args: string[], stdin?: Uint8Array | string) => runCli(args, { bun: true, stdin });

/** `xcodec2 …` under Bun as a command line, for a pipeline of two. */
const bunCli = (...args: string[]) => cliCommand(args, { bun: true });

let model: string;
let root: string;
let codes: Int32Array;
let npy: string;
let twin: Float32Array;

before(async () => {
  model = await preparedTinyModel();
  root = await tempDir("xcodec2-stream-cli-");
  const r = mulberry32(5);
  codes = Int32Array.from({ length: 230 }, () => Math.floor(r() * 65536));
  npy = join(root, "codes.npy");
  await writeFile(npy, encodeNpyInt32(codes));
  const codec = await Xcodec2.load(model, { device: "cpu", log: () => {} });
  [twin] = await codec.decode([codes], { streaming: true });
  await codec.dispose();
});

describe("xcodec2 decode --stream", () => {
  test("to a file: the stream's samples, and no temporary left behind", SLOW, async () => {
    const out = join(root, "file.wav");
    const r = await xcodec2(["decode", model, npy, "--stream", "--out", out, "--device", "cpu"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /streamed 4\.60 s of audio/);
    assert.deepEqual((await readAudio(out)).samples, twin);
    const bytes = await readFile(out);
    assert.equal(bytes.readUInt32LE(52), twin.length * 4, "a file gets its real data size at the end");
    assert.deepEqual((await readdir(root)).filter((n) => n.endsWith(".tmp")), []);
  });

  test("to stdout through a pipe into `xcodec2 encode -`: placeholder sizes, read to the end", SLOW, async () => {
    const dc = bunCli("decode", model, npy, "--stream", "--out", "-", "--device", "cpu");
    const decode = spawn(dc.command, dc.args, { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"] });
    const encodedPath = join(root, "piped.npy");
    const ec = bunCli("encode", model, "-", "--out", encodedPath, "--device", "cpu");
    const encode = spawn(ec.command, ec.args, { cwd: REPO_ROOT, stdio: ["pipe", "ignore", "pipe"] });
    const seen: Buffer[] = [];
    decode.stdout.on("data", (d) => seen.push(d));
    decode.stdout.pipe(encode.stdin);
    let errors = "";
    decode.stderr.on("data", (d) => (errors += d));
    encode.stderr.on("data", (d) => (errors += d));
    const [decoded, encoded] = await Promise.all([decode, encode].map((c) => new Promise((r) => c.on("close", r))));
    assert.equal(decoded, 0, errors);
    assert.equal(encoded, 0, errors);
    const wav = new Uint8Array(Buffer.concat(seen));
    const view = new DataView(wav.buffer, wav.byteOffset);
    assert.equal(view.getUint32(4, true), 0xffffffff, "RIFF size placeholder");
    assert.equal(view.getUint32(52, true), 0xffffffff, "data size placeholder");
    assert.deepEqual((await decodeAudioBytes(wav, "pipe")).samples, twin);
    const codec = await Xcodec2.load(model, { device: "cpu", log: () => {} });
    const [want] = await codec.encode([twin]);
    await codec.dispose();
    assert.deepEqual((await readCodesFile(encodedPath))[0].codes, want);
  });

  test("codes as text on stdin (spaces, commas, brackets), decoded as they arrive", SLOW, async () => {
    const text = `[${Array.from(codes.subarray(0, 100)).join(", ")}]\n${Array.from(codes.subarray(100)).join(" ")}\n`;
    const r = await xcodec2(["decode", model, "-", "--stream", "--out", "-", "--device", "cpu"], text);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual((await decodeAudioBytes(r.stdoutBytes, "stdout")).samples, twin);
  });

  test("a bad code mid-stream: one line naming its position, exit 1, no file", SLOW, async () => {
    const out = join(root, "bad.wav");
    const text = Array.from(codes.subarray(0, 120)).join(" ") + " 70000 1 2";
    const r = await xcodec2(["decode", model, "-", "--stream", "--out", out, "--device", "cpu"], text);
    assert.equal(r.code, 1, r.stderr);
    assert.deepEqual(r.stderr.trim().split("\n"), [
      "xcodec2 decode: <stdin>: code 70000 at position 120 is outside [0, 65535]",
    ]);
    assert.deepEqual((await readdir(root)).filter((n) => n.includes("bad.wav")), []);
  });

  test("usage: one input, a .wav or -, and --out - only with --stream", SLOW, async () => {
    const cases: [string[], RegExp][] = [
      [["decode", model, npy, npy, "--stream", "--out", "-"], /--stream decodes one input, 2 given/],
      [["decode", model, npy, "--stream", "--out", join(root, "dir")], /--out must be a \.wav file or - \(stdout\)/],
      [["decode", model, npy, "--out", "-"], /--out - \(stdout\) needs --stream/],
      [
        ["decode", model, npy, "--stream", "--out", "-", "--left", "x"],
        /--left must be an integer in \[0, 10000000\], got x/,
      ],
    ];
    for (const [args, msg] of cases) {
      const r = await xcodec2(args);
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, msg);
      assert.equal(r.stdoutBytes.length, 0);
    }
  });
});

test("decode without --stream of long codes (windowed) writes HOP samples per code", SLOW, async () => {
  const out = join(root, "windowed.wav");
  const r = await xcodec2([
    "decode",
    model,
    npy,
    "--out",
    out,
    "--device",
    "cpu",
    "--single-pass-limit",
    "100",
    "--window",
    "60",
  ]);
  assert.equal(r.code, 0, r.stderr);
  const codec = await Xcodec2.load(model, { device: "cpu", log: () => {} });
  const [want] = await codec.decode([codes], { singlePassLimit: 100, window: 60 });
  await codec.dispose();
  const got = (await readAudio(out)).samples;
  assert.equal(got.length, codes.length * HOP_LENGTH);
  assert.deepEqual(got, want);
});
