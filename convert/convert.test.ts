import assert from "node:assert/strict";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { after, describe, test } from "node:test";
import { runConvertCommand } from "./cli.ts";
import { convertCheckpoint } from "./convert.ts";
import { f16ToF32, f32BitsToBf16, f32ToF16Bits } from "./dtype_cast.ts";
import { INDEX_NAME, openSafetensors, openShardedSafetensors } from "./safetensors/mod.ts";
import { referencePath } from "../fixtures/support/reference.ts";

const REF = referencePath("checkpoints", "tiny-a");
const dir = await mkdtemp(join(tmpdir(), "convert-test-"));
after(() => rm(dir, { recursive: true, force: true }));

const asF32 = (b: Uint8Array) => new Float32Array(b.slice().buffer);
const bitsOf = (x: number) => new Uint32Array(new Float32Array([x]).buffer)[0]!;
/** distance in units in the last place between two finite float32 values of the same sign */
const ulps = (a: number, b: number) => Math.abs(bitsOf(a) - bitsOf(b));

const out = join(dir, "tiny-a");
const report = await convertCheckpoint({ source: join(REF, "original"), out });

describe("tiny-a: ours vs upstream's converted twin", () => {
  test("same key set, shapes and dtypes; every tensor bit-identical, folded ones within 2 ulp / 1e-6", async () => {
    const ours = await openSafetensors(join(out, "model.safetensors"));
    const ref = await openSafetensors(join(REF, "converted", "model.safetensors"));
    const key = (t: { name: string; dtype: string; shape: number[] }) => `${t.name} ${t.dtype} [${t.shape}]`;
    assert.deepEqual(ours.list().map(key).sort(), ref.list().map(key).sort());
    assert.equal(ours.list().length, 283);
    const folded = new Set(report.tensors.filter((t) => t.action === "fold_weight_norm").flatMap((t) => t.targets));
    assert.equal(folded.size, 37);
    let foldedIdentical = 0;
    for (const t of ref.list()) {
      const a = await ours.read(t.name);
      const b = await ref.read(t.name);
      if (!folded.has(t.name)) {
        assert.deepEqual(a, b, `${t.name} differs`);
        continue;
      }
      const x = asF32(a);
      const y = asF32(b);
      let same = true;
      for (let i = 0; i < x.length; i++) {
        if (x[i] === y[i]) continue;
        same = false;
        const ok = ulps(x[i]!, y[i]!) <= 2 || Math.abs(x[i]! - y[i]!) <= 1e-6 * Math.abs(y[i]!);
        assert.ok(ok, `${t.name}[${i}]: ${x[i]} vs ${y[i]}`);
      }
      if (same) foldedIdentical++;
    }
    // torch's CPU weight-norm kernel is emulated exactly (AVX2 8-lane float32 order): all 37 are bit-identical
    process.stderr.write(`weight-norm folded tensors bit-identical to upstream: ${foldedIdentical}/${folded.size}\n`);
    assert.equal(foldedIdentical, 37);
    await ours.close();
    await ref.close();
  });

  test("config.json and preprocessor_config.json equal upstream's, byte for byte", async () => {
    for (const f of ["config.json", "preprocessor_config.json"]) {
      const ours = await readFile(join(out, f), "utf8");
      const ref = await readFile(join(REF, "converted", f), "utf8");
      assert.deepEqual(JSON.parse(ours), JSON.parse(ref));
      assert.equal(ours, ref);
    }
  });

  test("conversion.json accounts for every source tensor; README carries licence and base model", async () => {
    const side = JSON.parse(await readFile(join(out, "conversion.json"), "utf8"));
    const manifest = JSON.parse(await readFile(join(REF, "original_manifest.json"), "utf8"));
    assert.deepEqual(
      side.tensors.map((t: { source: string }) => t.source).sort(),
      Object.keys(manifest.tensors).sort(),
    );
    assert.equal(side.source.files[0].sha256, "782fabce4db168786581b2959627c80712b8e053c655323dc30166b5719eeaed");
    const by = (a: string) => side.tensors.filter((t: { action: string }) => t.action === a).length;
    assert.equal(by("fold_weight_norm"), 74);
    assert.equal(by("split_qkv"), 2);
    assert.equal(by("drop"), 73 + 2 * 32); // 72 filters + 1 window, semantic layers 2 and 3 (32 tensors each)
    for (const t of side.tensors) {
      if (t.action === "drop") assert.ok(t.reason && t.targets.length === 0, t.source);
      else assert.ok(t.targets.length > 0 && t.transform, t.source);
    }
    const attn = side.tensors.find((t: { source: string }) =>
      t.source === "generator.backbone.transformers.0.att.c_attn.weight"
    );
    assert.deepEqual(
      attn.targets,
      ["q_proj", "k_proj", "v_proj"].map((p) => `acoustic_decoder.layers.0.self_attn.${p}.weight`),
    );
    const card = await readFile(join(out, "README.md"), "utf8");
    assert.match(card, /^---\nlicense: cc-by-nc-4.0\nbase_model: HKUSTAudio\/xcodec2\n/);
  });
});

describe("options", () => {
  test("--dtype fp16 / bf16 cast every tensor with round-to-nearest-even", async () => {
    const fp32 = await openSafetensors(join(out, "model.safetensors"));
    for (
      const [dtype, st, enc] of [["fp16", "F16", f32ToF16Bits], [
        "bf16",
        "BF16",
        (x: number) => f32BitsToBf16(bitsOf(x)),
      ]] as const
    ) {
      const o = join(dir, `cast-${dtype}`);
      const r = await convertCheckpoint({ source: join(REF, "original"), out: o, dtype });
      assert.equal(r.config.dtype, dtype === "fp16" ? "float16" : "bfloat16");
      const c = await openSafetensors(join(o, "model.safetensors"));
      assert.ok(c.list().every((t) => t.dtype === st));
      for (const name of ["acoustic_encoder.conv2.weight", "acoustic_decoder.layers.1.self_attn.k_proj.weight"]) {
        const want = asF32(await fp32.read(name));
        const got = new Uint16Array((await c.read(name)).slice().buffer);
        for (let i = 0; i < want.length; i++) assert.equal(got[i], enc(want[i]!), `${dtype} ${name}[${i}]`);
      }
      await c.close();
    }
    await fp32.close();
    // spot checks of the rounding itself: ties to even, overflow, subnormals
    assert.equal(f32ToF16Bits(1 + 2 ** -11), 0x3c00); // tie → even (down)
    assert.equal(f32ToF16Bits(1 + 3 * 2 ** -11), 0x3c02); // tie → even (up)
    assert.equal(f32ToF16Bits(70000), 0x7c00);
    assert.equal(f16ToF32(f32ToF16Bits(2 ** -24)), 2 ** -24);
    assert.equal(f32BitsToBf16(0x3f808000), 0x3f80); // tie → even
    assert.equal(f32BitsToBf16(0x3f818000), 0x3f82);
  });

  test("--max-shard-size writes shards + index that read back to the same tensors", async () => {
    const o = join(dir, "sharded");
    await convertCheckpoint({ source: join(REF, "original"), out: o, maxShardSize: 1_000_000 });
    const files = (await readdir(o)).sort();
    assert.ok(files.includes(INDEX_NAME));
    assert.equal(files.filter((f) => /^model-\d{5}-of-\d{5}\.safetensors$/.test(f)).length, 6);
    const sharded = await openShardedSafetensors(join(o, INDEX_NAME));
    const single = await openSafetensors(join(out, "model.safetensors"));
    assert.equal(sharded.list().length, 283);
    for (const t of single.list()) assert.deepEqual(await sharded.read(t.name), await single.read(t.name), t.name);
    await sharded.close();
    await single.close();
    // a sharded checkpoint is read as a source too: converting the (already converted) shards is the identity
    const again = join(dir, "from-sharded");
    await convertCheckpoint({ source: o, out: again, config: join(REF, "original", "config.json") });
    const a = await openSafetensors(join(again, "model.safetensors"));
    const b = await openSafetensors(join(out, "model.safetensors"));
    for (const t of b.list()) assert.deepEqual(await a.read(t.name), await b.read(t.name), t.name);
    await a.close();
    await b.close();
  });

  test("output folder: empty is accepted, non-empty refused without force, replaced with force", async () => {
    const o = join(dir, "existing");
    await mkdir(o);
    await convertCheckpoint({ source: join(REF, "original"), out: o });
    assert.ok((await readdir(o)).includes("model.safetensors"));
    await assert.rejects(convertCheckpoint({ source: join(REF, "original"), out: o }), /not empty.*--force/);
    await writeFile(join(o, "stray.txt"), "x");
    await convertCheckpoint({ source: join(REF, "original"), out: o, force: true });
    assert.ok(!(await readdir(o)).includes("stray.txt"));
    assert.deepEqual((await readdir(dir)).filter((f) => f.includes(".tmp-")), []);
  });

  test("CLI: exit 0 on success, 2 on usage errors, 1 with one clear line on conversion errors", async () => {
    const o = join(dir, "cli");
    const lines: string[] = [];
    const orig = process.stderr.write.bind(process.stderr);
    (process.stderr as { write: unknown }).write = (s: string) => (lines.push(String(s)), true);
    try {
      assert.equal(await runConvertCommand([join(REF, "original"), "--out", o, "--dtype", "bf16"]), 0);
      assert.equal(await runConvertCommand([join(REF, "original")]), 2);
      assert.equal(await runConvertCommand([join(REF, "original"), "--out", o, "--dtype", "fp8"]), 2);
      lines.length = 0;
      assert.equal(await runConvertCommand([join(dir, "nowhere"), "--out", join(dir, "cli2")]), 1);
    } finally {
      (process.stderr as { write: unknown }).write = orig;
    }
    assert.equal(lines.length, 1);
    assert.match(lines[0]!, /^error: ConversionError: .*nowhere: source not found/);
    assert.ok(!lines[0]!.includes("    at "));
  });
});
