import assert from "node:assert/strict";
import { open, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, test } from "node:test";
import {
  CheckpointWriter,
  INDEX_NAME,
  openSafetensors,
  openShardedSafetensors,
  SafetensorsError,
  SafetensorsWriter,
  writeSafetensors,
} from "./mod.ts";
import { tempDir } from "../../fixtures/support/temp_dir.ts";

const dir = await tempDir("st-test-");

const f32 = (...xs: number[]) => new Uint8Array(new Float32Array(xs).buffer);

/** A file from a raw header object and a data block (no validation: for crafting bad files). */
async function rawFile(name: string, header: unknown, data: Uint8Array, headerText?: string): Promise<string> {
  const json = new TextEncoder().encode(headerText ?? JSON.stringify(header));
  const buf = new Uint8Array(8 + json.length + data.length);
  new DataView(buf.buffer).setBigUint64(0, BigInt(json.length), true);
  buf.set(json, 8);
  buf.set(data, 8 + json.length);
  const p = join(dir, name);
  await writeFile(p, buf);
  return p;
}

async function rejects(p: string, detail: RegExp, tensor?: string) {
  await assert.rejects(openSafetensors(p), (e: unknown) => {
    assert.ok(e instanceof SafetensorsError, `expected SafetensorsError, got ${e}`);
    assert.equal(e.file, p);
    assert.match(e.message, detail);
    if (tensor !== undefined) {
      assert.equal(e.tensor, tensor);
      assert.ok(e.message.includes(`"${tensor}"`), e.message);
    }
    return true;
  });
}

describe("safetensors writer/reader round trip", () => {
  test("values, dtypes, shapes, metadata and 8-byte aligned header come back", async () => {
    const p = join(dir, "rt.safetensors");
    await writeSafetensors(p, [
      { name: "b", dtype: "F32", shape: [2, 2], data: f32(1, 2, 3, 4) },
      { name: "a", dtype: "I64", shape: [1], data: new Uint8Array(new BigInt64Array([-5n]).buffer) },
      { name: "c", dtype: "BF16", shape: [0], data: new Uint8Array(0) },
      { name: "d", dtype: "U8", shape: [3], data: new Uint8Array([7, 8, 9]) },
    ], { metadata: { format: "pt" } });
    const bytes = await readFile(p);
    const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
    assert.equal(n % 8, 0);
    const r = await openSafetensors(p);
    assert.deepEqual(r.metadata, { format: "pt" });
    assert.deepEqual(r.list().map((t) => t.name), ["b", "a", "c", "d"]); // file (data) order
    assert.deepEqual(r.info("b"), { name: "b", dtype: "F32", shape: [2, 2], byteLength: 16 });
    assert.deepEqual([...new Float32Array((await r.read("b")).slice().buffer)], [1, 2, 3, 4]);
    assert.equal(new BigInt64Array((await r.read("a")).slice().buffer)[0], -5n);
    assert.equal((await r.read("c")).length, 0);
    assert.deepEqual([...(await r.read("d"))], [7, 8, 9]);
    const d = await r.digest();
    const { createHash } = await import("node:crypto");
    assert.equal(d.sha256, createHash("sha256").update(bytes).digest("hex"));
    await r.close();
    assert.deepEqual((await readdir(dir)).filter((f) => f.includes(".tmp-")), []);
  });

  test("writer refuses out-of-order or wrongly sized data and leaves no file", async () => {
    const p = join(dir, "bad-order.safetensors");
    const w = await SafetensorsWriter.create(p, [{ name: "x", dtype: "F32", shape: [1] }, {
      name: "y",
      dtype: "F32",
      shape: [1],
    }]);
    await assert.rejects(w.write("y", f32(1)), /out of order/);
    const w2 = await SafetensorsWriter.create(p, [{ name: "x", dtype: "F32", shape: [2] }]);
    await assert.rejects(w2.write("x", f32(1)), /needs 8/);
    assert.deepEqual((await readdir(dir)).filter((f) => f.startsWith("bad-order")), []);
  });

  test("sharded write + index read back as one source", async () => {
    const sub = join(dir, "sharded");
    await (await import("node:fs/promises")).mkdir(sub);
    const specs = [0, 1, 2, 3, 4].map((i) => ({ name: `t${i}`, dtype: "F32" as const, shape: [4] }));
    const w = CheckpointWriter.create(sub, specs, { maxShardSize: 40, metadata: { format: "pt" } });
    for (const s of specs) await w.write(s.name, f32(...[0, 1, 2, 3].map((k) => Number(s.name.slice(1)) * 10 + k)));
    const files = await w.finish();
    assert.equal(files.length, 4); // 16-byte tensors, 40-byte limit → 2 per shard → 3 shards + index
    const index = JSON.parse(await readFile(join(sub, INDEX_NAME), "utf8"));
    assert.equal(index.metadata.total_size, 80);
    assert.equal(index.weight_map.t4, "model-00003-of-00003.safetensors");
    const src = await openShardedSafetensors(join(sub, INDEX_NAME));
    assert.deepEqual(src.list().map((t) => t.name), ["t0", "t1", "t2", "t3", "t4"]);
    assert.deepEqual([...new Float32Array((await src.read("t3")).slice().buffer)], [30, 31, 32, 33]);
    assert.equal((await src.digests()).length, 3);
    await src.close();
  });

  test("writeSpan: raw spans across tensors and shard boundaries give the same files as per-tensor writes", async () => {
    const specs = [0, 1, 2, 3, 4].map((i) => ({ name: `t${i}`, dtype: "F32" as const, shape: [4] }));
    const data = (i: number) => f32(...[0, 1, 2, 3].map((k) => i * 10 + k));
    const all = new Uint8Array(80);
    specs.forEach((_, i) => all.set(data(i), i * 16));
    const mk = async (sub: string) => (await (await import("node:fs/promises")).mkdir(join(dir, sub)), join(dir, sub));
    const a = await mk("span-a");
    const wa = CheckpointWriter.create(a, specs, { maxShardSize: 40 });
    for (const [i, s] of specs.entries()) await wa.write(s.name, data(i));
    await wa.finish();
    const b = await mk("span-b");
    const wb = CheckpointWriter.create(b, specs, { maxShardSize: 40 });
    await wb.writeSpan(all.subarray(0, 20), "t0"); // t0 whole + 4 bytes of t1
    await wb.writeSpan(all.subarray(20, 70)); // rest of t1, t2, t3 (next shard), half of t4
    await wb.writeSpan(all.subarray(70, 80));
    await wb.finish();
    for (const f of (await readdir(a)).sort()) {
      assert.deepEqual(await readFile(join(b, f)), await readFile(join(a, f)), f);
    }
    // a span naming the wrong first tensor, or running past the declared tensors, is refused
    const p = join(dir, "span-bad.safetensors");
    const w1 = await SafetensorsWriter.create(p, specs.slice(0, 2));
    await assert.rejects(w1.writeSpan(all.subarray(0, 16), "t1"), /out of order/);
    const w2 = await SafetensorsWriter.create(p, specs.slice(0, 2));
    await assert.rejects(w2.writeSpan(all.subarray(0, 40)), /only 32 left/);
    const r = await openSafetensors(join(b, "model-00002-of-00003.safetensors"));
    const buf = new Uint8Array(16);
    await r.readAt(buf, r.byteRange("t3")!.start);
    assert.deepEqual(buf, data(3));
    await r.close();
  });

  test("a tensor stored beyond 4 GiB is read at the right offset (sparse file)", async () => {
    const big = 4 * 2 ** 30 + 4096; // U8 filler larger than 2^32 bytes
    const header = {
      filler: { dtype: "U8", shape: [big], data_offsets: [0, big] },
      tail: { dtype: "F32", shape: [2], data_offsets: [big, big + 8] },
    };
    const json = new TextEncoder().encode(JSON.stringify(header));
    const p = join(dir, "sparse.safetensors");
    const h = await open(p, "w");
    const prefix = new Uint8Array(8);
    new DataView(prefix.buffer).setBigUint64(0, BigInt(json.length), true);
    await h.write(prefix, 0, 8, 0);
    await h.write(json, 0, json.length, 8);
    await h.write(f32(1.5, -2.5), 0, 8, 8 + json.length + big);
    await h.close();
    const r = await openSafetensors(p);
    assert.deepEqual([...new Float32Array((await r.read("tail")).slice().buffer)], [1.5, -2.5]);
    await r.close();
    await rm(p);
  });
});

describe("safetensors reader is strict", () => {
  const ok = {
    a: { dtype: "F32", shape: [2], data_offsets: [0, 8] },
    b: { dtype: "F32", shape: [1], data_offsets: [8, 12] },
  };
  const data = new Uint8Array(12);

  test("truncated file: the tensor that runs past the end is named", async () => {
    await rejects(await rawFile("trunc.safetensors", ok, data.subarray(0, 10)), /outside the 10-byte data block/, "b");
  });
  test("header length past the end of the file", async () => {
    const p = await rawFile("hlen.safetensors", ok, data);
    const b = await readFile(p);
    new DataView(b.buffer, b.byteOffset).setBigUint64(0, 10_000n, true);
    await writeFile(p, b);
    await rejects(p, /header length 10000 runs past the end/);
  });
  test("header length over the 100 MB bound", async () => {
    const p = await rawFile("hbig.safetensors", ok, data);
    const b = await readFile(p);
    new DataView(b.buffer, b.byteOffset).setBigUint64(0, 2n ** 40n, true);
    await writeFile(p, b);
    await rejects(p, /exceeds the 100000000-byte limit/);
  });
  test("file shorter than 8 bytes", async () => {
    const p = join(dir, "tiny.safetensors");
    await writeFile(p, new Uint8Array(3));
    await rejects(p, /shorter than the 8-byte/);
  });
  // tensor b (4 bytes) placed badly after a (bytes 0-8): [title, file, b's offsets, data block bytes, error]
  const placements: [string, string, [number, number], number, RegExp][] = [
    ["overlapping offsets", "ovl", [4, 8], 8, /overlap/],
    ["out-of-range offsets", "oor", [8, 12], 8, /outside/],
    ["a gap between tensors", "gap", [12, 16], 16, /gap after byte 8/],
  ];
  for (const [title, file, offsets, size, error] of placements) {
    test(title, async () => {
      const header = { a: ok.a, b: { dtype: "F32", shape: [1], data_offsets: offsets } };
      await rejects(await rawFile(`${file}.safetensors`, header, new Uint8Array(size)), error, "b");
    });
  }
  test("bytes not covered by any tensor", async () => {
    await rejects(
      await rawFile("extra.safetensors", ok, new Uint8Array(16)),
      /cover 12 bytes but the data block has 16/,
    );
  });
  test("unknown dtype", async () => {
    await rejects(
      await rawFile("dt.safetensors", { ...ok, b: { dtype: "F17", shape: [1], data_offsets: [8, 12] } }, data),
      /unknown dtype "F17"/,
      "b",
    );
  });
  test("dtype size × shape ≠ byte length", async () => {
    await rejects(
      await rawFile("len.safetensors", { ...ok, b: { dtype: "F64", shape: [1], data_offsets: [8, 12] } }, data),
      /needs 8 bytes/,
      "b",
    );
  });
  test("duplicate keys (JSON.parse would silently keep the last)", async () => {
    const text =
      `{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"a":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}`;
    await rejects(await rawFile("dup.safetensors", null, data, text), /appears twice/, "a");
  });
  test("non-string __metadata__ values", async () => {
    await rejects(
      await rawFile("meta.safetensors", { __metadata__: { n: 1 }, ...ok }, data),
      /__metadata__ value for "n" is not a string/,
    );
  });
  test("invalid UTF-8 and non-object headers", async () => {
    const p = await rawFile("utf.safetensors", ok, data);
    const b = await readFile(p);
    b[10] = 0xff;
    await writeFile(p, b);
    await rejects(p, /not valid UTF-8/);
    await rejects(await rawFile("arr.safetensors", [1, 2], new Uint8Array(0)), /not a JSON object/);
  });
  test("F8 kinds are passed through", async () => {
    const p = await rawFile(
      "f8.safetensors",
      { x: { dtype: "F8_E4M3", shape: [3], data_offsets: [0, 3] } },
      new Uint8Array([1, 2, 3]),
    );
    const r = await openSafetensors(p);
    assert.deepEqual([...(await r.read("x"))], [1, 2, 3]);
    await r.close();
  });
});
