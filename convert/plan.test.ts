/**
 * Stored forms the converter accepts because the architecture walk declares them, beyond the reference files:
 * weight norm already removed (plain weights), FSQ tables that some library versions saved, and a stale weight whose
 * shape cannot be compared.
 */
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { generateCheckpoint } from "../fixtures/generate.ts";
import { convertCheckpoint } from "./convert.ts";
import { openSafetensors, writeSafetensors } from "./safetensors/mod.ts";

const dir = await mkdtemp(join(tmpdir(), "plan-test-"));
after(() => rm(dir, { recursive: true, force: true }));

async function tensors(file: string) {
  const s = await openSafetensors(file);
  const out = [];
  for (const t of s.list()) out.push({ name: t.name, dtype: t.dtype, shape: t.shape, data: await s.read(t.name) });
  await s.close();
  return out;
}

const legacy = await generateCheckpoint({ out: join(dir, "legacy"), preset: "tiny", seed: 11 });
const legacyConv = await convertCheckpoint({ source: legacy.dir, out: join(dir, "legacy-conv") });
const legacyOut = await tensors(join(legacyConv.out, "model.safetensors"));

test("a checkpoint whose weight norm was removed converts, its plain weights copied as they are", async () => {
  const g = await generateCheckpoint({ out: join(dir, "plain"), preset: "tiny", seed: 11, style: "plain" });
  assert.ok(!g.tensors.some((t) => t.role === "wn_g" || t.role === "wn_v"));
  const r = await convertCheckpoint({ source: g.dir, out: join(dir, "plain-conv") });
  assert.equal(r.outputTensors, 283);
  assert.equal(r.weightNorm.folded, 0);
  const src = await openSafetensors(g.file);
  const out = await openSafetensors(join(r.out, "model.safetensors"));
  assert.deepEqual(
    await out.read("acoustic_encoder.block.2.conv1.weight"),
    await src.read("CodecEnc.conv_blocks.3.block.4.weight"),
  );
  assert.equal(r.tensors.find((t) => t.source === "CodecEnc.conv_blocks.0.weight")?.action, "rename");
  await src.close();
  await out.close();
});

test("FSQ tables that some vector-quantize-pytorch versions saved are dropped with a reason", async () => {
  const d = join(dir, "fsq-buffers");
  await mkdir(d);
  const ts = await tensors(legacy.file);
  const f32 = (n: number) => new Uint8Array(new Float32Array(n).buffer);
  for (const [name, shape] of [["generator.quantizer.scales", [1, 8]], ["generator.quantizer.layers.0._levels", [8]]]) {
    ts.push({
      name: name as string,
      dtype: "F32",
      shape: shape as number[],
      data: f32((shape as number[]).reduce((a, b) => a * b)),
    });
  }
  await writeSafetensors(join(d, "model.safetensors"), ts, { metadata: { format: "pt" } });
  const r = await convertCheckpoint({
    source: join(d, "model.safetensors"),
    config: join(legacy.dir, "config.json"),
    out: join(dir, "fsq-conv"),
  });
  assert.match(r.tensors.find((t) => t.source === "generator.quantizer.scales")!.reason!, /FSQ .*rebuilt at load/);
  assert.deepEqual(await tensors(join(r.out, "model.safetensors")), legacyOut);
});

test("a stale plain weight of another shape than its direction is refused, naming it", async () => {
  const d = join(dir, "stale-shape");
  await mkdir(d);
  const ts = await tensors(legacy.file);
  ts.push({ name: "CodecEnc.conv_blocks.0.weight", dtype: "F32", shape: [8, 1, 5], data: new Uint8Array(8 * 5 * 4) });
  await writeSafetensors(join(d, "model.safetensors"), ts, { metadata: { format: "pt" } });
  await assert.rejects(
    convertCheckpoint({
      source: join(d, "model.safetensors"),
      config: join(legacy.dir, "config.json"),
      out: join(dir, "x"),
    }),
    /"CodecEnc\.conv_blocks\.0\.weight": stale plain weight has shape \[8,1,5\], its direction .*weight_v \[8,1,7\]/,
  );
});
