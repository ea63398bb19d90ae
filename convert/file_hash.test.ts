import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { hashFilesInProcess, SequentialHash, startExternalHash } from "./file_hash.ts";

const dir = await mkdtemp(join(tmpdir(), "hash-test-"));
after(() => rm(dir, { recursive: true, force: true }));

test("native hasher (when present), in-process hashing and the sequential hash agree with sha256", async () => {
  const bytes = new Uint8Array(3_000_001).map((_, i) => (i * 2654435761) >>> 24);
  const files = [join(dir, "a.bin"), join(dir, "b b.bin")];
  await writeFile(files[0]!, bytes);
  await writeFile(files[1]!, bytes.subarray(7));
  const want = [
    createHash("sha256").update(bytes).digest("hex"),
    createHash("sha256").update(bytes.subarray(7)).digest("hex"),
  ];
  assert.deepEqual((await hashFilesInProcess(files)).map((d) => d.sha256), want);
  const seq = new SequentialHash();
  seq.update(bytes.subarray(0, 10));
  seq.update(bytes.subarray(10));
  assert.equal(seq.upTo, bytes.length);
  assert.equal(seq.hex(), want[0]);
  const ext = await startExternalHash(files);
  if (ext) assert.deepEqual(await ext.digests, want); // absent openssl: the converter falls back to in-process
  const missing = await startExternalHash([join(dir, "nope.bin")]);
  if (missing) await assert.rejects(missing.digests, /openssl dgst failed/);
});
