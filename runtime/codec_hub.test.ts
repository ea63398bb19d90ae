/**
 * `Xcodec2.load("hf://owner/repo")` against the fake Hub on 127.0.0.1 (fixtures/support/fake_hub.ts, reached through
 * HF_ENDPOINT): an original checkpoint repo is downloaded, converted and exported into the cache; a converted repo
 * is downloaded and exported; both encode like upstream's reference; a second load makes no Hub download.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { type FakeHub, startFakeHub } from "../fixtures/support/fake_hub.ts";
import { Xcodec2 } from "./codec.ts";
import { clipTensors, readClip, TINY_CONVERTED, TINY_ORIGINAL } from "../fixtures/support/reference.ts";
import { tempDir } from "../fixtures/support/temp_dir.ts";

let hub: FakeHub;
let cacheDir: string;
let clip: Float32Array;
let want: Int32Array;
const saved = { endpoint: process.env.HF_ENDPOINT, token: process.env.HF_TOKEN };

before(async () => {
  hub = await startFakeHub({ token: "hf_unusedTokenForPublicRepos0", lifetimeMs: 120_000 });
  const files = async (dir: string, names: string[]) =>
    Object.fromEntries(
      await Promise.all(names.map(async (n) => [n, new Uint8Array(await readFile(join(dir, n)))] as const)),
    );
  hub.addRepo("acme/xcodec2-tiny-original", await files(TINY_ORIGINAL, ["model.safetensors", "config.json"]));
  hub.addRepo(
    "acme/xcodec2-tiny-hf",
    await files(TINY_CONVERTED, ["model.safetensors", "config.json", "preprocessor_config.json"]),
  );
  process.env.HF_ENDPOINT = hub.url;
  delete process.env.HF_TOKEN; // public repos: no token must be needed
  cacheDir = join(await tempDir(), "cache");
  clip = await readClip("speech_1600");
  want = (await clipTensors("speech_1600")).get("enc.audio_codes")!.data as Int32Array;
});

after(async () => {
  if (saved.endpoint === undefined) delete process.env.HF_ENDPOINT;
  else process.env.HF_ENDPOINT = saved.endpoint;
  if (saved.token !== undefined) process.env.HF_TOKEN = saved.token;
  await hub?.close();
});

const downloads = () => hub.requests.filter((r) => r.url.includes("/resolve/")).length;

describe("Xcodec2.load from hf://", () => {
  for (const repo of ["acme/xcodec2-tiny-original", "acme/xcodec2-tiny-hf"]) {
    test(`hf://${repo}: downloaded into the cache once, encodes like the reference`, { timeout: 120_000 }, async () => {
      const codec = await Xcodec2.load(`hf://${repo}`, { device: "cpu", cacheDir, log: () => {} });
      try {
        assert.ok(codec.model.onnxDir.startsWith(cacheDir), codec.model.onnxDir);
        assert.deepEqual((await codec.encode([clip]))[0], want);
      } finally {
        await codec.dispose();
      }
      const before = downloads();
      const again = await Xcodec2.load(`hf://${repo}`, { device: "cpu", cacheDir, log: () => {} });
      await again.dispose();
      assert.equal(downloads(), before, "the second load downloaded files again");
      assert.equal(again.model.onnxDir, codec.model.onnxDir);
    });
  }

  test("a repo that does not exist fails with the Hub's error, naming the repo", { timeout: 60_000 }, async () => {
    await assert.rejects(Xcodec2.load("hf://acme/nope", { device: "cpu", cacheDir, log: () => {} }), (e: Error) => {
      assert.match(e.message, /acme\/nope/);
      return true;
    });
  });
});
