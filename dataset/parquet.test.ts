/**
 * The shard format, read back by an independent implementation (parquet-wasm: arrow-rs in WebAssembly, with
 * apache-arrow) rather than by the writer's own library: column types, nulls, values, metadata, and the same bytes
 * every time.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parquetWriteBuffer } from "hyparquet-writer";
import { CodesFileError, readCodesFile } from "../runtime/mod.ts";
import { tempDir } from "../fixtures/support/temp_dir.ts";
import { readShard } from "../fixtures/support/dataset/parquet_reader.ts";
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

test("`xcodec2 decode`'s reader takes a shard's keys, codes and lengths; a file without the columns is named", async () => {
  const dir = await tempDir("xcodec2-pq-");
  const path = join(dir, "train-00000-of-00001.parquet");
  await writeFile(path, encodeShardParquet(rows, provenance));
  const items = await readCodesFile(path);
  assert.deepEqual(items.map((it) => it.name), rows.map((r) => r.key));
  for (const [i, it] of items.entries()) assert.deepEqual(it.codes, rows[i].codes, it.name);
  // duration_s is float32: the lengths come back as whole samples (0.0625 s = 1000, 0.02 s = 320, 60 s = 960000)
  assert.deepEqual(items.map((it) => it.samples), [1000, 320, 960_000]);

  const empty = join(dir, "empty.parquet");
  await writeFile(empty, encodeShardParquet([], provenance));
  assert.deepEqual(await readCodesFile(empty), []);

  const other = join(dir, "other.parquet");
  await writeFile(other, new Uint8Array(parquetWriteBuffer({ columnData: [{ name: "__key__", data: ["a"] }] })));
  await assert.rejects(readCodesFile(other), (e: Error) => {
    assert.ok(e instanceof CodesFileError, String(e));
    assert.equal(
      e.message,
      `${other}: a codes Parquet file needs the columns "__key__" and "codes"; this one has "__key__"`,
    );
    return true;
  });
  const junk = join(dir, "junk.parquet");
  await writeFile(junk, "not a parquet file");
  await assert.rejects(readCodesFile(junk), new RegExp(`^CodesFileError: ${junk}: not a Parquet file`));
});
