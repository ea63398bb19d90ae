/**
 * The whole publishing path through the CLI, against the fake Hub on 127.0.0.1:
 * `xcodec2 convert hf://… --onnx --push-to-hub …` downloads the original, converts, exports and uploads.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type FakeHub, startFakeHub } from "../fixtures/support/fake_hub.ts";
import { TINY_ORIGINAL } from "../fixtures/support/reference.ts";
import { runCli } from "../fixtures/support/cli_process.ts";

const ORIGINAL = TINY_ORIGINAL;
const TOKEN = "hf_fakeCliTokenAsdfgh123456";
let hub: FakeHub;
let work: string;

before(async () => {
  hub = await startFakeHub({ token: TOKEN, lifetimeMs: 240_000 });
  const files: Record<string, Uint8Array> = {};
  for (const f of await readdir(ORIGINAL)) files[f] = new Uint8Array(await readFile(join(ORIGINAL, f)));
  hub.addRepo("HKUSTAudio/xcodec2-tiny", files);
  work = await mkdtemp(join(tmpdir(), "xc2-cli-hub-"));
});

after(async () => {
  await hub.close();
  await rm(work, { recursive: true, force: true });
});

// The child talks to the fake Hub, so the parent must not block its event loop: an asynchronous child process.
const cli = (args: string[], env: Record<string, string>) => runCli(args, { env });

test("convert hf://… --onnx --push-to-hub downloads, converts, exports and uploads every file", async () => {
  const out = join(work, "converted");
  const env = { HF_ENDPOINT: hub.url, HF_TOKEN: TOKEN, XCODEC2_CACHE: join(work, "cache") };
  const r = await cli([
    "convert",
    "hf://HKUSTAudio/xcodec2-tiny",
    "--out",
    out,
    "--onnx",
    "--push-to-hub",
    "me/xcodec2-tiny-hf",
    "--revision",
    "converted",
  ], env);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(!r.stderr.includes(TOKEN), "the token must never be printed");
  const pushed = hub.files("me/xcodec2-tiny-hf", "converted");
  assert.ok(pushed, "branch converted missing on the hub");
  for (
    const f of [
      "model.safetensors",
      "config.json",
      "preprocessor_config.json",
      "README.md",
      "conversion.json",
      "onnx/encoder_model.onnx",
      "onnx/decoder_model.onnx",
      "onnx/encoder_model_fp16.onnx",
    ]
  ) {
    const local = new Uint8Array(await readFile(join(out, f)));
    assert.ok(
      pushed.get(f) && Buffer.from(pushed.get(f)!).equals(Buffer.from(local)),
      `${f} not uploaded byte-identical`,
    );
  }
});

test("a wrong token fails with a one-line error that does not show the token", async () => {
  const bad = "hf_wrongTokenZxcvbn987654";
  const env = { HF_ENDPOINT: hub.url, HF_TOKEN: bad, XCODEC2_CACHE: join(work, "cache2") };
  const r = await cli(["convert", "hf://HKUSTAudio/xcodec2-tiny", "--out", join(work, "never")], env);
  assert.notEqual(r.code, 0);
  assert.ok(!r.stderr.includes(bad), r.stderr);
  assert.match(r.stderr, /HF_TOKEN|token|401|auth/i);
  assert.equal(spawnSync("test", ["-e", join(work, "never")]).status, 1, "no output folder may be left behind");
});
