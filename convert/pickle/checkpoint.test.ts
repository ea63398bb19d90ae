import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openSafetensors } from "../safetensors/mod.ts";
import type { TensorSource } from "../tensor_source.ts";
import {
  lightningCkpt,
  stateDictBin,
  type TensorData,
  tensorsOf,
  viewsCheckpoint,
} from "../../fixtures/pickle/checkpoints.ts";
import { TINY_ORIGINAL, TINY_ORIGINAL_PICKLE } from "../../fixtures/support/reference.ts";
import { openPickleCheckpoint, PickleCheckpoint, PickleError, ZipFormatError } from "./mod.ts";

const TORCH_BIN = join(TINY_ORIGINAL_PICKLE, "pytorch_model.bin");
const SAFETENSORS = join(TINY_ORIGINAL, "model.safetensors");

async function assertSameTensors(src: TensorSource, expected: TensorData[]): Promise<void> {
  assert.deepEqual(src.list().map((i) => i.name).sort(), expected.map((t) => t.name).sort());
  for (const t of expected) {
    const info = src.info(t.name);
    assert.ok(info, t.name);
    assert.equal(info.dtype, t.dtype, t.name);
    assert.deepEqual(info.shape, t.shape, t.name);
    assert.equal(info.byteLength, t.data.length, t.name);
    const got = await src.read(t.name);
    assert.ok(Buffer.from(got).equals(Buffer.from(t.data)), `bytes of ${t.name}`);
  }
}

async function withTemp<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), "xcodec2-pickle-"));
  try {
    return await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

let tiny: TensorData[] | undefined;
async function tinyTensors(): Promise<TensorData[]> {
  if (!tiny) {
    const st = await openSafetensors(SAFETENSORS);
    try {
      tiny = await tensorsOf(st);
    } finally {
      await st.close();
    }
  }
  return tiny;
}

describe("PyTorch zip checkpoints", () => {
  test("the pytorch_model.bin torch wrote equals the safetensors form: keys, dtypes, shapes, bytes", async () => {
    const expected = await tinyTensors();
    assert.equal(expected.length, 453);
    const src = await openPickleCheckpoint(TORCH_BIN);
    try {
      assert.equal(src.path, TORCH_BIN);
      await assertSameTensors(src, expected);
      assert.equal(src.list()[0].name, "CodecEnc.conv_blocks.0.bias", "file order kept");
    } finally {
      await src.close();
    }
  });

  test("a generated .bin and a Lightning .ckpt of the tiny tensors give the same tensors", async () => {
    const expected = await tinyTensors();
    await withTemp(async (dir) => {
      writeFileSync(join(dir, "model.bin"), stateDictBin(expected, { prefix: "model" }));
      writeFileSync(join(dir, "epoch=4-step=1400000.ckpt"), lightningCkpt(expected));
      for (const f of ["model.bin", "epoch=4-step=1400000.ckpt"]) {
        const src = await openPickleCheckpoint(join(dir, f));
        try {
          await assertSameTensors(src, expected);
          assert.equal((src as PickleCheckpoint).lightning, f.endsWith(".ckpt"));
        } finally {
          await src.close();
        }
      }
    });
  });

  test("Lightning optimizer state is never read (its storages carry bad CRCs and the load still succeeds)", async () => {
    const expected = (await tinyTensors()).slice(0, 12);
    await withTemp(async (dir) => {
      const path = join(dir, "last.ckpt");
      writeFileSync(path, lightningCkpt(expected, { corruptOptimizerStorages: true }));
      const src = await openPickleCheckpoint(path);
      try {
        await assertSameTensors(src, expected);
      } finally {
        await src.close();
      }
      // the same corruption under a state-dict tensor is caught
      const sdPath = join(dir, "bad.bin");
      const bytes = stateDictBin(expected.slice(0, 1));
      const at = Buffer.from(bytes).lastIndexOf(Buffer.from("archive/data/0"));
      const cd = Buffer.from(bytes).lastIndexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]), at);
      bytes[cd + 16] ^= 0xff;
      writeFileSync(sdPath, bytes);
      const bad = await openPickleCheckpoint(sdPath);
      try {
        await assert.rejects(
          bad.read(expected[0].name),
          (e: Error) => e instanceof ZipFormatError && /CRC-32/.test(e.message) && e.message.includes(sdPath),
        );
      } finally {
        await bad.close();
      }
    });
  });

  test("views: shared storage, offsets, transposes, strided slices, expanded, 0-d, empty, Parameter, dtypes", async () => {
    await withTemp(async (dir) => {
      const variants = {
        "le.pt": {},
        "be.pt": { bigEndian: true },
        "zip64.pt": { zip64: true },
        "plain_headers.pt": { dataDescriptor: false, align: 1 },
      };
      for (const [name, opts] of Object.entries(variants)) {
        const { bytes, expected } = viewsCheckpoint(opts);
        writeFileSync(join(dir, name), bytes);
        const src = await openPickleCheckpoint(join(dir, name));
        try {
          await assertSameTensors(src, expected);
          // a column slice of a transposed view really is strided, not a prefix of the storage
          const t = new Float32Array((await src.read("transposed")).slice().buffer);
          assert.deepEqual(Array.from(t.slice(0, 4)), [0.5, 6.5, 12.5, 18.5]);
        } finally {
          await src.close();
        }
      }
    });
  });

  test("broken containers give typed errors naming the file", async () => {
    await withTemp(async (dir) => {
      const good = stateDictBin([{ name: "w", dtype: "F32", shape: [2], data: new Uint8Array(8) }]);
      const cases: Record<string, Uint8Array> = {
        "empty.bin": new Uint8Array(0),
        "text.bin": new TextEncoder().encode("not a checkpoint at all, just some text that is long enough"),
        "legacy.bin": Uint8Array.from([
          0x80,
          0x02,
          0x8a,
          0x0a,
          0x6c,
          0xfc,
          0x9c,
          0x46,
          0xf9,
          0x20,
          0x6a,
          0xa8,
          0x50,
          0x19,
          0x2e,
        ]),
        "truncated.bin": good.subarray(0, good.length - 30),
        "cut_in_half.bin": good.subarray(0, good.length >> 1),
      };
      for (const [name, bytes] of Object.entries(cases)) {
        const path = join(dir, name);
        writeFileSync(path, bytes);
        await assert.rejects(openPickleCheckpoint(path), (e: Error) => {
          assert.ok(e instanceof PickleError, `${name}: ${e}`);
          assert.ok(e.message.includes(path), e.message);
          return true;
        });
      }
    });
  });

  test("a state dict tensor whose storage entry is missing or too small is refused at open", async () => {
    await withTemp(async (dir) => {
      const { bytes } = viewsCheckpoint();
      // rename the entry data/3 (bools) in both headers so the storage is gone
      const buf = Buffer.from(bytes);
      for (let i = buf.indexOf("archive/data/3"); i >= 0; i = buf.indexOf("archive/data/3", i + 1)) {
        buf.write("archive/data/X", i);
      }
      const path = join(dir, "missing.pt");
      writeFileSync(path, buf);
      await assert.rejects(openPickleCheckpoint(path), /tensor "bools": storage entry "archive\/data\/3" is missing/);
    });
  });
});
