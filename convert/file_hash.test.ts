import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { collectDigests, hashFilesInProcess, SequentialHash, streamHashes } from "./file_hash.ts";
import { HashWorker, sharedBytes } from "./hash_worker.ts";

const dir = await mkdtemp(join(tmpdir(), "hash-test-"));
after(() => rm(dir, { recursive: true, force: true }));

const bytes = new Uint8Array(3_000_001).map((_, i) => (i * 2654435761) >>> 24);
const files = [join(dir, "a.bin"), join(dir, "b b.bin")];
const want = [
  createHash("sha256").update(bytes).digest("hex"),
  createHash("sha256").update(bytes.subarray(7)).digest("hex"),
];
await writeFile(files[0]!, bytes);
await writeFile(files[1]!, bytes.subarray(7));

test("in-process hashing and the sequential hash agree with sha256", async () => {
  assert.deepEqual((await hashFilesInProcess(files)).map((d) => d.sha256), want);
  const seq = new SequentialHash();
  await seq.update(bytes.subarray(0, 10));
  await seq.update(bytes.subarray(10));
  assert.equal(seq.upTo, bytes.length);
  assert.equal(await seq.hex(), want[0]);
});

test("the worker thread: streams fed in pieces (shared or not), whole files, and a missing file", async () => {
  const worker = await HashWorker.start();
  assert.ok(worker, "worker threads are available under Bun, Deno and Node");
  try {
    const [a, b] = streamHashes(2, worker);
    // stream a from a shared buffer reused between pieces (each update awaited before the refill), b interleaved
    // from plain (copied) views
    const buf = sharedBytes(1 << 20);
    for (let pos = 0; pos < bytes.length; pos += buf.length) {
      const piece = bytes.subarray(pos, Math.min(bytes.length, pos + buf.length));
      buf.set(piece);
      const pa = a!.update(buf.subarray(0, piece.length));
      const pb = b!.update(bytes.subarray(Math.max(7, pos), Math.min(bytes.length, pos + buf.length)));
      await Promise.all([pa, pb]);
    }
    assert.equal(a!.upTo, bytes.length);
    const digests = await collectDigests(files, [a!, b!]);
    assert.deepEqual(digests.map((d) => d.sha256), want);
    assert.deepEqual(digests.map((d) => d.bytes), [bytes.length, bytes.length - 7]);
    assert.deepEqual(await worker.hashFile(files[1]!), { hex: want[1], bytes: bytes.length - 7 });
    await assert.rejects(worker.hashFile(join(dir, "nope.bin")), /sha256 worker: .*nope\.bin/);
    // whole-file hashes started beside a conversion, and the in-process fallback when one of them failed
    assert.deepEqual(
      (await collectDigests(files, undefined, files.map((f) => worker.hashFile(f)))).map((d) => d.sha256),
      want,
    );
    const failing = [worker.hashFile(files[0]!), Promise.reject(new Error("gone"))];
    assert.deepEqual((await collectDigests(files, undefined, failing)).map((d) => d.sha256), want);
  } finally {
    await worker.terminate();
  }
});
