import { test } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { convertCheckpoint } from "../convert.ts";
import { openSafetensors } from "../safetensors/mod.ts";
import { lightningCkpt, tensorsOf } from "../../fixtures/pickle/checkpoints.ts";
import { TINY_ORIGINAL, TINY_ORIGINAL_PICKLE } from "../../fixtures/support/reference.ts";

test("converting the pickled forms of tiny-a (torch's .bin, our Lightning .ckpt) gives the same files as its safetensors", async () => {
  const dir = mkdtempSync(join(tmpdir(), "xcodec2-pickle-convert-"));
  try {
    const st = await openSafetensors(join(TINY_ORIGINAL, "model.safetensors"));
    const tensors = await tensorsOf(st);
    await st.close();
    const ckpt = join(dir, "epoch=4-step=1400000.ckpt");
    writeFileSync(ckpt, lightningCkpt(tensors));
    const config = join(TINY_ORIGINAL, "config.json");
    const sources = {
      safetensors: join(TINY_ORIGINAL, "model.safetensors"),
      torch_bin: join(TINY_ORIGINAL_PICKLE, "pytorch_model.bin"),
      lightning: ckpt,
    };
    const outputs: Record<string, Buffer> = {};
    for (const [name, source] of Object.entries(sources)) {
      const out = join(dir, `out-${name}`);
      await convertCheckpoint({ source, config, out });
      outputs[name] = readFileSync(join(out, "model.safetensors"));
      if (name === "safetensors") copyFileSync(join(out, "config.json"), join(dir, "config.json"));
      else {assert.deepEqual(
          readFileSync(join(out, "config.json")),
          readFileSync(join(dir, "config.json")),
          `${name}: config.json`,
        );}
    }
    assert.ok(outputs.safetensors.length > 1000);
    assert.ok(outputs.torch_bin.equals(outputs.safetensors), "torch .bin converts byte-identically");
    assert.ok(outputs.lightning.equals(outputs.safetensors), "Lightning .ckpt converts byte-identically");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
