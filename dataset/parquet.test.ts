/**
 * The shard format, read back by an independent implementation (parquet-wasm: arrow-rs in WebAssembly, with
 * apache-arrow) rather than by the writer's own library: column types, nulls, values, metadata, and the same bytes
 * every time.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { tempDir } from "../fixtures/support/temp_dir.ts";
import { readShard } from "../fixtures/dataset/parquet_reader.ts";
import { type CodesProvenance, encodeShardParquet, HF_FEATURES, type Row } from "./parquet.ts";

const provenance: CodesProvenance = {
  codec: "xcodec2",
  model_sha256: "ab".repeat(32),
  model_sha256_of: "source checkpoint",
  sample_rate: 16000,
  frame_rate: 50,
  codebook_size: 65536,
  resampled: false,
  toolkit: "xcodec2-kit 0.0.0-test",
};

const rows: Row[] = [
  {
    key: "a",
    codes: Int32Array.of(0, 65535, 7),
    seconds: 0.0625,
    text: "héllo",
    source: "x/a.wav",
    audioSha256: "1".repeat(64),
  },
  {
    key: "b/c",
    codes: Int32Array.of(42),
    seconds: 0.02,
    text: null,
    source: "t.tar:b/c.flac",
    audioSha256: "2".repeat(64),
  },
  {
    key: "d",
    codes: new Int32Array(3000).map((_, i) => (i * 7919) % 65536),
    seconds: 60,
    text: "",
    source: "d",
    audioSha256: "3".repeat(64),
  },
];

test("columns, types, nulls, values and metadata as another Parquet implementation reads them", async () => {
  const dir = await tempDir("xcodec2-pq-");
  const bytes = encodeShardParquet(rows, provenance);
  const path = join(dir, "s.parquet");
  await writeFile(path, bytes);
  const s = await readShard(path);
  assert.deepEqual(s.types, {
    __key__: "Utf8",
    codes: "List<Int32>",
    n_codes: "Int32",
    duration_s: "Float32",
    text: "Utf8",
    source: "Utf8",
    audio_sha256: "Utf8",
  });
  assert.equal(s.nullable.text, true);
  assert.equal(s.nullable.__key__, false);
  assert.equal(s.nullable.codes, false);
  assert.equal(s.rows.length, 3);
  for (const [i, r] of rows.entries()) {
    const got = s.rows[i];
    assert.equal(got.__key__, r.key);
    assert.deepEqual(got.codes, r.codes);
    assert.equal(got.n_codes, r.codes.length);
    assert.equal(got.duration_s, Math.fround(r.seconds));
    assert.equal(got.text, r.text);
    assert.equal(got.source, r.source);
    assert.equal(got.audio_sha256, r.audioSha256);
  }
  assert.deepEqual(JSON.parse(s.metadata.get("xcodec2")!), provenance);
  assert.deepEqual(JSON.parse(s.metadata.get("huggingface")!), { info: { features: HF_FEATURES } });
});

test("the same rows give the same bytes; a shard whose every item failed is a valid empty file", async () => {
  const a = encodeShardParquet(rows, provenance);
  const b = encodeShardParquet(rows.map((r) => ({ ...r, codes: r.codes.slice() })), provenance);
  assert.deepEqual(a, b);
  const dir = await tempDir("xcodec2-pq-");
  const path = join(dir, "empty.parquet");
  await writeFile(path, encodeShardParquet([], provenance));
  const s = await readShard(path);
  assert.equal(s.rows.length, 0);
  assert.equal(s.types.codes, "List<Int32>");
});
