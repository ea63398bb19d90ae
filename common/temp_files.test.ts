/**
 * Temporary names and the sweep of stale temporaries: what is removed (temporaries of this output whose process no
 * longer runs, in this version's names and 0.1.0's) and what is kept. The writers that use them are tested killed
 * mid-write in `convert/killed_writers.test.ts` and `runtime/killed_writers.test.ts`.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, readdir, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { claimTempPath, removeStaleTemps, tempPathFor } from "./temp_files.ts";
import { deadPid } from "../fixtures/support/stale_temps.ts";
import { tempDir } from "../fixtures/support/temp_dir.ts";

const work = await tempDir("xcodec2-temps-");

describe("stale temporaries", () => {
  test("the sweep removes temporaries of dead processes only, of this output only", async () => {
    const dir = join(work, "sweep");
    await mkdir(dir);
    const out = join(dir, "out");
    const dead = await deadPid();
    const stale = [
      `.out.tmp-${dead}-0a1b2c3d0`, // this version's name
      `.out.tmp-${dead}`, // 0.1.0 conversion folder
      `out.tmp-${dead}`, // 0.1.0 file writers
      `out.tmp-${dead}-1764424242424`, // 0.1.0 model cache
      `.out.tmp-${process.pid}-ffffffff0`, // our pid, but not this process's nonce: an earlier process with our pid
    ];
    const kept = [
      `.out.tmp-1-0a1b2c3d0`, // pid 1 always runs
      `.other.tmp-${dead}-0a1b2c3d0`, // another output's: its own writer sweeps it
      `.out.tmp-${dead}-x.bak`, // not a temporary name
      basename(tempPathFor(out)), // ours, in use
    ];
    for (const n of [...stale, ...kept]) {
      if (n.startsWith(".out.tmp-") && n.endsWith(`${dead}`)) {
        await mkdir(join(dir, n));
        await writeFile(join(dir, n, "model.safetensors"), new Uint8Array(1024));
      } else {
        await writeFile(join(dir, n), "x");
      }
    }
    const removed = await removeStaleTemps(out);
    assert.deepEqual(removed.map((p) => basename(p)).sort(), [...stale].sort());
    assert.deepEqual((await readdir(dir)).sort(), [...kept].sort());
    // nothing to sweep where the folder does not exist
    assert.deepEqual(await removeStaleTemps(join(work, "missing", "out")), []);
  });

  test("claimTempPath names a hidden sibling carrying this pid, unique per call", async () => {
    const out = join(work, "claim", "codes.npy");
    const a = await claimTempPath(out);
    const b = await claimTempPath(out);
    assert.notEqual(a, b);
    assert.equal(dirname(a), dirname(out));
    assert.match(basename(a), new RegExp(`^\\.codes\\.npy\\.tmp-${process.pid}-[0-9a-z]+$`));
  });
});
