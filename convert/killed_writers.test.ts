/**
 * Temporaries of killed writers in the converter: a conversion and an ONNX export are frozen mid-write in a child
 * process and killed with SIGKILL (no `finally` of ours runs); the next run of the same writer must remove what it
 * left, finish, and leave no temporary behind; a temporary of a process that still runs is never removed.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { convertCheckpoint, exportOnnx } from "./mod.ts";
import { removeStaleTemps } from "../common/temp_files.ts";
import { frozenWriter, kill9, tempNames as temps } from "../fixtures/support/stale_temps.ts";
import { TINY_CONVERTED as CONVERTED, TINY_ORIGINAL as ORIGINAL } from "../fixtures/support/reference.ts";

let work: string;
before(async () => {
  work = await mkdtemp(join(tmpdir(), "xcodec2-killed-convert-"));
});
after(async () => {
  await rm(work, { recursive: true, force: true });
});

const isDir = (p: string) => stat(p).then((s) => s.isDirectory(), () => false);

describe("killed converter writers", () => {
  test("a conversion killed with SIGKILL mid-write leaves a temporary; the next conversion removes it", {
    timeout: 240_000,
  }, async () => {
    const out = join(work, "convert", "tiny-hf");
    await mkdir(dirname(out), { recursive: true });
    const child = await frozenWriter("convert", ORIGINAL, out);
    await kill9(child);
    const left = await temps(dirname(out));
    assert.equal(left.length, 1, `leftovers: ${left}`);
    assert.match(left[0], new RegExp(`^\\.tiny-hf\\.tmp-${child.pid}-`));
    // killed mid-write: the half-written safetensors is inside
    assert.ok((await temps(join(dirname(out), left[0]))).length > 0);

    const logs: string[] = [];
    await convertCheckpoint({ source: ORIGINAL, out, log: (m) => logs.push(m) });
    assert.deepEqual(await temps(dirname(out)), []);
    assert.deepEqual(await temps(out), []);
    assert.ok(logs.some((m) => m.includes(left[0]) && m.includes("no longer runs")), logs.join("\n"));
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
    await mkdir(dirname(out), { recursive: true });
    const child = await frozenWriter("export", CONVERTED, out);
    await kill9(child);
    const left = await temps(dirname(out));
    assert.equal(left.length, 1, `leftovers: ${left}`);
    assert.ok((await readdir(join(dirname(out), left[0]))).includes("encoder_model.onnx"));
    await exportOnnx(CONVERTED, { out, fp16: false });
    assert.deepEqual(await temps(dirname(out)), []);
    assert.ok((await readdir(out)).includes("decoder_model.onnx"));
  });
});
