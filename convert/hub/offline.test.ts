/**
 * Offline use of the Hub cache against the fake Hub: a checkpoint downloaded once loads again after the Hub stops,
 * HF_HUB_OFFLINE=1 never asks the Hub, and a cache that lacks something says which file.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readFile, readlink, rm, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type FakeHub, startFakeHub } from "../../fixtures/support/fake_hub.ts";
import { TINY_ORIGINAL as ORIGINAL } from "../../fixtures/support/reference.ts";
import { downloadCheckpoint } from "./download.ts";
import { HubError } from "./errors.ts";
import { hubOffline } from "./offline.ts";

const TOKEN = "hf_fakeOfflineTokenAbc123XYZ";
const REPO = "acme/xcodec2-tiny";

let work: string;
let files: Record<string, Uint8Array>;
before(async () => {
  work = await mkdtemp(join(tmpdir(), "xcodec2-hub-offline-"));
  files = {
    "model.safetensors": new Uint8Array(await readFile(join(ORIGINAL, "model.safetensors"))),
    "config.json": new Uint8Array(await readFile(join(ORIGINAL, "config.json"))),
  };
});
after(async () => {
  await rm(work, { recursive: true, force: true });
});

/** Runs `fn` with HF_HUB_OFFLINE set to `value`, restoring the environment afterwards. */
async function withOffline<T>(value: string, fn: () => Promise<T>): Promise<T> {
  const saved = process.env["HF_HUB_OFFLINE"];
  process.env["HF_HUB_OFFLINE"] = value;
  try {
    return await fn();
  } finally {
    if (saved === undefined) delete process.env["HF_HUB_OFFLINE"];
    else process.env["HF_HUB_OFFLINE"] = saved;
  }
}

/** A fake Hub holding REPO, and a cache into which REPO@main has been downloaded from it. */
async function downloadedOnce(
  name: string,
): Promise<{ hub: FakeHub; cacheDir: string; folder: string; commit: string }> {
  const hub = await startFakeHub({ token: TOKEN, lifetimeMs: 60_000 });
  const commit = hub.addRepo(REPO, files);
  const cacheDir = join(work, name);
  await mkdir(cacheDir, { recursive: true });
  const folder = await downloadCheckpoint(`hf://${REPO}`, { cacheDir, hubUrl: hub.url, token: TOKEN });
  return { hub, cacheDir, folder, commit };
}

function rejectsWith(p: Promise<unknown>, code: string, ...patterns: RegExp[]): Promise<void> {
  return assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof HubError, String(e));
    assert.equal(e.code, code, e.message);
    for (const re of patterns) assert.match(e.message, re);
    return true;
  });
}

describe("the Hub cache offline", () => {
  test("HF_HUB_OFFLINE takes huggingface_hub's true values, and TRANSFORMERS_OFFLINE", () => {
    for (const v of ["1", "ON", "yes", "True"]) assert.equal(hubOffline({ HF_HUB_OFFLINE: v }), true, v);
    for (const v of ["0", "", "off", "false", "no"]) assert.equal(hubOffline({ HF_HUB_OFFLINE: v }), false, v);
    assert.equal(hubOffline({}), false);
    assert.equal(hubOffline({ TRANSFORMERS_OFFLINE: "1" }), true);
  });

  test("after the Hub stops, a cached checkpoint loads from the cache, saying so", async () => {
    const { hub, cacheDir, folder, commit } = await downloadedOnce("stopped");
    await hub.close();
    for (const rev of ["", `@${commit}`]) {
      const logs: string[] = [];
      const again = await downloadCheckpoint(`hf://${REPO}${rev}`, {
        cacheDir,
        hubUrl: hub.url,
        token: TOKEN,
        log: (m) => logs.push(m),
      });
      assert.equal(again, folder);
      assert.equal(logs.length, 1);
      assert.match(logs[0], /cannot be reached/);
      assert.ok(logs[0].includes(folder), logs[0]);
    }
    // and with HF_HUB_OFFLINE=1 it does not even try
    const logs: string[] = [];
    const offline = await withOffline(
      "1",
      () => downloadCheckpoint(`hf://${REPO}`, { cacheDir, hubUrl: hub.url, log: (m) => logs.push(m) }),
    );
    assert.equal(offline, folder);
    assert.deepEqual(logs, []);
  });

  test("HF_HUB_OFFLINE=1 sends no request, resolving the branch through refs/ and a commit directly", async () => {
    const { hub, cacheDir, folder, commit } = await downloadedOnce("no-requests");
    try {
      const before = hub.requests.length;
      await withOffline("1", async () => {
        assert.equal(await downloadCheckpoint(`hf://${REPO}@main`, { cacheDir, hubUrl: hub.url }), folder);
        assert.equal(await downloadCheckpoint(`hf://${REPO}@${commit}`, { cacheDir, hubUrl: hub.url }), folder);
      });
      assert.equal(hub.requests.length, before);
    } finally {
      await hub.close();
    }
  });

  test("HF_HUB_OFFLINE=1 and a cache that lacks the checkpoint: the error names what is missing", async () => {
    const { hub, cacheDir, folder, commit } = await downloadedOnce("lacking");
    await hub.close();
    await withOffline("1", async () => {
      await rejectsWith(
        downloadCheckpoint("hf://acme/other", { cacheDir }),
        "not-cached",
        /HF_HUB_OFFLINE/,
        /hf:\/\/acme\/other/,
        /models--acme--other[/\\]refs[/\\]main/,
      );
      await rejectsWith(
        downloadCheckpoint(`hf://${REPO}@v2`, { cacheDir }),
        "not-cached",
        /refs[/\\]v2 is missing/,
      );
      await rejectsWith(
        downloadCheckpoint(`hf://${REPO}@${"0".repeat(40)}`, { cacheDir }),
        "not-cached",
        /checkpoint weights/,
      );
      // the weights' blob gone (a cache cleaned by hand): the snapshot's entry dangles
      const pointer = join(folder, "model.safetensors");
      await unlink(join(folder, await readlink(pointer)));
      await rejectsWith(
        downloadCheckpoint(`hf://${REPO}`, { cacheDir }),
        "not-cached",
        new RegExp(`${commit}[/\\\\]model\\.safetensors is missing`),
      );
    });
  });

  test("a sharded checkpoint offline needs every shard its index names", async () => {
    const commit = "1".repeat(40);
    const cacheDir = join(work, "sharded");
    const snap = join(cacheDir, "models--acme--sharded", "snapshots", commit);
    await mkdir(snap, { recursive: true });
    const index = { weight_map: { a: "model-00001-of-00002.safetensors", b: "model-00002-of-00002.safetensors" } };
    await writeFile(join(snap, "model.safetensors.index.json"), JSON.stringify(index));
    await writeFile(join(snap, "model-00001-of-00002.safetensors"), "x");
    await writeFile(join(snap, "config.json"), "{}");
    await withOffline("1", async () => {
      await writeFile(join(snap, "model.safetensors.index.json"), "{}");
      await rejectsWith(downloadCheckpoint(`hf://acme/sharded@${commit}`, { cacheDir }), "not-cached", /weight_map/);
      await writeFile(join(snap, "model.safetensors.index.json"), JSON.stringify(index));
      await rejectsWith(
        downloadCheckpoint(`hf://acme/sharded@${commit}`, { cacheDir }),
        "not-cached",
        /model-00002-of-00002\.safetensors is missing/,
      );
      await writeFile(join(snap, "model-00002-of-00002.safetensors"), "x");
      assert.equal(await downloadCheckpoint(`hf://acme/sharded@${commit}`, { cacheDir }), snap);
    });
  });

  test("the Hub unreachable and the checkpoint not cached: a network error that also names the missing file", async () => {
    const { hub, cacheDir } = await downloadedOnce("unreachable");
    await hub.close();
    await rejectsWith(
      downloadCheckpoint("hf://acme/other", { cacheDir, hubUrl: hub.url }),
      "network",
      /hf:\/\/acme\/other/,
      /not in the cache/,
      /refs[/\\]main is missing/,
    );
  });

  test("an HTTP error is an answer, not an outage: a repository gone from the Hub is an error even when cached", async () => {
    const { hub, cacheDir } = await downloadedOnce("gone");
    await hub.close();
    const other = await startFakeHub({ token: TOKEN, lifetimeMs: 60_000 });
    try {
      await rejectsWith(
        downloadCheckpoint(`hf://${REPO}`, { cacheDir, hubUrl: other.url, token: TOKEN, log: () => {} }),
        "not-found",
      );
    } finally {
      await other.close();
    }
  });
});
