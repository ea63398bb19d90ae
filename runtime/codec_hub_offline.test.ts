/**
 * `Xcodec2.load("hf://…")` without the Hub: load from the fake Hub (fixtures/support/fake_hub.ts, through HF_ENDPOINT), stop
 * the Hub, load again (the cached snapshot and the cached ONNX export are used), and again with HF_HUB_OFFLINE=1; each
 * load encodes the same codes.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type FakeHub, startFakeHub } from "../fixtures/support/fake_hub.ts";
import { readClip, TINY_ORIGINAL as ORIGINAL } from "../fixtures/support/reference.ts";
import { Xcodec2 } from "./codec.ts";

const REPO = "acme/xcodec2-tiny-offline";
const saved = { endpoint: process.env.HF_ENDPOINT, token: process.env.HF_TOKEN, offline: process.env.HF_HUB_OFFLINE };

let hub: FakeHub;
let work: string;
let clip: Float32Array;

before(async () => {
  hub = await startFakeHub({ token: "hf_unusedTokenForPublicRepos0", lifetimeMs: 120_000 });
  hub.addRepo(REPO, {
    "model.safetensors": new Uint8Array(await readFile(join(ORIGINAL, "model.safetensors"))),
    "config.json": new Uint8Array(await readFile(join(ORIGINAL, "config.json"))),
  });
  process.env.HF_ENDPOINT = hub.url;
  delete process.env.HF_TOKEN;
  delete process.env.HF_HUB_OFFLINE;
  work = await mkdtemp(join(tmpdir(), "xcodec2-load-offline-"));
  clip = await readClip("speech_1600");
});

after(async () => {
  for (
    const [k, v] of [["HF_ENDPOINT", saved.endpoint], ["HF_TOKEN", saved.token], ["HF_HUB_OFFLINE", saved.offline]]
  ) {
    if (v === undefined) delete process.env[k!];
    else process.env[k!] = v;
  }
  await hub?.close();
  await rm(work, { recursive: true, force: true });
});

async function loadAndEncode(source: string, cacheDir: string, logs: string[]): Promise<[string, Int32Array]> {
  const codec = await Xcodec2.load(source, { device: "cpu", cacheDir, log: (m) => logs.push(m) });
  try {
    return [codec.model.onnxDir, (await codec.encode([clip]))[0]];
  } finally {
    await codec.dispose();
  }
}

describe("Xcodec2.load from hf:// offline", () => {
  test("load, stop the Hub, load again, and with HF_HUB_OFFLINE=1", { timeout: 180_000 }, async () => {
    const cacheDir = join(work, "cache");
    const source = `hf://${REPO}@main`;
    const [onnxDir, codes] = await loadAndEncode(source, cacheDir, []);
    assert.ok(codes.length > 0);

    await hub.close();
    const logs: string[] = [];
    const [again, codesAgain] = await loadAndEncode(source, cacheDir, logs);
    assert.equal(again, onnxDir, "the cached ONNX export was not reused");
    assert.deepEqual(codesAgain, codes);
    assert.ok(logs.some((m) => /cannot be reached.*using the cached/.test(m)), logs.join("\n"));
    assert.ok(!logs.some((m) => /^(converting|exporting)/.test(m)), logs.join("\n"));

    process.env.HF_HUB_OFFLINE = "1";
    try {
      const offlineLogs: string[] = [];
      const [offline, codesOffline] = await loadAndEncode(source, cacheDir, offlineLogs);
      assert.equal(offline, onnxDir);
      assert.deepEqual(codesOffline, codes);
      assert.ok(!offlineLogs.some((m) => /cannot be reached/.test(m)), "HF_HUB_OFFLINE=1 still tried the Hub");
      await assert.rejects(
        Xcodec2.load(`hf://${REPO}@v9`, { device: "cpu", cacheDir, log: () => {} }),
        (e: Error) => /HF_HUB_OFFLINE/.test(e.message) && /refs[/\\]v9 is missing/.test(e.message),
      );
    } finally {
      delete process.env.HF_HUB_OFFLINE;
    }
  });
});
