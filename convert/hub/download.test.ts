/**
 * downloadCheckpoint against the fake Hub on 127.0.0.1, with the public tiny original checkpoint as repo content.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readdir, readFile, readlink, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startFakeHub } from "../../fixtures/support/fake_hub.ts";
import type { FakeHub } from "../../fixtures/support/fake_hub.ts";
import { TINY_ORIGINAL } from "../../fixtures/support/reference.ts";
import { downloadCheckpoint } from "./download.ts";
import { HubError } from "./errors.ts";

const TOKEN = "hf_fakeDownloadTokenAbc123XYZ";
const WRONG = "hf_wrongTokenZZZ987654321";

let hub: FakeHub;
let work: string;
let weights: Uint8Array;
let config: Uint8Array;
let commit: string;
const README = "---\nlicense: cc-by-nc-4.0\n---\n# tiny xcodec2\n";

before(async () => {
  weights = new Uint8Array(await readFile(join(TINY_ORIGINAL, "model.safetensors")));
  config = new Uint8Array(await readFile(join(TINY_ORIGINAL, "config.json")));
  hub = await startFakeHub({ token: TOKEN, lifetimeMs: 60_000 });
  commit = hub.addRepo("HKUSTAudio/xcodec2", {
    "model.safetensors": weights,
    "config.json": config,
    "README.md": README,
    // The real repo also carries a Lightning checkpoint of the same weights; it must not be fetched.
    "ckpt/epoch=4-step=1400000.ckpt": new Uint8Array(4096).fill(7),
  });
  hub.addRepo("acme/nested", {
    "variants/small/model.safetensors": weights,
    "variants/small/config.json": config,
    "other.txt": "x",
  });
  hub.addRepo("acme/private", { "model.safetensors": weights, "config.json": config }, { private: true });
  work = await mkdtemp(join(tmpdir(), "xcodec2-hub-dl-"));
});

after(async () => {
  await hub.close();
  await rm(work, { recursive: true, force: true });
});

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.from(a).equals(Buffer.from(b));
}

async function freshCache(name: string): Promise<string> {
  const d = join(work, name);
  await mkdir(d, { recursive: true });
  return d;
}

describe("downloadCheckpoint from the fake Hub", () => {
  test("downloads the checkpoint files byte-identical into the library's cache layout", async () => {
    const cacheDir = await freshCache("plain");
    const progress: Array<{ file: string; bytes: number; total?: number }> = [];
    const before = hub.requests.length;
    const folder = await downloadCheckpoint("hf://HKUSTAudio/xcodec2", {
      cacheDir,
      hubUrl: hub.url,
      token: TOKEN,
      onProgress: (p) => progress.push(p),
    });
    assert.equal(folder, join(cacheDir, "models--HKUSTAudio--xcodec2", "snapshots", commit));
    assert.deepEqual((await readdir(folder)).sort(), ["README.md", "config.json", "model.safetensors"]);
    assert.ok(bytesEqual(new Uint8Array(await readFile(join(folder, "model.safetensors"))), weights));
    assert.ok(bytesEqual(new Uint8Array(await readFile(join(folder, "config.json"))), config));
    assert.equal(await readFile(join(folder, "README.md"), "utf8"), README);
    // snapshot entries are relative symlinks into blobs/, and refs/main names the commit
    assert.match(await readlink(join(folder, "model.safetensors")), /^\.\.\/\.\.\/blobs\/[0-9a-f]{64}$/);
    assert.equal(await readFile(join(cacheDir, "models--HKUSTAudio--xcodec2", "refs", "main"), "utf8"), commit);
    // the Lightning checkpoint was never requested
    const urls = hub.requests.slice(before).map((r) => r.url);
    assert.ok(!urls.some((u) => u.includes(".ckpt") && u.includes("resolve")), urls.join("\n"));
    assert.ok(urls.every((u) => !u.includes(TOKEN)));
    // progress ends at the total of each file and never goes backwards
    const last = progress.filter((p) => p.file === "model.safetensors");
    assert.equal(last.at(-1)?.bytes, weights.length);
    assert.equal(last.at(-1)?.total, weights.length);
    for (let i = 1; i < last.length; i++) assert.ok(last[i].bytes >= last[i - 1].bytes);

    // a second call is served from the cache: no resolve requests at all
    const mark = hub.requests.length;
    const again = await downloadCheckpoint("hf://HKUSTAudio/xcodec2@main", { cacheDir, hubUrl: hub.url, token: TOKEN });
    assert.equal(again, folder);
    assert.ok(!hub.requests.slice(mark).some((r) => r.url.includes("/resolve/") || r.url.startsWith("/lfs-files/")));
  });

  test("a commit revision and a sub-folder select that folder of that commit", async () => {
    const cacheDir = await freshCache("nested");
    const info = (await (await fetch(`${hub.url}/api/models/acme/nested/revision/main`)).json()) as { sha: string };
    const folder = await downloadCheckpoint(`hf://acme/nested@${info.sha}/variants/small`, {
      cacheDir,
      hubUrl: hub.url,
      token: TOKEN,
    });
    assert.equal(folder, join(cacheDir, "models--acme--nested", "snapshots", info.sha, "variants", "small"));
    assert.ok(bytesEqual(new Uint8Array(await readFile(join(folder, "model.safetensors"))), weights));
    // a commit hash needs no ref file
    await assert.rejects(stat(join(cacheDir, "models--acme--nested", "refs")));
  });

  test("a connection cut mid-file is resumed with a Range request in the same call", async () => {
    const cacheDir = await freshCache("cut-once");
    const cutAt = 1_000_000;
    hub.cutDownload("model.safetensors", cutAt, 1);
    const mark = hub.requests.length;
    const folder = await downloadCheckpoint("hf://HKUSTAudio/xcodec2", { cacheDir, hubUrl: hub.url, token: TOKEN });
    assert.ok(bytesEqual(new Uint8Array(await readFile(join(folder, "model.safetensors"))), weights));
    const gets = hub.requests.slice(mark).filter((r) => r.url.startsWith("/lfs-files/"));
    assert.equal(gets.length, 2, JSON.stringify(gets));
    assert.equal(gets[0].range, undefined);
    assert.equal(gets[1].range, `bytes=${cutAt}-`);
    assert.equal(gets[1].status, 206);
  });

  test("a stalled connection is abandoned after the stall timeout and resumed", async () => {
    const cacheDir = await freshCache("stall");
    const cutAt = 500_000;
    hub.cutDownload("model.safetensors", cutAt, 1, "stall");
    const mark = hub.requests.length;
    const t0 = Date.now();
    const folder = await downloadCheckpoint("hf://HKUSTAudio/xcodec2", {
      cacheDir,
      hubUrl: hub.url,
      token: TOKEN,
      stallTimeoutMs: 300,
    });
    assert.ok(Date.now() - t0 >= 300);
    assert.ok(bytesEqual(new Uint8Array(await readFile(join(folder, "model.safetensors"))), weights));
    const gets = hub.requests.slice(mark).filter((r) => r.url.startsWith("/lfs-files/"));
    assert.deepEqual(gets.map((r) => r.range), [undefined, `bytes=${cutAt}-`]);
  });

  test("an interrupted run leaves a partial file that the next run resumes", async () => {
    const cacheDir = await freshCache("cut-across");
    const cutAt = 2_000_000;
    hub.cutDownload("model.safetensors", cutAt, 1);
    const err = await downloadCheckpoint("hf://HKUSTAudio/xcodec2", {
      cacheDir,
      hubUrl: hub.url,
      token: TOKEN,
      retries: 0,
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(err instanceof HubError, String(err));
    assert.equal(err.code, "network");
    assert.match(err.message, /run again to resume/);
    const blobs = join(cacheDir, "models--HKUSTAudio--xcodec2", "blobs");
    const partial = (await readdir(blobs)).filter((n) => n.endsWith(".incomplete"));
    assert.equal(partial.length, 1);
    assert.equal((await stat(join(blobs, partial[0]))).size, cutAt);

    const mark = hub.requests.length;
    const folder = await downloadCheckpoint("hf://HKUSTAudio/xcodec2", { cacheDir, hubUrl: hub.url, token: TOKEN });
    assert.ok(bytesEqual(new Uint8Array(await readFile(join(folder, "model.safetensors"))), weights));
    const gets = hub.requests.slice(mark).filter((r) => r.url.startsWith("/lfs-files/"));
    assert.deepEqual(gets.map((r) => r.range), [`bytes=${cutAt}-`]);
    assert.deepEqual((await readdir(blobs)).filter((n) => n.endsWith(".incomplete")), []);
  });

  test("bytes that do not match the announced sha256 are refused and not linked", async () => {
    const cacheDir = await freshCache("corrupt");
    // A fetch that flips one byte of every LFS body, as a broken proxy would.
    const corrupting: typeof fetch = (async (input: Parameters<typeof fetch>[0], init?: RequestInit) => {
      const resp = await fetch(input, init);
      if (!String(input).includes("/lfs-files/") || !resp.body) return resp;
      const buf = new Uint8Array(await resp.arrayBuffer());
      buf[buf.length >> 1] ^= 0xff;
      return new Response(buf, { status: resp.status, headers: resp.headers });
    }) as typeof fetch;
    await assert.rejects(
      downloadCheckpoint("hf://HKUSTAudio/xcodec2", { cacheDir, hubUrl: hub.url, token: TOKEN, fetch: corrupting }),
      (e: unknown) => e instanceof HubError && e.code === "integrity" && /model\.safetensors/.test(e.message),
    );
    const blobs = await readdir(join(cacheDir, "models--HKUSTAudio--xcodec2", "blobs"));
    assert.ok(!blobs.some((n) => /^[0-9a-f]{64}(\.incomplete)?$/.test(n)), blobs.join(","));
  });

  test("a wrong token gives a clear auth error that does not contain the token", async () => {
    const cacheDir = await freshCache("wrong-token");
    const logged: string[] = [];
    const saved = {
      log: console.log,
      error: console.error,
      warn: console.warn,
      info: console.info,
      debug: console.debug,
    };
    for (const k of Object.keys(saved) as Array<keyof typeof saved>) {
      console[k] = (...a: unknown[]) => void logged.push(a.map(String).join(" "));
    }
    let err: unknown;
    try {
      err = await downloadCheckpoint("hf://HKUSTAudio/xcodec2", { cacheDir, hubUrl: hub.url, token: WRONG }).then(
        () => undefined,
        (e: unknown) => e,
      );
    } finally {
      Object.assign(console, saved);
    }
    assert.ok(err instanceof HubError, String(err));
    assert.equal(err.code, "auth");
    assert.equal(err.status, 401);
    assert.match(err.message, /HF_TOKEN/);
    assert.match(err.message, /HKUSTAudio\/xcodec2/);
    assert.ok(!err.message.includes(WRONG) && !String(err.stack).includes(WRONG));
    assert.ok(!JSON.stringify(err).includes(WRONG));
    assert.ok(!logged.some((l) => l.includes(WRONG)));
  });

  test("the token comes from HF_TOKEN when no option is given", async () => {
    const saved = process.env["HF_TOKEN"];
    try {
      process.env["HF_TOKEN"] = WRONG;
      await assert.rejects(
        downloadCheckpoint("hf://acme/private", { cacheDir: await freshCache("env-wrong"), hubUrl: hub.url }),
        (e: unknown) => e instanceof HubError && e.code === "auth" && !e.message.includes(WRONG),
      );
      process.env["HF_TOKEN"] = TOKEN;
      const folder = await downloadCheckpoint("hf://acme/private", {
        cacheDir: await freshCache("env-right"),
        hubUrl: hub.url,
      });
      assert.ok(bytesEqual(new Uint8Array(await readFile(join(folder, "model.safetensors"))), weights));
      delete process.env["HF_TOKEN"];
      await assert.rejects(
        downloadCheckpoint("hf://acme/private", { cacheDir: await freshCache("env-none"), hubUrl: hub.url }),
        (e: unknown) => e instanceof HubError && e.code === "auth" && /set HF_TOKEN/.test(e.message),
      );
    } finally {
      if (saved === undefined) delete process.env["HF_TOKEN"];
      else process.env["HF_TOKEN"] = saved;
    }
  });

  test("missing repository, missing revision, bad source and a folder without weights are clear errors", async () => {
    const cacheDir = await freshCache("errors");
    const o = { cacheDir, hubUrl: hub.url, token: TOKEN };
    await assert.rejects(
      downloadCheckpoint("hf://acme/missing", o),
      (e: unknown) => e instanceof HubError && e.code === "not-found" && /acme\/missing/.test(e.message),
    );
    await assert.rejects(
      downloadCheckpoint("hf://HKUSTAudio/xcodec2@nope", o),
      (e: unknown) => e instanceof HubError && e.code === "not-found" && /nope/.test(e.message),
    );
    await assert.rejects(
      downloadCheckpoint("hf://just-one-part", o),
      (e: unknown) => e instanceof HubError && e.code === "bad-source",
    );
    await assert.rejects(
      downloadCheckpoint("/local/path", o),
      (e: unknown) => e instanceof HubError && e.code === "bad-source",
    );
    await assert.rejects(
      downloadCheckpoint("hf://HKUSTAudio/xcodec2", { ...o, token: "not-a-token" }),
      (e: unknown) => e instanceof HubError && e.code === "bad-token" && !e.message.includes("not-a-token"),
    );
    await writeFile(join(cacheDir, "marker"), "");
    await assert.rejects(
      downloadCheckpoint("hf://acme/nested", o),
      (e: unknown) => e instanceof HubError && e.code === "not-found" && /no checkpoint weights/.test(e.message),
    );
  });
});
