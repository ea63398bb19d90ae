/**
 * The fake Hub answers @huggingface/hub's own download calls (snapshotDownload → modelInfo, listFiles, pathsInfo,
 * resolve with a Range probe and a redirect), and our cache is the library's: a snapshot the library fetched is
 * reused by downloadCheckpoint without a single byte transfer. Also the fake's own guarantees (loopback only, Range
 * edge cases, bounded lifetime).
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { snapshotDownload } from "@huggingface/hub";
import { startFakeHub } from "../../fixtures/support/fake_hub.ts";
import type { FakeHub } from "../../fixtures/support/fake_hub.ts";
import { TINY_ORIGINAL } from "../../fixtures/support/reference.ts";
import { downloadCheckpoint } from "./download.ts";

const TOKEN = "hf_interopToken42";

let hub: FakeHub;
let work: string;
let weights: Uint8Array;

before(async () => {
  weights = new Uint8Array(await readFile(join(TINY_ORIGINAL, "model.safetensors")));
  hub = await startFakeHub({ token: TOKEN, lifetimeMs: 60_000 });
  hub.addRepo("acme/tiny", {
    "model.safetensors": weights,
    "config.json": await readFile(join(TINY_ORIGINAL, "config.json")),
  });
  work = await mkdtemp(join(tmpdir(), "xcodec2-hub-interop-"));
});

after(async () => {
  await hub.close();
  await rm(work, { recursive: true, force: true });
});

describe("fake Hub and the library", () => {
  test("snapshotDownload works against the fake, and downloadCheckpoint reuses its cache", async () => {
    const cacheDir = join(work, "cache");
    const debug = console.debug;
    console.debug = () => {}; // the library announces each file on console.debug
    let libFolder: string;
    try {
      libFolder = await snapshotDownload({ repo: "acme/tiny", cacheDir, hubUrl: hub.url, accessToken: TOKEN });
    } finally {
      console.debug = debug;
    }
    assert.ok(Buffer.from(await readFile(join(libFolder, "model.safetensors"))).equals(Buffer.from(weights)));
    const used = new Set(hub.requests.map((r) => `${r.method} ${r.url.split("?")[0]}`));
    assert.ok(used.has("GET /api/models/acme/tiny/revision/main"), [...used].join("\n"));
    assert.ok([...used].some((u) => u.startsWith("GET /api/models/acme/tiny/tree/")));
    assert.ok([...used].some((u) => u.startsWith("POST /api/models/acme/tiny/paths-info/")));
    assert.ok(hub.requests.some((r) => r.url.includes("/resolve/") && r.range === "bytes=0-0" && r.status === 302));

    const mark = hub.requests.length;
    const ours = await downloadCheckpoint("hf://acme/tiny", { cacheDir, hubUrl: hub.url, token: TOKEN });
    assert.equal(ours, libFolder);
    assert.ok(!hub.requests.slice(mark).some((r) => r.url.includes("/resolve/") || r.url.startsWith("/lfs-files/")));
  });

  test("the fake listens on loopback only and honours Range like the Hub", async () => {
    assert.match(hub.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    const url = `${hub.url}/acme/tiny/resolve/main/config.json`;
    const full = await fetch(url);
    const body = new Uint8Array(await full.arrayBuffer());
    assert.equal(full.status, 200);
    assert.match(full.headers.get("etag") ?? "", /^"[0-9a-f]{40}"$/);
    assert.match(full.headers.get("x-repo-commit") ?? "", /^[0-9a-f]{40}$/);
    const tail = await fetch(url, { headers: { Range: "bytes=-10" } });
    assert.equal(tail.status, 206);
    assert.equal(tail.headers.get("content-range"), `bytes ${body.length - 10}-${body.length - 1}/${body.length}`);
    assert.ok(Buffer.from(await tail.arrayBuffer()).equals(Buffer.from(body.subarray(body.length - 10))));
    const past = await fetch(url, { headers: { Range: `bytes=${body.length}-` } });
    await past.arrayBuffer();
    assert.equal(past.status, 416);
    assert.equal(past.headers.get("content-range"), `bytes */${body.length}`);
    const lfs = await fetch(`${hub.url}/acme/tiny/resolve/main/model.safetensors`, { redirect: "manual" });
    await lfs.arrayBuffer();
    assert.equal(lfs.status, 302);
    assert.match(lfs.headers.get("location") ?? "", /^\/lfs-files\/[0-9a-f]{64}\?/);
    assert.equal(lfs.headers.get("x-linked-size"), String(weights.length));
    const wrong = await fetch(url, { headers: { Authorization: "Bearer hf_nope" } });
    await wrong.arrayBuffer();
    assert.equal(wrong.status, 401);
  });

  test("the fake closes itself when its lifetime ends", async () => {
    const short = await startFakeHub({ token: TOKEN, lifetimeMs: 150 });
    const ok = await fetch(`${short.url}/api/models/x/y`);
    await ok.arrayBuffer();
    assert.equal(ok.status, 401); // unknown repo without a token: the Hub says 401, not 404
    await new Promise((r) => setTimeout(r, 400));
    await assert.rejects(fetch(`${short.url}/api/models/x/y`, { headers: { Connection: "close" } }));
    await short.close(); // idempotent after self-close
  });
});
