/** Codes files: round trips of all three formats, and corrupt files rejected with the file (and line / tensor) named. */
import { before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { writeSafetensors } from "../convert/mod.ts";
import {
  type CodeItem,
  CodesFileError,
  decodeNpyInt32,
  encodeNpyInt32,
  readCodesFile,
  writeCodesFile,
} from "./codes_io.ts";
import { tempDir } from "../fixtures/support/temp_dir.ts";

let dir: string;
before(async () => {
  dir = await tempDir("xcodec2-codes-");
});

const items: CodeItem[] = [
  { name: "a.wav", codes: Int32Array.of(0, 65535, 12, 7), samples: 1000 },
  { name: "sub/b.flac", codes: Int32Array.of(42), samples: 1 },
  { name: "c", codes: Int32Array.of(1, 2, 3) }, // no length known
];

/** A v1.0 .npy with any descr / shape text and body (to write what our writer never would). */
function npy(descr: string, body: Uint8Array, shape = "(3,)"): Uint8Array {
  const header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`.padEnd(117, " ") + "\n";
  const out = new Uint8Array(10 + header.length + body.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0], 0);
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(new TextEncoder().encode(header), 10);
  out.set(body, 10 + header.length);
  return out;
}
const u8 = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
const withDescr = (descr: string, body: Uint8Array) => npy(descr, body);

function rejectsNaming(p: Promise<unknown>, file: string, detail: RegExp) {
  return assert.rejects(p, (e: Error) => {
    assert.ok(e instanceof CodesFileError, `${e.name}: ${e.message}`);
    assert.ok(e.message.startsWith(`${file}: `), e.message);
    assert.match(e.message, detail);
    return true;
  });
}

describe("round trips", () => {
  for (const ext of ["jsonl", "safetensors"]) {
    test(`.${ext} keeps names, codes and lengths`, async () => {
      const p = join(dir, `rt.${ext}`);
      await writeCodesFile(p, items);
      assert.deepEqual(await readCodesFile(p), items.map((it) => ({ ...it, samples: it.samples })));
    });
  }

  test(".npy: int32 written as numpy does (64-byte aligned v1.0 header); <i8, <i2, <u2, |u1 read too", async () => {
    const codes = Int32Array.of(5, 65535, 0);
    const bytes = encodeNpyInt32(codes);
    assert.equal((bytes.length - codes.byteLength) % 64, 0);
    assert.match(
      new TextDecoder().decode(bytes.subarray(10, 70)),
      /^\{'descr': '<i4', 'fortran_order': False, 'shape': \(3,\), \}/,
    );
    const p = join(dir, "one.npy");
    await writeCodesFile(p, [{ name: "one", codes }]);
    assert.deepEqual(await readCodesFile(p), [{ name: "one", codes }]);
    assert.deepEqual(decodeNpyInt32(withDescr("<i8", u8(BigInt64Array.of(5n, 65535n, 0n))), "x"), codes);
    assert.deepEqual(decodeNpyInt32(withDescr("<u2", u8(Uint16Array.of(5, 65535, 0))), "x"), codes);
    assert.deepEqual(decodeNpyInt32(withDescr("<i2", u8(Int16Array.of(5, -1, 0))), "x"), Int32Array.of(5, -1, 0));
    assert.deepEqual(decodeNpyInt32(withDescr("|u1", Uint8Array.of(5, 255, 0)), "x"), Int32Array.of(5, 255, 0));
  });
});

describe("corrupt files name the file", () => {
  test(".npy: bad magic, float dtype, 2-D shape, size mismatch, int64 beyond int32", async () => {
    const good = encodeNpyInt32(Int32Array.of(1, 2, 3));
    const cases: [string, Uint8Array, RegExp][] = [
      ["magic.npy", Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11), /bad magic/],
      ["float.npy", npy("<f4", new Uint8Array(12)), /dtype <f4 is not an integer code type/],
      ["short.npy", good.subarray(0, good.length - 2), /data is 10 bytes.*needs 12/],
      ["shape.npy", npy("<i4", new Uint8Array(24), "(3, 2)"), /codes must be one sequence, got shape \(3, 2\)/],
      ["big.npy", npy("<i8", u8(BigInt64Array.of(1n, 2n ** 40n, 3n))), /code 1 \(1099511627776\) does not fit int32/],
      ["huge.npy", npy("<i4", new Uint8Array(0), "(1000000000,)"), /declares 1000000000 codes/],
    ];
    for (const [name, bytes, detail] of cases) {
      const p = join(dir, name);
      await writeFile(p, bytes);
      await rejectsNaming(readCodesFile(p), p, detail);
    }
  });

  test(".jsonl: a line that is not JSON, codes that are not integers", async () => {
    const p = join(dir, "bad.jsonl");
    await writeFile(p, '{"name":"a","codes":[1,2]}\nnot json\n');
    await rejectsNaming(readCodesFile(p), p, /line 2 is not JSON/);
    await writeFile(p, '{"name":"a","codes":[1,2.5]}\n');
    await rejectsNaming(readCodesFile(p), p, /line 1: "codes" must be a list of integers/);
    await writeFile(p, '{"name":"a","codes":"1 2"}\n');
    await rejectsNaming(readCodesFile(p), p, /line 1: "codes" must be a list of integers/);
  });

  test(".safetensors: wrong dtype or no codes tensors", async () => {
    const p = join(dir, "f32.safetensors");
    await writeSafetensors(p, [{ name: "0.codes", dtype: "F32", shape: [2], data: new Uint8Array(8) }], {
      metadata: { names: '["x"]' },
    });
    await rejectsNaming(readCodesFile(p), p, /tensor 0\.codes must be I32 \[K\], got F32/);
    const q = join(dir, "none.safetensors");
    await writeSafetensors(q, [{ name: "other", dtype: "I32", shape: [1], data: new Uint8Array(4) }]);
    await rejectsNaming(readCodesFile(q), q, /holds no `<i>.codes` tensors/);
  });

  test("unknown extension, and several items into one .npy", async () => {
    await rejectsNaming(readCodesFile(join(dir, "x.txt")), join(dir, "x.txt"), /unknown codes format/);
    const p = join(dir, "many.npy");
    await rejectsNaming(writeCodesFile(p, items), p, /a \.npy file holds one sequence, 3 given/);
    await assert.rejects(readFile(p), { code: "ENOENT" });
  });
});
