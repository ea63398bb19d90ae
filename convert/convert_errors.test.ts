/**
 * Bad input: each case must throw a ConversionError/SafetensorsError whose message names the file and the tensor,
 * make the CLI exit non-zero, and leave no output folder (nor temporary folder) behind.
 */
import assert from "node:assert/strict";
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { after, describe, test } from "node:test";
import { runConvertCommand } from "./cli.ts";
import { convertCheckpoint } from "./convert.ts";
import { openSafetensors, writeSafetensors } from "./safetensors/mod.ts";
import { TINY_ORIGINAL } from "../fixtures/support/reference.ts";

const REF = TINY_ORIGINAL;
const dir = await mkdtemp(join(tmpdir(), "convert-bad-"));
after(() => rm(dir, { recursive: true, force: true }));

const refConfig = JSON.parse(await readFile(join(REF, "config.json"), "utf8"));

/** A copy of the reference original with tensors edited: `edit` gets (name, data) and returns replacements. */
async function variant(
  name: string,
  edit: (tensors: { name: string; dtype: "F32"; shape: number[]; data: Uint8Array }[]) => void,
  config: object = refConfig,
): Promise<string> {
  const d = join(dir, name);
  await mkdir(d);
  const src = await openSafetensors(join(REF, "model.safetensors"));
  const tensors = [];
  for (const t of src.list()) {
    tensors.push({ name: t.name, dtype: "F32" as const, shape: t.shape, data: await src.read(t.name) });
  }
  await src.close();
  edit(tensors);
  await writeSafetensors(join(d, "model.safetensors"), tensors, { metadata: { format: "pt" } });
  await writeFile(join(d, "config.json"), JSON.stringify(config));
  return d;
}

/** A copy whose raw bytes are edited (for header-level damage). */
async function rawVariant(name: string, edit: (bytes: Uint8Array) => Uint8Array): Promise<string> {
  const d = join(dir, name);
  await mkdir(d);
  await copyFile(join(REF, "config.json"), join(d, "config.json"));
  await writeFile(join(d, "model.safetensors"), edit(new Uint8Array(await readFile(join(REF, "model.safetensors")))));
  return d;
}

function editHeader(
  bytes: Uint8Array,
  f: (h: Record<string, { dtype: string; shape: number[]; data_offsets: number[] }>) => void,
): Uint8Array {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  const h = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
  f(h);
  const text = new TextEncoder().encode(JSON.stringify(h));
  const out = new Uint8Array(8 + text.length + bytes.length - 8 - n);
  new DataView(out.buffer).setBigUint64(0, BigInt(text.length), true);
  out.set(text, 8);
  out.set(bytes.subarray(8 + n), 8 + text.length);
  return out;
}

async function expectFailure(source: string, message: RegExp, tensor: string | undefined) {
  const out = join(dir, `out-${Math.random().toString(36).slice(2)}`);
  await assert.rejects(convertCheckpoint({ source, out }), (e: Error & { file?: string; tensor?: string }) => {
    assert.match(e.message, message);
    assert.ok(
      e.message.includes(join(source, "model.safetensors")) || e.message.includes(source),
      `file not named: ${e.message}`,
    );
    if (tensor !== undefined) {
      assert.equal(e.tensor, tensor);
      assert.ok(e.message.includes(`"${tensor}"`), `tensor not named: ${e.message}`);
    }
    return true;
  });
  assert.equal(await stat(out).catch(() => undefined), undefined, "output folder left behind");
  // the CLI: non-zero exit, one line, same message
  const lines: string[] = [];
  const orig = process.stderr.write.bind(process.stderr);
  (process.stderr as { write: unknown }).write = (s: string) => (lines.push(String(s)), true);
  let code: number;
  try {
    code = await runConvertCommand([source, "--out", out]);
  } finally {
    (process.stderr as { write: unknown }).write = orig;
  }
  assert.equal(code, 1);
  assert.equal(lines.length, 1);
  assert.match(lines[0]!, message);
  assert.equal(await stat(out).catch(() => undefined), undefined, "output folder left behind by the CLI");
  assert.deepEqual((await readdir(dir)).filter((f) => f.includes(".tmp-")), [], "temporary folder left behind");
}

const LAST = "semantic_model.masked_spec_embed"; // the last tensor in file order

describe("bad input fails clearly and leaves nothing behind", () => {
  test("truncated file", async () => {
    const d = await rawVariant("truncated", (b) => b.subarray(0, b.length - 100));
    await expectFailure(d, /outside the .*data block/, LAST);
  });
  test("header length past the end of the file", async () => {
    const d = await rawVariant("hlen", (b) => {
      const c = b.slice();
      new DataView(c.buffer).setBigUint64(0, BigInt(c.length), true);
      return c;
    });
    await expectFailure(d, /header length \d+ runs past the end/, undefined);
  });
  test("overlapping offsets", async () => {
    const d = await rawVariant("overlap", (b) =>
      editHeader(b, (h) => {
        h["fc_prior.bias"]!.data_offsets = h["fc_prior.bias"]!.data_offsets.map((x) => x - 4);
      }));
    await expectFailure(d, /overlap/, "fc_prior.bias");
  });
  test("out-of-range offsets", async () => {
    const d = await rawVariant("range", (b) =>
      editHeader(b, (h) => {
        h[LAST]!.data_offsets = h[LAST]!.data_offsets.map((x) => x + 1_000_000);
      }));
    await expectFailure(d, /outside the .*data block/, LAST);
  });
  test("unknown dtype", async () => {
    const d = await rawVariant("dtype", (b) =>
      editHeader(b, (h) => {
        h["fc_post_a.bias"]!.dtype = "F24";
      }));
    await expectFailure(d, /unknown dtype "F24"/, "fc_post_a.bias");
  });
  test("a weight_v without its weight_g", async () => {
    const d = await variant(
      "no-g",
      (ts) => ts.splice(ts.findIndex((t) => t.name === "CodecEnc.conv_blocks.2.block.4.weight_g"), 1),
    );
    await expectFailure(d, /weight_v .*without its weight_g/, "CodecEnc.conv_blocks.2.block.4.weight_v");
  });
  test("a missing tensor", async () => {
    const d = await variant("missing", (ts) => ts.splice(ts.findIndex((t) => t.name === "generator.head.out.bias"), 1));
    await expectFailure(d, /missing tensor: .*acoustic_decoder\.head\.linear\.bias/, "generator.head.out.bias");
  });
  test("an extra tensor", async () => {
    const d = await variant(
      "extra",
      (ts) =>
        ts.push({ name: "generator.backbone.extra_gate.weight", dtype: "F32", shape: [2], data: new Uint8Array(8) }),
    );
    await expectFailure(d, /extra tensor the config does not account for/, "generator.backbone.extra_gate.weight");
  });
  test("a shape that contradicts the config", async () => {
    const cfg = structuredClone(refConfig);
    cfg.reference_architecture.codec_encoder.ngf = 16; // the checkpoint was built with ngf 8
    const d = await variant("shape", () => {}, cfg);
    await expectFailure(d, /contradicts the config/, "CodecEnc.conv_blocks.0.bias");
  });
  test("the Hub's short config against a tiny checkpoint: the real model's facts do not fit", async () => {
    const { reference_architecture: _, ...hub } = refConfig;
    const d = await variant("hubcfg", () => {}, {
      ...hub,
      semantic_hidden_size: 1024,
      codec_encoder_hidden_size: 1024,
      codec_decoder_hidden_size: 1024,
    });
    await expectFailure(d, /contradicts the config/, undefined);
  });
});
