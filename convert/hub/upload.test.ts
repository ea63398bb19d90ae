/**
 * pushToHub against the fake Hub on 127.0.0.1: the converted tiny checkpoint goes up byte-identical, on the right
 * branch, through the LFS basic transfer (and multipart when the server asks for it).
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startFakeHub } from "../../fixtures/support/fake_hub.ts";
import type { FakeHub } from "../../fixtures/support/fake_hub.ts";
import { TINY_CONVERTED } from "../../fixtures/support/reference.ts";
import { DEFAULT_COMMIT_MESSAGE, pushToHub } from "./upload.ts";
import { HubError } from "./errors.ts";

const CONVERTED = TINY_CONVERTED;
const TOKEN = "hf_fakeUploadTokenQwerty12345";
const WRONG = "hf_notTheRightOne000111222";

let hub: FakeHub;
let work: string;
let folder: string;
let expected: Map<string, Uint8Array>;

before(async () => {
  hub = await startFakeHub({ token: TOKEN, lifetimeMs: 60_000 });
  work = await mkdtemp(join(tmpdir(), "xcodec2-hub-up-"));
  // The converted folder plus a model card and a file in a sub-folder, as the converter writes them.
  folder = join(work, "converted");
  await cp(CONVERTED, folder, { recursive: true });
  await writeFile(
    join(folder, "README.md"),
    "---\nlicense: cc-by-nc-4.0\nbase_model: HKUSTAudio/xcodec2\n---\n# converted\n",
  );
  await mkdir(join(folder, "onnx"));
  await writeFile(join(folder, "onnx", "notes.txt"), "exported later\n");
  expected = new Map();
  const walk = async (dir: string, prefix: string): Promise<void> => {
    for (const d of await readdir(dir, { withFileTypes: true })) {
      if (d.isDirectory()) await walk(join(dir, d.name), `${prefix}${d.name}/`);
      else expected.set(`${prefix}${d.name}`, new Uint8Array(await readFile(join(dir, d.name))));
    }
  };
  await walk(folder, "");
});

after(async () => {
  await hub.close();
  await rm(work, { recursive: true, force: true });
});

function assertSameFiles(got: Map<string, Uint8Array> | undefined, want: Map<string, Uint8Array>): void {
  assert.ok(got, "revision missing on the fake hub");
  for (const [path, bytes] of want) {
    const g = got.get(path);
    assert.ok(g, `${path} missing on the hub`);
    assert.ok(Buffer.from(g).equals(Buffer.from(bytes)), `${path} differs (${g.length} vs ${bytes.length} bytes)`);
  }
}

describe("pushToHub to the fake Hub", () => {
  test("creates the repo and the branch, and every file arrives byte-identical on that branch", async () => {
    const mark = hub.requests.length;
    const progress = new Set<string>();
    const out = await pushToHub(folder, "me/xcodec2-tiny", {
      hubUrl: hub.url,
      token: TOKEN,
      revision: "converted",
      private: true,
      onProgress: (p) => progress.add(`${p.state}:${p.file}`),
    });
    assert.deepEqual(hub.repoInfo("me/xcodec2-tiny"), { private: true });
    assert.deepEqual(hub.branches("me/xcodec2-tiny").sort(), ["converted", "main"]);
    assertSameFiles(hub.files("me/xcodec2-tiny", "converted"), expected);
    // main keeps only what repo creation put there
    assert.deepEqual([...hub.files("me/xcodec2-tiny", "main")!.keys()], [".gitattributes"]);
    // the weights went through LFS, the JSON files inline in the commit
    assert.deepEqual(hub.lfsPaths("me/xcodec2-tiny", "converted"), ["model.safetensors"]);
    assert.deepEqual(hub.history("me/xcodec2-tiny", "converted")[0], DEFAULT_COMMIT_MESSAGE);
    assert.match(out.commitUrl ?? "", new RegExp(`^${hub.url}/me/xcodec2-tiny/commit/[0-9a-f]{40}$`));
    assert.ok(out.commitUrl?.endsWith(out.commitOid ?? "?"));
    assert.ok(progress.has("hashing:model.safetensors") && progress.has("uploading:model.safetensors"));
    // the endpoints the library used, in order, and the PUT went to the signed URL without the token
    const reqs = hub.requests.slice(mark);
    const kinds = reqs.map((r) => `${r.method} ${r.url.split("?")[0].replace(/[0-9a-f]{64}/, "<sha256>")}`);
    assert.deepEqual(kinds, [
      "GET /api/models/me/xcodec2-tiny",
      "POST /api/repos/create",
      "POST /api/models/me/xcodec2-tiny/branch/converted",
      "POST /api/models/me/xcodec2-tiny/preupload/converted",
      "POST /me/xcodec2-tiny.git/info/lfs/objects/batch",
      "PUT /lfs-upload/<sha256>",
      "POST /api/models/me/xcodec2-tiny/commit/converted",
    ]);
    assert.equal(reqs.find((r) => r.method === "PUT")?.auth, "none");
    assert.ok(reqs.filter((r) => r.method !== "PUT").every((r) => r.auth === "valid"));
  });

  test("pushing again to an existing repo and branch adds a commit, without re-uploading LFS bytes", async () => {
    await writeFile(join(folder, "conversion.json"), JSON.stringify({ source_sha256: "00" }));
    const mark = hub.requests.length;
    await pushToHub(folder, "me/xcodec2-tiny", {
      hubUrl: hub.url,
      token: TOKEN,
      revision: "converted",
      commitMessage: "second",
    });
    const reqs = hub.requests.slice(mark);
    assert.ok(!reqs.some((r) => r.url.startsWith("/api/repos/create")));
    assert.equal(reqs.find((r) => r.url.includes("/branch/"))?.status, 409); // exists: tolerated
    assert.ok(!reqs.some((r) => r.method === "PUT"), "LFS object already on the hub must not be uploaded again");
    assert.deepEqual(hub.history("me/xcodec2-tiny", "converted").slice(0, 2), ["second", DEFAULT_COMMIT_MESSAGE]);
    const files = hub.files("me/xcodec2-tiny", "converted")!;
    assert.equal(new TextDecoder().decode(files.get("conversion.json")), JSON.stringify({ source_sha256: "00" }));
    await rm(join(folder, "conversion.json"));
  });

  test("large files go up as multipart when the server asks for it, still byte-identical", async () => {
    const mp = await startFakeHub({ token: TOKEN, lifetimeMs: 60_000, multipartChunkSize: 1_000_000 });
    try {
      await pushToHub(folder, "me/multi", { hubUrl: mp.url, token: TOKEN });
      assertSameFiles(mp.files("me/multi", "main"), expected);
      const parts = mp.requests.filter((r) => r.method === "PUT" && r.url.includes("/part/"));
      assert.equal(parts.length, Math.ceil(expected.get("model.safetensors")!.length / 1_000_000));
      assert.ok(mp.requests.some((r) => r.url.includes("/complete") && r.status === 200));
    } finally {
      await mp.close();
    }
  });

  test("without HF_TOKEN it fails before any request, naming the variable to set", async () => {
    const saved = process.env["HF_TOKEN"];
    delete process.env["HF_TOKEN"];
    const mark = hub.requests.length;
    try {
      await assert.rejects(
        pushToHub(folder, "me/no-token", { hubUrl: hub.url }),
        (e: unknown) =>
          e instanceof HubError && e.code === "no-token" && /set the HF_TOKEN environment variable/.test(e.message),
      );
      assert.equal(hub.requests.length, mark);
      // and with HF_TOKEN set, it is used
      process.env["HF_TOKEN"] = TOKEN;
      await pushToHub(folder, "me/from-env", { hubUrl: hub.url });
      assertSameFiles(hub.files("me/from-env"), expected);
    } finally {
      if (saved === undefined) delete process.env["HF_TOKEN"];
      else process.env["HF_TOKEN"] = saved;
    }
  });

  test("a wrong token is a clear auth error without the token text, and nothing is created", async () => {
    const err = await pushToHub(folder, "me/wrong", { hubUrl: hub.url, token: WRONG }).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(err instanceof HubError, String(err));
    assert.equal(err.code, "auth");
    assert.match(err.message, /HF_TOKEN/);
    assert.match(err.message, /write access/);
    assert.ok(
      !err.message.includes(WRONG) && !String(err.stack).includes(WRONG) && !JSON.stringify(err).includes(WRONG),
    );
    assert.equal(hub.repoInfo("me/wrong"), undefined);
  });

  test("a missing or empty folder and a bad repo name are refused before any request", async () => {
    const mark = hub.requests.length;
    await assert.rejects(
      pushToHub(join(work, "nope"), "me/x", { hubUrl: hub.url, token: TOKEN }),
      (e: unknown) => e instanceof HubError && e.code === "bad-folder" && /nope/.test(e.message),
    );
    const empty = join(work, "empty");
    await mkdir(empty, { recursive: true });
    await assert.rejects(
      pushToHub(empty, "me/x", { hubUrl: hub.url, token: TOKEN }),
      (e: unknown) => e instanceof HubError && e.code === "bad-folder" && /empty/.test(e.message),
    );
    for (const bad of ["noslash", "me/x/y", "me/x@dev", "../x"]) {
      await assert.rejects(
        pushToHub(folder, bad, { hubUrl: hub.url, token: TOKEN }),
        (e: unknown) => e instanceof HubError && e.code === "bad-source",
        bad,
      );
    }
    assert.equal(hub.requests.length, mark);
  });
});
