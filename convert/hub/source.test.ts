import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { formatHubSource, parseHubSource } from "./source.ts";
import { selectCheckpointFiles } from "./select_files.ts";
import { HubError, scrubSecret, toHubError } from "./errors.ts";

describe("parseHubSource", () => {
  test("repo, revision and sub-path", () => {
    assert.deepEqual(parseHubSource("hf://HKUSTAudio/xcodec2"), { repo: "HKUSTAudio/xcodec2", revision: "main" });
    assert.deepEqual(parseHubSource("hf://HKUSTAudio/xcodec2@v1.0"), { repo: "HKUSTAudio/xcodec2", revision: "v1.0" });
    assert.deepEqual(parseHubSource("hf://a/b@0123456789abcdef0123456789abcdef01234567/ckpt/x"), {
      repo: "a/b",
      revision: "0123456789abcdef0123456789abcdef01234567",
      path: "ckpt/x",
    });
    assert.deepEqual(parseHubSource("hf://a/b/sub/"), { repo: "a/b", revision: "main", path: "sub" });
    assert.deepEqual(parseHubSource("hf://a/b@refs%2Fpr%2F3"), { repo: "a/b", revision: "refs/pr/3" });
  });

  test("non-hf strings are null, malformed hf strings throw bad-source", () => {
    assert.equal(parseHubSource("/data/xcodec2"), null);
    assert.equal(parseHubSource("HKUSTAudio/xcodec2"), null);
    for (
      const bad of [
        "hf://",
        "hf://a",
        "hf://a/",
        "hf:///b",
        "hf://a/b@",
        "hf://a/b/../c",
        "hf://a/b//c",
        "hf://-a/b",
        "hf://a/b..c",
        "hf://a/b@%zz",
        "hf://a/b@refs%2F..%2Fx",
      ]
    ) {
      assert.throws(
        () => parseHubSource(bad),
        (e: unknown) => e instanceof HubError && e.code === "bad-source" && e.message.includes(bad),
        bad,
      );
    }
  });

  test("formatHubSource is the inverse", () => {
    for (const s of ["hf://a/b", "hf://a/b@dev", "hf://a/b@refs%2Fpr%2F3/x/y"]) {
      assert.equal(formatHubSource(parseHubSource(s)!), s);
    }
  });
});

describe("selectCheckpointFiles", () => {
  const xcodec2 = [".gitattributes", "README.md", "ckpt/epoch=4-step=1400000.ckpt", "config.json", "model.safetensors"];
  test("prefers safetensors and skips the Lightning checkpoint", () => {
    assert.deepEqual(selectCheckpointFiles(xcodec2), ["README.md", "config.json", "model.safetensors"]);
  });
  test("falls back to pytorch_model.bin, then to *.ckpt", () => {
    assert.deepEqual(selectCheckpointFiles(["config.json", "pytorch_model.bin", "x.txt"]), [
      "config.json",
      "pytorch_model.bin",
    ]);
    assert.deepEqual(selectCheckpointFiles(["README.md", "ckpt/a.ckpt", "LICENSE"]), [
      "LICENSE",
      "README.md",
      "ckpt/a.ckpt",
    ]);
  });
  test("sharded safetensors come with their index; a prefix restricts to that folder", () => {
    const paths = [
      "m/model-00001-of-00002.safetensors",
      "m/model-00002-of-00002.safetensors",
      "m/model.safetensors.index.json",
      "m/config.json",
      "model.safetensors",
    ];
    assert.deepEqual(selectCheckpointFiles(paths, "m"), [
      "m/config.json",
      "m/model-00001-of-00002.safetensors",
      "m/model-00002-of-00002.safetensors",
      "m/model.safetensors.index.json",
    ]);
    assert.deepEqual(selectCheckpointFiles(["config.json", "README.md"]), []);
  });
});

describe("token scrubbing", () => {
  test("scrubSecret removes plain and URL-encoded occurrences", () => {
    assert.equal(scrubSecret("a hf_x+y b hf_x%2By", "hf_x+y"), "a [redacted] b [redacted]");
    assert.equal(scrubSecret("nothing", undefined), "nothing");
  });
  test("toHubError scrubs the token a server echoed back and classifies the status", () => {
    const echoed = Object.assign(new Error("bad token hf_secret123 in https://h/x?sig=abc"), { statusCode: 401 });
    const e = toHubError(echoed, { doing: "downloading", repo: "a/b", token: "hf_secret123" });
    assert.equal(e.code, "auth");
    assert.ok(!e.message.includes("hf_secret123"));
    assert.ok(!e.message.includes("sig=abc"));
    assert.equal(
      toHubError(Object.assign(new Error("x"), { statusCode: 404 }), { doing: "d", repo: "a/b", token: undefined })
        .code,
      "not-found",
    );
    assert.equal(
      toHubError(new TypeError("fetch failed"), { doing: "d", repo: "a/b", token: undefined }).code,
      "network",
    );
  });
});
