/**
 * Temporaries of killed writers in the converter: a conversion and an ONNX export are frozen mid-write in a child
 * process and killed with SIGKILL (no `finally` of ours runs); the next run of the same writer must remove what it
 * left, finish, and leave no temporary behind; a temporary of a process that still runs is never removed.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, readdir, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { convertCheckpoint, exportOnnx } from "./mod.ts";
import { removeStaleTemps } from "../common/temp_files.ts";
import { frozenWriter, kill9, killedWriter, tempNames as temps } from "../fixtures/support/stale_temps.ts";
import { TINY_CONVERTED as CONVERTED, TINY_ORIGINAL as ORIGINAL } from "../fixtures/support/reference.ts";
import { tempDir } from "../fixtures/support/temp_dir.ts";

const work = await tempDir("xcodec2-killed-convert-");

const isDir = (p: string) => stat(p).then((s) => s.isDirectory(), () => false);

describe("killed converter writers", () => {
  test("a conversion killed with SIGKILL mid-write leaves a temporary; the next conversion removes it", {
    timeout: 240_000,
  }, async () => {
    const out = join(work, "convert", "tiny-hf");
    const { pid, left } = await killedWriter("convert", ORIGINAL, out);
    assert.match(left, new RegExp(`^\\.tiny-hf\\.tmp-${pid}-`));
    // killed mid-write: the half-written safetensors is inside
    assert.ok((await temps(join(dirname(out), left))).length > 0);

    const logs: string[] = [];
    await convertCheckpoint({ source: ORIGINAL, out, log: (m) => logs.push(m) });
    assert.deepEqual(await temps(dirname(out)), []);
    assert.deepEqual(await temps(out), []);
    assert.ok(logs.some((m) => m.includes(left) && m.includes("no longer runs")), logs.join("\n"));
    assert.ok((await stat(join(out, "model.safetensors"))).size > 0);
  });

  test("a conversion's temporary is kept while its process runs", { timeout: 240_000 }, async () => {
    const out = join(work, "live", "tiny-hf");
    await mkdir(dirname(out), { recursive: true });
    const child = await frozenWriter("convert", ORIGINAL, out);
    try {
      const theirs = await temps(dirname(out));
      assert.equal(theirs.length, 1);
      await convertCheckpoint({ source: ORIGINAL, out, log: () => {} });
      assert.deepEqual(await temps(dirname(out)), theirs, "the live writer's temporary was touched");
      assert.ok(await isDir(join(dirname(out), theirs[0])));
    } finally {
      await kill9(child);
    }
    assert.equal((await removeStaleTemps(out)).length, 1);
    assert.deepEqual(await temps(dirname(out)), []);
  });

  test("an ONNX export killed mid-write: the next export removes its folder", { timeout: 240_000 }, async () => {
    const out = join(work, "export", "onnx");
    const { left } = await killedWriter("export", CONVERTED, out);
    assert.ok((await readdir(join(dirname(out), left))).includes("encoder_model.onnx"));
    await exportOnnx(CONVERTED, { out, fp16: false });
    assert.deepEqual(await temps(dirname(out)), []);
    assert.ok((await readdir(out)).includes("decoder_model.onnx"));
  });
});
