/**
 * Temporaries of killed writers in the runtime: a model cache build is frozen mid-write in a child process and killed
 * with SIGKILL (no `finally` of ours runs), and the next load must remove what it left and build the entry; the codes
 * and WAV writers of encode and decode remove a dead writer's temporary and keep a live one's.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, readdir, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { resolveModel } from "./model_source.ts";
import { writeCodesFile } from "./codes_io.ts";
import { writeWav } from "./audio/mod.ts";
import { deadPid, killedWriter, tempNames as temps } from "../fixtures/support/stale_temps.ts";
import { TINY_ORIGINAL as ORIGINAL } from "../fixtures/support/reference.ts";
import { tempDir } from "../fixtures/support/temp_dir.ts";

const work = await tempDir("xcodec2-killed-runtime-");

describe("killed runtime writers", () => {
  test("a model cache build killed mid-write: the next load removes it and builds the entry", {
    timeout: 240_000,
  }, async () => {
    const cache = join(work, "cache");
    const entries = join(cache, "converted");
    await killedWriter("cache", ORIGINAL, cache, entries);
    const model = await resolveModel(ORIGINAL, { cacheDir: cache });
    assert.deepEqual(await temps(entries), []);
    assert.equal(dirname(model.dir), entries);
    assert.ok((await readdir(model.onnxDir)).includes("decoder_model.onnx"));
  });

  test("encode and decode outputs: a dead writer's temporary goes, a live one's stays", async () => {
    const dir = join(work, "outputs");
    await mkdir(dir);
    const dead = await deadPid();
    for (
      const [name, write] of [
        ["codes.npy", (p: string) => writeCodesFile(p, [{ name: "a", codes: new Int32Array([1, 2, 3]) }])],
        ["a.wav", (p: string) => writeWav(p, new Float32Array(320))],
      ] as const
    ) {
      const path = join(dir, name);
      await writeFile(join(dir, `.${name}.tmp-${dead}-0a1b2c3d0`), "half");
      await writeFile(join(dir, `.${name}.tmp-1-0a1b2c3d0`), "live");
      await write(path);
      assert.deepEqual(await temps(dir), [`.${name}.tmp-1-0a1b2c3d0`]);
      await rm(join(dir, `.${name}.tmp-1-0a1b2c3d0`));
    }
    assert.deepEqual((await readdir(dir)).sort(), ["a.wav", "codes.npy"]);
  });
});
